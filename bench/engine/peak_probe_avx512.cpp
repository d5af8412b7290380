// Peak probe loop for AVX-512 machines: vpdpbusd (fp32 FMA and vdpbf16ps are the kernels' own,
// kernels/avx512/rate_probe.cpp; see peak_probe.cpp).
// GCC 12 false positive inside the AVX-512 reduce intrinsics (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cstddef>

#include "kernels/peak_loops.hpp"

namespace tessera::bench::detail {

double dot_int8_loop_avx512(std::size_t iterations) {
    const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
    auto op = [&](__m512i acc) { return _mm512_dpbusd_epi32(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512i, _mm512_setzero_si512(), op, 16 * 8);
}

}  // namespace tessera::bench::detail
