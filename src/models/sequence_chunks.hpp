// How a packed batch is spread over the cores: either whole, with every GEMM of every layer split
// over the pool's threads ("intra-op", the only way to speed up one short query), or cut into
// chunks of whole sequences that the threads take one at a time and run through the encoder
// single-threaded ("inter-op").
//
//   const auto ends = models::plan_sequence_chunks(lengths, pool.thread_count(), encoder.layer_weight_bytes());
//   if (ends.empty()) encoder.encode(batch, {}, hidden, &pool);        // intra-op
//   else models::run_chunks(ends, pool, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
//       encoder.encode(chunk_batch[chunk], {}, chunk_hidden[chunk], nullptr);  // sequences [begin, end)
//   });
//
// TextEmbedder (engine/) chunks its packed batches this way, CLIP's towers their sequences.
//
// Why chunks when there are enough sequences: a chunk's activations (~256 tokens: MiniLM's
// 1536-wide FFN activations are 1.5 MB) stay in the core's own L2 instead of streaming the whole
// batch's (25 MB at 32 x 128 tokens) through memory between layers, and the threads do not meet
// at a barrier after each of the ~60 kernels of a batch (the intra-op run kept 2 cores 89% busy).
// 256 tokens measured best (128: -3%, 512: -5%, whole batches: -17% fp32, -28% int8); see the
// README's performance section.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/attention.hpp"  // SequenceSpan

namespace tessera::models {

// Chunks pay while every chunk finds the weights in the last-level cache again: measured on the
// Xeon of 2026-12-04 (2 MB L2 per core), MiniLM-L6 (42 MB fp32, 11 MB int8) ran 10-40% faster in
// chunks, BGE-base (340 MB fp32, 85 MB int8) and CLIP ViT-B/32's vision tower (350 MB) 5-13% slower.
inline constexpr std::size_t kMaxChunkedWeightBytes = std::size_t{64} << 20;

// Tokens per chunk at most (TESSERA_CHUNK_TOKENS overrides it for tuning runs; 0: never chunk).
std::size_t max_chunk_tokens();

// Cuts `lengths` (the sequences of a batch, in batch order) into consecutive chunks and returns
// the end index of each; empty when the batch should run whole: too few sequences to give every
// thread at least two chunks, max_tokens 0, or more than kMaxChunkedWeightBytes of layer weights
// (each chunk reads every weight again). Chunks hold at least one sequence and aim at an equal
// share of tokens, at most `max_tokens` (unless one sequence alone is longer).
[[nodiscard]] std::vector<std::size_t> plan_sequence_chunks(std::span<const std::size_t> lengths,
                                                            std::size_t thread_count, std::size_t weight_bytes,
                                                            std::size_t max_tokens = max_chunk_tokens());

// The same for a packed batch's sequences (their lengths, in batch order).
[[nodiscard]] std::vector<std::size_t> plan_sequence_chunks(std::span<const kernels::SequenceSpan> sequences,
                                                            std::size_t thread_count, std::size_t weight_bytes);

// Runs run(chunk_idx, first_sequence, end_sequence) for every chunk of `ends`, each pool thread
// taking the next chunk as it frees up (so with longest-first sequences the longest go first).
// Exceptions from `run` are rethrown here.
void run_chunks(std::span<const std::size_t> ends, core::ThreadPool& pool,
                const std::function<void(std::size_t, std::size_t, std::size_t)>& run);

}  // namespace tessera::models
