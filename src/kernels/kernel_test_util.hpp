// Test helpers for kernels/: every ISA level this CPU supports (so each test runs every variant
// against the double-precision reference) and deterministic random data.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/cpu_features.hpp"

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

inline std::vector<float> random_floats(std::size_t count, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> values(count);
    for (float& value : values) value = dist(rng);
    return values;
}

inline std::string isa_name(core::IsaLevel level) { return std::string(core::isa_level_name(level)); }

}  // namespace tessera::kernels::testing
