#include "core/cpu_features.hpp"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace tessera::core {

namespace {

bool os_saves_avx512_state() {
    unsigned eax = 0, edx = 0;
    // XGETBV(0): bits 1,2 (SSE, AVX) and 5,6,7 (opmask, ZMM_Hi256, Hi16_ZMM) must be enabled.
    __asm__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (eax & 0xE6) == 0xE6;
}

bool os_saves_avx_state() {
    unsigned eax = 0, edx = 0;
    __asm__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (eax & 0x6) == 0x6;
}

CpuFeatures detect() {
    CpuFeatures features;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return features;
    const bool osxsave = (ecx & bit_OSXSAVE) != 0;
    const bool avx = (ecx & bit_AVX) != 0 && osxsave && os_saves_avx_state();
    features.fma = avx && (ecx & bit_FMA) != 0;
    features.f16c = avx && (ecx & bit_F16C) != 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return features;
    features.avx2 = avx && (ebx & bit_AVX2) != 0;
    const bool zmm = osxsave && os_saves_avx512_state();
    features.avx512f = zmm && (ebx & bit_AVX512F) != 0;
    features.avx512bw = features.avx512f && (ebx & bit_AVX512BW) != 0;
    features.avx512vl = features.avx512f && (ebx & bit_AVX512VL) != 0;
    features.avx512dq = features.avx512f && (ebx & bit_AVX512DQ) != 0;
    features.avx512_vnni = features.avx512f && (ecx & bit_AVX512VNNI) != 0;
    unsigned eax1 = 0, ebx1 = 0, ecx1 = 0, edx1 = 0;
    if (__get_cpuid_count(7, 1, &eax1, &ebx1, &ecx1, &edx1)) {
        features.avx512_bf16 = features.avx512f && (eax1 & (1u << 5)) != 0;
    }
    return features;
}

IsaLevel best_level(const CpuFeatures& f) {
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma) return IsaLevel::avx512;
    if (f.avx2 && f.fma) return IsaLevel::avx2;
    return IsaLevel::portable;
}

IsaLevel level_from_env(IsaLevel best) {
    const char* env = std::getenv("TESSERA_ISA");
    if (env == nullptr) return best;
    const std::string value(env);
    IsaLevel cap = best;
    if (value == "portable" || value == "generic") cap = IsaLevel::portable;
    else if (value == "avx2") cap = IsaLevel::avx2;
    else if (value == "avx512") cap = IsaLevel::avx512;
    return static_cast<int>(cap) < static_cast<int>(best) ? cap : best;
}

std::atomic<int> g_override{-1};

}  // namespace

const CpuFeatures& detected_cpu_features() {
    static const CpuFeatures features = detect();
    return features;
}

IsaLevel active_isa_level() {
    const int forced = g_override.load(std::memory_order_relaxed);
    static const IsaLevel from_env = level_from_env(best_level(detected_cpu_features()));
    if (forced >= 0) {
        const IsaLevel best = best_level(detected_cpu_features());
        return forced < static_cast<int>(best) ? static_cast<IsaLevel>(forced) : best;
    }
    return from_env;
}

void set_isa_level_override(IsaLevel level) { g_override.store(static_cast<int>(level)); }
void clear_isa_level_override() { g_override.store(-1); }

std::string_view isa_level_name(IsaLevel level) {
    switch (level) {
        case IsaLevel::portable: return "portable";
        case IsaLevel::avx2: return "avx2";
        case IsaLevel::avx512: return "avx512";
    }
    return "portable";
}

}  // namespace tessera::core
