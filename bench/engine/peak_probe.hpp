// Measured peak arithmetic rate of this machine (AVX-512 register-only loops), for stating
// achieved GFLOP/s as a share of what the cores can actually do.
//
//   auto peak = tessera::bench::measure_peak(2);   // ~1 s
//   std::printf("%.0f GFLOP/s fp32\n", peak.fp32_gflops);
#pragma once

#include <cstddef>

namespace tessera::bench {

struct PeakFlops {
    double fp32_gflops = 0;  // FMA = 2 FLOP
    double bf16_gflops = 0;  // vdpbf16ps: 2 products + 2 adds per lane
    double int8_gops = 0;    // vpdpbusd: 4 products + 4 adds per lane
};

// Runs `threads` threads at once; needs AVX512F, AVX512_BF16 and AVX512_VNNI.
PeakFlops measure_peak(std::size_t threads);

}  // namespace tessera::bench
