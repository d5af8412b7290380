// The machine's measured peak: how many FLOP/s (fp32 FMA, bf16 dot, int8 dot) one core and all
// cores reach on register-only loops. Used to state GEMM efficiency as a share of a measured
// number rather than a datasheet one.
#include "peak_probe.hpp"

// GCC 12 false positive inside the AVX-512 reduce intrinsics (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include <chrono>
#include <thread>
#include <vector>

namespace tessera::bench {

namespace {

// 12 independent accumulator chains in named registers hide the FMA latency (4 cycles) on two
// pipes; an empty asm per iteration keeps the compiler from folding the loop.
#define TESSERA_PROBE_LOOP(TYPE, INIT, OP, LANES_FLOP)                                        \
    TYPE c0 = INIT, c1 = INIT, c2 = INIT, c3 = INIT, c4 = INIT, c5 = INIT, c6 = INIT, c7 = INIT, \
         c8 = INIT, c9 = INIT, c10 = INIT, c11 = INIT;                                          \
    for (std::size_t iter = 0; iter < iterations; ++iter) {                                     \
        c0 = OP(c0); c1 = OP(c1); c2 = OP(c2); c3 = OP(c3); c4 = OP(c4); c5 = OP(c5);           \
        c6 = OP(c6); c7 = OP(c7); c8 = OP(c8); c9 = OP(c9); c10 = OP(c10); c11 = OP(c11);       \
        __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));     \
        __asm__ volatile("" : "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));   \
    }                                                                                           \
    TYPE sink_vec = c0;                                                                         \
    __asm__ volatile("" : "+v"(sink_vec), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));   \
    __asm__ volatile("" : "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));       \
    return static_cast<double>(iterations) * 12 * (LANES_FLOP)

double fma_f32_loop(std::size_t iterations) {
    const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(0.0001f);
    auto op = [&](__m512 acc) { return _mm512_fmadd_ps(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512, _mm512_set1_ps(0.5f), op, 16 * 2);
}

double dot_bf16_loop(std::size_t iterations) {
    const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3a80);
    auto op = [&](__m512 acc) { return _mm512_dpbf16_ps(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512, _mm512_setzero_ps(), op, 16 * 4);
}

double dot_int8_loop(std::size_t iterations) {
    const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
    auto op = [&](__m512i acc) { return _mm512_dpbusd_epi32(acc, a, b); };
    TESSERA_PROBE_LOOP(__m512i, _mm512_setzero_si512(), op, 16 * 8);
}

double measure(double (*loop)(std::size_t), std::size_t threads) {
    const std::size_t iterations = 20'000'000;
    double best = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {
        std::vector<std::thread> workers;
        std::vector<double> flops(threads);
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t idx = 0; idx < threads; ++idx) {
            workers.emplace_back([&, idx] { flops[idx] = loop(iterations); });
        }
        for (auto& worker : workers) worker.join();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double total = 0;
        for (double value : flops) total += value;
        best = std::max(best, total / seconds / 1e9);
    }
    return best;
}

}  // namespace

PeakFlops measure_peak(std::size_t threads) {
    PeakFlops peak;
    peak.fp32_gflops = measure(&fma_f32_loop, threads);
    peak.bf16_gflops = measure(&dot_bf16_loop, threads);
    peak.int8_gops = measure(&dot_int8_loop, threads);
    return peak;
}

}  // namespace tessera::bench
