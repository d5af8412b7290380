// `tessera embed` and `tessera info` end to end: the real binary on a generated model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "model_writer.hpp"

namespace tessera {
namespace {

using ::testing::HasSubstr;

struct CommandResult {
    int exit_code = -1;
    std::string out;
};

// Runs a shell command; stdout captured, stderr appended to it when `with_stderr`.
CommandResult run_command(const std::string& command, bool with_stderr = false) {
    CommandResult result;
    FILE* pipe = ::popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
    if (pipe == nullptr) return result;
    std::array<char, 4096> buffer{};
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), got);
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

class CliEmbed : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        model_ = std::filesystem::path(::testing::TempDir()) / "tessera_cli_embed_model";
        if (!std::filesystem::exists(model_ / "config.json")) {
            auto spec = tools::spec_for_shape("tiny", "bert");
            spec.prompts = {{"query", "query: "}};
            tools::write_model(model_, spec);
        }
    }
    static std::string tessera() { return std::string(TESSERA_BINARY_DIR) + "/tessera"; }
    static std::string model_arg() { return " --offline --model '" + model_.string() + "'"; }
    static inline std::filesystem::path model_;
};

std::vector<std::vector<float>> parse_lines(const std::string& out) {
    std::vector<std::vector<float>> rows;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto record = nlohmann::json::parse(line);
        EXPECT_EQ(record.at("index").get<std::size_t>(), rows.size());
        rows.push_back(record.at("embedding").get<std::vector<float>>());
    }
    return rows;
}

TEST_F(CliEmbed, TextArgumentsToJsonLines) {
    const CommandResult result = run_command(tessera() + " embed" + model_arg() + " 'The cat sits.' 'A kitten rests.' ''");
    ASSERT_EQ(result.exit_code, 0) << result.out;
    const auto rows = parse_lines(result.out);
    ASSERT_EQ(rows.size(), 3u);
    double norm = 0;
    for (const float value : rows[0]) norm += double(value) * value;
    EXPECT_EQ(rows[0].size(), 32u);
    EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST_F(CliEmbed, StdinJsonLinesEqualArguments) {
    const CommandResult from_args = run_command(tessera() + " embed" + model_arg() + " --query --dimensions 8 first second");
    const CommandResult from_stdin = run_command("printf '{\"text\":\"first\",\"id\":1}\\n{\"text\":\"second\"}\\n' | " + tessera() +
                               " embed" + model_arg() + " --query --dimensions 8");
    ASSERT_EQ(from_args.exit_code, 0);
    ASSERT_EQ(from_stdin.exit_code, 0);
    EXPECT_EQ(from_args.out, from_stdin.out);
    EXPECT_EQ(parse_lines(from_args.out).at(1).size(), 8u);
    const CommandResult plain = run_command("printf 'first\\nsecond\\n' | " + tessera() + " embed" + model_arg() + " --lines --query --dimensions 8");
    EXPECT_EQ(plain.out, from_args.out);
}

TEST_F(CliEmbed, NpyOutput) {
    const auto path = std::filesystem::path(::testing::TempDir()) / "tessera_cli_embed.npy";
    const CommandResult result = run_command(tessera() + " embed" + model_arg() + " --output '" + path.string() + "' a b c");
    ASSERT_EQ(result.exit_code, 0);
    // 128-byte header for this shape, then 3 x 32 float32.
    EXPECT_EQ(std::filesystem::file_size(path), 128u + 3 * 32 * 4);
    std::filesystem::remove(path);
}

TEST_F(CliEmbed, ErrorsAndExitCodes) {
    CommandResult result = run_command("printf '{\"text\":\"ok\"}\\n{\"txt\":1}\\n' | " + tessera() + " embed" + model_arg(), true);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.out, HasSubstr("<stdin>:2: missing field 'text'"));
    result = run_command("printf '' | " + tessera() + " embed" + model_arg(), true);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.out, HasSubstr("no input texts"));
    result = run_command(tessera() + " embed" + model_arg() + " --dimensions 999 x", true);
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_THAT(result.out, HasSubstr("dimensions"));
    result = run_command(tessera() + " embed --offline --model /nonexistent/model-dir x", true);
    EXPECT_EQ(result.exit_code, 3);
    result = run_command(tessera() + " embed" + model_arg() + " --query --passage x", true);
    EXPECT_NE(result.exit_code, 0);  // a CLI11 usage error (its own exit code)
}

TEST_F(CliEmbed, InfoTextAndJson) {
    CommandResult result = run_command(tessera() + " info" + model_arg());
    ASSERT_EQ(result.exit_code, 0);
    EXPECT_THAT(result.out, HasSubstr("BERT encoder (model_type bert)"));
    EXPECT_THAT(result.out, HasSubstr("\"query: \""));
    result = run_command(tessera() + " info" + model_arg() + " --json");
    ASSERT_EQ(result.exit_code, 0);
    const auto info = nlohmann::json::parse(result.out);
    EXPECT_EQ(info.at("dimensions"), 32);
    EXPECT_EQ(info.at("layers"), 2);
    EXPECT_EQ(info.at("max_seq_length"), 512);
    EXPECT_EQ(info.at("pooling"), "mean");
    EXPECT_EQ(info.at("prompts").at("query"), "query: ");
    EXPECT_EQ(run_command(tessera() + " info --help").exit_code, 0);
    EXPECT_EQ(run_command(tessera() + " embed --help").exit_code, 0);
}

}  // namespace
}  // namespace tessera
