// API-level tests: malformed tokenizer.json errors name the JSON path, invalid UTF-8 is
// rejected with its byte offset, batches equal singles, truncation windows, vocab queries.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tessera/error.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera {
namespace {

const std::string kShared = TESSERA_SHARED_DIR;

const Tokenizer& bert() {
    static const Tokenizer tokenizer = [] {
        auto t = Tokenizer::from_file(kShared + "/data/tokenizers/bert-base-uncased/tokenizer.json");
        t.set_truncation(std::nullopt);
        t.set_padding(std::nullopt);
        return t;
    }();
    return tokenizer;
}

// A small valid WordPiece tokenizer.json to break in different places.
nlohmann::json small_json() {
    return nlohmann::json::parse(R"({
      "version": "1.0", "truncation": null, "padding": null,
      "added_tokens": [{"id": 0, "content": "[UNK]", "special": true, "single_word": false,
                        "lstrip": false, "rstrip": false, "normalized": false}],
      "normalizer": {"type": "Lowercase"},
      "pre_tokenizer": {"type": "Whitespace"},
      "post_processor": null,
      "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
      "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100, "vocab": {"[UNK]": 0, "hello": 1, "world": 2, "##s": 3}}
    })");
}

std::string error_of(const nlohmann::json& json, ErrorCode* code = nullptr) {
    try {
        (void)Tokenizer::from_json(json.dump(), "tokenizer.json");
    } catch (const Error& err) {
        if (code) *code = err.code();
        return err.what();
    }
    return "(no error)";
}

TEST(TokenizerJson, SmallFileWorks) {
    auto t = Tokenizer::from_json(small_json().dump(), "tokenizer.json");
    const auto e = t.encode("Hello worlds");
    EXPECT_EQ(e.ids, (std::vector<std::int32_t>{1, 2, 3}));
    EXPECT_EQ(t.decode(e.ids), "hello worlds");
    EXPECT_EQ(t.vocab_size(), 4u);
    EXPECT_EQ(t.token_to_id("world"), 2);
    EXPECT_EQ(t.id_to_token(3), "##s");
    EXPECT_EQ(t.id_to_token(99), std::nullopt);
    EXPECT_EQ(t.added_special_token_count(false), 0u);
}

// model.vocab is read without building it as a JSON object (tokenizers/tokenizer_json.hpp);
// that path must keep what the JSON means, and fall back to the DOM's errors when it is wrong.
TEST(TokenizerJson, PackedVocabKeepsJsonMeaningAndErrors) {
    const std::string text = small_json().dump();
    const std::string vocab = R"("vocab":{"##s":3,"[UNK]":0,"hello":1,"world":2})";
    ASSERT_NE(text.find(vocab), std::string::npos);
    auto with_vocab = [&](const std::string& replacement) {
        std::string changed = text;
        changed.replace(changed.find(vocab), vocab.size(), replacement);
        return changed;
    };
    auto error_in = [](const std::string& json) {
        try {
            (void)Tokenizer::from_json(json, "tokenizer.json");
        } catch (const Error& err) {
            return std::string(err.what());
        }
        return std::string("(no error)");
    };

    // A duplicate key: the last value wins, as in any JSON object.
    auto t = Tokenizer::from_json(with_vocab(R"("vocab":{"##s":3,"[UNK]":0,"hello":9,"world":2,"hello":1})"), "tokenizer.json");
    EXPECT_EQ(t.token_to_id("hello"), 1);
    EXPECT_EQ(t.id_to_token(9), std::nullopt);
    EXPECT_EQ(t.vocab_size(), 4u);
    EXPECT_EQ(t.encode("hello worlds").ids, (std::vector<std::int32_t>{1, 2, 3}));

    // A bad value after good entries still names its path.
    EXPECT_EQ(error_in(with_vocab(R"("vocab":{"##s":3,"[UNK]":0,"hello":{"a":1},"world":2})")),
              "tokenizer.json: model.vocab[\"hello\"]: expected an integer, got '{\"a\":1}'");
    EXPECT_EQ(error_in(with_vocab(R"("vocab":{"##s":3,"hello":-1})")),
              "tokenizer.json: model.vocab[\"hello\"]: value -1 out of range [0, 2147483647]");
    EXPECT_EQ(error_in(with_vocab(R"("vocab":{"##s":3,"hello":4294967296})")),
              "tokenizer.json: model.vocab[\"hello\"]: value 4294967296 out of range [0, 2147483647]");
    // Cut inside the vocab: not JSON.
    const std::string cut = text.substr(0, text.find(vocab) + 20);
    EXPECT_EQ(error_in(cut).rfind("tokenizer.json: not valid JSON: ", 0), 0u) << error_in(cut);
}

TEST(TokenizerJson, ErrorsNameTheJsonPath) {
    ErrorCode code{};
    EXPECT_EQ(error_of(nlohmann::json::parse("[1]"), &code), "tokenizer.json: (root): expected an object, got '[1]'");
    EXPECT_EQ(code, ErrorCode::corrupt);

    auto j = small_json();
    j.erase("model");
    EXPECT_EQ(error_of(j), "tokenizer.json: model: missing");

    j = small_json();
    j["model"]["vocab"]["hello"] = "one";
    EXPECT_EQ(error_of(j), "tokenizer.json: model.vocab[\"hello\"]: expected an integer, got '\"one\"'");

    j = small_json();
    j["model"]["unk_token"] = "<unk>";
    EXPECT_EQ(error_of(j), "tokenizer.json: model.unk_token: unk_token '<unk>' is not in model.vocab");

    j = small_json();
    j["normalizer"] = {{"type", "Shout"}};
    EXPECT_EQ(error_of(j, &code), "tokenizer.json: normalizer.type: unknown normalizer type 'Shout'");
    EXPECT_EQ(code, ErrorCode::unsupported);

    j = small_json();
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
    EXPECT_NE(error_of(j).find("tokenizer.json: pre_tokenizer.pattern.Regex: invalid regex '(unclosed'"),
              std::string::npos);

    j = small_json();
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", "Sideways"}};
    EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer.behavior: unknown split behavior 'Sideways'");

    j = small_json();
    j["added_tokens"][0]["id"] = -4;
    EXPECT_EQ(error_of(j), "tokenizer.json: added_tokens[0].id: value -4 out of range [0, 2147483647]");

    j = small_json();
    j["truncation"] = {{"max_length", 8}, {"strategy", "MiddleOut"}};
    EXPECT_EQ(error_of(j), "tokenizer.json: truncation.strategy: unknown truncation strategy 'MiddleOut'");

    j = small_json();
    j["padding"] = {{"strategy", {{"Fixed", "long"}}}};
    EXPECT_EQ(error_of(j), "tokenizer.json: padding.strategy.Fixed: expected an integer, got '\"long\"'");

    j = small_json();
    j["post_processor"] = nlohmann::json::parse(
        R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}],
            "pair": [], "special_tokens": {}})");
    EXPECT_EQ(error_of(j),
              "tokenizer.json: post_processor.single[0].SpecialToken.id: special token '[CLS]' is not in special_tokens");

    j = small_json();
    j["model"] = nlohmann::json::parse(R"({"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]})");
    EXPECT_EQ(error_of(j), "tokenizer.json: model.merges[0]: merged token 'ab' is not in model.vocab");

    j = small_json();
    j["model"] = nlohmann::json::parse(R"({"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]})");
    EXPECT_EQ(error_of(j),
              "tokenizer.json: model.merges[0]: expected a merge \"left right\" or [\"left\", \"right\"], got '[\"a\"]'");

    j = small_json();
    j["model"] = nlohmann::json::parse(R"({"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]})");
    EXPECT_EQ(error_of(j), "tokenizer.json: model.unk_id: value 5 out of range [0, 0]");

    j = small_json();
    j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA!"}};
    EXPECT_EQ(error_of(j), "tokenizer.json: normalizer.precompiled_charsmap: invalid base64 character at position 4");

    j = small_json();
    j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "/////w=="}};
    EXPECT_NE(error_of(j).find("tokenizer.json: normalizer.precompiled_charsmap: charsmap trie size"), std::string::npos);

    EXPECT_EQ(error_of(nlohmann::json::parse(R"({"model": {"type": "Magic"}})"), &code),
              "tokenizer.json: model.type: unknown model type 'Magic'");
    EXPECT_EQ(code, ErrorCode::unsupported);
}

TEST(TokenizerJson, NotJsonAndMissingFile) {
    try {
        (void)Tokenizer::from_json("{\"model\": ", "broken.json");
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::corrupt);
        EXPECT_TRUE(std::string(err.what()).starts_with("broken.json: not valid JSON"));
    }
    try {
        (void)Tokenizer::from_file("/nonexistent/tokenizer.json");
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
        EXPECT_STREQ(err.what(), "/nonexistent/tokenizer.json: no such file");
    }
}

TEST(Tokenizer, RejectsInvalidUtf8WithByteOffset) {
    try {
        (void)bert().encode("caf\xC3\xA9 \xFF ok");
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_STREQ(err.what(), "text: invalid UTF-8 at byte 6");
    }
    try {
        (void)bert().encode_pair("fine", "bad \xE2\x82");
        FAIL();
    } catch (const Error& err) {
        EXPECT_STREQ(err.what(), "pair: invalid UTF-8 at byte 4");
    }
    const std::vector<std::string> batch = {"ok", "no\xC0\xAF"};
    EXPECT_THROW((void)bert().encode_batch(batch, true, 2), Error);
}

TEST(Tokenizer, BatchEqualsSingleInOrder) {
    std::vector<std::string> texts;
    for (int idx = 0; idx < 300; ++idx) {
        texts.push_back(std::string(static_cast<std::size_t>(idx % 17), 'a') + " Héllo wörld 日本 " + std::to_string(idx));
    }
    const auto batch = bert().encode_batch(texts, true, 3);
    ASSERT_EQ(batch.size(), texts.size());
    for (std::size_t idx = 0; idx < texts.size(); ++idx) {
        const auto single = bert().encode(texts[idx]);
        EXPECT_EQ(batch[idx].ids, single.ids) << idx;
        EXPECT_EQ(batch[idx].offsets, single.offsets) << idx;
    }
    EXPECT_TRUE(bert().encode_batch(std::span<const std::string>{}, true).empty());
}

TEST(Tokenizer, PairBatchPadsToLongest) {
    Tokenizer t = bert();
    t.set_padding(PaddingParams{.fixed_length = std::nullopt, .pad_to_multiple_of = 4});
    const std::vector<std::string> a = {"hello", "a much longer first sentence"};
    const std::vector<std::string> b = {"world", "x"};
    const auto out = t.encode_pair_batch(a, b);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].size(), out[1].size());
    EXPECT_EQ(out[0].size() % 4, 0u);
    EXPECT_EQ(out[0].ids[0], 101);
    EXPECT_EQ(out[0].attention_mask.back(), 0);
    EXPECT_THROW((void)t.encode_pair_batch(a, std::span<const std::string>(b).first(1)), Error);
}

// Overflow windows as the format documents them: max_length tokens each (special tokens
// included), consecutive windows sharing `stride` tokens.
TEST(Tokenizer, TruncationWindowsWithStride) {
    Tokenizer t = bert();
    t.set_truncation(TruncationParams{.max_length = 6, .stride = 1});
    const auto e = t.encode("one two three four five six seven eight nine");
    EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "one", "two", "three", "four", "[SEP]"}));
    ASSERT_EQ(e.overflowing.size(), 2u);
    EXPECT_EQ(e.overflowing[0].tokens, (std::vector<std::string>{"[CLS]", "four", "five", "six", "seven", "[SEP]"}));
    EXPECT_EQ(e.overflowing[1].tokens, (std::vector<std::string>{"[CLS]", "seven", "eight", "nine", "[SEP]"}));

    t.set_truncation(TruncationParams{.max_length = 4, .left = true});
    EXPECT_EQ(t.encode("one two three four").tokens, (std::vector<std::string>{"[CLS]", "three", "four", "[SEP]"}));

    t.set_truncation(TruncationParams{.max_length = 4, .stride = 2});
    EXPECT_THROW((void)t.encode("one two three four five"), Error);  // stride >= room left

    t.set_truncation(TruncationParams{.max_length = 8, .strategy = TruncationStrategy::only_second});
    EXPECT_THROW((void)t.encode("one two three four five six seven eight nine ten"), Error);  // no pair
    EXPECT_EQ(t.added_special_token_count(true), 3u);
    EXPECT_EQ(t.added_special_token_count(false), 2u);
}

TEST(Tokenizer, CopiesShareTheModelButNotSettings) {
    Tokenizer a = bert();
    Tokenizer b = a;
    b.set_truncation(TruncationParams{.max_length = 3});
    EXPECT_FALSE(a.truncation().has_value());
    EXPECT_EQ(b.encode("one two three four").size(), 3u);
    EXPECT_EQ(a.encode("one two three four").size(), 6u);
}

TEST(Tokenizer, OffsetsAreCodePoints) {
    const auto e = bert().encode("a😀b café", false);
    EXPECT_EQ(e.tokens, (std::vector<std::string>{"[UNK]", "cafe"}));
    EXPECT_EQ(e.offsets[0], (std::pair<std::uint32_t, std::uint32_t>{0, 3}));
    EXPECT_EQ(e.offsets[1], (std::pair<std::uint32_t, std::uint32_t>{4, 8}));
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Random mixtures of hard characters through every shared tokenizer: no crash (the CI runs
// this under ASan/UBSan), consistent lengths, offsets inside the text, batch equals single.
TEST(Tokenizer, RandomTextsStayConsistent) {
    const char* files[] = {"bert-base-uncased/tokenizer.json", "clip-vit-base-patch32/tokenizer.json",
                           "unigram-xlmr-style/tokenizer.json", "unigram-xlmr-style/byte-fallback/tokenizer.json",
                           "bytelevel-bpe-roberta-style/tokenizer.json"};
    const std::vector<std::string> pieces = {
        "a", "Z", " ", "  ", "\t", "\n", "\r\n", "\x01", "\x7F", "e\xCC\x81", "\xCC\x81", "\xC3\xA9", "\xE4\xB8\xAD",
        "\xF0\x9F\x98\x80", "\xE2\x80\x8D", "\xEF\xBB\xBF", "\xE3\x80\x80", "\xC2\xA0", "[CLS]", "<mask>", "<s>",
        "<|endoftext|>", "##", "\xE2\x96\x81", "\xC4\xA0", "<0x41>", "123", ".", "'s", "\xEF\xBF\xBD", "\xE1\xA0\x8E"};
    std::uint32_t state = 7;
    const auto next = [&] { return state = state * 1664525u + 1013904223u; };
    std::vector<std::string> texts;
    for (int idx = 0; idx < 120; ++idx) {
        std::string text;
        const int length = static_cast<int>(next() % 40);
        for (int k = 0; k < length; ++k) text += pieces[next() % pieces.size()];
        texts.push_back(text);
    }
    for (const char* file : files) {
        SCOPED_TRACE(file);
        auto t = Tokenizer::from_file(kShared + "/data/tokenizers/" + file);
        t.set_padding(std::nullopt);
        t.set_truncation(std::nullopt);
        const auto batch = t.encode_batch(texts, true, 2);
        for (std::size_t idx = 0; idx < texts.size(); ++idx) {
            const Encoding& e = batch[idx];
            ASSERT_EQ(e.tokens.size(), e.size());
            ASSERT_EQ(e.offsets.size(), e.size());
            ASSERT_EQ(e.type_ids.size(), e.size());
            std::uint32_t code_points = 0;
            for (char c : texts[idx]) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
            for (const auto& [start, end] : e.offsets) {
                ASSERT_LE(start, end);
                ASSERT_LE(end, code_points);
            }
            EXPECT_EQ(e.ids, t.encode(texts[idx]).ids);
            const auto pair = t.encode_pair(texts[idx], texts[(idx + 1) % texts.size()], false);
            EXPECT_EQ(pair.size(), pair.special_tokens_mask.size());
            (void)t.decode(e.ids, false);
        }
    }
}

}  // namespace
}  // namespace tessera
