// bf16 and int8 against fp32 on the golden BERT model: the reduced precisions must keep the
// embeddings within the targets (mean cosine >= 0.999 for bf16, >= 0.995 for int8), both
// to our fp32 output and to the independent float64 reference in ../shared/data/golden/.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/cpu_features.hpp"
#include "tessera/embedder.hpp"

namespace tessera {
namespace {

const std::string kModelDir = std::string(TESSERA_SHARED_DIR) + "/data/golden/bert-tiny-random";

struct GoldenCase {
    TokenizedText input;
    std::vector<float> expected;
};

std::vector<GoldenCase> read_cases() {
    std::ifstream file(kModelDir + "/expected/texts.jsonl");
    EXPECT_TRUE(file.good()) << "missing golden texts.jsonl";
    std::vector<GoldenCase> cases;
    std::string line;
    while (std::getline(file, line)) {
        if (line.empty()) continue;
        const auto record = nlohmann::json::parse(line);
        GoldenCase golden;
        golden.input.ids = record.at("input_ids").get<std::vector<std::int32_t>>();
        golden.expected = record.at("sentence_embedding").get<std::vector<float>>();
        cases.push_back(std::move(golden));
    }
    return cases;
}

double cosine(std::span<const float> lhs, std::span<const float> rhs) {
    double dot = 0, lhs_sq = 0, rhs_sq = 0;
    for (std::size_t idx = 0; idx < lhs.size(); ++idx) {
        dot += double(lhs[idx]) * rhs[idx];
        lhs_sq += double(lhs[idx]) * lhs[idx];
        rhs_sq += double(rhs[idx]) * rhs[idx];
    }
    return dot / std::sqrt(lhs_sq * rhs_sq);
}

Matrix embed(Precision precision, const std::vector<GoldenCase>& cases) {
    EmbedderOptions options;
    options.precision = precision;
    options.thread_count = 2;
    auto embedder = TextEmbedder::open(kModelDir, options);
    std::vector<TokenizedText> inputs;
    for (const auto& golden : cases) inputs.push_back(golden.input);
    return embedder->embed_tokenized(inputs);
}

struct Agreement {
    double mean_to_fp32 = 0, min_to_fp32 = 1, mean_to_golden = 0;
};

Agreement agreement(Precision precision) {
    const auto cases = read_cases();
    EXPECT_GT(cases.size(), 10u);
    const Matrix fp32 = embed(Precision::fp32, cases);
    const Matrix reduced = embed(precision, cases);
    Agreement result;
    for (std::size_t idx = 0; idx < cases.size(); ++idx) {
        const double to_fp32 = cosine(reduced.row(idx), fp32.row(idx));
        result.mean_to_fp32 += to_fp32 / cases.size();
        result.min_to_fp32 = std::min(result.min_to_fp32, to_fp32);
        result.mean_to_golden += cosine(reduced.row(idx), cases[idx].expected) / cases.size();
        // fp32 itself must reproduce the independent reference.
        EXPECT_GT(cosine(fp32.row(idx), cases[idx].expected), 0.99999) << "fp32 case " << idx;
    }
    return result;
}

TEST(PrecisionGoldenTest, Bf16MeanCosineAtLeast0999) {
    const auto result = agreement(Precision::bf16);
    std::cout << "bf16: mean cosine to fp32 " << result.mean_to_fp32 << " (min " << result.min_to_fp32
              << "), to golden " << result.mean_to_golden << "\n";
    EXPECT_GE(result.mean_to_fp32, 0.999);
    EXPECT_GE(result.mean_to_golden, 0.999);
    EXPECT_LT(result.mean_to_fp32, 1.0 - 1e-9) << "bf16 gave fp32's exact output: not actually reduced";
}

TEST(PrecisionGoldenTest, Int8MeanCosineAtLeast0995) {
    const auto result = agreement(Precision::int8);
    std::cout << "int8: mean cosine to fp32 " << result.mean_to_fp32 << " (min " << result.min_to_fp32
              << "), to golden " << result.mean_to_golden << "\n";
    EXPECT_GE(result.mean_to_fp32, 0.995);
    EXPECT_GE(result.mean_to_golden, 0.995);
    EXPECT_LT(result.mean_to_fp32, 1.0 - 1e-9) << "int8 gave fp32's exact output: not actually reduced";
}

// The portable fallbacks must meet the same targets (CPUs without AVX512_BF16 / VNNI run them).
TEST(PrecisionGoldenTest, PortableFallbacksMeetTargets) {
    core::set_isa_level_override(core::IsaLevel::portable);
    const auto bf16 = agreement(Precision::bf16);
    const auto int8 = agreement(Precision::int8);
    core::clear_isa_level_override();
    EXPECT_GE(bf16.mean_to_fp32, 0.999);
    EXPECT_GE(int8.mean_to_fp32, 0.995);
}

}  // namespace
}  // namespace tessera
