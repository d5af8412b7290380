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
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/isa_kernels.hpp"
#include "kernels/work_buffer.hpp"
#include "tessera/error.hpp"

namespace tessera::kernels {

namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

// The kernels' K group: one 32-bit lane of vpdpbusd (4 int8 values) or vdpbf16ps (2 bf16
// values), 1 for fp32; every variant uses it.
constexpr std::size_t kF32Group = 1;
constexpr std::size_t kInt8Group = 4;
constexpr std::size_t kBf16Group = 2;

// The queries [begin, end) of a sequence that a head computes (all of them, or one).
struct QueryRange {
    std::size_t begin = 0;
    std::size_t end = 0;
    [[nodiscard]] std::size_t count() const { return end - begin; }
};

// A head's padded sizes for a kernel: panels of nr keys or dims, K in groups of gemm.k_group.
struct HeadDims {
    std::size_t key_panels, dim_panels, padded_length, dim_padded, key_padded;

    HeadDims(std::size_t length, std::size_t head_dim, const detail::GemmVariant& gemm)
        : key_panels((length + gemm.nr - 1) / gemm.nr),
          dim_panels((head_dim + gemm.nr - 1) / gemm.nr),
          padded_length(key_panels * gemm.nr),
          dim_padded(round_up(head_dim, gemm.k_group)),
          key_padded(round_up(length, gemm.k_group)) {}
};

// Lays a head's scratch parts out from `base`, 64-byte aligned; with base == nullptr it only
// counts the bytes (`used`), so one function gives both the size and the layout.
struct ScratchLayout {
    std::byte* base;
    std::size_t used = 0;

    template <typename T>
    void take(T*& part, std::size_t count) {
        part = base != nullptr ? reinterpret_cast<T*>(base + used) : nullptr;
        used += round_up(count * sizeof(T), 64);
    }
};

// Rows of k_padded values (a whole number of groups of G; rows `row_stride` apart) -> panels in
// which each row is a column: group g of row r (G values, 32 bits) at g * nr + (r - p * nr) of
// panel p, in groups.
template <typename T, std::size_t G>
void pack_rows_as_columns(const T* rows, std::size_t row_stride, std::size_t row_count, std::size_t k_padded,
                          std::size_t nr, T* panels) {
    static_assert(sizeof(T) * G == sizeof(std::uint32_t));
    const std::size_t panel_count = (row_count + nr - 1) / nr, groups = k_padded / G;
    for (std::size_t panel = 0; panel < panel_count; ++panel) {
        T* dst = panels + panel * k_padded * nr;
        for (std::size_t col = 0; col < nr; ++col) {
            const std::size_t row = panel * nr + col;
            for (std::size_t group = 0; group < groups; ++group) {
                std::uint32_t quad = 0;
                if (row < row_count) std::memcpy(&quad, rows + row * row_stride + group * G, sizeof(quad));
                std::memcpy(dst + (group * nr + col) * G, &quad, sizeof(quad));
            }
        }
    }
}

// Rows of `cols` values (row_count % G == 0; rows `row_stride` apart) -> panels of nr columns
// with the rows as the K axis: value (r, c) at ((r / G) * nr + c - p * nr) * G + r % G of panel p.
template <typename T, std::size_t G>
void pack_columns(const T* rows, std::size_t row_stride, std::size_t row_count, std::size_t cols, std::size_t nr,
                  T* panels) {
    const std::size_t panel_count = (cols + nr - 1) / nr;
    for (std::size_t panel = 0; panel < panel_count; ++panel) {
        T* dst = panels + panel * row_count * nr;
        const std::size_t width = std::min(nr, cols - panel * nr);
        for (std::size_t group = 0; group < row_count / G; ++group) {
            T* group_dst = dst + group * nr * G;
            const T* src = rows + group * G * row_stride + panel * nr;
            for (std::size_t col = 0; col < width; ++col) {
                for (std::size_t t = 0; t < G; ++t) group_dst[col * G + t] = src[t * row_stride + col];
            }
            std::fill(group_dst + width * G, group_dst + nr * G, T{0});
        }
    }
}

struct HeadScratch {
    float* k_packed;  // key_panels x head_dim x nr
    float* v_packed;  // dim_panels x length x nr
    float* scores;    // 4 mr x padded_length
    float* tile;      // mr x nr
};

// The scratch of one fp32 head (ScratchLayout: returns the bytes, lays out only with a base).
std::size_t carve_f32(std::byte* base, std::size_t length, std::size_t head_dim, const detail::GemmVariant& gemm,
                      HeadScratch& scratch) {
    const HeadDims dims(length, head_dim, gemm);
    ScratchLayout layout{base};
    layout.take(scratch.k_packed, dims.key_panels * head_dim * gemm.nr);
    layout.take(scratch.v_packed, dims.dim_panels * length * gemm.nr);
    layout.take(scratch.scores, 4 * gemm.mr * dims.padded_length);
    layout.take(scratch.tile, gemm.mr * gemm.nr);
    return layout.used;
}

// One micro-kernel call into `width` columns of rows of y: straight from the kernel where it
// stores whole panels itself (GemmVariant::stores_output), else through the tile. `epilogue`
// carries what the kernel needs besides (int8's scales); y and y_stride are set here.
void gemm_into(const detail::GemmVariant& gemm, const void* a, std::size_t a_stride_bytes, std::size_t rows,
               const void* panel, std::size_t k_groups, float* tile, detail::TileEpilogue epilogue, float* y,
               std::size_t y_stride, std::size_t width) {
    const bool stores = gemm.stores_output && width == gemm.nr;
    if (stores) epilogue.y = y, epilogue.y_stride = y_stride;
    gemm.kernel(a, a_stride_bytes, rows, panel, k_groups, tile, &epilogue);
    if (stores) return;
    for (std::size_t row = 0; row < rows; ++row) std::memcpy(y + row * y_stride, tile + row * gemm.nr, width * sizeof(float));
}

// A head's two products, queries in blocks of 4 mr (a block's scores stay in L2), the
// precision's GEMM calls and softmax passed in:
//   score(query, rows, key_panel, score_rows)      rows of S for one panel of nr keys
//   normalise(first_query, query_count, key_limit)  the block's scores -> P
//   output(block_row, rows, dim_panel, out_rows, width, key_limit)  rows of O for one panel of dims
// Causal: keys after the block's last query are never visible (key_limit).
// Only the queries in `queries` are computed; out holds the first one's row.
template <typename Score, typename Normalise, typename Output>
void run_query_blocks(std::size_t length, QueryRange queries, std::size_t head_dim, const detail::GemmVariant& gemm,
                      bool causal, float* scores, std::size_t score_stride, float* out, std::size_t out_stride,
                      Score&& score, Normalise&& normalise, Output&& output) {
    const std::size_t mr = gemm.mr, nr = gemm.nr, query_block = 4 * mr;
    const std::size_t dim_panels = (head_dim + nr - 1) / nr;
    for (std::size_t q_begin = queries.begin; q_begin < queries.end; q_begin += query_block) {
        const std::size_t q_count = std::min(query_block, queries.end - q_begin);
        const std::size_t key_limit = causal ? q_begin + q_count : length;
        const std::size_t key_panels = (key_limit + nr - 1) / nr;
        for (std::size_t row = 0; row < q_count; row += mr) {
            for (std::size_t panel = 0; panel < key_panels; ++panel) {
                score(q_begin + row, std::min(mr, q_count - row), panel, scores + row * score_stride + panel * nr);
            }
        }
        normalise(q_begin, q_count, key_limit);
        for (std::size_t row = 0; row < q_count; row += mr) {
            for (std::size_t panel = 0; panel < dim_panels; ++panel) {
                output(row, std::min(mr, q_count - row), panel, out + (q_begin - queries.begin + row) * out_stride + panel * nr,
                       std::min(nr, head_dim - panel * nr), key_limit);
            }
        }
    }
}

void attention_head(const detail::IsaKernels& isa, const float* q, const float* k, const float* v,
                    std::size_t qkv_stride, std::size_t length, QueryRange queries, std::size_t head_dim, bool causal,
                    float scale, float* out, std::size_t out_stride, const HeadScratch& scratch) {
    const detail::GemmVariant& gemm = isa.gemm_f32;
    const std::size_t nr = gemm.nr;
    const std::size_t padded_length = HeadDims(length, head_dim, gemm).padded_length;
    // K^T panels: panel p holds keys [p*nr, p*nr+nr) as head_dim rows of nr floats; V panels:
    // panel p holds dims [p*nr, p*nr+nr) of every key.
    pack_rows_as_columns<float, kF32Group>(k, qkv_stride, length, head_dim, nr, scratch.k_packed);
    pack_columns<float, kF32Group>(v, qkv_stride, length, head_dim, nr, scratch.v_packed);

    run_query_blocks(
        length, queries, head_dim, gemm, causal, scratch.scores, padded_length, out, out_stride,
        [&](std::size_t query, std::size_t rows, std::size_t panel, float* score_rows) {
            gemm_into(gemm, q + query * qkv_stride, qkv_stride * sizeof(float), rows,
                      scratch.k_packed + panel * head_dim * nr, head_dim, scratch.tile, {}, score_rows, padded_length, nr);
        },
        [&](std::size_t first_query, std::size_t query_count, std::size_t key_limit) {
            isa.attention_softmax(scratch.scores, query_count, padded_length, key_limit, first_query, causal, scale);
        },
        [&](std::size_t row, std::size_t rows, std::size_t panel, float* out_rows, std::size_t width, std::size_t key_limit) {
            gemm_into(gemm, scratch.scores + row * padded_length, padded_length * sizeof(float), rows,
                      scratch.v_packed + panel * length * nr, key_limit, scratch.tile, {}, out_rows, out_stride, width);
        });
}

// ---- int8 ----------------------------------------------------------------------------------
// Both products on the int8 micro-kernel (vpdpbusd: 4x the fp32 FMA rate), with the same epilogue
// as Linear's: y = row_scale * col_scale * (acc - row_zero * col_sum).
//   S = Q K^T: Q as u8 per query (asymmetric, as Linear's activations), K as s8 per key;
//   O = P V:   P as u8 codes of exp(s - max) with row scale 1 / sum(codes) and zero point 0
//              (attention_softmax_u8), V as s8 per head dim.
// K and V are packed as Linear's weight panels: k_group K values per column, interleaved.
// On MiniLM-L6 the fp32 products and softmax were ~20% of an int8 batch; see the README.

struct Int8HeadScratch {
    std::int8_t* k_rows;    // length x dim_padded codes, row-major (packed into k_packed)
    std::int8_t* k_packed;  // key_panels x dim_padded x nr
    float* k_scale;         // key_panels * nr (zero past the last key)
    float* k_sum;
    std::int8_t* v_rows;    // key_padded x head_dim codes, row-major (zero past the last key)
    std::int8_t* v_packed;  // dim_panels x key_padded x nr
    float* v_scale;         // dim_panels * nr
    float* v_sum;
    float* v_inv_scale;
    std::uint8_t* q_codes;  // length x dim_padded
    float* q_scale;         // length
    float* q_zero;
    float* scores;          // 4 mr x padded_length
    std::uint8_t* p_codes;  // 4 mr x key_padded
    float* p_scale;         // 4 mr
    float* p_zero;          // 4 mr zeros
    float* tile;            // mr x nr
};

// The scratch of one int8 head (ScratchLayout: returns the bytes, lays out only with a base).
std::size_t carve_int8(std::byte* base, std::size_t length, std::size_t head_dim, const detail::GemmVariant& gemm,
                       Int8HeadScratch& scratch) {
    const HeadDims dims(length, head_dim, gemm);
    const std::size_t nr = gemm.nr, query_block = 4 * gemm.mr;
    ScratchLayout layout{base};
    layout.take(scratch.k_rows, length * dims.dim_padded);
    layout.take(scratch.k_packed, dims.key_panels * dims.dim_padded * nr);
    layout.take(scratch.k_scale, dims.padded_length);
    layout.take(scratch.k_sum, dims.padded_length);
    layout.take(scratch.v_rows, dims.key_padded * head_dim);
    layout.take(scratch.v_packed, dims.dim_panels * dims.key_padded * nr);
    layout.take(scratch.v_scale, dims.dim_panels * nr);
    layout.take(scratch.v_sum, dims.dim_panels * nr);
    layout.take(scratch.v_inv_scale, head_dim);
    layout.take(scratch.q_codes, length * dims.dim_padded);
    layout.take(scratch.q_scale, length);
    layout.take(scratch.q_zero, length);
    layout.take(scratch.scores, query_block * dims.padded_length);
    layout.take(scratch.p_codes, query_block * dims.key_padded);
    layout.take(scratch.p_scale, query_block);
    layout.take(scratch.p_zero, query_block);
    layout.take(scratch.tile, gemm.mr * nr);
    return layout.used;
}

void attention_head_int8(const detail::IsaKernels& isa, const float* q, const float* k, const float* v,
                         std::size_t qkv_stride, std::size_t length, QueryRange queries, std::size_t head_dim,
                         bool causal, float scale, float* out, std::size_t out_stride, const Int8HeadScratch& scratch) {
    const detail::GemmVariant& gemm = isa.gemm_int8;
    const std::size_t nr = gemm.nr, mr = gemm.mr, kg = kInt8Group;
    if (gemm.k_group != kInt8Group) throw Error(ErrorCode::internal, "attention: int8 kernel without 4-value K groups");
    const HeadDims dims(length, head_dim, gemm);

    isa.quantize_s8_rows(k, qkv_stride, length, head_dim, dims.dim_padded, gemm.weight_max, scratch.k_rows,
                         scratch.k_scale, scratch.k_sum);
    std::fill(scratch.k_scale + length, scratch.k_scale + dims.padded_length, 0.0f);
    std::fill(scratch.k_sum + length, scratch.k_sum + dims.padded_length, 0.0f);
    pack_rows_as_columns<std::int8_t, kInt8Group>(scratch.k_rows, dims.dim_padded, length, dims.dim_padded, nr,
                                                  scratch.k_packed);

    isa.quantize_s8_columns(v, qkv_stride, length, head_dim, gemm.weight_max, scratch.v_rows, scratch.v_scale,
                            scratch.v_sum, scratch.v_inv_scale);
    std::memset(scratch.v_rows + length * head_dim, 0, (dims.key_padded - length) * head_dim);
    std::fill(scratch.v_scale + head_dim, scratch.v_scale + dims.dim_panels * nr, 0.0f);
    std::fill(scratch.v_sum + head_dim, scratch.v_sum + dims.dim_panels * nr, 0.0f);
    pack_columns<std::int8_t, kInt8Group>(scratch.v_rows, head_dim, dims.key_padded, head_dim, nr, scratch.v_packed);

    isa.quantize_u8_rows(q + queries.begin * qkv_stride, qkv_stride, queries.count(), head_dim, dims.dim_padded,
                         scratch.q_codes + queries.begin * dims.dim_padded, scratch.q_scale + queries.begin,
                         scratch.q_zero + queries.begin);

    std::fill(scratch.p_zero, scratch.p_zero + 4 * mr, 0.0f);
    run_query_blocks(
        length, queries, head_dim, gemm, causal, scratch.scores, dims.padded_length, out, out_stride,
        [&](std::size_t query, std::size_t rows, std::size_t panel, float* score_rows) {
            const detail::TileEpilogue scales{scratch.q_scale + query, scratch.q_zero + query,
                                              scratch.k_scale + panel * nr, scratch.k_sum + panel * nr};
            gemm_into(gemm, scratch.q_codes + query * dims.dim_padded, dims.dim_padded, rows,
                      scratch.k_packed + panel * dims.dim_padded * nr, dims.dim_padded / kg, scratch.tile, scales,
                      score_rows, dims.padded_length, nr);
        },
        [&](std::size_t first_query, std::size_t query_count, std::size_t key_limit) {
            isa.attention_softmax_u8(scratch.scores, query_count, dims.padded_length, key_limit, dims.key_padded,
                                     first_query, causal, scale, scratch.p_codes, dims.key_padded, scratch.p_scale);
        },
        [&](std::size_t row, std::size_t rows, std::size_t panel, float* out_rows, std::size_t width, std::size_t key_limit) {
            const detail::TileEpilogue scales{scratch.p_scale + row, scratch.p_zero + row, scratch.v_scale + panel * nr,
                                              scratch.v_sum + panel * nr};
            gemm_into(gemm, scratch.p_codes + row * dims.key_padded, dims.key_padded, rows,
                      scratch.v_packed + panel * dims.key_padded * nr, (key_limit + kg - 1) / kg, scratch.tile, scales,
                      out_rows, out_stride, width);
        });
}

// ---- bf16 ----------------------------------------------------------------------------------
// Where the bf16 kernel is vdpbf16ps (GemmInput::bf16), both products run on it: Q, K, the
// softmaxed P and V rounded to bf16, scores and outputs accumulated in fp32. (With the "widen"
// kernel, fp32 activations times bf16 weights, there is no gain over fp32: attention stays fp32.)

struct Bf16HeadScratch {
    std::uint16_t* k_rows;    // length x dim_padded (packed into k_packed)
    std::uint16_t* k_packed;  // key_panels x dim_padded x nr
    std::uint16_t* v_rows;    // key_padded x head_dim (zero past the last key)
    std::uint16_t* v_packed;  // dim_panels x key_padded x nr
    std::uint16_t* q_rows;    // length x dim_padded
    float* scores;            // 4 mr x padded_length
    std::uint16_t* p_rows;    // 4 mr x key_padded
    float* tile;              // mr x nr
};

// The scratch of one bf16 head, as carve_int8.
std::size_t carve_bf16(std::byte* base, std::size_t length, std::size_t head_dim, const detail::GemmVariant& gemm,
                       Bf16HeadScratch& scratch) {
    const HeadDims dims(length, head_dim, gemm);
    const std::size_t nr = gemm.nr, query_block = 4 * gemm.mr;
    ScratchLayout layout{base};
    layout.take(scratch.k_rows, length * dims.dim_padded);
    layout.take(scratch.k_packed, dims.key_panels * dims.dim_padded * nr);
    layout.take(scratch.v_rows, dims.key_padded * head_dim);
    layout.take(scratch.v_packed, dims.dim_panels * dims.key_padded * nr);
    layout.take(scratch.q_rows, length * dims.dim_padded);
    layout.take(scratch.scores, query_block * dims.padded_length);
    layout.take(scratch.p_rows, query_block * dims.key_padded);
    layout.take(scratch.tile, gemm.mr * nr);
    return layout.used;
}

bool bf16_attention_runs(const detail::IsaKernels& isa) {
    return isa.gemm_bf16.kernel != nullptr && isa.gemm_bf16.input == detail::GemmInput::bf16 &&
           isa.gemm_bf16.k_group == kBf16Group;
}

void attention_head_bf16(const detail::IsaKernels& isa, const float* q, const float* k, const float* v,
                         std::size_t qkv_stride, std::size_t length, QueryRange queries, std::size_t head_dim,
                         bool causal, float scale, float* out, std::size_t out_stride, const Bf16HeadScratch& scratch) {
    const detail::GemmVariant& gemm = isa.gemm_bf16;
    const std::size_t nr = gemm.nr;
    const HeadDims dims(length, head_dim, gemm);
    constexpr std::size_t kBytes = sizeof(std::uint16_t);

    isa.to_bf16_rows(k, qkv_stride, length, head_dim, dims.dim_padded, scratch.k_rows);
    pack_rows_as_columns<std::uint16_t, kBf16Group>(scratch.k_rows, dims.dim_padded, length, dims.dim_padded, nr,
                                                    scratch.k_packed);
    isa.to_bf16_rows(v, qkv_stride, length, head_dim, head_dim, scratch.v_rows);
    std::fill(scratch.v_rows + length * head_dim, scratch.v_rows + dims.key_padded * head_dim, std::uint16_t{0});
    pack_columns<std::uint16_t, kBf16Group>(scratch.v_rows, head_dim, dims.key_padded, head_dim, nr, scratch.v_packed);
    isa.to_bf16_rows(q + queries.begin * qkv_stride, qkv_stride, queries.count(), head_dim, dims.dim_padded,
                     scratch.q_rows + queries.begin * dims.dim_padded);

    std::size_t p_stride = 0;  // P's rows: the visible keys rounded up to a whole K group
    run_query_blocks(
        length, queries, head_dim, gemm, causal, scratch.scores, dims.padded_length, out, out_stride,
        [&](std::size_t query, std::size_t rows, std::size_t panel, float* score_rows) {
            gemm_into(gemm, scratch.q_rows + query * dims.dim_padded, dims.dim_padded * kBytes, rows,
                      scratch.k_packed + panel * dims.dim_padded * nr, dims.dim_padded / kBf16Group, scratch.tile, {},
                      score_rows, dims.padded_length, nr);
        },
        [&](std::size_t first_query, std::size_t query_count, std::size_t key_limit) {
            isa.attention_softmax(scratch.scores, query_count, dims.padded_length, key_limit, first_query, causal, scale);
            p_stride = round_up(key_limit, kBf16Group);
            isa.to_bf16_rows(scratch.scores, dims.padded_length, query_count, key_limit, p_stride, scratch.p_rows);
        },
        [&](std::size_t row, std::size_t rows, std::size_t panel, float* out_rows, std::size_t width, std::size_t) {
            gemm_into(gemm, scratch.p_rows + row * p_stride, p_stride * kBytes, rows,
                      scratch.v_packed + panel * dims.key_padded * nr, p_stride / kBf16Group, scratch.tile, {},
                      out_rows, out_stride, width);
        });
}

}  // namespace

void attention(const float* q, const float* k, const float* v, std::size_t qkv_stride,
               std::span<const SequenceSpan> sequences, const AttentionShape& shape, float* out,
               std::size_t out_stride, core::ThreadPool* pool, std::span<const std::size_t> query_positions) {
    const std::size_t head_count = shape.head_count;
    const std::size_t head_dim = shape.head_dim;
    if (!query_positions.empty()) {
        if (query_positions.size() != sequences.size()) {
            throw Error(ErrorCode::internal, "attention: " + std::to_string(query_positions.size()) +
                                                 " query positions for " + std::to_string(sequences.size()) + " sequences");
        }
        for (std::size_t seq_idx = 0; seq_idx < sequences.size(); ++seq_idx) {
            if (query_positions[seq_idx] >= sequences[seq_idx].length) {
                throw Error(ErrorCode::internal, "attention: query position " + std::to_string(query_positions[seq_idx]) +
                                                     " outside sequence " + std::to_string(seq_idx) + " of length " +
                                                     std::to_string(sequences[seq_idx].length));
            }
        }
    }
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
    const bool int8 = shape.precision == Precision::int8;
    const bool bf16 = shape.precision == Precision::bf16 && bf16_attention_runs(isa);

    auto body = [&](std::size_t task_begin, std::size_t task_end) {
        std::size_t longest = 0;
        for (std::size_t task = task_begin; task < task_end; ++task) {
            longest = std::max(longest, sequences[order[task / head_count]].length);
        }
        HeadScratch f32_scratch{};
        Int8HeadScratch int8_scratch{};
        Bf16HeadScratch bf16_scratch{};
        const std::size_t scratch_bytes =
            int8   ? carve_int8(nullptr, longest, head_dim, isa.gemm_int8, int8_scratch)
            : bf16 ? carve_bf16(nullptr, longest, head_dim, isa.gemm_bf16, bf16_scratch)
                   : carve_f32(nullptr, longest, head_dim, isa.gemm_f32, f32_scratch);
        auto* base = static_cast<std::byte*>(work_buffer(WorkSlot::attention, scratch_bytes));
        for (std::size_t task = task_begin; task < task_end; ++task) {
            const std::size_t seq_idx = order[task / head_count];
            const SequenceSpan& seq = sequences[seq_idx];
            if (seq.length == 0) continue;
            const std::size_t head_offset = (task % head_count) * head_dim;
            const std::size_t row_offset = seq.first_row * qkv_stride + head_offset;
            const QueryRange queries = query_positions.empty()
                                           ? QueryRange{0, seq.length}
                                           : QueryRange{query_positions[seq_idx], query_positions[seq_idx] + 1};
            const std::size_t out_row = query_positions.empty() ? seq.first_row : seq_idx;
            float* head_out = out + out_row * out_stride + head_offset;
            if (int8) {
                carve_int8(base, seq.length, head_dim, isa.gemm_int8, int8_scratch);
                attention_head_int8(isa, q + row_offset, k + row_offset, v + row_offset, qkv_stride, seq.length,
                                    queries, head_dim, shape.causal, scale, head_out, out_stride, int8_scratch);
            } else if (bf16) {
                carve_bf16(base, seq.length, head_dim, isa.gemm_bf16, bf16_scratch);
                attention_head_bf16(isa, q + row_offset, k + row_offset, v + row_offset, qkv_stride, seq.length,
                                    queries, head_dim, shape.causal, scale, head_out, out_stride, bf16_scratch);
            } else {
                carve_f32(base, seq.length, head_dim, isa.gemm_f32, f32_scratch);
                attention_head(isa, q + row_offset, k + row_offset, v + row_offset, qkv_stride, seq.length,
                               queries, head_dim, shape.causal, scale, head_out, out_stride, f32_scratch);
            }
        }
    };
    if (pool != nullptr) pool->parallel_for(task_count, body, 1);
    else body(0, task_count);
}

}  // namespace tessera::kernels
