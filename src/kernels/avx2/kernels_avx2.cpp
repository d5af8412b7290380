// AVX2+FMA table: the portable bodies compiled with -mavx2 -mfma (auto-vectorised 8 wide) and
// hand-written GEMM micro-kernels for fp32, bf16 weights and int8.
//
// Every kernel is a 6 x 16 register tile: 12 ymm accumulators (6 rows x 2 vectors of 8 columns),
// the classic Haswell/Zen shape (12 FMAs per 2 B loads + 6 broadcasts: FMA-bound on two pipes).
// The accumulators are named variables, one per row (TESSERA_TILE_ROWS): with arrays of __m256
// GCC 12 kept a copy of every accumulator on the stack and stored all 12 on each K step, which
// ran the fp32 kernel at 32% of the measured FMA peak.
//
// AVX2 has no bf16 or int8 dot instruction, so:
//   bf16: weights are stored as bf16 (half the bytes) and widened to fp32 in registers (a shift);
//         activations stay fp32 (more exact than rounding them, and nothing to convert per call).
//   int8: vpmaddubsw (u8 activation x s8 weight pairs -> s16) + vpmaddwd by ones (-> s32 sums of
//         4 products) + vpaddd. vpmaddubsw saturates at 2^15, so weights use 7 bits (|q| <= 63:
//         255 * 63 * 2 < 32768, every sum exact), as ONNX Runtime's reduce_range does on AVX2.
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

namespace {

#define TESSERA_TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

// Row r of the tile reads A row min(r, M-1), so rows past M read valid memory; their results
// are never stored.
#define TESSERA_DECLARE_ROW(r)                                               \
    [[maybe_unused]] __m256 lo##r = _mm256_setzero_ps(), hi##r = _mm256_setzero_ps(); \
    [[maybe_unused]] const char* a##r = a + (r < M ? r : M - 1) * a_stride_bytes;
#define TESSERA_STORE_ROW(r)                         \
    if constexpr (r < M) {                           \
        _mm256_store_ps(tile + (r) * 16, lo##r);     \
        _mm256_store_ps(tile + (r) * 16 + 8, hi##r); \
    }

// fp32: A fp32 rows, B panel = K rows of 16 floats.
template <int M>
void gemm_f32_rows(const char* a, std::size_t a_stride_bytes, const float* b, std::size_t k_count,
                   float* tile) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    for (std::size_t k_idx = 0; k_idx < k_count; ++k_idx) {
        const __m256 b0 = _mm256_load_ps(b + k_idx * 16);
        const __m256 b1 = _mm256_load_ps(b + k_idx * 16 + 8);
#define TESSERA_STEP(r)                                                                        \
    if constexpr (r < M) {                                                                     \
        const __m256 a_value = _mm256_broadcast_ss(reinterpret_cast<const float*>(a##r) + k_idx); \
        lo##r = _mm256_fmadd_ps(a_value, b0, lo##r);                                           \
        hi##r = _mm256_fmadd_ps(a_value, b1, hi##r);                                           \
    }
        TESSERA_TILE_ROWS(TESSERA_STEP)
#undef TESSERA_STEP
    }
    TESSERA_TILE_ROWS(TESSERA_STORE_ROW)
}

// bf16 weights: A fp32 rows, B panel = K rows of 16 bf16 values, widened by a 16-bit shift.
template <int M>
void gemm_bf16w_rows(const char* a, std::size_t a_stride_bytes, const std::uint16_t* b,
                     std::size_t k_count, float* tile) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    for (std::size_t k_idx = 0; k_idx < k_count; ++k_idx) {
        const auto* b_row = reinterpret_cast<const __m128i*>(b + k_idx * 16);
        const __m256 b0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_load_si128(b_row)), 16));
        const __m256 b1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_load_si128(b_row + 1)), 16));
#define TESSERA_STEP(r)                                                                        \
    if constexpr (r < M) {                                                                     \
        const __m256 a_value = _mm256_broadcast_ss(reinterpret_cast<const float*>(a##r) + k_idx); \
        lo##r = _mm256_fmadd_ps(a_value, b0, lo##r);                                           \
        hi##r = _mm256_fmadd_ps(a_value, b1, hi##r);                                           \
    }
        TESSERA_TILE_ROWS(TESSERA_STEP)
#undef TESSERA_STEP
    }
    TESSERA_TILE_ROWS(TESSERA_STORE_ROW)
}

// int8: A u8 rows, B panel = K/4 groups of 16 columns x 4 s8 weights. The int32 sums are kept
// in the float registers (as bits) and turned into floats by the epilogue.
template <int M>
void gemm_int8_rows(const char* a, std::size_t a_stride_bytes, const std::int8_t* b,
                    std::size_t k_groups, float* tile, const Int8Epilogue& epilogue) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    const __m256i ones = _mm256_set1_epi16(1);
    for (std::size_t group = 0; group < k_groups; ++group) {
        const auto* b_group = reinterpret_cast<const __m256i*>(b + group * 64);
#define TESSERA_STEP(r)                                                                          \
    if constexpr (r < M) {                                                                       \
        const __m256i a_quad = _mm256_set1_epi32(reinterpret_cast<const std::int32_t*>(a##r)[group]); \
        const __m256i sum0 = _mm256_madd_epi16(_mm256_maddubs_epi16(a_quad, _mm256_load_si256(b_group)), ones); \
        const __m256i sum1 = _mm256_madd_epi16(_mm256_maddubs_epi16(a_quad, _mm256_load_si256(b_group + 1)), ones); \
        lo##r = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(lo##r), sum0));         \
        hi##r = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(hi##r), sum1));         \
    }
        TESSERA_TILE_ROWS(TESSERA_STEP)
#undef TESSERA_STEP
    }
    const __m256 col_scale0 = _mm256_loadu_ps(epilogue.col_scale);
    const __m256 col_scale1 = _mm256_loadu_ps(epilogue.col_scale + 8);
    const __m256 col_sum0 = _mm256_loadu_ps(epilogue.col_sum);
    const __m256 col_sum1 = _mm256_loadu_ps(epilogue.col_sum + 8);
#define TESSERA_FINISH_ROW(r)                                                                         \
    if constexpr (r < M) {                                                                            \
        const __m256 zero = _mm256_set1_ps(epilogue.row_zero[r]);                                     \
        const __m256 scale = _mm256_set1_ps(epilogue.row_scale[r]);                                   \
        const __m256 centred0 = _mm256_fnmadd_ps(zero, col_sum0, _mm256_cvtepi32_ps(_mm256_castps_si256(lo##r))); \
        const __m256 centred1 = _mm256_fnmadd_ps(zero, col_sum1, _mm256_cvtepi32_ps(_mm256_castps_si256(hi##r))); \
        lo##r = _mm256_mul_ps(_mm256_mul_ps(scale, col_scale0), centred0);                            \
        hi##r = _mm256_mul_ps(_mm256_mul_ps(scale, col_scale1), centred1);                            \
    }
    TESSERA_TILE_ROWS(TESSERA_FINISH_ROW)
#undef TESSERA_FINISH_ROW
    TESSERA_TILE_ROWS(TESSERA_STORE_ROW)
}

#undef TESSERA_DECLARE_ROW
#undef TESSERA_STORE_ROW
#undef TESSERA_TILE_ROWS

// Run-time row count -> compile-time tile height.
template <typename Body>
void dispatch_rows(std::size_t rows, Body&& body) {
    switch (rows) {
        case 6: return body.template operator()<6>();
        case 5: return body.template operator()<5>();
        case 4: return body.template operator()<4>();
        case 3: return body.template operator()<3>();
        case 2: return body.template operator()<2>();
        default: return body.template operator()<1>();
    }
}

void gemm_f32_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows, const void* b_panel,
                   std::size_t k_groups, float* tile, const Int8Epilogue* /*epilogue*/) {
    dispatch_rows(rows, [&]<int M>() {
        gemm_f32_rows<M>(static_cast<const char*>(a), a_stride_bytes, static_cast<const float*>(b_panel), k_groups, tile);
    });
}

void gemm_bf16w_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows, const void* b_panel,
                     std::size_t k_groups, float* tile, const Int8Epilogue* /*epilogue*/) {
    dispatch_rows(rows, [&]<int M>() {
        gemm_bf16w_rows<M>(static_cast<const char*>(a), a_stride_bytes, static_cast<const std::uint16_t*>(b_panel),
                           k_groups, tile);
    });
}

void gemm_int8_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows, const void* b_panel,
                    std::size_t k_groups, float* tile, const Int8Epilogue* epilogue) {
    dispatch_rows(rows, [&]<int M>() {
        gemm_int8_rows<M>(static_cast<const char*>(a), a_stride_bytes, static_cast<const std::int8_t*>(b_panel),
                          k_groups, tile, *epilogue);
    });
}

}  // namespace

const IsaKernels& avx2_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx2");
        result.gemm_f32 = {"avx2_f32_6x16", 6, 16, 1, &gemm_f32_6x16};
        result.gemm_bf16 = {"avx2_bf16w_6x16", 6, 16, 1, &gemm_bf16w_6x16, GemmInput::f32};
        result.gemm_int8 = {"avx2_int8_6x16", 6, 16, 4, &gemm_int8_6x16, GemmInput::u8, 63};
        return result;
    }();
    return table;
}

}  // namespace tessera::kernels::detail
