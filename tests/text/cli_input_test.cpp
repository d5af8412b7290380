// The CLI's shared input readers and output writers (src/cli/input.hpp).
#include "cli/input.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tessera::cli {
namespace {

using ::testing::HasSubstr;

void expect_invalid(const std::string& input, bool lines, const std::vector<std::string>& fragments) {
    std::istringstream stream(input);
    try {
        (void)read_records(stream, "in.jsonl", lines, "text");
        FAIL() << "no error for " << input;
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        for (const auto& fragment : fragments) EXPECT_THAT(err.what(), HasSubstr(fragment));
    }
}

TEST(CliInput, ReadsJsonLinesKeepingTheRecord) {
    std::istringstream stream("{\"text\":\"hello\",\"id\":7}\n\n{\"text\":\"q\",\"pair\":\"p\",\"payload\":{\"a\":1}}\r\n");
    const auto records = read_records(stream, "in.jsonl", false, "text");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].text, "hello");
    EXPECT_EQ(records[0].record.at("id"), 7);
    EXPECT_EQ(records[0].line_number, 1u);
    EXPECT_FALSE(records[0].pair.has_value());
    EXPECT_EQ(records[1].pair, "p");
    EXPECT_EQ(records[1].record.at("payload").at("a"), 1);
    EXPECT_EQ(records[1].line_number, 3u);
}

TEST(CliInput, PlainLinesKeepEverything) {
    std::istringstream stream("one\n\n{\"text\":\"not json here\"}\r\n");
    const auto records = read_records(stream, "in.txt", true, "text");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[1].text, "");
    EXPECT_EQ(records[2].text, "{\"text\":\"not json here\"}");
}

TEST(CliInput, ErrorsNameTheLine) {
    expect_invalid("{\"text\":\"ok\"}\n{\"text\": }\n", false, {"in.jsonl:2", "malformed JSON"});
    expect_invalid("{\"txt\":\"x\"}\n", false, {"in.jsonl:1", "missing field 'text'"});
    expect_invalid("{\"text\":3}\n", false, {"in.jsonl:1", "must be a string"});
    expect_invalid("[1,2]\n", false, {"in.jsonl:1", "JSON object"});
    expect_invalid("ok\nbad \xFF byte\n", true, {"in.jsonl:2", "invalid UTF-8"});
    expect_invalid("{\"text\":\"a\",\"pair\":1}\n", false, {"in.jsonl:1", "'pair'"});
}

TEST(CliInput, TextFieldCanBeOptional) {
    std::istringstream stream("{\"image\":\"cat.jpg\"}\n");
    const auto records = read_records(stream, "in.jsonl", false, "");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].record.at("image"), "cat.jpg");
}

TEST(CliInput, ArgumentsWinOverStdinAndFiles) {
    InputOptions options;
    options.texts = {"a", "b"};
    std::istringstream unused("{\"text\":\"stdin\"}\n");
    const auto records = read_inputs(options, unused);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].text, "b");
    options.texts = {"ok", "\xC0\xAF"};
    EXPECT_THROW((void)read_inputs(options, unused), Error);
    options.texts.clear();
    options.input_path = "/nonexistent/inputs.jsonl";
    try {
        (void)read_inputs(options, unused);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_THAT(err.what(), HasSubstr("/nonexistent/inputs.jsonl"));
    }
    options.input_path = "-";
    EXPECT_EQ(read_inputs(options, unused).at(0).text, "stdin");
}

TEST(CliInput, Utf8Validation) {
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("Ünïcödé 中文 🙂"));
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xE4\xB8"));          // truncated
    EXPECT_FALSE(is_valid_utf8("\x80"));
}

TEST(CliOutput, NpyHeaderAndData) {
    Matrix matrix(2, 3);
    for (std::size_t idx = 0; idx < 6; ++idx) matrix.data()[idx] = static_cast<float>(idx) * 0.5f;
    const auto path = std::filesystem::path(::testing::TempDir()) / "tessera_cli_out.npy";
    write_npy(path, matrix);
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
    const std::size_t header_size = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    EXPECT_EQ((10 + header_size) % 64, 0u);
    const std::string header = bytes.substr(10, header_size);
    EXPECT_THAT(header, HasSubstr("'descr': '<f4'"));
    EXPECT_THAT(header, HasSubstr("'shape': (2, 3)"));
    EXPECT_EQ(header.back(), '\n');
    ASSERT_EQ(bytes.size(), 10 + header_size + 24);
    float last = 0;
    std::memcpy(&last, bytes.data() + 10 + header_size + 20, 4);
    EXPECT_EQ(last, 2.5f);
    std::filesystem::remove(path);
}

TEST(CliOutput, JsonLinesRoundTrip) {
    Matrix matrix(2, 2);
    matrix.data() = {0.1f, -2.0f, 1e-8f, 3.25f};
    std::ostringstream out;
    write_embeddings_jsonl(out, matrix, 5);
    std::istringstream lines(out.str());
    std::string line;
    std::size_t row = 0;
    while (std::getline(lines, line)) {
        const auto record = nlohmann::json::parse(line);
        EXPECT_EQ(record.at("index"), 5 + row);
        const auto values = record.at("embedding").get<std::vector<float>>();
        ASSERT_EQ(values.size(), 2u);
        EXPECT_EQ(values[0], matrix.row(row)[0]);  // shortest round-trip formatting is exact
        EXPECT_EQ(values[1], matrix.row(row)[1]);
        ++row;
    }
    EXPECT_EQ(row, 2u);
}

}  // namespace
}  // namespace tessera::cli
