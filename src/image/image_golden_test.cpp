// Golden comparison with the reference preprocessing (Pillow 9.4 driven as transformers drives
// it): for every image in ../shared/data/images/ the decoded RGB bytes (sha256), the 224x224
// uint8 crop (byte-exact), the normalised tensor samples (bit-exact), channel means and the
// full .npy tensors where given. Cases come from image-preprocess/manifest.jsonl.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/image.hpp"

namespace tessera {
namespace {

using Json = nlohmann::json;

const std::filesystem::path kShared = TESSERA_SHARED_DIR;
const std::filesystem::path kGolden = kShared / "data/golden/image-preprocess";
const std::filesystem::path kImages = kShared / "data/images";

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) {
    unsigned char digest[32];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned idx = 0; idx < length; ++idx) {
        out += hex[digest[idx] >> 4];
        out += hex[digest[idx] & 15];
    }
    return out;
}

std::vector<Json> manifest() {
    std::vector<Json> cases;
    std::ifstream file(kGolden / "manifest.jsonl");
    std::string line;
    while (std::getline(file, line)) {
        if (!line.empty()) cases.push_back(Json::parse(line));
    }
    return cases;
}

std::vector<float> read_npy_f32(const std::filesystem::path& path) {
    std::vector<std::uint8_t> bytes = read_bytes(path);
    EXPECT_GE(bytes.size(), 10u);
    const std::size_t header_len = bytes[8] | (bytes[9] << 8);
    const std::size_t offset = 10 + header_len;
    std::vector<float> values((bytes.size() - offset) / 4);
    std::memcpy(values.data(), bytes.data() + offset, values.size() * 4);
    return values;
}

class ImagePreprocessGolden : public ::testing::TestWithParam<Json> {};

TEST(ImagePreprocessGoldenSet, ManifestCoversEveryImage) {
    // 41 files: every format the suite checks must be present, or the parameterised cases shrink.
    EXPECT_EQ(manifest().size(), 41u);
}

TEST_P(ImagePreprocessGolden, MatchesPillowPipeline) {
    const Json& entry = GetParam();
    const std::string file = entry["file"];
    const std::vector<std::uint8_t> bytes = read_bytes(kImages / file);
    ASSERT_FALSE(bytes.empty()) << file;
    ASSERT_EQ(sha256_hex(bytes), entry["source_sha256"].get<std::string>()) << file;

    if (entry.contains("error")) {
        try {
            (void)decode_image(bytes, {}, file);
            FAIL() << file << ": Pillow cannot open this file (" << entry["error"] << ") but we decoded it";
        } catch (const Error& err) {
            EXPECT_NE(std::string(err.what()).find(file), std::string::npos) << err.what();
        }
        return;
    }
    const RgbImage decoded = decode_image(bytes, {}, file);
    ASSERT_EQ(decoded.width, entry["decoded_rgb_size"][0].get<std::size_t>()) << file;
    ASSERT_EQ(decoded.height, entry["decoded_rgb_size"][1].get<std::size_t>()) << file;
    EXPECT_EQ(sha256_hex(decoded.pixels), entry["decoded_rgb_sha256"].get<std::string>()) << file << ": decoded RGB differs";
    if (entry.contains("decoded_rgb")) {
        const std::vector<std::uint8_t> expected = read_bytes(kGolden / entry["decoded_rgb"].get<std::string>());
        ASSERT_EQ(expected.size(), decoded.pixels.size());
        std::size_t differing = 0;
        for (std::size_t idx = 0; idx < expected.size(); ++idx) differing += expected[idx] != decoded.pixels[idx];
        EXPECT_EQ(differing, 0u) << file << ": decoded bytes differ from .decoded_rgb.u8";
    }

    const PreprocessConfig config = load_preprocess_config(kShared / "data/golden/clip-tiny-random/preprocessor_config.json");
    const RgbImage crop = resize_and_crop(decoded, config);
    ASSERT_EQ(crop.width, 224u);
    ASSERT_EQ(crop.height, 224u);
    const std::vector<std::uint8_t> expected_crop = read_bytes(kGolden / entry["u8"].get<std::string>());
    ASSERT_EQ(expected_crop.size(), crop.pixels.size());
    std::size_t differing = 0;
    int max_diff = 0;
    for (std::size_t idx = 0; idx < expected_crop.size(); ++idx) {
        const int diff = std::abs(static_cast<int>(expected_crop[idx]) - static_cast<int>(crop.pixels[idx]));
        differing += diff != 0;
        max_diff = std::max(max_diff, diff);
    }
    EXPECT_EQ(differing, 0u) << file << ": 224x224 crop differs in " << differing << " values, max " << max_diff;
    EXPECT_EQ(sha256_hex(crop.pixels), entry["u8_sha256"].get<std::string>()) << file;

    const std::vector<float> tensor = preprocess_image(decoded, config);
    ASSERT_EQ(tensor.size(), 3u * 224 * 224);
    for (const Json& sample : entry["samples_cyx_value"]) {
        const std::size_t channel = sample[0], y = sample[1], x = sample[2];
        const float expected = static_cast<float>(sample[3].get<double>());
        EXPECT_EQ(tensor[(channel * 224 + y) * 224 + x], expected) << file << " at c,y,x " << channel << "," << y << "," << x;
    }
    for (std::size_t channel = 0; channel < 3; ++channel) {
        double sum = 0;
        for (std::size_t idx = 0; idx < 224 * 224; ++idx) sum += tensor[channel * 224 * 224 + idx];
        EXPECT_NEAR(sum / (224.0 * 224.0), entry["norm_channel_mean"][channel].get<double>(), 1e-6) << file;
    }
    if (entry.contains("npy")) {
        const std::vector<float> expected = read_npy_f32(kGolden / entry["npy"].get<std::string>());
        ASSERT_EQ(expected.size(), tensor.size());
        EXPECT_EQ(std::memcmp(expected.data(), tensor.data(), tensor.size() * 4), 0) << file << ": tensor not bit-exact";
    }
}

std::string case_name(const ::testing::TestParamInfo<Json>& info) {
    std::string name = info.param["file"];
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

INSTANTIATE_TEST_SUITE_P(AllImages, ImagePreprocessGolden, ::testing::ValuesIn(manifest()), case_name);

}  // namespace
}  // namespace tessera
