#include "models/sequence_chunks.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace tessera::models {
namespace {

std::vector<std::size_t> chunk_tokens(const std::vector<std::size_t>& lengths, const std::vector<std::size_t>& ends) {
    std::vector<std::size_t> tokens;
    std::size_t begin = 0;
    for (const std::size_t end : ends) {
        EXPECT_GT(end, begin) << "every chunk holds at least one sequence";
        tokens.push_back(std::accumulate(lengths.begin() + begin, lengths.begin() + end, std::size_t{0}));
        begin = end;
    }
    return tokens;
}

constexpr std::size_t kSmallModel = std::size_t{42} << 20;  // MiniLM-L6's fp32 layer weights

TEST(SequenceChunks, UniformBatchSplitsIntoEqualChunksUnderTheCap) {
    const std::vector<std::size_t> lengths(32, 128);
    const auto ends = plan_sequence_chunks(lengths, 2, kSmallModel, 256);
    ASSERT_EQ(ends.size(), 16u);
    EXPECT_EQ(ends.back(), 32u);
    for (const std::size_t tokens : chunk_tokens(lengths, ends)) EXPECT_EQ(tokens, 256u);
}

TEST(SequenceChunks, SmallBatchAimsAtThreeChunksPerThread) {
    const std::vector<std::size_t> lengths(12, 100);  // 1,200 tokens: 200 per chunk for 2 threads
    const auto ends = plan_sequence_chunks(lengths, 2, kSmallModel, 1024);
    EXPECT_EQ(ends, (std::vector<std::size_t>{2, 4, 6, 8, 10, 12}));
}

TEST(SequenceChunks, TooFewSequencesRunWhole) {
    EXPECT_TRUE(plan_sequence_chunks(std::vector<std::size_t>{16}, 2, kSmallModel, 256).empty());           // one query
    EXPECT_TRUE(plan_sequence_chunks(std::vector<std::size_t>{512, 512, 512}, 2, kSmallModel, 256).empty()); // 3 < 2 per thread
    EXPECT_TRUE(plan_sequence_chunks(std::vector<std::size_t>(8, 8), 2, kSmallModel, 256).empty());         // 64 tokens in all
    EXPECT_TRUE(plan_sequence_chunks(std::vector<std::size_t>{}, 2, kSmallModel, 256).empty());
}

TEST(SequenceChunks, ZeroCapNeverChunks) {
    EXPECT_TRUE(plan_sequence_chunks(std::vector<std::size_t>(64, 128), 2, kSmallModel, 0).empty());
}

TEST(SequenceChunks, MixedLengthsLongestFirstCoverEverySequenceOnce) {
    std::vector<std::size_t> lengths;
    for (std::size_t length = 256; length >= 8; length -= 4) lengths.push_back(length);
    const auto ends = plan_sequence_chunks(lengths, 2, kSmallModel, 256);
    ASSERT_GE(ends.size(), 4u);
    EXPECT_EQ(ends.back(), lengths.size());
    const auto tokens = chunk_tokens(lengths, ends);
    EXPECT_EQ(std::accumulate(tokens.begin(), tokens.end(), std::size_t{0}),
              std::accumulate(lengths.begin(), lengths.end(), std::size_t{0}));
    // A chunk closes as soon as it reaches the cap, so it passes it by less than its last sequence.
    for (std::size_t idx = 0; idx + 1 < tokens.size(); ++idx) EXPECT_LT(tokens[idx], 256u + 256u);
}

TEST(SequenceChunks, LargeModelsRunWhole) {
    const std::vector<std::size_t> lengths(32, 128);
    EXPECT_FALSE(plan_sequence_chunks(lengths, 2, kMaxChunkedWeightBytes, 256).empty());
    EXPECT_TRUE(plan_sequence_chunks(lengths, 2, kMaxChunkedWeightBytes + 1, 256).empty());  // BGE-base: 340 MB
}

TEST(SequenceChunks, OneThreadStillChunksForCacheLocality) {
    const auto ends = plan_sequence_chunks(std::vector<std::size_t>(8, 128), 1, kSmallModel, 256);
    EXPECT_EQ(ends, (std::vector<std::size_t>{2, 4, 6, 8}));
}

}  // namespace
}  // namespace tessera::models
