// The register-only loop shared by the peak probes (bench/engine/peak_probe_*.cpp) and the
// kernels' own rate probe (avx512/rate_probe.cpp): 12 independent accumulator chains in named
// registers hide the multiply-add latency (4-5 cycles) on two pipes; an empty asm per iteration keeps the compiler
// from folding the loop. Returns the operation count (FLOP or int ops) of `iterations` rounds.
#pragma once

#define TESSERA_PROBE_LOOP(TYPE, INIT, OP, LANES_FLOP)                                        \
    TYPE c0 = INIT, c1 = INIT, c2 = INIT, c3 = INIT, c4 = INIT, c5 = INIT, c6 = INIT, c7 = INIT, \
         c8 = INIT, c9 = INIT, c10 = INIT, c11 = INIT;                                          \
    for (std::size_t iter = 0; iter < iterations; ++iter) {                                     \
        c0 = OP(c0); c1 = OP(c1); c2 = OP(c2); c3 = OP(c3); c4 = OP(c4); c5 = OP(c5);           \
        c6 = OP(c6); c7 = OP(c7); c8 = OP(c8); c9 = OP(c9); c10 = OP(c10); c11 = OP(c11);       \
        __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));     \
        __asm__ volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));   \
    }                                                                                           \
    TYPE sink_vec = c0;                                                                         \
    __asm__ volatile("" : "+x"(sink_vec), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));   \
    __asm__ volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));       \
    return static_cast<double>(iterations) * 12 * (LANES_FLOP)
