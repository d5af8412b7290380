#include "kernels/attention.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/kernel_test_util.hpp"

namespace tessera::kernels {
namespace {

using testing::available_isa_levels;
using testing::IsaScope;
using testing::random_floats;

// Plain per-sequence attention in double.
std::vector<double> reference(const std::vector<float>& qkv, std::size_t stride,
                              const std::vector<SequenceSpan>& seqs, std::size_t heads,
                              std::size_t head_dim, bool causal, std::size_t k_offset,
                              std::size_t v_offset, std::size_t rows) {
    const std::size_t hidden = heads * head_dim;
    std::vector<double> out(rows * hidden, 0.0);
    for (const auto& seq : seqs) {
        for (std::size_t head = 0; head < heads; ++head) {
            for (std::size_t query = 0; query < seq.length; ++query) {
                const std::size_t keys = causal ? query + 1 : seq.length;
                std::vector<double> scores(keys);
                double max_score = -1e300;
                for (std::size_t key = 0; key < keys; ++key) {
                    double dot = 0;
                    for (std::size_t d = 0; d < head_dim; ++d) {
                        dot += double(qkv[(seq.first_row + query) * stride + head * head_dim + d]) *
                               qkv[(seq.first_row + key) * stride + k_offset + head * head_dim + d];
                    }
                    scores[key] = dot / std::sqrt(double(head_dim));
                    max_score = std::max(max_score, scores[key]);
                }
                double sum = 0;
                for (double& s : scores) sum += (s = std::exp(s - max_score));
                for (std::size_t d = 0; d < head_dim; ++d) {
                    double acc = 0;
                    for (std::size_t key = 0; key < keys; ++key) {
                        acc += scores[key] / sum *
                               qkv[(seq.first_row + key) * stride + v_offset + head * head_dim + d];
                    }
                    out[(seq.first_row + query) * hidden + head * head_dim + d] = acc;
                }
            }
        }
    }
    return out;
}

struct Case {
    std::size_t heads, head_dim;
    bool causal;
    std::vector<std::size_t> lengths;
};

TEST(AttentionTest, PackedBatchMatchesDoubleOnEveryIsa) {
    const Case cases[] = {
        {3, 8, false, {1, 5, 17, 40}},
        {12, 32, false, {128, 9, 64}},
        {2, 64, true, {77, 3, 1}},
        {4, 20, true, {33, 250}},
    };
    core::ThreadPool pool(2);
    std::uint32_t seed = 100;
    for (const auto& c : cases) {
        const std::size_t hidden = c.heads * c.head_dim;
        const std::size_t stride = 3 * hidden;  // fused QKV rows
        std::vector<SequenceSpan> seqs;
        std::size_t rows = 0;
        for (std::size_t length : c.lengths) {
            seqs.push_back({rows, length});
            rows += length;
        }
        auto qkv = random_floats(rows * stride, seed++, 1.5f);
        const auto expected = reference(qkv, stride, seqs, c.heads, c.head_dim, c.causal, hidden, 2 * hidden, rows);
        for (const auto level : available_isa_levels()) {
            IsaScope scope(level);
            std::vector<float> out(rows * hidden, -1.0f);
            attention(qkv.data(), qkv.data() + hidden, qkv.data() + 2 * hidden, stride, seqs,
                      {c.heads, c.head_dim, c.causal}, out.data(), hidden, &pool);
            for (std::size_t idx = 0; idx < out.size(); ++idx) {
                ASSERT_NEAR(out[idx], expected[idx], 2e-5)
                    << testing::isa_name(level) << " heads " << c.heads << " idx " << idx;
            }
        }
    }
}

TEST(AttentionTest, SequenceAloneEqualsSequenceInBatch) {
    const std::size_t heads = 4, head_dim = 16, hidden = heads * head_dim;
    const std::vector<std::size_t> lengths = {12, 30, 7};
    std::size_t rows = 0;
    std::vector<SequenceSpan> seqs;
    for (std::size_t length : lengths) {
        seqs.push_back({rows, length});
        rows += length;
    }
    // Separate q, k, v buffers (stride = hidden).
    auto q = random_floats(rows * hidden, 1), k = random_floats(rows * hidden, 2), v = random_floats(rows * hidden, 3);
    core::ThreadPool pool(2);
    std::vector<float> batch(rows * hidden);
    attention(q.data(), k.data(), v.data(), hidden, seqs, {heads, head_dim, false}, batch.data(), hidden, &pool);
    const SequenceSpan middle = seqs[1];
    std::vector<float> alone(middle.length * hidden);
    const std::vector<SequenceSpan> single = {{0, middle.length}};
    const std::size_t offset = middle.first_row * hidden;
    attention(q.data() + offset, k.data() + offset, v.data() + offset, hidden, single,
              {heads, head_dim, false}, alone.data(), hidden, nullptr);
    for (std::size_t idx = 0; idx < alone.size(); ++idx) ASSERT_EQ(alone[idx], batch[offset + idx]);
}

TEST(AttentionTest, SingleTokenReturnsItsValue) {
    const std::size_t heads = 2, head_dim = 4, hidden = 8;
    auto qkv = random_floats(3 * hidden, 5);
    std::vector<float> out(hidden);
    const std::vector<SequenceSpan> seqs = {{0, 1}};
    attention(qkv.data(), qkv.data() + hidden, qkv.data() + 2 * hidden, 3 * hidden, seqs,
              {heads, head_dim, false}, out.data(), hidden, nullptr);
    for (std::size_t idx = 0; idx < hidden; ++idx) EXPECT_FLOAT_EQ(out[idx], qkv[2 * hidden + idx]);
}

}  // namespace
}  // namespace tessera::kernels
