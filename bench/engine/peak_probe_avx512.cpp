// Peak probe loops for AVX-512 machines: fp32 FMA, vdpbf16ps, vpdpbusd (see peak_probe.cpp).
// GCC 12 false positive inside the AVX-512 reduce intrinsics (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstddef>

#include "peak_loops.hpp"

namespace tessera::bench::detail {

double fma_f32_loop_avx512(std::size_t iterations) {
    const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(0.0001f);
    auto op = [&](__m512 acc) { return _mm512_fmadd_ps(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512, _mm512_set1_ps(0.5f), op, 16 * 2);
}

double dot_bf16_loop_avx512(std::size_t iterations) {
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3a80);
    auto op = [&](__m512 acc) { return _mm512_dpbf16_ps(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512, _mm512_setzero_ps(), op, 16 * 4);
}

double dot_int8_loop_avx512(std::size_t iterations) {
    const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
    auto op = [&](__m512i acc) { return _mm512_dpbusd_epi32(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512i, _mm512_setzero_si512(), op, 16 * 8);
}

}  // namespace tessera::bench::detail
