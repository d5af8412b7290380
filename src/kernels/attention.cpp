// Attention over a packed batch: one task per (sequence, head), spread over the pool; each task
// works in a per-thread scratch sized for its own sequence, never for the batch's longest.
#include "kernels/attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/isa_kernels.hpp"
#include "kernels/work_buffer.hpp"

namespace tessera::kernels {

void attention(const float* q, const float* k, const float* v, std::size_t qkv_stride,
               std::span<const SequenceSpan> sequences, const AttentionShape& shape, float* out,
               std::size_t out_stride, core::ThreadPool* pool) {
    const std::size_t head_count = shape.head_count;
    const std::size_t head_dim = shape.head_dim;
    if (sequences.empty() || head_count == 0 || head_dim == 0) return;
    const auto& isa = detail::active_kernels();
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));

    // Longest sequences first, so the pool's contiguous chunks end up with similar work.
    std::vector<std::size_t> order(sequences.size());
    for (std::size_t idx = 0; idx < order.size(); ++idx) order[idx] = idx;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t lhs, std::size_t rhs) {
        return sequences[lhs].length > sequences[rhs].length;
    });
    const std::size_t task_count = sequences.size() * head_count;

    auto body = [&](std::size_t task_begin, std::size_t task_end) {
        std::size_t longest = 0;
        for (std::size_t task = task_begin; task < task_end; ++task) {
            longest = std::max(longest, sequences[order[task / head_count]].length);
        }
        auto* scratch = static_cast<float*>(work_buffer(
            WorkSlot::attention, detail::attention_scratch_floats(longest, head_dim) * sizeof(float)));
        for (std::size_t task = task_begin; task < task_end; ++task) {
            const SequenceSpan& seq = sequences[order[task / head_count]];
            if (seq.length == 0) continue;
            const std::size_t head_offset = (task % head_count) * head_dim;
            const std::size_t row_offset = seq.first_row * qkv_stride + head_offset;
            isa.attention_head(q + row_offset, k + row_offset, v + row_offset, qkv_stride,
                               seq.length, head_dim, shape.causal, scale,
                               out + seq.first_row * out_stride + head_offset, out_stride, scratch);
        }
    };
    if (pool != nullptr) pool->parallel_for(task_count, body, 1);
    else body(0, task_count);
}

}  // namespace tessera::kernels
