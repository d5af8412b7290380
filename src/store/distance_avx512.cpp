// AVX-512 kernels: 2 x 16 lanes per step, the tail with a masked load (no scalar loop).
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps in reduce/abs helpers).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "store/distance.hpp"

#define TESSERA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace tessera::store {
namespace {

template <Metric M>
TESSERA_AVX512 inline __m512 step(__m512 acc, __m512 q, __m512 x) {
    if constexpr (M == Metric::dot) {
        return _mm512_fmadd_ps(q, x, acc);
    } else if constexpr (M == Metric::l2) {
        const __m512 diff = _mm512_sub_ps(q, x);
        return _mm512_fmadd_ps(diff, diff, acc);
    } else {
        return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(q, x)));
    }
}

// Load16(idx, mask) returns 16 decoded floats (masked-off lanes must equal the masked query: 0).
template <Metric M, typename Load16>
TESSERA_AVX512 inline float kernel(const float* query, std::size_t dim, Load16 load16) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 32 <= dim; idx += 32) {
        acc0 = step<M>(acc0, _mm512_loadu_ps(query + idx), load16(idx, __mmask16(0xffff)));
        acc1 = step<M>(acc1, _mm512_loadu_ps(query + idx + 16), load16(idx + 16, __mmask16(0xffff)));
    }
    for (; idx < dim; idx += 16) {
        const std::size_t left = dim - idx;
        const __mmask16 mask = left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
        acc0 = step<M>(acc0, _mm512_maskz_loadu_ps(mask, query + idx), load16(idx, mask));
    }
    const float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    return M == Metric::dot ? -total : total;
}

template <Metric M>
TESSERA_AVX512 float f32_kernel(const float* query, const std::byte* stored, std::size_t dim) {
    const auto* values = reinterpret_cast<const float*>(stored);
    return kernel<M>(query, dim, [values](std::size_t idx, __mmask16 mask) TESSERA_AVX512 {
        return _mm512_maskz_loadu_ps(mask, values + idx);
    });
}

template <Metric M>
TESSERA_AVX512 float f16_kernel(const float* query, const std::byte* stored, std::size_t dim) {
    const auto* values = reinterpret_cast<const std::uint16_t*>(stored);
    return kernel<M>(query, dim, [values](std::size_t idx, __mmask16 mask) TESSERA_AVX512 {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, values + idx));
    });
}

template <Metric M>
TESSERA_AVX512 float u8_kernel(const float* query, const std::byte* stored, std::size_t dim) {
    float lo, scale;
    std::memcpy(&lo, stored, 4);
    std::memcpy(&scale, stored + 4, 4);
    const auto* codes = reinterpret_cast<const std::uint8_t*>(stored + 8);
    const __m512 lo16 = _mm512_set1_ps(lo);
    const __m512 scale16 = _mm512_set1_ps(scale);
    return kernel<M>(query, dim, [=](std::size_t idx, __mmask16 mask) TESSERA_AVX512 {
        const __m512i wide = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, codes + idx));
        // Masked-off lanes must decode to 0 (not lo) so they add nothing against a zero query.
        return _mm512_maskz_mov_ps(mask, _mm512_fmadd_ps(_mm512_cvtepi32_ps(wide), scale16, lo16));
    });
}

}  // namespace

const KernelTable& avx512_kernels() {
    static const KernelTable table{{
        {f32_kernel<Metric::dot>, f16_kernel<Metric::dot>, u8_kernel<Metric::dot>},
        {f32_kernel<Metric::l2>, f16_kernel<Metric::l2>, u8_kernel<Metric::l2>},
        {f32_kernel<Metric::l1>, f16_kernel<Metric::l1>, u8_kernel<Metric::l1>},
    }};
    return table;
}

}  // namespace tessera::store
