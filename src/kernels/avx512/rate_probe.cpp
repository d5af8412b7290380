// Register-only fp32 FMA and vdpbf16ps loops: the bench's peak probe reports them, and dispatch.cpp
// compares them to pick the bf16 GEMM (see isa_kernels.hpp).
#include <immintrin.h>

#include <cstddef>

#include "kernels/isa_kernels.hpp"
#include "kernels/peak_loops.hpp"

namespace tessera::kernels::detail {

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

}  // namespace tessera::kernels::detail
