// Peak probe loops for AVX2+FMA machines (see peak_probe.cpp). AVX2 has no bf16 or int8 dot
// instruction: int8 is vpmaddubsw (u8 x s8 pairs -> s16) + vpmaddwd by ones (-> s32) + vpaddd,
// the sequence tessera's AVX2 int8 kernel issues; bf16 runs as fp32 FMAs after widening, so
// its peak is the fp32 one.
#include <immintrin.h>

#include <cstddef>

#include "kernels/peak_loops.hpp"

namespace tessera::bench::detail {

double fma_f32_loop_avx2(std::size_t iterations) {
    const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(0.0001f);
    auto op = [&](__m256 acc) { return _mm256_fmadd_ps(acc, a, b); };
    TESSERA_PROBE_LOOP(__m256, _mm256_set1_ps(0.5f), op, 8 * 2);
}

double dot_int8_loop_avx2(std::size_t iterations) {
    // The products read the accumulator itself, so the compiler cannot hoist them out of the
    // loop (with constant operands it did, and "measured" 8x the real rate).
    const __m256i b = _mm256_set1_epi8(1), ones = _mm256_set1_epi16(1);
    auto op = [&](__m256i acc) {
        return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(acc, b), ones));
    };
    TESSERA_PROBE_LOOP(__m256i, _mm256_setzero_si256(), op, 8 * 8);
}

}  // namespace tessera::bench::detail
