// Multi-head scaled dot-product attention over a packed batch of variable-length sequences:
// no compute is spent on padding, because there is none.
#pragma once

#include <cstddef>
#include <span>

#include "core/thread_pool.hpp"
#include "tessera/embedder.hpp"  // tessera::Precision

namespace tessera::kernels {

// One sequence inside a packed token matrix: rows [first_row, first_row + length).
struct SequenceSpan {
    std::size_t first_row = 0;
    std::size_t length = 0;
};

struct AttentionShape {
    std::size_t head_count = 0;
    std::size_t head_dim = 0;
    bool causal = false;  // CLIP text: token t attends to tokens <= t only
    // int8: both products on the int8 GEMM kernel (u8 queries and probabilities, s8 keys and
    // values); bf16: on the bf16 kernel where it takes bf16 inputs (vdpbf16ps), else in fp32, as
    // fp32 does. See attention.cpp.
    Precision precision = Precision::fp32;
};

// For each sequence s, head h, token t:
//   out[t, h*head_dim:(h+1)*head_dim] = softmax(q_t . K^T / sqrt(head_dim)) V   (within s only)
// q, k, v point at the first row's head-0 values; consecutive rows are `qkv_stride` floats apart
// (3*hidden for a fused QKV buffer, hidden for separate buffers). out has row stride out_stride.
//
// With `query_positions` (one per sequence), only the query at position query_positions[s] of
// sequence s is computed, into out row s; keys and values are still the whole sequence. That is
// all a last layer needs when the caller reads one row per sequence (CLS or last-token pooling,
// CLIP's class and end-of-text tokens): the rest of a transformer layer is per row.
void attention(const float* q, const float* k, const float* v, std::size_t qkv_stride,
               std::span<const SequenceSpan> sequences, const AttentionShape& shape, float* out,
               std::size_t out_stride, core::ThreadPool* pool, std::span<const std::size_t> query_positions = {});

}  // namespace tessera::kernels
