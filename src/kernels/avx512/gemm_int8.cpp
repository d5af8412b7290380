// int8 GEMM micro-kernel for AVX512_VNNI: vpdpbusd multiplies four u8 activations by four s8
// weights per int32 lane and accumulates exactly (|sum| <= 255 * 127 * K < 2^31 for K < 66k),
// four times the fp32 FMA rate. Same 12 x 32 tile; one K group = 4 K values. The epilogue turns
// the int32 sums into floats with the per-row activation and per-column weight scales.
// GCC 12 warns that _mm512_cvtepi32_ps reads its own _mm512_undefined_ps() placeholder
// uninitialised (a false positive inside the intrinsic header), so silence it for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cmath>

#include "kernels/avx512/tile_out.hpp"
#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

namespace {

// vpdpbusd through inline asm: GCC 12's intrinsic makes the register allocator copy every
// accumulator (and spill half of them) on each K step, which ran the kernel at ~30% of the
// measured VNNI peak; the asm form keeps all 24 accumulators in place.
inline __m512i dpbusd(__m512i acc, __m512i activations_u8, __m512i weights_s8) {
    __asm__("vpdpbusd %[w], %[a], %[acc]" : [acc] "+v"(acc) : [a] "v"(activations_u8), [w] "v"(weights_s8));
    return acc;
}

// Row r of the tile reads A row min(r, M-1), so rows past M read valid memory; their results
// are never stored. Named accumulators, as in avx2/kernels_avx2.cpp: with arrays GCC 12 zeroed
// them on the stack with `rep stos` and set up the row pointers in vector registers on every
// call, 10% of this kernel's time at K = 384.
#define TESSERA_TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

template <int M>
void gemm_int8_12x32_rows(const char* a, std::size_t a_stride_bytes, const std::int8_t* b,
                          std::size_t k_groups, float* tile, const TileEpilogue& epilogue) {
#define TESSERA_DECLARE_ROW(r)                                                              \
    [[maybe_unused]] __m512i lo##r = _mm512_setzero_si512(), hi##r = _mm512_setzero_si512(); \
    [[maybe_unused]] const std::int32_t* a##r =                                             \
        reinterpret_cast<const std::int32_t*>(a + (r < M ? r : M - 1) * a_stride_bytes);
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
#undef TESSERA_DECLARE_ROW
    for (std::size_t group = 0; group < k_groups; ++group) {
        const __m512i b0 = _mm512_load_si512(b + group * 128);
        const __m512i b1 = _mm512_load_si512(b + group * 128 + 64);
        prefetch_panel_ahead<128>(b + group * 128);
#define TESSERA_STEP(r)                                       \
    if constexpr (r < M) {                                    \
        const __m512i a_quad = _mm512_set1_epi32(a##r[group]); \
        lo##r = dpbusd(lo##r, a_quad, b0);                    \
        hi##r = dpbusd(hi##r, a_quad, b1);                    \
    }
        TESSERA_TILE_ROWS(TESSERA_STEP)
#undef TESSERA_STEP
    }
    // int32 sums -> floats in registers: row_scale * col_scale * (sum - row_zero * col_sum), then
    // into the tile or (epilogue.y set) + bias straight into the output rows.
    const __m512 col_scale0 = _mm512_loadu_ps(epilogue.col_scale);
    const __m512 col_scale1 = _mm512_loadu_ps(epilogue.col_scale + 16);
    const __m512 col_sum0 = _mm512_loadu_ps(epilogue.col_sum);
    const __m512 col_sum1 = _mm512_loadu_ps(epilogue.col_sum + 16);
    const TileOut out(tile, &epilogue);
#define TESSERA_FINISH_ROW(r)                                                                \
    if constexpr (r < M) {                                                                   \
        const __m512 zero = _mm512_set1_ps(epilogue.row_zero[r]);                            \
        const __m512 scale = _mm512_set1_ps(epilogue.row_scale[r]);                          \
        const __m512 centred0 = _mm512_fnmadd_ps(zero, col_sum0, _mm512_cvtepi32_ps(lo##r)); \
        const __m512 centred1 = _mm512_fnmadd_ps(zero, col_sum1, _mm512_cvtepi32_ps(hi##r)); \
        out.store(r, _mm512_mul_ps(_mm512_mul_ps(scale, col_scale0), centred0),              \
                  _mm512_mul_ps(_mm512_mul_ps(scale, col_scale1), centred1));                \
    }
    TESSERA_TILE_ROWS(TESSERA_FINISH_ROW)
#undef TESSERA_FINISH_ROW
}

#undef TESSERA_TILE_ROWS

void gemm_int8_12x32(const void* a, std::size_t a_stride_bytes, std::size_t rows,
                     const void* b_panel, std::size_t k_groups, float* tile,
                     const TileEpilogue* epilogue) {
    dispatch_rows<12>(rows, [&]<int M>() {
        gemm_int8_12x32_rows<M>(static_cast<const char*>(a), a_stride_bytes,
                                static_cast<const std::int8_t*>(b_panel), k_groups, tile, *epilogue);
    });
    TileOut(tile, epilogue).finish(rows);
}

}  // namespace

GemmVariant avx512_vnni_gemm() {
    return {"avx512vnni_12x32", 12, 32, 4, &gemm_int8_12x32, GemmInput::u8, 127, /*stores_output=*/true};
}

}  // namespace tessera::kernels::detail
