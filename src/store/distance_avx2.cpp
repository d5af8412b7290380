// AVX2 + FMA + F16C kernels: 4 x 8 lanes per step, then 8 at a time; the tail runs scalar.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "store/distance.hpp"

#define TESSERA_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace tessera::store {
namespace {

TESSERA_AVX2 inline float hsum(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

template <Metric M>
TESSERA_AVX2 inline __m256 step(__m256 acc, __m256 q, __m256 x) {
    if constexpr (M == Metric::dot) {
        return _mm256_fmadd_ps(q, x, acc);
    } else if constexpr (M == Metric::l2) {
        const __m256 diff = _mm256_sub_ps(q, x);
        return _mm256_fmadd_ps(diff, diff, acc);
    } else {
        const __m256 diff = _mm256_sub_ps(q, x);
        return _mm256_add_ps(acc, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), diff));
    }
}

template <Metric M>
inline float scalar_step(float acc, float q, float x) {
    if constexpr (M == Metric::dot) return acc + q * x;
    else if constexpr (M == Metric::l2) return acc + (q - x) * (q - x);
    else return acc + std::fabs(q - x);
}

// Load8 returns 8 decoded floats at an index; Load1 one float (the tail). Four accumulators:
// an FMA's 4-cycle latency with two loads per cycle needs four independent chains to keep the
// loads busy (two chains left 384-d dot products latency-bound at ~half the load rate).
template <Metric M, typename Load8, typename Load1>
TESSERA_AVX2 inline float kernel(const float* query, std::size_t dim, Load8 load8, Load1 load1) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    std::size_t idx = 0;
    for (; idx + 32 <= dim; idx += 32) {
        acc0 = step<M>(acc0, _mm256_loadu_ps(query + idx), load8(idx));
        acc1 = step<M>(acc1, _mm256_loadu_ps(query + idx + 8), load8(idx + 8));
        acc2 = step<M>(acc2, _mm256_loadu_ps(query + idx + 16), load8(idx + 16));
        acc3 = step<M>(acc3, _mm256_loadu_ps(query + idx + 24), load8(idx + 24));
    }
    for (; idx + 8 <= dim; idx += 8) acc0 = step<M>(acc0, _mm256_loadu_ps(query + idx), load8(idx));
    float total = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; idx < dim; ++idx) total = scalar_step<M>(total, query[idx], load1(idx));
    return M == Metric::dot ? -total : total;
}

template <Metric M>
TESSERA_AVX2 float f32_kernel(const float* query, const std::byte* stored, std::size_t dim) {
    const auto* values = reinterpret_cast<const float*>(stored);
    return kernel<M>(
        query, dim, [values](std::size_t idx) TESSERA_AVX2 { return _mm256_loadu_ps(values + idx); },
        [values](std::size_t idx) { return values[idx]; });
}

template <Metric M>
TESSERA_AVX2 float f16_kernel(const float* query, const std::byte* stored, std::size_t dim) {
    const auto* values = reinterpret_cast<const std::uint16_t*>(stored);
    return kernel<M>(
        query, dim,
        [values](std::size_t idx) TESSERA_AVX2 {
            return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(values + idx)));
        },
        [values](std::size_t idx) { return half_to_float(values[idx]); });
}

template <Metric M>
TESSERA_AVX2 float u8_kernel(const float* query, const std::byte* stored, std::size_t dim) {
    float lo, scale;
    std::memcpy(&lo, stored, 4);
    std::memcpy(&scale, stored + 4, 4);
    const auto* codes = reinterpret_cast<const std::uint8_t*>(stored + 8);
    const __m256 lo8 = _mm256_set1_ps(lo);
    const __m256 scale8 = _mm256_set1_ps(scale);
    return kernel<M>(
        query, dim,
        [codes, lo8, scale8](std::size_t idx) TESSERA_AVX2 {
            std::uint64_t packed;
            std::memcpy(&packed, codes + idx, 8);
            const __m256i wide = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(std::int64_t(packed)));
            return _mm256_fmadd_ps(_mm256_cvtepi32_ps(wide), scale8, lo8);
        },
        [codes, lo, scale](std::size_t idx) { return lo + scale * float(codes[idx]); });
}

}  // namespace

const KernelTable& avx2_kernels() {
    static const KernelTable table{{
        {f32_kernel<Metric::dot>, f16_kernel<Metric::dot>, u8_kernel<Metric::dot>},
        {f32_kernel<Metric::l2>, f16_kernel<Metric::l2>, u8_kernel<Metric::l2>},
        {f32_kernel<Metric::l1>, f16_kernel<Metric::l1>, u8_kernel<Metric::l1>},
    }};
    return table;
}

}  // namespace tessera::store
