// The transformer feed-forward block y = down(act(up(x))), run so that its wide intermediate
// (rows x ffn_dim, 4x the hidden size) never leaves the core's L2.
//
//   kernels::feed_forward(layer.ffn_up, kernels::Activation::gelu_erf, layer.ffn_down, x, rows, y,
//   &pool);
//
// Rows go in blocks of a few tiles: each block's intermediate sits in a per-thread work buffer
// between the two GEMMs, instead of a [rows, ffn_dim] array that is written to memory by `up` and
// read back (and, at int8, read once more to quantise it) by `down`. Too few rows to give every
// thread two blocks run as two whole GEMMs split over the pool (the latency path).
#pragma once

#include <cstddef>

#include "core/thread_pool.hpp"
#include "kernels/linear.hpp"

namespace tessera::kernels {

// x: row_count x up.in_dim(); y: row_count x down.out_dim(); up.out_dim() == down.in_dim().
void feed_forward(const Linear& up, Activation activation, const Linear& down, const float* x,
                  std::size_t row_count, float* y, core::ThreadPool* pool);

// Rows per block (TESSERA_FFN_BLOCK_ROWS overrides it for tuning runs; 0: never block).
std::size_t feed_forward_block_rows();

}  // namespace tessera::kernels
