// Sentence pooling as sentence-transformers' Pooling module does it, plus the Matryoshka
// truncation and L2 normalisation that follow it.
//
//   std::vector<float> pooled(engine::pooled_dim(modes, hidden_dim));
//   engine::pool_sequence(hidden_rows, token_count, hidden_dim, modes, skip_first, pooled.data());
//   engine::finish_embedding(pooled, dimensions, /*normalize=*/true, out_row);
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "formats/sentence_transformers.hpp"

namespace tessera::engine {

[[nodiscard]] inline std::size_t pooled_dim(std::span<const formats::PoolingMode> modes, std::size_t hidden_dim) {
    return modes.size() * hidden_dim;
}

// Pools one sequence's hidden states [token_count x hidden_dim] into `out` (pooled_dim floats),
// the modes concatenated in order. The first `skipped_tokens` tokens are masked out (the prompt,
// when include_prompt is false), except for CLS, which always takes token 0 as ST does.
void pool_sequence(const float* hidden, std::size_t token_count, std::size_t hidden_dim,
                   std::span<const formats::PoolingMode> modes, std::size_t skipped_tokens, float* out);

// Which hidden rows a pooling reads: every token's, or only each sequence's first (CLS) or last
// (last-token) row. With one of the latter the encoder's last layer runs only that row past its
// attention (models::TextEncoder::encode's output_positions), and pool_sequence gets that one row.
enum class PooledRows { every_token, first_token, last_token };
[[nodiscard]] PooledRows pooled_rows(std::span<const formats::PoolingMode> modes);

// Keeps the first `dimensions` values (0 = all) and L2-normalises them if asked, into `out`
// (which has exactly the kept size).
void finish_embedding(std::span<const float> pooled, std::size_t dimensions, bool normalize, std::span<float> out);

}  // namespace tessera::engine
