// What the CPU can do, detected once at run time, so kernels can pick an ISA variant.
//
// The environment variable TESSERA_ISA (portable | avx2 | avx512) caps the detected level, so
// tests and benchmarks can force the portable path on any machine.
#pragma once

#include <string_view>

namespace tessera::core {

enum class IsaLevel { portable = 0, avx2 = 1, avx512 = 2 };

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512_vnni = false;
    bool avx512_bf16 = false;
};

// The features of this CPU (cpuid), ignoring TESSERA_ISA.
[[nodiscard]] const CpuFeatures& detected_cpu_features();
// The ISA level kernels should use: the best the CPU supports, capped by TESSERA_ISA.
[[nodiscard]] IsaLevel active_isa_level();
// Overrides the active level for the current process (tests use it to run every variant).
void set_isa_level_override(IsaLevel level);
void clear_isa_level_override();
[[nodiscard]] std::string_view isa_level_name(IsaLevel level);

}  // namespace tessera::core
