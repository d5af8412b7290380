// Our own cases (tests/tokenizers/cases/*.jsonl) for options the shared golden files do not
// cover: every Split behavior, Metaspace schemes, byte fallback, added-token options,
// truncation strategies / stride / direction, padding. Each case names a tokenizer file, may
// override its truncation and padding blocks, and holds the reference library's output
// (recorded by cases/record.mjs) in "expect"; every field must match.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tessera/tokenizer.hpp"

namespace {

const std::filesystem::path kCases = std::filesystem::path(TESSERA_SOURCE_DIR) / "tests/tokenizers/cases";
const std::filesystem::path kShared = TESSERA_SHARED_DIR;

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

tessera::Tokenizer load(const nlohmann::json& kase) {
    const std::string name = kase["tokenizer"];
    const std::filesystem::path file = name.starts_with("shared:")
                                           ? kShared / "data/tokenizers" / name.substr(7)
                                           : kCases / "tokenizers" / name;
    auto json = nlohmann::json::parse(read_file(file));
    if (kase.contains("truncation")) json["truncation"] = kase["truncation"];
    if (kase.contains("padding")) json["padding"] = kase["padding"];
    return tessera::Tokenizer::from_json(json.dump(), file.string());
}

nlohmann::json describe(const tessera::Tokenizer& tokenizer, const tessera::Encoding& e) {
    nlohmann::json offsets = nlohmann::json::array();
    for (const auto& [start, end] : e.offsets) offsets.push_back({start, end});
    return {{"ids", e.ids},
            {"tokens", e.tokens},
            {"type_ids", e.type_ids},
            {"offsets", offsets},
            {"attention_mask", e.attention_mask},
            {"special_tokens_mask", e.special_tokens_mask},
            {"decode", tokenizer.decode(e.ids, true)}};
}

void expect_same(const std::string& id, const nlohmann::json& want, const nlohmann::json& got) {
    for (const auto& [field, value] : want.items()) {
        EXPECT_EQ(value, got[field]) << id << ": " << field << "\n  want " << value.dump() << "\n  got  "
                                     << got[field].dump();
    }
}

TEST(TokenizerCases, EveryCaseMatchesTheReference) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(kCases)) {
        if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 5u);
    std::size_t count = 0;
    for (const auto& file : files) {
        std::ifstream in(file);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            const auto kase = nlohmann::json::parse(line);
            const std::string id = kase["id"];
            ASSERT_TRUE(kase.contains("expect")) << id << ": run cases/record.mjs";
            SCOPED_TRACE(file.filename().string() + " " + id);
            const tessera::Tokenizer tokenizer = load(kase);
            const bool add = kase.value("add_special_tokens", true);
            if (kase.contains("batch")) {
                const auto texts = kase["batch"].get<std::vector<std::string>>();
                const auto encodings = tokenizer.encode_batch(texts, add, 2);
                ASSERT_EQ(encodings.size(), kase["expect"].size()) << id;
                for (std::size_t idx = 0; idx < encodings.size(); ++idx) {
                    expect_same(id + "[" + std::to_string(idx) + "]", kase["expect"][idx],
                                describe(tokenizer, encodings[idx]));
                }
            } else {
                const std::string text = kase["text"];
                const tessera::Encoding e = kase.contains("pair") && !kase["pair"].is_null()
                                                ? tokenizer.encode_pair(text, kase["pair"].get<std::string>(), add)
                                                : tokenizer.encode(text, add);
                expect_same(id, kase["expect"], describe(tokenizer, e));
            }
            ++count;
        }
    }
    EXPECT_GE(count, 70u);
}

}  // namespace
