// AVX-512 table: the portable bodies compiled with -mavx512f/bw/vl/dq (auto-vectorised 16 wide)
// and a hand-written fp32 GEMM micro-kernel.
//
// 12 rows x 32 columns: 24 zmm accumulators + 2 for the B row + 1 broadcast = 27 of 32 registers.
// Per K step it issues 24 FMAs against 2 B loads and 12 broadcasts, so it is FMA-bound, not
// load-bound (Zen 4 retires one 512-bit FMA per cycle and two loads).
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

namespace {

template <int M>
void gemm_f32_12x32_rows(const char* a, std::size_t a_stride_bytes, const float* b,
                         std::size_t k_count, float* tile) {
    __m512 acc0[M], acc1[M];
    for (int row = 0; row < M; ++row) {
        acc0[row] = _mm512_setzero_ps();
        acc1[row] = _mm512_setzero_ps();
    }
    const float* a_rows[M];
    for (int row = 0; row < M; ++row) a_rows[row] = reinterpret_cast<const float*>(a + row * a_stride_bytes);
    for (std::size_t k_idx = 0; k_idx < k_count; ++k_idx) {
        const __m512 b0 = _mm512_load_ps(b + k_idx * 32);
        const __m512 b1 = _mm512_load_ps(b + k_idx * 32 + 16);
        for (int row = 0; row < M; ++row) {
            const __m512 a_value = _mm512_set1_ps(a_rows[row][k_idx]);
            acc0[row] = _mm512_fmadd_ps(a_value, b0, acc0[row]);
            acc1[row] = _mm512_fmadd_ps(a_value, b1, acc1[row]);
        }
    }
    for (int row = 0; row < M; ++row) {
        _mm512_store_ps(tile + row * 32, acc0[row]);
        _mm512_store_ps(tile + row * 32 + 16, acc1[row]);
    }
}

void gemm_f32_12x32(const void* a, std::size_t a_stride_bytes, std::size_t rows,
                    const void* b_panel, std::size_t k_groups, float* tile,
                    const Int8Epilogue* /*epilogue*/) {
    const auto* a_bytes = static_cast<const char*>(a);
    const auto* b = static_cast<const float*>(b_panel);
    switch (rows) {
        case 12: return gemm_f32_12x32_rows<12>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 11: return gemm_f32_12x32_rows<11>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 10: return gemm_f32_12x32_rows<10>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 9: return gemm_f32_12x32_rows<9>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 8: return gemm_f32_12x32_rows<8>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 7: return gemm_f32_12x32_rows<7>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 6: return gemm_f32_12x32_rows<6>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 5: return gemm_f32_12x32_rows<5>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 4: return gemm_f32_12x32_rows<4>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 3: return gemm_f32_12x32_rows<3>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 2: return gemm_f32_12x32_rows<2>(a_bytes, a_stride_bytes, b, k_groups, tile);
        default: return gemm_f32_12x32_rows<1>(a_bytes, a_stride_bytes, b, k_groups, tile);
    }
}

}  // namespace

const IsaKernels& avx512_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx512");
        result.gemm_f32 = {"avx512_f32_12x32", 12, 32, 1, &gemm_f32_12x32};
        result.finish_tile = &finish_tile_impl<32>;  // every AVX-512 GEMM uses 32-column panels
        return result;
    }();
    return table;
}

}  // namespace tessera::kernels::detail
