// The golden BERT model from text: TextEmbedder (tokenizer.json + encoder + pooling + Normalize)
// against expected/texts.jsonl — ids exact, sentence_embedding atol 1e-5 — one text at a time,
// all texts in one call (packed, mixed lengths), and from the reference ids via embed_tokenized.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tessera/embedder.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera {
namespace {

const std::filesystem::path kModelDir = std::filesystem::path(TESSERA_SHARED_DIR) / "data/golden/bert-tiny-random";

struct TextCase {
    std::string text;
    std::vector<std::int32_t> ids;
    std::vector<double> embedding;
};

const std::vector<TextCase>& cases() {
    static const std::vector<TextCase> data = [] {
        std::vector<TextCase> result;
        std::ifstream in(kModelDir / "expected/texts.jsonl");
        std::string line;
        while (std::getline(in, line)) {
            const auto record = nlohmann::json::parse(line);
            result.push_back({record.at("text").get<std::string>(), record.at("input_ids").get<std::vector<std::int32_t>>(),
                              record.at("sentence_embedding").get<std::vector<double>>()});
        }
        return result;
    }();
    return data;
}

double max_diff(std::span<const float> actual, const std::vector<double>& expected) {
    EXPECT_EQ(actual.size(), expected.size());
    double worst = 0;
    for (std::size_t dim = 0; dim < std::min(actual.size(), expected.size()); ++dim) {
        worst = std::max(worst, std::fabs(actual[dim] - expected[dim]));
    }
    return worst;
}

class BertTextGolden : public ::testing::Test {
protected:
    static void SetUpTestSuite() { embedder_ = TextEmbedder::open(kModelDir, {.thread_count = 2}); }
    static void TearDownTestSuite() { embedder_.reset(); }
    static inline std::unique_ptr<TextEmbedder> embedder_;
};

TEST_F(BertTextGolden, HasAllCases) {
    EXPECT_EQ(cases().size(), 41u);
    EXPECT_EQ(embedder_->info().max_seq_length, 128u);
    EXPECT_EQ(embedder_->info().pooling, "mean");
    EXPECT_EQ(embedder_->info().output_dim, 128u);
}

TEST_F(BertTextGolden, IdsMatchExactly) {
    std::vector<std::string> texts;
    for (const auto& test_case : cases()) texts.push_back(test_case.text);
    const auto tokenized = embedder_->tokenize(texts);
    ASSERT_EQ(tokenized.size(), cases().size());
    for (std::size_t idx = 0; idx < cases().size(); ++idx) {
        EXPECT_EQ(tokenized[idx].ids, cases()[idx].ids) << "text " << idx << ": " << cases()[idx].text.substr(0, 60);
    }
}

TEST_F(BertTextGolden, EachTextAlone) {
    for (std::size_t idx = 0; idx < cases().size(); ++idx) {
        const std::vector<std::string> one = {cases()[idx].text};
        const Matrix vectors = embedder_->embed(one);
        ASSERT_EQ(vectors.rows(), 1u);
        EXPECT_LT(max_diff(vectors.row(0), cases()[idx].embedding), 1e-5) << "text " << idx;
    }
}

TEST_F(BertTextGolden, AllTextsInOneCallAndSmallBatches) {
    std::vector<std::string> texts;
    for (const auto& test_case : cases()) texts.push_back(test_case.text);
    for (const std::size_t batch_size : {0, 3}) {
        const Matrix vectors = embedder_->embed(texts, {.batch_size = batch_size});
        ASSERT_EQ(vectors.rows(), cases().size());
        for (std::size_t idx = 0; idx < cases().size(); ++idx) {
            EXPECT_LT(max_diff(vectors.row(idx), cases()[idx].embedding), 1e-5)
                << "text " << idx << " batch_size " << batch_size;
        }
    }
}

TEST_F(BertTextGolden, FromReferenceIds) {
    std::vector<TokenizedText> inputs;
    for (const auto& test_case : cases()) inputs.push_back({.ids = test_case.ids});
    const Matrix vectors = embedder_->embed_tokenized(inputs);
    for (std::size_t idx = 0; idx < cases().size(); ++idx) {
        EXPECT_LT(max_diff(vectors.row(idx), cases()[idx].embedding), 1e-5) << "text " << idx;
    }
}

TEST_F(BertTextGolden, TinyTokenBudgetStillMatches) {
    // A budget smaller than most texts: every long text runs alone, short ones share batches.
    auto small = TextEmbedder::open(kModelDir, {.thread_count = 1, .max_batch_tokens = 20});
    std::vector<std::string> texts;
    for (const auto& test_case : cases()) texts.push_back(test_case.text);
    const Matrix vectors = small->embed(texts);
    for (std::size_t idx = 0; idx < cases().size(); ++idx) {
        EXPECT_LT(max_diff(vectors.row(idx), cases()[idx].embedding), 1e-5) << "text " << idx;
    }
}

}  // namespace
}  // namespace tessera
