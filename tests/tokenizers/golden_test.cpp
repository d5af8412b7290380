// Every record of ../shared/data/golden/tokenizers/*.jsonl must match exactly: ids, type ids,
// tokens, offsets, both masks and both decodes.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tessera/tokenizer.hpp"

namespace {

const std::string kShared = TESSERA_SHARED_DIR;

struct GoldenFile {
    const char* golden;     // under data/golden/tokenizers/
    const char* tokenizer;  // under data/tokenizers/
    bool disable_truncation_and_padding;
};

class Golden : public ::testing::TestWithParam<GoldenFile> {};

std::string describe_mismatch(const nlohmann::json& record, const char* field, const nlohmann::json& want,
                              const nlohmann::json& got) {
    return record["id"].get<std::string>() + " (add_special_tokens=" + record["add_special_tokens"].dump() +
           ") " + field + "\n  want " + want.dump() + "\n  got  " + got.dump() + "\n  text " +
           record["text"].dump() + (record["pair"].is_null() ? "" : " pair " + record["pair"].dump());
}

TEST_P(Golden, EveryRecordMatches) {
    const GoldenFile& file = GetParam();
    auto tokenizer = tessera::Tokenizer::from_file(kShared + "/data/tokenizers/" + file.tokenizer);
    if (file.disable_truncation_and_padding) {
        tokenizer.set_truncation(std::nullopt);
        tokenizer.set_padding(std::nullopt);
    }
    std::ifstream in(kShared + "/data/golden/tokenizers/" + file.golden, std::ios::binary);
    ASSERT_TRUE(in) << file.golden;
    std::string line;
    std::size_t records = 0;
    std::size_t failures = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const auto record = nlohmann::json::parse(line);
        ++records;
        const std::string text = record["text"];
        const bool add_special = record["add_special_tokens"];
        tessera::Encoding e = record["pair"].is_null()
                                  ? tokenizer.encode(text, add_special)
                                  : tokenizer.encode_pair(text, record["pair"].get<std::string>(), add_special);
        nlohmann::json offsets = nlohmann::json::array();
        for (const auto& [start, end] : e.offsets) offsets.push_back({start, end});
        const std::pair<const char*, nlohmann::json> fields[] = {
            {"ids", e.ids},
            {"type_ids", e.type_ids},
            {"tokens", e.tokens},
            {"offsets", offsets},
            {"attention_mask", e.attention_mask},
            {"special_tokens_mask", e.special_tokens_mask},
        };
        bool ok = true;
        for (const auto& [name, got] : fields) {
            if (record[name] != got) {
                if (failures < 8) {
                    ADD_FAILURE() << describe_mismatch(record, name, record[name], got) << "\n  type_ids got "
                                  << nlohmann::json(e.type_ids).dump();
                }
                ok = false;
                break;
            }
        }
        if (ok && record.contains("decode_skip_special")) {
            const std::string skip = tokenizer.decode(e.ids, true);
            const std::string keep = tokenizer.decode(e.ids, false);
            if (record["decode_skip_special"] != skip) {
                if (failures < 8) ADD_FAILURE() << describe_mismatch(record, "decode_skip_special", record["decode_skip_special"], skip);
                ok = false;
            } else if (record["decode_keep_special"] != keep) {
                if (failures < 8) ADD_FAILURE() << describe_mismatch(record, "decode_keep_special", record["decode_keep_special"], keep);
                ok = false;
            }
        }
        if (!ok) ++failures;
    }
    EXPECT_EQ(records, 694u);
    EXPECT_EQ(failures, 0u) << failures << " of " << records << " records differ in " << file.golden;
}

INSTANTIATE_TEST_SUITE_P(
    Tokenizers, Golden,
    ::testing::Values(GoldenFile{"bert-base-uncased.no-trunc.jsonl", "bert-base-uncased/tokenizer.json", true},
                      GoldenFile{"bert-base-uncased.as-is.jsonl", "bert-base-uncased/tokenizer.json", false},
                      GoldenFile{"clip-vit-base-patch32.jsonl", "clip-vit-base-patch32/tokenizer.json", false},
                      GoldenFile{"unigram-xlmr-style.jsonl", "unigram-xlmr-style/tokenizer.json", false},
                      GoldenFile{"unigram-xlmr-style.byte-fallback.jsonl",
                                 "unigram-xlmr-style/byte-fallback/tokenizer.json", false},
                      GoldenFile{"bytelevel-bpe-roberta-style.jsonl", "bytelevel-bpe-roberta-style/tokenizer.json",
                                 false}),
    [](const auto& param_info) {
        std::string name = param_info.param.golden;
        name = name.substr(0, name.size() - 6);
        for (char& c : name) {
            if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
        }
        return name;
    });

}  // namespace
