// Attention over a packed batch: one task per (sequence, head), spread over the pool.
//
// Each task runs both products on the fp32 GEMM micro-kernel of the active ISA, as small GEMMs:
//   S = Q K^T   (A = the head's query rows in place, B = K^T packed into panels of nr keys)
//   O = P V     (A = the softmaxed score rows,       B = V packed into panels of nr dims)
// The previous axpy formulation was load/store-bound and took ~30% of a mixed-length batch;
// register-blocked tiles run these at GEMM speed. Queries go in blocks of 4*mr rows, so the
// working set (packed K and V, 2 * head_dim * length floats, plus a 4*mr x length score block)
// stays in L2 for sequences up to 512 tokens; sequences are never padded beyond nr keys.
#include "kernels/attention.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/isa_kernels.hpp"
#include "kernels/work_buffer.hpp"

namespace tessera::kernels {

namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

struct HeadScratch {
    float* k_packed;  // key_panels x head_dim x nr
    float* v_packed;  // dim_panels x length x nr
    float* scores;    // query_block x padded_length
    float* tile;      // mr x nr
};

std::size_t scratch_floats(std::size_t length, std::size_t head_dim, const detail::GemmVariant& gemm) {
    const std::size_t nr = gemm.nr;
    const std::size_t padded_length = round_up(length, nr);
    const std::size_t padded_dim = round_up(head_dim, nr);
    return padded_length * head_dim + padded_dim * length + 4 * gemm.mr * padded_length +
           gemm.mr * nr + 4 * 16;
}

HeadScratch carve(float* base, std::size_t length, std::size_t head_dim, const detail::GemmVariant& gemm) {
    const std::size_t nr = gemm.nr;
    const std::size_t padded_length = round_up(length, nr);
    const std::size_t padded_dim = round_up(head_dim, nr);
    HeadScratch scratch{};
    float* cursor = base;
    auto take = [&](std::size_t count) {
        float* out = cursor;
        cursor += round_up(count, 16);  // keep every part 64-byte aligned
        return out;
    };
    scratch.k_packed = take(padded_length * head_dim);
    scratch.v_packed = take(padded_dim * length);
    scratch.scores = take(4 * gemm.mr * padded_length);
    scratch.tile = take(gemm.mr * nr);
    return scratch;
}

void attention_head(const detail::IsaKernels& isa, const float* q, const float* k, const float* v,
                    std::size_t qkv_stride, std::size_t length, std::size_t head_dim, bool causal,
                    float scale, float* out, std::size_t out_stride, const HeadScratch& scratch) {
    const detail::GemmVariant& gemm = isa.gemm_f32;
    const std::size_t nr = gemm.nr;
    const std::size_t mr = gemm.mr;
    const std::size_t key_panels = (length + nr - 1) / nr;
    const std::size_t dim_panels = (head_dim + nr - 1) / nr;
    const std::size_t padded_length = key_panels * nr;

    // K^T panels: panel p holds keys [p*nr, p*nr+nr) as head_dim rows of nr floats.
    for (std::size_t panel = 0; panel < key_panels; ++panel) {
        float* dst = scratch.k_packed + panel * head_dim * nr;
        const std::size_t keys = std::min(nr, length - panel * nr);
        if (keys < nr) std::memset(dst, 0, head_dim * nr * sizeof(float));
        for (std::size_t key = 0; key < keys; ++key) {
            const float* k_row = k + (panel * nr + key) * qkv_stride;
            for (std::size_t dim = 0; dim < head_dim; ++dim) dst[dim * nr + key] = k_row[dim];
        }
    }
    // V panels: panel p holds dims [p*nr, p*nr+nr) of every key.
    for (std::size_t panel = 0; panel < dim_panels; ++panel) {
        float* dst = scratch.v_packed + panel * length * nr;
        const std::size_t dims = std::min(nr, head_dim - panel * nr);
        for (std::size_t key = 0; key < length; ++key) {
            std::memcpy(dst + key * nr, v + key * qkv_stride + panel * nr, dims * sizeof(float));
            if (dims < nr) std::memset(dst + key * nr + dims, 0, (nr - dims) * sizeof(float));
        }
    }

    const std::size_t query_block = 4 * mr;
    for (std::size_t q_begin = 0; q_begin < length; q_begin += query_block) {
        const std::size_t q_count = std::min(query_block, length - q_begin);
        // Causal: keys after the block's last query are never visible.
        const std::size_t key_limit = causal ? q_begin + q_count : length;
        const std::size_t panels_needed = (key_limit + nr - 1) / nr;
        for (std::size_t row = 0; row < q_count; row += mr) {
            const std::size_t rows = std::min(mr, q_count - row);
            const float* q_rows = q + (q_begin + row) * qkv_stride;
            for (std::size_t panel = 0; panel < panels_needed; ++panel) {
                float* score_rows = scratch.scores + row * padded_length + panel * nr;
                // Straight into the score rows where the kernel can (no tile copy).
                const detail::TileEpilogue direct{.y = score_rows, .y_stride = padded_length};
                gemm.kernel(q_rows, qkv_stride * sizeof(float), rows, scratch.k_packed + panel * head_dim * nr,
                            head_dim, scratch.tile, gemm.stores_output ? &direct : nullptr);
                if (gemm.stores_output) continue;
                for (std::size_t tile_row = 0; tile_row < rows; ++tile_row) {
                    std::memcpy(score_rows + tile_row * padded_length, scratch.tile + tile_row * nr, nr * sizeof(float));
                }
            }
        }
        isa.attention_softmax(scratch.scores, q_count, padded_length, key_limit, q_begin, causal, scale);
        for (std::size_t row = 0; row < q_count; row += mr) {
            const std::size_t rows = std::min(mr, q_count - row);
            for (std::size_t panel = 0; panel < dim_panels; ++panel) {
                const std::size_t dims = std::min(nr, head_dim - panel * nr);
                float* out_rows = out + (q_begin + row) * out_stride + panel * nr;
                // A whole panel of head dims goes straight to the output where the kernel can.
                const detail::TileEpilogue direct{.y = out_rows, .y_stride = out_stride};
                const bool stores = gemm.stores_output && dims == nr;
                gemm.kernel(scratch.scores + row * padded_length, padded_length * sizeof(float), rows,
                            scratch.v_packed + panel * length * nr, key_limit, scratch.tile, stores ? &direct : nullptr);
                if (stores) continue;
                for (std::size_t tile_row = 0; tile_row < rows; ++tile_row) {
                    std::memcpy(out_rows + tile_row * out_stride, scratch.tile + tile_row * nr, dims * sizeof(float));
                }
            }
        }
    }
}

}  // namespace

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
        auto* base = static_cast<float*>(
            work_buffer(WorkSlot::attention, scratch_floats(longest, head_dim, isa.gemm_f32) * sizeof(float)));
        for (std::size_t task = task_begin; task < task_end; ++task) {
            const SequenceSpan& seq = sequences[order[task / head_count]];
            if (seq.length == 0) continue;
            const std::size_t head_offset = (task % head_count) * head_dim;
            const std::size_t row_offset = seq.first_row * qkv_stride + head_offset;
            attention_head(isa, q + row_offset, k + row_offset, v + row_offset, qkv_stride, seq.length,
                           head_dim, shape.causal, scale, out + seq.first_row * out_stride + head_offset,
                           out_stride, carve(base, seq.length, head_dim, isa.gemm_f32));
        }
    };
    if (pool != nullptr) pool->parallel_for(task_count, body, 1);
    else body(0, task_count);
}

}  // namespace tessera::kernels
