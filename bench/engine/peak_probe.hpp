// Measured peak arithmetic rate of this machine (register-only loops, AVX-512 or AVX2), for stating
// achieved GFLOP/s as a share of what the cores can actually do.
//
//   auto peak = tessera::bench::measure_peak(2);   // ~1 s
//   std::printf("%.0f GFLOP/s fp32\n", peak.fp32_gflops);
#pragma once

#include <cstddef>

namespace tessera::bench {

struct PeakFlops {
    const char* isa = "none";  // the instructions measured: avx512, avx2, or none (all zero)
    double fp32_gflops = 0;  // FMA = 2 FLOP
    double bf16_gflops = 0;  // vdpbf16ps: 2 products + 2 adds per lane (AVX2: = fp32)
    double int8_gops = 0;    // vpdpbusd: 4 products + 4 adds per lane (AVX2: vpmaddubsw chain)
};

// Runs `threads` threads at once with the widest instructions the CPU has.
PeakFlops measure_peak(std::size_t threads);

}  // namespace tessera::bench
