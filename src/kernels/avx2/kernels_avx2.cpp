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
#include "kernels/panel_prefetch.hpp"

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

// fp32 accumulation over fp32 A rows: per K step, `load_b(k)` gives the panel's 16 weights as
// two fp32 vectors (fp32 panels load them; bf16 panels widen them by a 16-bit shift).
template <int M, typename LoadB>
void gemm_fp32_acc_rows(const char* a, std::size_t a_stride_bytes, std::size_t k_count, float* tile,
                        LoadB load_b) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    for (std::size_t k_idx = 0; k_idx < k_count; ++k_idx) {
        const auto [b0, b1] = load_b(k_idx);  // and prefetches the panel ahead
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

struct WeightPair {
    __m256 lo, hi;
};

// fp32: B panel = K rows of 16 floats.
template <int M>
void gemm_f32_rows(const char* a, std::size_t a_stride_bytes, const float* b, std::size_t k_count,
                   float* tile) {
    gemm_fp32_acc_rows<M>(a, a_stride_bytes, k_count, tile, [b](std::size_t k_idx) {
        prefetch_panel_ahead<64>(b + k_idx * 16);
        return WeightPair{_mm256_load_ps(b + k_idx * 16), _mm256_load_ps(b + k_idx * 16 + 8)};
    });
}

// bf16 weights: B panel = K rows of 16 bf16 values; bf16 -> fp32 is a 16-bit left shift.
template <int M>
void gemm_bf16w_rows(const char* a, std::size_t a_stride_bytes, const std::uint16_t* b,
                     std::size_t k_count, float* tile) {
    gemm_fp32_acc_rows<M>(a, a_stride_bytes, k_count, tile, [b](std::size_t k_idx) {
        const auto* b_row = reinterpret_cast<const __m128i*>(b + k_idx * 16);
        prefetch_panel_ahead<32>(b_row);
        return WeightPair{_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_load_si128(b_row)), 16)),
                          _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_load_si128(b_row + 1)), 16))};
    });
}

// int8: A u8 rows, B panel = K/4 groups of 16 columns x 4 s8 weights. The int32 sums are kept
// in the float registers (as bits) and turned into floats by the epilogue.
template <int M>
void gemm_int8_rows(const char* a, std::size_t a_stride_bytes, const std::int8_t* b,
                    std::size_t k_groups, float* tile, const TileEpilogue& epilogue) {
    TESSERA_TILE_ROWS(TESSERA_DECLARE_ROW)
    const __m256i ones = _mm256_set1_epi16(1);
    for (std::size_t group = 0; group < k_groups; ++group) {
        const auto* b_group = reinterpret_cast<const __m256i*>(b + group * 64);
        prefetch_panel_ahead<64>(b_group);
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

void gemm_f32_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows, const void* b_panel,
                   std::size_t k_groups, float* tile, const TileEpilogue* /*epilogue*/) {
    dispatch_rows<6>(rows, [&]<int M>() {
        gemm_f32_rows<M>(static_cast<const char*>(a), a_stride_bytes, static_cast<const float*>(b_panel), k_groups, tile);
    });
}

void gemm_bf16w_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows, const void* b_panel,
                     std::size_t k_groups, float* tile, const TileEpilogue* /*epilogue*/) {
    dispatch_rows<6>(rows, [&]<int M>() {
        gemm_bf16w_rows<M>(static_cast<const char*>(a), a_stride_bytes, static_cast<const std::uint16_t*>(b_panel),
                           k_groups, tile);
    });
}

void gemm_int8_6x16(const void* a, std::size_t a_stride_bytes, std::size_t rows, const void* b_panel,
                    std::size_t k_groups, float* tile, const TileEpilogue* epilogue) {
    dispatch_rows<6>(rows, [&]<int M>() {
        gemm_int8_rows<M>(static_cast<const char*>(a), a_stride_bytes, static_cast<const std::int8_t*>(b_panel),
                          k_groups, tile, *epilogue);
    });
}


// ---- element-wise kernels: hand-vectorised because GCC 12 left the vec_math loops scalar here
// (perf on MiniLM-L6 int8: attention softmax 13%, bias+GELU epilogue 13%, quantisation 11%).
// Same polynomials as vec_math.hpp, eight lanes at a time; tails use the scalar versions.

inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33f)), _mm256_set1_ps(88.37f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}

inline __m256 gelu_erf8(__m256 value) {
    __m256 x = _mm256_mul_ps(value, _mm256_set1_ps(0.70710678118654752f));
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-4.0f)), _mm256_set1_ps(4.0f));
    const __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-1.60960333262415e-02f));
    p = _mm256_mul_ps(p, x);
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-1.42647390514189e-02f));
    const __m256 erf = _mm256_div_ps(p, q);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), value), _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
}

// Reduces the eight lanes with `op` (_mm_max_ps, _mm_min_ps, _mm_add_ps).
template <typename Op>
float horizontal(__m256 value, Op op) {
    __m128 half = op(_mm256_castps256_ps128(value), _mm256_extractf128_ps(value, 1));
    half = op(half, _mm_movehl_ps(half, half));
    half = op(half, _mm_shuffle_ps(half, half, 1));
    return _mm_cvtss_f32(half);
}

float horizontal_max(__m256 value) { return horizontal(value, [](__m128 a, __m128 b) { return _mm_max_ps(a, b); }); }
float horizontal_min(__m256 value) { return horizontal(value, [](__m128 a, __m128 b) { return _mm_min_ps(a, b); }); }
float horizontal_sum(__m256 value) { return horizontal(value, [](__m128 a, __m128 b) { return _mm_add_ps(a, b); }); }

// As attention_softmax_impl: scale, (causal) mask, softmax over the visible keys, zero the rest.
void attention_softmax_avx2(float* scores, std::size_t row_count, std::size_t row_stride, std::size_t key_count,
                            std::size_t first_query, bool causal, float scale) {
    const __m256 scale8 = _mm256_set1_ps(scale);
    for (std::size_t row = 0; row < row_count; ++row) {
        float* x = scores + row * row_stride;
        const std::size_t visible = causal ? std::min(key_count, first_query + row + 1) : key_count;
        const std::size_t whole = visible / 8 * 8;
        __m256 max8 = _mm256_set1_ps(-3.4e38f);
        for (std::size_t key = 0; key < whole; key += 8) {
            const __m256 value = _mm256_mul_ps(_mm256_loadu_ps(x + key), scale8);
            _mm256_storeu_ps(x + key, value);
            max8 = _mm256_max_ps(max8, value);
        }
        float row_max = horizontal_max(max8);
        for (std::size_t key = whole; key < visible; ++key) {
            x[key] *= scale;
            row_max = std::max(row_max, x[key]);
        }
        const __m256 max_b = _mm256_set1_ps(row_max);
        __m256 sum8 = _mm256_setzero_ps();
        for (std::size_t key = 0; key < whole; key += 8) {
            const __m256 value = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + key), max_b));
            _mm256_storeu_ps(x + key, value);
            sum8 = _mm256_add_ps(sum8, value);
        }
        float sum = horizontal_sum(sum8);
        for (std::size_t key = whole; key < visible; ++key) {
            x[key] = vec_math::exp(x[key] - row_max);
            sum += x[key];
        }
        const float inv_sum = 1.0f / sum;
        const __m256 inv8 = _mm256_set1_ps(inv_sum);
        for (std::size_t key = 0; key < whole; key += 8) _mm256_storeu_ps(x + key, _mm256_mul_ps(_mm256_loadu_ps(x + key), inv8));
        for (std::size_t key = whole; key < visible; ++key) x[key] *= inv_sum;
        for (std::size_t key = visible; key < key_count; ++key) x[key] = 0.0f;
    }
}

// Whole tiles (any multiple of 8 columns: the AVX2 16-wide and the AVX-512 32-wide panels) with
// no activation or erf-GELU (what BERT runs) go eight lanes at a time; everything else takes the
// portable epilogue.
void finish_tile_avx2(const float* tile, std::size_t tile_stride, std::size_t rows, std::size_t cols,
                      const float* bias, Activation activation, float* y, std::size_t y_stride) {
    if (cols % 8 != 0 || (activation != Activation::none && activation != Activation::gelu_erf)) {
        return finish_tile_impl<16>(tile, tile_stride, rows, cols, bias, activation, y, y_stride);
    }
    for (std::size_t col = 0; col < cols; col += 8) {
        const __m256 bias8 = bias != nullptr ? _mm256_loadu_ps(bias + col) : _mm256_setzero_ps();
        for (std::size_t row = 0; row < rows; ++row) {
            __m256 value = _mm256_add_ps(_mm256_load_ps(tile + row * tile_stride + col), bias8);
            if (activation == Activation::gelu_erf) value = gelu_erf8(value);
            _mm256_storeu_ps(y + row * y_stride + col, value);
        }
    }
}

// As quantize_u8_rows_impl (same range, zero point and round-half-even codes), eight at a time.
void quantize_u8_rows_avx2(const float* x, std::size_t x_stride, std::size_t row_count, std::size_t k,
                           std::size_t k_padded, std::uint8_t* out, float* scale, float* zero) {
    for (std::size_t row = 0; row < row_count; ++row) {
        const float* x_row = x + row * x_stride;
        std::uint8_t* out_row = out + row * k_padded;
        const std::size_t whole = k / 8 * 8;
        __m256 lo8 = _mm256_setzero_ps(), hi8 = _mm256_setzero_ps();
        for (std::size_t col = 0; col < whole; col += 8) {
            const __m256 value = _mm256_loadu_ps(x_row + col);
            lo8 = _mm256_min_ps(lo8, value);
            hi8 = _mm256_max_ps(hi8, value);
        }
        float lo = horizontal_min(lo8), hi = horizontal_max(hi8);
        for (std::size_t col = whole; col < k; ++col) lo = std::min(lo, x_row[col]), hi = std::max(hi, x_row[col]);
        const U8Range range = u8_range(lo, hi);
        const float row_scale = range.scale, inv_scale = range.inv_scale, row_zero = range.zero;
        const __m256 inv8 = _mm256_set1_ps(inv_scale), zero8 = _mm256_set1_ps(row_zero);
        for (std::size_t col = 0; col < whole; col += 8) {
            __m256 code = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x_row + col), inv8),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            code = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(code, zero8), _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
            const __m256i codes = _mm256_cvtps_epi32(code);
            const __m128i words = _mm_packus_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(out_row + col), _mm_packus_epi16(words, words));
        }
        quantize_u8_tail(x_row, whole, k, k_padded, range, out_row);
        scale[row] = row_scale;
        zero[row] = row_zero;
    }
}

}  // namespace

const IsaKernels& avx2_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx2");
        result.gemm_f32 = {"avx2_f32_6x16", 6, 16, 1, &gemm_f32_6x16};
        result.gemm_bf16 = {"avx2_bf16w_6x16", 6, 16, 1, &gemm_bf16w_6x16, GemmInput::f32};
        result.gemm_int8 = {"avx2_int8_6x16", 6, 16, 4, &gemm_int8_6x16, GemmInput::u8, 63};
        result.attention_softmax = &attention_softmax_avx2;
        result.finish_tile = &finish_tile_avx2;
        result.quantize_u8_rows = &quantize_u8_rows_avx2;
        return result;
    }();
    return table;
}

}  // namespace tessera::kernels::detail
