// The weight panel prefetch every hand-written micro-kernel issues on each K step (AVX-512's
// 12x32 kernels in avx512/, AVX2's 6x16 ones in avx2/kernels_avx2.cpp).
#pragma once

#include <xmmintrin.h>  // _mm_prefetch: SSE, so every x86-64 ISA file may include this

#include <cstddef>
#include <cstdint>

namespace tessera::kernels::detail {

// How far ahead of its K step a micro-kernel prefetches its weight panel (4 KB is 32 steps of an
// AVX-512 kernel, which reads 128 bytes of panel per step; 64 steps of AVX2's fp32 and int8
// kernels). Without it the AVX-512 kernels waited on weights streamed from L3: a 16-row tile over
// 40 MB of fp32 panels ran at ~50 GFLOP/s per core (the L2 streamer does not run far enough
// ahead), with it at 110-130; end to end (ab.py, one run, 5 rounds) MiniLM-L6 fp32 +13% on
// 32 x 128 tokens and +9% on one 16-token query, bf16 +8% / +12%, int8 +2% / +9%. 2 KB and 8 KB
// ahead measured the same or slower. Panels are contiguous, so past a panel's end this fetches
// the start of the next one, which the same task usually reads next.
inline constexpr std::size_t kPanelPrefetchBytes = 4096;

// The cache lines of panel that a K step reading `kStepBytes` at `step` will read
// kPanelPrefetchBytes later (a step of 32 bytes fetches its line every other step twice; a
// prefetch of a line already on its way costs one load slot). An address, not pointer
// arithmetic: past the last panel it points outside the allocation, which a prefetch may touch
// but a pointer may not.
template <std::size_t kStepBytes>
inline void prefetch_panel_ahead(const void* step) {
    const auto* ahead = reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(step) + kPanelPrefetchBytes);
    for (std::size_t line = 0; line < (kStepBytes + 63) / 64; ++line) _mm_prefetch(ahead + line * 64, _MM_HINT_T0);
}

}  // namespace tessera::kernels::detail
