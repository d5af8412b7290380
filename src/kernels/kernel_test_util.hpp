// Test helpers for kernels/: every ISA level this CPU supports (so each test runs every variant
// against the double-precision reference) and deterministic random data.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/cpu_features.hpp"
#include "kernels/isa_kernels.hpp"

namespace tessera::kernels::testing {

inline std::vector<core::IsaLevel> available_isa_levels() {
    std::vector<core::IsaLevel> levels{core::IsaLevel::portable};
    const auto& features = core::detected_cpu_features();
    if (features.avx2 && features.fma) levels.push_back(core::IsaLevel::avx2);
    if (features.avx512f && features.avx512bw && features.avx512vl && features.avx512dq) {
        levels.push_back(core::IsaLevel::avx512);
    }
    return levels;
}

// Sets the ISA override for the lifetime of the object.
class IsaScope {
public:
    explicit IsaScope(core::IsaLevel level) { core::set_isa_level_override(level); }
    IsaScope(const IsaScope&) = delete;
    IsaScope& operator=(const IsaScope&) = delete;
    ~IsaScope() { core::clear_isa_level_override(); }
};

// Forces the AVX-512 bf16 GEMM (dot or widen) for the lifetime of the object.
class Bf16KernelScope {
public:
    explicit Bf16KernelScope(detail::Bf16Kernel kernel) { detail::set_bf16_kernel_override(kernel); }
    Bf16KernelScope(const Bf16KernelScope&) = delete;
    Bf16KernelScope& operator=(const Bf16KernelScope&) = delete;
    ~Bf16KernelScope() { detail::set_bf16_kernel_override(detail::Bf16Kernel::automatic); }
};

// Every (ISA level, AVX-512 bf16 kernel) pair this CPU can run; the bf16 kernel only varies for
// bf16 on AVX-512 (both kernels where AVX512_BF16 exists), elsewhere it is `automatic`.
inline std::vector<std::pair<core::IsaLevel, detail::Bf16Kernel>> isa_variants(Precision precision) {
    std::vector<std::pair<core::IsaLevel, detail::Bf16Kernel>> variants;
    for (const auto level : available_isa_levels()) {
        if (level != core::IsaLevel::avx512 || precision != Precision::bf16) {
            variants.emplace_back(level, detail::Bf16Kernel::automatic);
            continue;
        }
        variants.emplace_back(level, detail::Bf16Kernel::widen);
        if (core::detected_cpu_features().avx512_bf16) variants.emplace_back(level, detail::Bf16Kernel::dot);
    }
    return variants;
}

inline std::vector<float> random_floats(std::size_t count, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> values(count);
    for (float& value : values) value = dist(rng);
    return values;
}

inline std::string isa_name(core::IsaLevel level) { return std::string(core::isa_level_name(level)); }

}  // namespace tessera::kernels::testing
