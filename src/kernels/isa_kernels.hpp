// The per-ISA kernel table: what generic/, avx2/ and avx512/ each provide, and the dispatch that
// picks one at run time from core::active_isa_level() (private to kernels/).
//
//   const auto& isa = detail::isa_kernels(core::active_isa_level());
//   isa.layer_norm(x, nullptr, rows, dim, gamma, beta, 1e-12f, out);
//
// Adding an ISA variant is one file that fills an IsaKernels and one line in dispatch.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cpu_features.hpp"
#include "kernels/attention.hpp"
#include "kernels/linear.hpp"

namespace tessera::kernels::detail {

// What a micro-kernel does with its finished tile. int8 kernels turn the int32 sums into floats:
// y[r, c] = row_scale[r] * col_scale[c] * (acc[r, c] - row_zero[r] * col_sum[c]); kernels with
// GemmVariant::stores_output can also write the rows to their destination themselves.
struct TileEpilogue {
    const float* row_scale = nullptr;  // per A row (from the tile's first row on)
    const float* row_zero = nullptr;   // per A row: the u8 zero point, as float
    const float* col_scale = nullptr;  // per column of the panel (nr entries)
    const float* col_sum = nullptr;    // per column: sum of the int8 weights, as float
    // Kernels with GemmVariant::stores_output only: when `y` is set (a whole panel), they add
    // `bias` (may be null), apply `activation` and store the rows to y (row stride y_stride)
    // themselves instead of filling the tile, which saves the epilogue's pass over the tile.
    const float* bias = nullptr;
    float* y = nullptr;
    std::size_t y_stride = 0;
    // With `y` set: applied after the bias.
    Activation activation = Activation::none;
};

// A GEMM micro-kernel: tile[r, c] = sum_k A[r, k] * B[k, c] for r < rows (<= mr), c < nr.
// `a` is row-major with a byte stride; `b_panel` is one packed panel of nr columns with the K
// axis in groups of k_group (fp32: 1 float, bf16: 1 or 2 values, int8: 4 bytes) interleaved per column;
// `k_groups` counts those groups. The tile has row stride nr and is always written as floats.
using MicroKernel = void (*)(const void* a, std::size_t a_stride_bytes, std::size_t rows,
                             const void* b_panel, std::size_t k_groups, float* tile,
                             const TileEpilogue* epilogue);

// What a micro-kernel reads as A: Linear::forward converts the fp32 activations to it per call
// (f32: used in place).
enum class GemmInput { f32, bf16, u8 };

struct GemmVariant {
    const char* name = nullptr;
    std::size_t mr = 0;       // rows per tile
    std::size_t nr = 0;       // columns per packed panel
    std::size_t k_group = 1;  // K values interleaved per column in a panel
    MicroKernel kernel = nullptr;
    GemmInput input = GemmInput::f32;
    // int8 only: weights are quantised symmetrically to [-weight_max, weight_max] per channel
    // (127; 63 where the kernel's products must fit 16 bits, see avx2/kernels_avx2.cpp).
    int weight_max = 127;
    bool stores_output = false;  // honours TileEpilogue::y (see there)
};

struct IsaKernels {
    const char* name = nullptr;
    GemmVariant gemm_f32;
    GemmVariant gemm_bf16;  // kernel == nullptr: this ISA has none (fall back to generic)
    GemmVariant gemm_int8;

    // y[r, 0:cols] = act(tile[r, 0:cols] + bias[0:cols]) for r < rows (bias may be null).
    void (*finish_tile)(const float* tile, std::size_t tile_stride, std::size_t rows,
                        std::size_t cols, const float* bias, Activation activation, float* y,
                        std::size_t y_stride) = nullptr;
    void (*activation)(float* x, std::size_t count, Activation activation) = nullptr;
    void (*layer_norm)(const float* x, const float* residual, std::size_t row_count,
                       std::size_t dim, const float* gamma, const float* beta, float eps,
                       float* out) = nullptr;
    void (*softmax_rows)(float* x, std::size_t row_count, std::size_t dim) = nullptr;
    void (*swiglu)(const float* up, std::size_t up_stride, const float* gate,
                   std::size_t gate_stride, std::size_t row_count, std::size_t dim, float* out,
                   std::size_t out_stride) = nullptr;
    // Rounds rows of floats to bf16 (round to nearest even), K padded with zeros to k_padded.
    void (*to_bf16_rows)(const float* x, std::size_t x_stride, std::size_t row_count,
                         std::size_t k, std::size_t k_padded, std::uint16_t* out) = nullptr;
    // Asymmetric u8 quantisation per row: q = clamp(round(x / scale) + zero, 0, 255).
    void (*quantize_u8_rows)(const float* x, std::size_t x_stride, std::size_t row_count,
                             std::size_t k, std::size_t k_padded, std::uint8_t* out, float* scale,
                             float* zero) = nullptr;
    // Scaled (and for causal attention, masked) softmax over score rows, see attention.cpp.
    void (*attention_softmax)(float* scores, std::size_t row_count, std::size_t row_stride,
                              std::size_t key_count, std::size_t first_query, bool causal,
                              float scale) = nullptr;
    // int8 attention (attention.cpp): the softmax leaving u8 probabilities, and symmetric s8
    // codes of the keys (a scale per key) and values (a scale per head dim); see kernels_impl.hpp.
    void (*attention_softmax_u8)(const float* scores, std::size_t row_count, std::size_t row_stride,
                                 std::size_t key_count, std::size_t key_padded, std::size_t first_query,
                                 bool causal, float scale, std::uint8_t* codes, std::size_t codes_stride,
                                 float* row_scale) = nullptr;
    void (*quantize_s8_rows)(const float* x, std::size_t x_stride, std::size_t row_count, std::size_t k,
                             std::size_t k_padded, int weight_max, std::int8_t* out, float* scale,
                             float* code_sum) = nullptr;
    void (*quantize_s8_columns)(const float* x, std::size_t x_stride, std::size_t row_count,
                                std::size_t cols, int weight_max, std::int8_t* out, float* scale,
                                float* code_sum, float* inv_scale) = nullptr;
};


const IsaKernels& generic_kernels();
const IsaKernels& avx2_kernels();
const IsaKernels& avx512_kernels();
// Provided by avx512/gemm_bf16.cpp and avx512/gemm_int8.cpp (need AVX512_BF16 / AVX512_VNNI).
GemmVariant avx512_bf16_gemm();
GemmVariant avx512_vnni_gemm();
// bf16 weights widened to fp32 FMAs (avx512/kernels_avx512.cpp): needs AVX-512F only.
GemmVariant avx512_bf16_widen_gemm();

// Which AVX-512 bf16 GEMM runs: vdpbf16ps ("dot", 2 products per lane) where it measures at
// least 1.2x the FLOP/s of fp32 FMAs (Zen 4 issues it as fast as an FMA: 2x), else bf16 weights
// widened onto fp32 FMAs ("widen": the Xeon of 2026-12-04 ran vdpbf16ps at 0.47x the FMA FLOP/s). `automatic` measures
// (register-only loops, ~1 ms, once) unless TESSERA_BF16_KERNEL=dot|widen says; tests force each.
enum class Bf16Kernel { automatic, dot, widen };
void set_bf16_kernel_override(Bf16Kernel kernel);
Bf16Kernel chosen_bf16_kernel();  // dot or widen, as isa_kernels(avx512) uses it

// Register-only loops (avx512/rate_probe.cpp, AVX-512F / AVX512_BF16): the operations done in
// `iterations` rounds of 12 independent chains. Also the bench's peak probe.
double fma_f32_loop_avx512(std::size_t iterations);
double dot_bf16_loop_avx512(std::size_t iterations);

// The table for `level`; bf16/int8 entries are already resolved to the best available variant.
const IsaKernels& isa_kernels(core::IsaLevel level);
inline const IsaKernels& active_kernels() { return isa_kernels(core::active_isa_level()); }

}  // namespace tessera::kernels::detail
