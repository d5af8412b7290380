// The machine's measured peak: how many FLOP/s (fp32 FMA, bf16 dot, int8 dot) all cores reach
// on register-only loops, with the widest instructions this CPU has (AVX-512 with BF16/VNNI, or
// AVX2+FMA). Used to state GEMM efficiency as a share of a measured number rather than a
// datasheet one.
#include "peak_probe.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "core/cpu_features.hpp"
#include "kernels/isa_kernels.hpp"

namespace tessera::bench {

namespace detail {
double dot_int8_loop_avx512(std::size_t iterations);
double fma_f32_loop_avx2(std::size_t iterations);
double dot_int8_loop_avx2(std::size_t iterations);
}  // namespace detail

namespace {

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
    const auto& cpu = core::detected_cpu_features();
    PeakFlops peak;
    if (cpu.avx512f && cpu.avx512_bf16 && cpu.avx512_vnni) {
        peak.isa = "avx512";
        peak.fp32_gflops = measure(&kernels::detail::fma_f32_loop_avx512, threads);
        peak.bf16_gflops = measure(&kernels::detail::dot_bf16_loop_avx512, threads);
        peak.int8_gops = measure(&detail::dot_int8_loop_avx512, threads);
    } else if (cpu.avx2 && cpu.fma) {
        peak.isa = "avx2";
        peak.fp32_gflops = measure(&detail::fma_f32_loop_avx2, threads);
        peak.bf16_gflops = peak.fp32_gflops;  // no bf16 arithmetic: widened to fp32 FMAs
        peak.int8_gops = measure(&detail::dot_int8_loop_avx2, threads);
    }
    return peak;
}

}  // namespace tessera::bench
