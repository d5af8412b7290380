// The portable C++ bodies of every kernel, written as plain loops the compiler vectorises.
// generic/kernels_generic.cpp compiles them for baseline x86-64 (the reference every test checks
// the others against); avx2/ and avx512/ include them again with their -m flags and replace the
// GEMM micro-kernels with intrinsics. Anonymous namespace: see vec_math.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/isa_kernels.hpp"
#include "kernels/vec_math.hpp"

namespace tessera::kernels::detail {
namespace {

// Run-time tile height (rows of A, 1..MaxRows) -> the compile-time M of a micro-kernel body:
//   dispatch_rows<12>(rows, [&]<int M>() { kernel_rows<M>(...); });
template <int MaxRows, typename Body>
void dispatch_rows(std::size_t rows, Body&& body) {
    if constexpr (MaxRows == 1) {
        return body.template operator()<1>();
    } else {
        if (rows >= static_cast<std::size_t>(MaxRows)) return body.template operator()<MaxRows>();
        return dispatch_rows<MaxRows - 1>(rows, body);
    }
}

inline float bf16_to_float(std::uint16_t value) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(value) << 16);
}

// Round to nearest even, as vcvtneps2bf16 does (inputs are finite).
inline std::uint16_t float_to_bf16(float value) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    return static_cast<std::uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// ---- GEMM micro-kernels (portable) -------------------------------------------------------------

// A row pointers for a tile of `rows` (<= MR) rows, rows past the tile clamped to its last one,
// as the hand-written kernels do: GCC's vectorised body of these loops loads A for rows beyond
// `rows` (valgrind saw the bf16 one read past the end of its activation buffer), so every row
// pointer it can form must be one of the tile's own.
template <std::size_t MR>
std::array<const char*, MR> tile_rows(const void* a_bytes, std::size_t a_stride_bytes, std::size_t rows) {
    std::array<const char*, MR> result{};
    for (std::size_t row = 0; row < MR; ++row) {
        result[row] = static_cast<const char*>(a_bytes) + std::min(row, rows - 1) * a_stride_bytes;
    }
    return result;
}

template <std::size_t MR, std::size_t NR>
void gemm_f32_portable(const void* a_bytes, std::size_t a_stride_bytes, std::size_t rows,
                       const void* b_panel, std::size_t k_groups, float* tile,
                       const TileEpilogue* /*epilogue*/) {
    const auto a_rows = tile_rows<MR>(a_bytes, a_stride_bytes, rows);
    const auto* b = static_cast<const float*>(b_panel);
    float acc[MR][NR] = {};
    for (std::size_t k_idx = 0; k_idx < k_groups; ++k_idx) {
        const float* b_row = b + k_idx * NR;
        for (std::size_t row = 0; row < rows; ++row) {
            const float a_value = reinterpret_cast<const float*>(a_rows[row])[k_idx];
            for (std::size_t col = 0; col < NR; ++col) acc[row][col] += a_value * b_row[col];
        }
    }
    for (std::size_t row = 0; row < rows; ++row) std::memcpy(tile + row * NR, acc[row], sizeof(acc[row]));
}

template <std::size_t MR, std::size_t NR>
void gemm_bf16_portable(const void* a_bytes, std::size_t a_stride_bytes, std::size_t rows,
                        const void* b_panel, std::size_t k_groups, float* tile,
                        const TileEpilogue* /*epilogue*/) {
    const auto a_rows = tile_rows<MR>(a_bytes, a_stride_bytes, rows);
    const auto* b = static_cast<const std::uint16_t*>(b_panel);
    float acc[MR][NR] = {};
    for (std::size_t group = 0; group < k_groups; ++group) {
        const std::uint16_t* b_group = b + group * NR * 2;
        float b0[NR], b1[NR];
        for (std::size_t col = 0; col < NR; ++col) {
            b0[col] = bf16_to_float(b_group[2 * col]);
            b1[col] = bf16_to_float(b_group[2 * col + 1]);
        }
        for (std::size_t row = 0; row < rows; ++row) {
            const auto* a_row = reinterpret_cast<const std::uint16_t*>(a_rows[row]);
            const float a0 = bf16_to_float(a_row[2 * group]);
            const float a1 = bf16_to_float(a_row[2 * group + 1]);
            for (std::size_t col = 0; col < NR; ++col) acc[row][col] += a0 * b0[col] + a1 * b1[col];
        }
    }
    for (std::size_t row = 0; row < rows; ++row) std::memcpy(tile + row * NR, acc[row], sizeof(acc[row]));
}

template <std::size_t MR, std::size_t NR>
void gemm_int8_portable(const void* a_bytes, std::size_t a_stride_bytes, std::size_t rows,
                        const void* b_panel, std::size_t k_groups, float* tile,
                        const TileEpilogue* epilogue) {
    const auto a_rows = tile_rows<MR>(a_bytes, a_stride_bytes, rows);
    const auto* b = static_cast<const std::int8_t*>(b_panel);
    std::int32_t acc[MR][NR] = {};
    for (std::size_t group = 0; group < k_groups; ++group) {
        const std::int8_t* b_group = b + group * NR * 4;
        for (std::size_t row = 0; row < rows; ++row) {
            const auto* a_row = reinterpret_cast<const std::uint8_t*>(a_rows[row]) + 4 * group;
            for (std::size_t col = 0; col < NR; ++col) {
                const std::int8_t* w = b_group + 4 * col;
                acc[row][col] += a_row[0] * w[0] + a_row[1] * w[1] + a_row[2] * w[2] + a_row[3] * w[3];
            }
        }
    }
    for (std::size_t row = 0; row < rows; ++row) {
        const float row_scale = epilogue->row_scale[row];
        const float row_zero = epilogue->row_zero[row];
        for (std::size_t col = 0; col < NR; ++col) {
            const float centred = static_cast<float>(acc[row][col]) - row_zero * epilogue->col_sum[col];
            tile[row * NR + col] = row_scale * epilogue->col_scale[col] * centred;
        }
    }
}

// ---- element-wise and row-wise kernels ---------------------------------------------------------

template <Activation kActivation>
inline float activate(float x) {
    if constexpr (kActivation == Activation::gelu_erf) return vec_math::gelu_erf(x);
    else if constexpr (kActivation == Activation::gelu_tanh) return vec_math::gelu_tanh(x);
    else if constexpr (kActivation == Activation::quick_gelu) return vec_math::quick_gelu(x);
    else if constexpr (kActivation == Activation::relu) return vec_math::relu(x);
    else if constexpr (kActivation == Activation::tanh) return vec_math::tanh(x);
    else if constexpr (kActivation == Activation::silu) return vec_math::silu(x);
    else return x;
}

// The full-panel case (cols == NR, with bias) has a compile-time trip count, so each row becomes
// NR/16 straight-line vector ops with bias add and activation fused; the general loop handles
// the ragged last panel.
template <std::size_t NR, Activation kActivation>
void finish_rows(const float* tile, std::size_t tile_stride, std::size_t rows, std::size_t cols,
                 const float* bias, float* y, std::size_t y_stride) {
    if (cols == NR && bias != nullptr) {
        for (std::size_t row = 0; row < rows; ++row) {
            const float* src = tile + row * tile_stride;
            float* dst = y + row * y_stride;
            for (std::size_t col = 0; col < NR; ++col) dst[col] = activate<kActivation>(src[col] + bias[col]);
        }
        return;
    }
    for (std::size_t row = 0; row < rows; ++row) {
        const float* src = tile + row * tile_stride;
        float* dst = y + row * y_stride;
        for (std::size_t col = 0; col < cols; ++col) {
            dst[col] = activate<kActivation>(src[col] + (bias != nullptr ? bias[col] : 0.0f));
        }
    }
}

template <std::size_t NR>
void finish_tile_impl(const float* tile, std::size_t tile_stride, std::size_t rows,
                      std::size_t cols, const float* bias, Activation activation, float* y,
                      std::size_t y_stride) {
    switch (activation) {
        case Activation::none:
            return finish_rows<NR, Activation::none>(tile, tile_stride, rows, cols, bias, y, y_stride);
        case Activation::gelu_erf:
            return finish_rows<NR, Activation::gelu_erf>(tile, tile_stride, rows, cols, bias, y, y_stride);
        case Activation::gelu_tanh:
            return finish_rows<NR, Activation::gelu_tanh>(tile, tile_stride, rows, cols, bias, y, y_stride);
        case Activation::quick_gelu:
            return finish_rows<NR, Activation::quick_gelu>(tile, tile_stride, rows, cols, bias, y, y_stride);
        case Activation::relu:
            return finish_rows<NR, Activation::relu>(tile, tile_stride, rows, cols, bias, y, y_stride);
        case Activation::tanh:
            return finish_rows<NR, Activation::tanh>(tile, tile_stride, rows, cols, bias, y, y_stride);
        case Activation::silu:
            return finish_rows<NR, Activation::silu>(tile, tile_stride, rows, cols, bias, y, y_stride);
    }
}

void activation_impl(float* x, std::size_t count, Activation activation) {
    vec_math::apply(x, count, activation);
}

void layer_norm_impl(const float* x, const float* residual, std::size_t row_count,
                     std::size_t dim, const float* gamma, const float* beta, float eps,
                     float* out) {
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * dim;
        float* out_row = out + row * dim;
        if (residual != nullptr) {
            const float* res_row = residual + row * dim;
            for (std::size_t idx = 0; idx < dim; ++idx) out_row[idx] = x_row[idx] + res_row[idx];
        } else if (out_row != x_row) {
            std::memcpy(out_row, x_row, dim * sizeof(float));
        }
        // Two passes (mean, then squared deviations): the one-pass formula loses digits when
        // the mean is large compared with the spread, which residual streams can have.
        const float mean = vec_math::sum(out_row, dim) / static_cast<float>(dim);
        const float variance = vec_math::sum_sq_dev(out_row, dim, mean) / static_cast<float>(dim);
        const float inv_std = 1.0f / std::sqrt(variance + eps);
        for (std::size_t col = 0; col < dim; ++col) {
            out_row[col] = (out_row[col] - mean) * inv_std * gamma[col] + beta[col];
        }
    }
}

// softmax(scale * x) in place (scale > 0), sixteen lanes at a time: the scale goes into the
// exponent (exp(scale * x - scale * max)) and the sum is taken in the same pass.
void softmax_row(float* x, std::size_t dim, float scale) {
    const float offset = vec_math::max(x, dim) * scale;
    vec_math::Vec16 sum16 = {};
    std::size_t idx = 0;
    for (; idx + 16 <= dim; idx += 16) {
        const vec_math::Vec16 value = vec_math::exp(vec_math::load16(x + idx) * scale - offset);
        vec_math::store16(x + idx, value);
        sum16 += value;
    }
    float sum = vec_math::horizontal_sum(sum16);
    for (; idx < dim; ++idx) {
        x[idx] = vec_math::exp(x[idx] * scale - offset);
        sum += x[idx];
    }
    const float inv_sum = 1.0f / sum;
    for (idx = 0; idx + 16 <= dim; idx += 16) vec_math::store16(x + idx, vec_math::load16(x + idx) * inv_sum);
    for (; idx < dim; ++idx) x[idx] *= inv_sum;
}

void softmax_rows_impl(float* x, std::size_t row_count, std::size_t dim) {
    for (std::size_t row = 0; row < row_count; ++row) softmax_row(x + row * dim, dim, 1.0f);
}

void swiglu_impl(const float* up, std::size_t up_stride, const float* gate,
                 std::size_t gate_stride, std::size_t row_count, std::size_t dim, float* out,
                 std::size_t out_stride) {
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* up_row = up + row * up_stride;
        const float* gate_row = gate + row * gate_stride;
        float* out_row = out + row * out_stride;
        for (std::size_t idx = 0; idx < dim; ++idx) {
            out_row[idx] = vec_math::silu(gate_row[idx]) * up_row[idx];
        }
    }
}

void to_bf16_rows_impl(const float* x, std::size_t x_stride, std::size_t row_count,
                       std::size_t k, std::size_t k_padded, std::uint16_t* out) {
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        std::uint16_t* out_row = out + row * k_padded;
        for (std::size_t idx = 0; idx < k; ++idx) out_row[idx] = float_to_bf16(x_row[idx]);
        for (std::size_t idx = k; idx < k_padded; ++idx) out_row[idx] = 0;
    }
}

// The u8 quantisation parameters of a row whose values span [lo, hi] (lo <= 0 <= hi), shared by
// every variant so that all of them produce the same codes: scale = range / 255 and an integer
// zero point, so that 0.0 maps exactly onto a code (padding stays 0).
struct U8Range {
    float scale, inv_scale, zero;
};

inline U8Range u8_range(float lo, float hi) {
    float scale = (hi - lo) / 255.0f;
    if (!(scale > 0.0f)) scale = 1.0f;
    const float inv_scale = 1.0f / scale;
    return {scale, inv_scale, std::min(255.0f, std::max(0.0f, std::nearbyint(-lo * inv_scale)))};
}

// The scalar end of a vectorised row quantisation: codes for columns [begin, k), then the zero
// point for the K padding (so padded columns contribute nothing after the zero-point correction).
inline void quantize_u8_tail(const float* x_row, std::size_t begin, std::size_t k, std::size_t k_padded,
                             const U8Range& range, std::uint8_t* out_row) {
    for (std::size_t col = begin; col < k; ++col) {
        const float code = std::min(255.0f, std::max(0.0f, std::nearbyint(x_row[col] * range.inv_scale) + range.zero));
        out_row[col] = static_cast<std::uint8_t>(code);
    }
    for (std::size_t col = k; col < k_padded; ++col) out_row[col] = static_cast<std::uint8_t>(range.zero);
}

void quantize_u8_rows_impl(const float* x, std::size_t x_stride, std::size_t row_count,
                           std::size_t k, std::size_t k_padded, std::uint8_t* out, float* scale,
                           float* zero) {
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        std::uint8_t* out_row = out + row * k_padded;
        // Start the range at 0 so that zero is always representable (padding stays exact).
        const float lo = k == 0 ? 0.0f : std::min(0.0f, vec_math::min(x_row, k));
        const float hi = k == 0 ? 0.0f : std::max(0.0f, vec_math::max(x_row, k));
        const U8Range range = u8_range(lo, hi);
        const float row_scale = range.scale, inv_scale = range.inv_scale, row_zero = range.zero;
        for (std::size_t col = 0; col < k; ++col) {
            float code = (x_row[col] * inv_scale + 12582912.0f) - 12582912.0f;
            code = std::min(255.0f, std::max(0.0f, code + row_zero));
            out_row[col] = static_cast<std::uint8_t>(static_cast<std::int32_t>(code));
        }
        for (std::size_t col = k; col < k_padded; ++col) out_row[col] = static_cast<std::uint8_t>(row_zero);
        scale[row] = row_scale;
        zero[row] = row_zero;
    }
}

// Attention's softmax over a block of score rows: row r holds query (first_query + r) against
// `key_count` keys; scores are scaled here (not in the GEMM), masked for causal attention and
// zeroed past the last visible key so the P.V GEMM can run over every key.
void attention_softmax_impl(float* scores, std::size_t row_count, std::size_t row_stride,
                            std::size_t key_count, std::size_t first_query, bool causal, float scale) {
    for (std::size_t row = 0; row < row_count; ++row) {
        float* row_scores = scores + row * row_stride;
        const std::size_t visible = causal ? std::min(key_count, first_query + row + 1) : key_count;
        softmax_row(row_scores, visible, scale);
        for (std::size_t key = visible; key < key_count; ++key) row_scores[key] = 0.0f;
    }
}

// Symmetric s8 codes (code = round(x / scale), scale = max|x| / weight_max) with a scale per row
// (quantize_s8_rows: int8 attention's keys) or per column (quantize_s8_columns: its values), and
// each scale's sum of codes (the zero-point correction of the int8 epilogue). Float or Vec16.
template <typename T>
inline T s8_code(T value, T inv_scale, float weight_max) {
    const T code = (value * inv_scale + 12582912.0f) - 12582912.0f;  // round half even
    return vec_math::clamp_lanes(code, -weight_max, weight_max);
}

inline float s8_scale(float max_abs, float weight_max) { return max_abs > 0.0f ? max_abs / weight_max : 1.0f; }

typedef std::int8_t S8x16 __attribute__((vector_size(16), aligned(1)));

void quantize_s8_rows_impl(const float* x, std::size_t x_stride, std::size_t row_count, std::size_t k,
                           std::size_t k_padded, int weight_max, std::int8_t* out, float* scale,
                           float* code_sum) {
    const auto limit = static_cast<float>(weight_max);
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        std::int8_t* out_row = out + row * k_padded;
        const float row_scale = s8_scale(vec_math::max_abs(x_row, k), limit), inv_scale = 1.0f / row_scale;
        vec_math::Vec16 sum16 = {};
        std::size_t col = 0;
        for (; col + 16 <= k; col += 16) {
            const vec_math::Vec16 code = s8_code(vec_math::load16(x_row + col), vec_math::Vec16{} + inv_scale, limit);
            sum16 += code;
            const S8x16 bytes = __builtin_convertvector(__builtin_convertvector(code, vec_math::Int16), S8x16);
            std::memcpy(out_row + col, &bytes, sizeof(bytes));
        }
        float sum = vec_math::horizontal_sum(sum16);
        for (; col < k; ++col) {
            const float code = s8_code(x_row[col], inv_scale, limit);
            out_row[col] = static_cast<std::int8_t>(code);
            sum += code;
        }
        for (col = k; col < k_padded; ++col) out_row[col] = 0;
        scale[row] = row_scale;
        code_sum[row] = sum;
    }
}

// `inv_scale` is caller scratch of `cols` floats (no allocation per head).
void quantize_s8_columns_impl(const float* x, std::size_t x_stride, std::size_t row_count, std::size_t cols,
                              int weight_max, std::int8_t* out, float* scale, float* code_sum, float* inv_scale) {
    const auto limit = static_cast<float>(weight_max);
    std::fill(scale, scale + cols, 0.0f);
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        for (std::size_t col = 0; col < cols; ++col) {
            const float value = x_row[col] < 0.0f ? -x_row[col] : x_row[col];
            scale[col] = scale[col] > value ? scale[col] : value;
        }
    }
    for (std::size_t col = 0; col < cols; ++col) {
        scale[col] = s8_scale(scale[col], limit);
        inv_scale[col] = 1.0f / scale[col];
        code_sum[col] = 0.0f;
    }
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        std::int8_t* out_row = out + row * cols;
        for (std::size_t col = 0; col < cols; ++col) {
            const float code = s8_code(x_row[col], inv_scale[col], limit);
            out_row[col] = static_cast<std::int8_t>(code);
            code_sum[col] += code;
        }
    }
}

// int8 attention's softmax: as attention_softmax_impl, but the probabilities leave as u8 codes of
// exp(s - max) (in (0, 1], so code = round(255 e) needs no range pass) with the row's scale
// 1 / (sum of codes): P . V then normalises by exactly the weights it multiplied. Codes are zero
// from the last visible key to key_padded (the P . V GEMM runs over whole K groups).
void attention_softmax_u8_impl(const float* scores, std::size_t row_count, std::size_t row_stride,
                               std::size_t key_count, std::size_t key_padded, std::size_t first_query,
                               bool causal, float scale, std::uint8_t* codes, std::size_t codes_stride,
                               float* row_scale) {
    typedef std::uint8_t U8x16 __attribute__((vector_size(16), aligned(1)));
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* row_scores = scores + row * row_stride;
        std::uint8_t* row_codes = codes + row * codes_stride;
        const std::size_t visible = causal ? std::min(key_count, first_query + row + 1) : key_count;
        // exp((s - max) * scale) as 2^(s * log2e_scale - offset)
        const float log2e_scale = scale * 1.44269504088896341f;
        const float offset = vec_math::max(row_scores, visible) * log2e_scale;
        vec_math::Vec16 sum16 = {};  // whole codes: exact in float up to 2^24
        std::size_t key = 0;
        for (; key + 16 <= visible; key += 16) {
            const vec_math::Vec16 e = vec_math::exp2_coarse(vec_math::load16(row_scores + key) * log2e_scale - offset);
            const vec_math::Int16 code = __builtin_convertvector(e * 255.0f + 0.5f, vec_math::Int16);
            sum16 += __builtin_convertvector(code, vec_math::Vec16);
            const U8x16 bytes = __builtin_convertvector(code, U8x16);
            std::memcpy(row_codes + key, &bytes, sizeof(bytes));
        }
        float sum = vec_math::horizontal_sum(sum16);
        for (; key < visible; ++key) {
            const auto code = static_cast<std::int32_t>(vec_math::exp2_coarse(row_scores[key] * log2e_scale - offset) * 255.0f + 0.5f);
            row_codes[key] = static_cast<std::uint8_t>(code);
            sum += static_cast<float>(code);
        }
        std::memset(row_codes + visible, 0, key_padded - visible);
        row_scale[row] = 1.0f / sum;  // sum >= 255: the maximum's own code
    }
}

// The element-wise part of a table, shared by every ISA file.
inline IsaKernels portable_table(const char* name) {
    IsaKernels table;
    table.name = name;
    table.gemm_f32 = {"portable_f32_4x16", 4, 16, 1, &gemm_f32_portable<4, 16>};
    table.gemm_bf16 = {"portable_bf16_4x16", 4, 16, 2, &gemm_bf16_portable<4, 16>, GemmInput::bf16};
    table.gemm_int8 = {"portable_int8_4x16", 4, 16, 4, &gemm_int8_portable<4, 16>, GemmInput::u8};
    table.finish_tile = &finish_tile_impl<16>;
    table.activation = &activation_impl;
    table.layer_norm = &layer_norm_impl;
    table.softmax_rows = &softmax_rows_impl;
    table.swiglu = &swiglu_impl;
    table.to_bf16_rows = &to_bf16_rows_impl;
    table.quantize_u8_rows = &quantize_u8_rows_impl;
    table.attention_softmax = &attention_softmax_impl;
    table.attention_softmax_u8 = &attention_softmax_u8_impl;
    table.quantize_s8_rows = &quantize_s8_rows_impl;
    table.quantize_s8_columns = &quantize_s8_columns_impl;
    return table;
}

}  // namespace
}  // namespace tessera::kernels::detail
