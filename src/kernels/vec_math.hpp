// Branch-free float math (exp, tanh, sigmoid, the activations, erf-GELU) written so that a plain loop
// over an array auto-vectorises under whatever -m flags the including file is compiled with.
//
//   for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::gelu_erf(x[idx]);
//
// Everything lives in an anonymous namespace on purpose: the per-ISA files (generic/, avx2/,
// avx512/) each include this header with different -m flags, and an inline function with
// external linkage would let the linker keep the AVX-512 copy for the portable caller.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/linear.hpp"  // Activation

// The helpers pass 64-byte vectors by value; they are internal to each file, so the ABI note GCC
// gives for non-AVX-512 builds does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tessera::kernels::vec_math {
namespace {

// The functions below marked "float or Vec16" take one float or 16 lanes (a GCC vector, as
// __m512 is one): the same polynomial serves the scalar loops and the hand-vectorised kernels.
typedef float Vec16 __attribute__((vector_size(64), aligned(4)));
typedef std::int32_t Int16 __attribute__((vector_size(64), aligned(4)));

// Lanes outside [lo, hi] moved to the bound; NaN stays NaN. Under AVX-512 one vmaxps and one
// vminps (their operand order is what keeps NaN): GCC 12 turned the selects into a compare and a
// blend each, four of the 22 instructions of an erf-GELU.
template <typename T>
inline T clamp_lanes(T x, float lo, float hi) {
    if constexpr (std::is_same_v<T, float>) {
        return std::min(std::max(x, lo), hi);
    } else {
#if defined(__AVX512F__)
        if constexpr (sizeof(T) == sizeof(__m512)) {
            const __m512 raised = _mm512_max_ps(_mm512_set1_ps(lo), reinterpret_cast<__m512>(x));
            return reinterpret_cast<T>(_mm512_min_ps(_mm512_set1_ps(hi), raised));
        }
#endif
        const T low = T{} + lo, high = T{} + hi;
        x = x < low ? low : x;
        return x > high ? high : x;
    }
}

// 2^n for whole-numbered n (as floats) in the normal range, by building the exponent bits.
template <typename T>
inline T exp2_whole(T n) {
    if constexpr (std::is_same_v<T, float>) {
        return std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
    } else {
        return reinterpret_cast<T>((__builtin_convertvector(n, Int16) + 127) << 23);
    }
}

// 1 / q. Under AVX-512, 16 lanes take vrcp14ps and one Newton step (relative error ~2^-28, below
// float's 2^-24) instead of vdivps, which issues once per 8-16 cycles: the division was most of an
// erf-GELU, and GELU most of the int8 FFN-up epilogue.
template <typename T>
inline T reciprocal(T q) {
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == sizeof(__m512)) {  // Vec16 (naming it here drops its attributes)
        const T estimate = reinterpret_cast<T>(_mm512_rcp14_ps(reinterpret_cast<__m512>(q)));
        return estimate * (2.0f - q * estimate);
    }
#endif
    return 1.0f / q;
}

// Round to nearest (even) whole number, float or Vec16: the 1.5*2^23 trick instead of nearbyint so
// it vectorises on plain SSE2; under AVX-512 one vrndscaleps. |x| < 2^22.
template <typename T>
inline T round_to_whole(T x) {
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == sizeof(__m512)) {
        return reinterpret_cast<T>(_mm512_roundscale_ps(reinterpret_cast<__m512>(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
#endif
    return (x + 12582912.0f) - 12582912.0f;
}

// p * 2^n for whole-numbered n in the normal range; under AVX-512 one vscalefps.
template <typename T>
inline T times_exp2(T p, T n) {
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == sizeof(__m512)) {
        return reinterpret_cast<T>(_mm512_scalef_ps(reinterpret_cast<__m512>(p), reinterpret_cast<__m512>(n)));
    }
#endif
    return p * exp2_whole(n);
}

// exp(x) by range reduction to r in [-ln2/2, ln2/2] and the Cephes expf polynomial
// (max relative error about 2 ulp). Float or Vec16. (vrndscaleps + vscalefps under AVX-512 give
// the same results with 4 fewer instructions than the trick + exponent bits: exp is most of a softmax.)
template <typename T>
inline T exp(T x) {
    x = clamp_lanes(x, -87.33f, 88.37f);
    const T n = round_to_whole(x * 1.44269504088896341f);
    T r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    T p = T{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return times_exp2(p, n);
}

// 2^t to ~4e-5 relative (degree-4 Taylor polynomial of 2^f, f in [-1/2, 1/2]), for results that
// are rounded to 8 bits anyway (int8 attention's probabilities). t >= -126. Float or Vec16.
template <typename T>
inline T exp2_coarse(T t) {
    t = clamp_lanes(t, -126.0f, 127.0f);
    const T n = round_to_whole(t);
    const T f = t - n;
    T p = T{} + 9.6181291e-3f;
    p = p * f + 5.5504109e-2f;
    p = p * f + 2.4022651e-1f;
    p = p * f + 6.9314718e-1f;
    p = p * f + 1.0f;
    return times_exp2(p, n);
}

// The activations: float or Vec16.
template <typename T>
inline T sigmoid(T x) { return reciprocal(1.0f + vec_math::exp(-x)); }

// tanh(x) = 1 - 2 / (exp(2x) + 1): absolute error below 2e-7 everywhere.
template <typename T>
inline T tanh(T x) { return 1.0f - 2.0f * reciprocal(vec_math::exp(2.0f * x) + 1.0f); }

// x * (1 + erf(x / sqrt 2)) / 2, erf-GELU (not tanh's: golden models tell them apart). erf(z) is
// the rational approximation Eigen and TensorFlow use (generic_fast_erf_float), z P(z^2) / Q(z^2),
// exact to a few ulp on [-4, 4] and +-1 in float beyond; here z's 1/sqrt 2 and the outer 1/2 are
// folded into the coefficients (p_i / 2^i / (2 sqrt 2) and q_i / 2^i, over u = x^2): 19 vector
// operations instead of 22. The GELU epilogue was 15% of an int8 FFN-up GEMM
// (tessera-gemm-bench --threads 1 --rows 96). Float or Vec16.
template <typename T>
inline T gelu_erf(T x) {
    const T xc = clamp_lanes(x, -5.65685424949238f, 5.65685424949238f);  // x / sqrt 2 in [-4, 4]
    const T u = xc * xc;
    T p = T{} + -1.505995060250189e-12f;
    p = p * u + 3.061199412650202e-10f;
    p = p * u + -4.642651039253875e-08f;
    p = p * u + -2.515756170991271e-06f;
    p = p * u + -6.496460735158676e-05f;
    p = p * u + -5.223043900778214e-04f;
    p = p * u + -5.690807157595012e-03f;
    T q = T{} + -9.103794904062250e-07f;
    q = q * u + -2.667175690986312e-05f;
    q = q * u + -4.207067435955075e-04f;
    q = q * u + -3.686664583602340e-03f;
    q = q * u + -1.426473905141890e-02f;
    return x * ((xc * p) * reciprocal(q) + 0.5f);
}

template <typename T>
inline T gelu_tanh(T x) {
    const T inner = 0.79788456080286536f * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + vec_math::tanh(inner));
}

template <typename T>
inline T quick_gelu(T x) { return x * vec_math::sigmoid(1.702f * x); }
template <typename T>
inline T silu(T x) { return x * vec_math::sigmoid(x); }
template <typename T>
inline T relu(T x) {
    if constexpr (std::is_same_v<T, float>) return std::max(x, 0.0f);
    else return x > T{} ? x : T{};
}

// One activation chosen at run time, for a float or Vec16.
template <typename T>
inline T activate(T x, Activation activation) {
    switch (activation) {
        case Activation::none: return x;
        case Activation::gelu_erf: return vec_math::gelu_erf(x);
        case Activation::gelu_tanh: return vec_math::gelu_tanh(x);
        case Activation::quick_gelu: return vec_math::quick_gelu(x);
        case Activation::relu: return vec_math::relu(x);
        case Activation::tanh: return vec_math::tanh(x);
        case Activation::silu: return vec_math::silu(x);
    }
    return x;
}

// One loop per activation, so each loop body is a straight line the vectoriser takes.
inline void apply(float* x, std::size_t count, Activation activation) {
    switch (activation) {
        case Activation::none: return;
        case Activation::gelu_erf:
            for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::gelu_erf(x[idx]);
            return;
        case Activation::gelu_tanh:
            for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::gelu_tanh(x[idx]);
            return;
        case Activation::quick_gelu:
            for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::quick_gelu(x[idx]);
            return;
        case Activation::relu:
            for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::relu(x[idx]);
            return;
        case Activation::tanh:
            for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::tanh(x[idx]);
            return;
        case Activation::silu:
            for (std::size_t idx = 0; idx < count; ++idx) x[idx] = vec_math::silu(x[idx]);
            return;
    }
}

// Reductions on GCC vector extensions (Vec16, 16 floats): one zmm under AVX-512, two ymm under
// AVX2, four xmm on baseline x86-64. Plain loops with a lane array were left scalar by GCC 12.

inline Vec16 load16(const float* x) {
    Vec16 value;
    std::memcpy(&value, x, sizeof(value));
    return value;
}

inline void store16(float* x, const Vec16& value) { std::memcpy(x, &value, sizeof(value)); }

// Under AVX-512 the reductions are shuffle trees (vreduce): the lane loops are chains of 16
// dependent adds, which dominated the per-row work of int8 attention's 32-value rows.
inline float horizontal_sum(const Vec16& value) {
#if defined(__AVX512F__)
    return _mm512_reduce_add_ps(reinterpret_cast<__m512>(value));
#else
    float total = 0.0f;
    for (int lane = 0; lane < 16; ++lane) total += value[lane];
    return total;
#endif
}

inline float horizontal_max(const Vec16& value) {
#if defined(__AVX512F__)
    return _mm512_reduce_max_ps(reinterpret_cast<__m512>(value));
#else
    float best = value[0];
    for (int lane = 1; lane < 16; ++lane) best = std::max(best, value[lane]);
    return best;
#endif
}

inline float horizontal_min(const Vec16& value) {
#if defined(__AVX512F__)
    return _mm512_reduce_min_ps(reinterpret_cast<__m512>(value));
#else
    float best = value[0];
    for (int lane = 1; lane < 16; ++lane) best = std::min(best, value[lane]);
    return best;
#endif
}

inline float sum(const float* x, std::size_t count) {
    Vec16 acc = {};
    std::size_t idx = 0;
    for (; idx + 16 <= count; idx += 16) acc += load16(x + idx);
    float total = horizontal_sum(acc);
    for (; idx < count; ++idx) total += x[idx];
    return total;
}

// sum((x - centre)^2): the variance's second pass.
inline float sum_sq_dev(const float* x, std::size_t count, float centre) {
    Vec16 acc = {};
    std::size_t idx = 0;
    for (; idx + 16 <= count; idx += 16) {
        const Vec16 dev = load16(x + idx) - centre;
        acc += dev * dev;
    }
    float total = horizontal_sum(acc);
    for (; idx < count; ++idx) total += (x[idx] - centre) * (x[idx] - centre);
    return total;
}

inline float dot(const float* x, const float* y, std::size_t count) {
    Vec16 acc = {};
    std::size_t idx = 0;
    for (; idx + 16 <= count; idx += 16) acc += load16(x + idx) * load16(y + idx);
    float total = horizontal_sum(acc);
    for (; idx < count; ++idx) total += x[idx] * y[idx];
    return total;
}

inline Vec16 abs(const Vec16& value) { return value < 0.0f ? -value : value; }

// max |x| (0 for count 0).
inline float max_abs(const float* x, std::size_t count) {
    Vec16 acc = {};
    std::size_t idx = 0;
    for (; idx + 16 <= count; idx += 16) {
        const Vec16 value = abs(load16(x + idx));
        acc = acc > value ? acc : value;
    }
    float best = horizontal_max(acc);
    for (; idx < count; ++idx) best = std::max(best, x[idx] < 0.0f ? -x[idx] : x[idx]);
    return best;
}

inline float max(const float* x, std::size_t count) {
    float best = x[0];
    std::size_t idx = 0;
    if (count >= 16) {
        Vec16 acc = load16(x);
        for (idx = 16; idx + 16 <= count; idx += 16) {
            const Vec16 value = load16(x + idx);
            acc = acc > value ? acc : value;
        }
        best = std::max(best, horizontal_max(acc));
    }
    for (; idx < count; ++idx) best = std::max(best, x[idx]);
    return best;
}

inline float min(const float* x, std::size_t count) {
    float best = x[0];
    std::size_t idx = 0;
    if (count >= 16) {
        Vec16 acc = load16(x);
        for (idx = 16; idx + 16 <= count; idx += 16) {
            const Vec16 value = load16(x + idx);
            acc = acc < value ? acc : value;
        }
        best = std::min(best, horizontal_min(acc));
    }
    for (; idx < count; ++idx) best = std::min(best, x[idx]);
    return best;
}

}  // namespace
}  // namespace tessera::kernels::vec_math

#pragma GCC diagnostic pop
