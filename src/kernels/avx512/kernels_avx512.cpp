// AVX-512 table: the portable bodies compiled with -mavx512f/bw/vl/dq (auto-vectorised 16 wide),
// AVX2's hand-vectorised element-wise kernels, and hand-written GEMM micro-kernels:
//
// fp32: 12 rows x 32 columns: 24 zmm accumulators + 2 for the B row + 1 broadcast = 27 of 32
// registers. Per K step it issues 24 FMAs against 2 B loads and 12 broadcasts, so it is
// FMA-bound, not load-bound (two 512-bit FMAs and two or three loads per cycle). With its data
// hot in cache it runs at 91-97% of the measured FMA peak (Xeon, 2026-12-04). Named accumulators
// and row pointers (TESSERA_TILE_ROWS), not arrays: with arrays GCC 12 zeroed them with `rep stos`,
// spilled them after the loop and kept two row pointers in xmm registers (two vmovq per K step
// on an FMA port); named, the loop is the 24 FMAs, 12 broadcasts and 2 loads (+8-12% per GEMM
// shape in `tessera-gemm-bench --threads 1 --rows 256`, +5% MiniLM-L6 fp32 end to end).
//
// bf16 weights on fp32 FMAs ("widen"): 10 rows x 32 columns over the bf16 panels of
// avx512/gemm_bf16.cpp (pairs of K values per 32-bit lane), widened in registers: the even K value
// is the lane shifted left by 16, the odd one the lane with its low half cleared. Activations stay
// fp32. 10 rows, not 12: with 24 accumulators + 4 widened B vectors + 2 broadcasts GCC 12 ran out
// of zmm registers and moved 12 accumulators per K pair through a temporary; at 10 rows the loop
// is 40 FMAs, 20 broadcasts and no moves (+2-4% in tessera-gemm-bench and end to end). It is the
// bf16 kernel unless vdpbf16ps measures >= 1.2x the FMA FLOP/s (dispatch.cpp measures it):
// on the Xeon of 2026-12-04 vdpbf16ps ran at 0.47x (153 vs 327 GFLOP/s for 2 cores), so the dot
// kernel made bf16 0.72x of ONNX Runtime fp32 while this one reads half the weight bytes at the
// fp32 rate (4 shift/and per 40 FMAs).
// GCC 12 warns that _mm512_slli_epi32 reads its own _mm512_undefined_epi32() placeholder
// uninitialised (a false positive inside the intrinsic header), so silence it for this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <cmath>

#include "kernels/avx512/tile_out.hpp"
#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

namespace {

// Row r of the tile reads A row min(r, M-1), so rows past M read valid memory; their results
// are never stored.
#define TESSERA_TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define TESSERA_DECLARE_ROW(r)                                                              \
    [[maybe_unused]] __m512 lo##r = _mm512_setzero_ps(), hi##r = _mm512_setzero_ps();        \
    [[maybe_unused]] const float* a##r = reinterpret_cast<const float*>(a + (r < M ? r : M - 1) * a_stride_bytes);
#define TESSERA_STORE_ROW(r) \
    if constexpr (r < M) out.store(r, lo##r, hi##r);

template <int M>
void gemm_f32_12x32_rows(const char* a, std::size_t a_stride_bytes, const float* b,
                         std::size_t k_count, const TileOut& out) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    for (std::size_t k_idx = 0; k_idx < k_count; ++k_idx) {
        const __m512 b0 = _mm512_load_ps(b + k_idx * 32);
        const __m512 b1 = _mm512_load_ps(b + k_idx * 32 + 16);
        prefetch_panel_ahead<128>(b + k_idx * 32);
#define TESSERA_STEP(r)                                        \
    if constexpr (r < M) {                                     \
        const __m512 a_value = _mm512_set1_ps(a##r[k_idx]);    \
        lo##r = _mm512_fmadd_ps(a_value, b0, lo##r);           \
        hi##r = _mm512_fmadd_ps(a_value, b1, hi##r);           \
    }
        TESSERA_TILE_ROWS(TESSERA_STEP)
#undef TESSERA_STEP
    }
    TESSERA_TILE_ROWS(TESSERA_STORE_ROW)
}

template <int M>
void gemm_bf16w_10x32_rows(const char* a, std::size_t a_stride_bytes, const std::uint32_t* b,
                           std::size_t k_groups, const TileOut& out) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    const __m512i high_half = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
    for (std::size_t group = 0; group < k_groups; ++group) {
        const __m512i pairs0 = _mm512_load_si512(b + group * 32);
        const __m512i pairs1 = _mm512_load_si512(b + group * 32 + 16);
        prefetch_panel_ahead<128>(b + group * 32);
        const __m512 even0 = _mm512_castsi512_ps(_mm512_slli_epi32(pairs0, 16));
        const __m512 even1 = _mm512_castsi512_ps(_mm512_slli_epi32(pairs1, 16));
        const __m512 odd0 = _mm512_castsi512_ps(_mm512_and_si512(pairs0, high_half));
        const __m512 odd1 = _mm512_castsi512_ps(_mm512_and_si512(pairs1, high_half));
#define TESSERA_STEP(r)                                                 \
    if constexpr (r < M) {                                              \
        const __m512 a_even = _mm512_set1_ps(a##r[2 * group]);          \
        const __m512 a_odd = _mm512_set1_ps(a##r[2 * group + 1]);       \
        lo##r = _mm512_fmadd_ps(a_even, even0, lo##r);                  \
        hi##r = _mm512_fmadd_ps(a_even, even1, hi##r);                  \
        lo##r = _mm512_fmadd_ps(a_odd, odd0, lo##r);                    \
        hi##r = _mm512_fmadd_ps(a_odd, odd1, hi##r);                    \
    }
        TESSERA_TILE_ROWS(TESSERA_STEP)
#undef TESSERA_STEP
    }
    TESSERA_TILE_ROWS(TESSERA_STORE_ROW)
}

#undef TESSERA_DECLARE_ROW
#undef TESSERA_STORE_ROW
#undef TESSERA_TILE_ROWS

void gemm_bf16w_10x32(const void* a, std::size_t a_stride_bytes, std::size_t rows,
                      const void* b_panel, std::size_t k_groups, float* tile,
                      const TileEpilogue* epilogue) {
    const TileOut out(tile, epilogue);
    dispatch_rows<10>(rows, [&]<int M>() {
        gemm_bf16w_10x32_rows<M>(static_cast<const char*>(a), a_stride_bytes,
                                 static_cast<const std::uint32_t*>(b_panel), k_groups, out);
    });
    out.finish(rows);
}

void gemm_f32_12x32(const void* a, std::size_t a_stride_bytes, std::size_t rows,
                    const void* b_panel, std::size_t k_groups, float* tile,
                    const TileEpilogue* epilogue) {
    const TileOut out(tile, epilogue);
    dispatch_rows<12>(rows, [&]<int M>() {
        gemm_f32_12x32_rows<M>(static_cast<const char*>(a), a_stride_bytes,
                               static_cast<const float*>(b_panel), k_groups, out);
    });
    out.finish(rows);
}

// As quantize_u8_rows_impl (same range, zero point and round-half-even codes), sixteen at a time;
// vpmovusdb narrows the codes to bytes. (AVX2's eight-wide version was 9% of MiniLM-L6 int8.)
void quantize_u8_rows_avx512(const float* x, std::size_t x_stride, std::size_t row_count, std::size_t k,
                             std::size_t k_padded, std::uint8_t* out, float* scale, float* zero) {
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        std::uint8_t* out_row = out + row * k_padded;
        const std::size_t whole = k / 16 * 16;
        __m512 lo16 = _mm512_setzero_ps(), hi16 = _mm512_setzero_ps();  // the range includes 0
        for (std::size_t col = 0; col < whole; col += 16) {
            const __m512 value = _mm512_loadu_ps(x_row + col);
            lo16 = _mm512_min_ps(lo16, value);
            hi16 = _mm512_max_ps(hi16, value);
        }
        float lo = _mm512_reduce_min_ps(lo16), hi = _mm512_reduce_max_ps(hi16);
        for (std::size_t col = whole; col < k; ++col) lo = std::min(lo, x_row[col]), hi = std::max(hi, x_row[col]);
        const U8Range range = u8_range(lo, hi);
        const __m512 inv16 = _mm512_set1_ps(range.inv_scale), zero16 = _mm512_set1_ps(range.zero);
        for (std::size_t col = 0; col < whole; col += 16) {
            __m512 code = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x_row + col), inv16),
                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            code = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(code, zero16), _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out_row + col), _mm512_cvtusepi32_epi8(_mm512_cvtps_epi32(code)));
        }
        quantize_u8_tail(x_row, whole, k, k_padded, range, out_row);
        scale[row] = range.scale;
        zero[row] = range.zero;
    }
}

}  // namespace

const IsaKernels& avx512_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx512");
        result.gemm_f32 = {"avx512_f32_12x32", 12, 32, 1, &gemm_f32_12x32, GemmInput::f32, 127, /*stores_output=*/true};
        // GCC 12 leaves the portable element-wise loops scalar (perf, MiniLM-L6 int8: quantisation
        // 7.6%, epilogue 7.1%), so take AVX2's hand-vectorised epilogue (whole panels skip it:
        // TileOut) and a sixteen-wide quantisation. The attention softmax is the portable one,
        // written on 16-lane vectors (one zmm here).
        result.finish_tile = avx2_kernels().finish_tile;
        result.quantize_u8_rows = &quantize_u8_rows_avx512;
        return result;
    }();
    return table;
}

GemmVariant avx512_bf16_widen_gemm() {
    return {"avx512_bf16w_10x32", 10, 32, 2, &gemm_bf16w_10x32, GemmInput::f32, 127, /*stores_output=*/true};
}

}  // namespace tessera::kernels::detail
