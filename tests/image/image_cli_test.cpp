// `tessera similarity` and `tessera embed --image` run as subprocesses on the golden CLIP model:
// JSON shape, probabilities summing to one, per-image errors on stderr with a non-zero exit
// while the other images still produce output, directories expanded recursively.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <sys/wait.h>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

const std::string kTessera = std::string(TESSERA_BINARY_DIR) + "/tessera";
const std::string kModel = std::string(TESSERA_SHARED_DIR) + "/data/golden/clip-tiny-random";
const std::string kImages = std::string(TESSERA_SHARED_DIR) + "/data/images";

struct CommandRun {
    int exit_code = -1;
    std::string out;
};

CommandRun run(const std::string& arguments) {
    CommandRun result;
    FILE* pipe = ::popen((kTessera + " " + arguments + " 2>/dev/null").c_str(), "r");
    std::array<char, 4096> buffer{};
    std::size_t read = 0;
    while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), read);
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

TEST(ImageCli, SimilarityJson) {
    const CommandRun result = run("similarity --model " + kModel + " --image " + kImages + "/skimage_chelsea.png " + kImages +
                           "/pillow_hopper.webp --text 'a photo of a cat' --text 'a photo of a dog' --text 'a rocket' --json");
    ASSERT_EQ(result.exit_code, 0) << result.out;
    const auto json = nlohmann::json::parse(result.out);
    EXPECT_NEAR(json["logit_scale"].get<double>(), 100.0, 1e-3);
    ASSERT_EQ(json["results"].size(), 2u);
    for (const auto& row : json["results"]) {
        ASSERT_EQ(row["cosine"].size(), 3u);
        double total = 0;
        for (const auto& p : row["probability"]) total += p.get<double>();
        EXPECT_NEAR(total, 1.0, 1e-9);
        for (const auto& c : row["cosine"]) EXPECT_LE(std::abs(c.get<double>()), 1.0 + 1e-6);
    }
}

TEST(ImageCli, SimilarityTableAndFailingImage) {
    const CommandRun result = run("similarity --model " + kModel + " --image " + kImages + "/libjpeg-turbo_monkey12.jpg " + kImages +
                           "/pillow_hopper.jpg --text cat --text dog");
    EXPECT_EQ(result.exit_code, 4) << result.out;  // unsupported (12-bit JPEG)
    EXPECT_NE(result.out.find("pillow_hopper.jpg"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("%)"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("error"), std::string::npos) << result.out;
}

TEST(ImageCli, EmbedDirectoryStreamsGoodImagesAndFailsForBadOnes) {
    const CommandRun result = run("embed --model " + kModel + " --image " + kImages);
    EXPECT_NE(result.exit_code, 0);  // one undecodable image in the set
    std::istringstream lines(result.out);
    std::string line;
    std::size_t count = 0;
    while (std::getline(lines, line)) {
        const auto json = nlohmann::json::parse(line);
        EXPECT_EQ(json["embedding"].size(), 32u);
        EXPECT_TRUE(json.contains("image"));
        ++count;
    }
    EXPECT_EQ(count, 40u);  // 41 images, 40 decodable
}

TEST(ImageCli, MissingImageIsAnError) {
    const CommandRun result = run("embed --model " + kModel + " --image /nonexistent/photo.jpg");
    EXPECT_EQ(result.exit_code, 3);  // not_found
    EXPECT_TRUE(result.out.empty());
}

}  // namespace
