#include "models/sequence_chunks.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <numeric>

namespace tessera::models {

namespace {

// Chunks per thread to aim for in small batches: the chunks go longest first to whichever thread
// is free, so with three per thread the last one leaves the other cores idle only briefly.
constexpr std::size_t kChunksPerThread = 3;
// Below this a chunk's GEMMs run on too few rows to fill the 12-row micro-kernel tiles.
constexpr std::size_t kMinChunkTokens = 64;

}  // namespace

std::size_t max_chunk_tokens() {
    static const std::size_t tokens = [] {
        const char* env = std::getenv("TESSERA_CHUNK_TOKENS");
        if (env == nullptr || *env == '\0') return std::size_t{256};
        return static_cast<std::size_t>(std::max(0L, std::atol(env)));
    }();
    return tokens;
}

std::vector<std::size_t> plan_sequence_chunks(std::span<const std::size_t> lengths, std::size_t thread_count,
                                              std::size_t weight_bytes, std::size_t max_tokens) {
    if (max_tokens == 0 || weight_bytes > kMaxChunkedWeightBytes) return {};
    thread_count = std::max<std::size_t>(thread_count, 1);
    const std::size_t total = std::accumulate(lengths.begin(), lengths.end(), std::size_t{0});
    const std::size_t share = (total + kChunksPerThread * thread_count - 1) / (kChunksPerThread * thread_count);
    const std::size_t target = std::max(kMinChunkTokens, std::min(share, max_tokens));
    std::vector<std::size_t> ends;
    std::size_t tokens = 0;
    for (std::size_t idx = 0; idx < lengths.size(); ++idx) {
        tokens += lengths[idx];
        if (tokens >= target || idx + 1 == lengths.size()) {
            ends.push_back(idx + 1);
            tokens = 0;
        }
    }
    if (ends.size() < 2 * thread_count) ends.clear();
    return ends;
}

std::vector<std::size_t> plan_sequence_chunks(std::span<const kernels::SequenceSpan> sequences,
                                              std::size_t thread_count, std::size_t weight_bytes) {
    std::vector<std::size_t> lengths(sequences.size());
    for (std::size_t idx = 0; idx < sequences.size(); ++idx) lengths[idx] = sequences[idx].length;
    return plan_sequence_chunks(lengths, thread_count, weight_bytes);
}

void run_chunks(std::span<const std::size_t> ends, core::ThreadPool& pool,
                const std::function<void(std::size_t, std::size_t, std::size_t)>& run) {
    std::atomic<std::size_t> next_chunk{0};
    pool.parallel_for(pool.thread_count(), [&](std::size_t, std::size_t) {
        for (std::size_t chunk = next_chunk++; chunk < ends.size(); chunk = next_chunk++) {
            run(chunk, chunk == 0 ? 0 : ends[chunk - 1], ends[chunk]);
        }
    });
}

}  // namespace tessera::models
