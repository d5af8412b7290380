// AVX2+FMA table: the portable bodies compiled with -mavx2 -mfma (auto-vectorised 8 wide) and
// a hand-written fp32 GEMM micro-kernel. bf16/int8 GEMMs stay portable on AVX2.
//
// 6 rows x 16 columns: 12 ymm accumulators + 2 B + 1 broadcast = 15 of 16 registers, the classic
// Haswell shape (12 FMAs per 2 B loads + 6 broadcasts: FMA-bound on two FMA ports).
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

namespace {

template <int M>
void gemm_f32_6x16_rows(const char* a, std::size_t a_stride_bytes, const float* b,
                        std::size_t k_count, float* tile) {
    __m256 acc0[M], acc1[M];
    for (int row = 0; row < M; ++row) {
        acc0[row] = _mm256_setzero_ps();
        acc1[row] = _mm256_setzero_ps();
    }
    const float* a_rows[M];
    for (int row = 0; row < M; ++row) a_rows[row] = reinterpret_cast<const float*>(a + row * a_stride_bytes);
    for (std::size_t k_idx = 0; k_idx < k_count; ++k_idx) {
        const __m256 b0 = _mm256_load_ps(b + k_idx * 16);
        const __m256 b1 = _mm256_load_ps(b + k_idx * 16 + 8);
        for (int row = 0; row < M; ++row) {
            const __m256 a_value = _mm256_broadcast_ss(a_rows[row] + k_idx);
            acc0[row] = _mm256_fmadd_ps(a_value, b0, acc0[row]);
            acc1[row] = _mm256_fmadd_ps(a_value, b1, acc1[row]);
        }
    }
    for (int row = 0; row < M; ++row) {
        _mm256_store_ps(tile + row * 16, acc0[row]);
        _mm256_store_ps(tile + row * 16 + 8, acc1[row]);
    }
}

void gemm_f32_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows,
                   const void* b_panel, std::size_t k_groups, float* tile,
                   const Int8Epilogue* /*epilogue*/) {
    const auto* a_bytes = static_cast<const char*>(a);
    const auto* b = static_cast<const float*>(b_panel);
    switch (rows) {
        case 6: return gemm_f32_6x16_rows<6>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 5: return gemm_f32_6x16_rows<5>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 4: return gemm_f32_6x16_rows<4>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 3: return gemm_f32_6x16_rows<3>(a_bytes, a_stride_bytes, b, k_groups, tile);
        case 2: return gemm_f32_6x16_rows<2>(a_bytes, a_stride_bytes, b, k_groups, tile);
        default: return gemm_f32_6x16_rows<1>(a_bytes, a_stride_bytes, b, k_groups, tile);
    }
}

}  // namespace

const IsaKernels& avx2_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx2");
        result.gemm_f32 = {"avx2_f32_6x16", 6, 16, 1, &gemm_f32_6x16};
        return result;
    }();
    return table;
}

}  // namespace tessera::kernels::detail
