#include "store/distance.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace tessera::store {

std::uint16_t float_to_half(float value) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    const std::uint32_t sign = (bits >> 16) & 0x8000u;
    const std::uint32_t abs_bits = bits & 0x7fffffffu;
    // Fabian Giesen's float_to_half_fast3_rtne: >= 65536 is inf (NaN stays a quiet NaN).
    if (abs_bits >= 0x47800000u) return std::uint16_t(sign | (abs_bits > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (abs_bits < 0x38800000u) {                                       // subnormal or zero half
        // Adding 0.5f aligns the mantissa so the FPU's rounding does round-to-nearest-even.
        const float magic = std::bit_cast<float>(abs_bits) + 0.5f;
        return std::uint16_t(sign | (std::bit_cast<std::uint32_t>(magic) - 0x3f000000u));
    }
    const std::uint32_t mant_odd = (abs_bits >> 13) & 1u;
    std::uint32_t rounded = abs_bits + 0xc8000fffu + mant_odd;  // rebias exponent, round
    return std::uint16_t(sign | (rounded >> 13));
}

float half_to_float(std::uint16_t half) {
    const std::uint32_t sign = std::uint32_t(half & 0x8000u) << 16;
    const std::uint32_t exponent = (half >> 10) & 0x1fu;
    const std::uint32_t mantissa = half & 0x3ffu;
    if (exponent == 0) {
        const float magnitude = float(mantissa) * 5.9604644775390625e-8f;  // 2^-24
        return std::bit_cast<float>(std::bit_cast<std::uint32_t>(magnitude) | sign);
    }
    if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

namespace {

template <Metric M>
inline float combine(float acc, float diff_or_product) {
    if constexpr (M == Metric::dot) return acc + diff_or_product;
    else if constexpr (M == Metric::l2) return acc + diff_or_product * diff_or_product;
    else return acc + std::fabs(diff_or_product);
}

// The reference kernels: plain loops with 8 partial sums so the compiler can vectorise them.
template <Metric M, typename Load>
float portable_kernel(const float* query, std::size_t dim, Load load) {
    float acc[8] = {};
    std::size_t idx = 0;
    for (; idx + 8 <= dim; idx += 8) {
        for (std::size_t lane = 0; lane < 8; ++lane) {
            const float x = load(idx + lane);
            const float v = M == Metric::dot ? query[idx + lane] * x : query[idx + lane] - x;
            acc[lane] = combine<M>(acc[lane], v);
        }
    }
    float total = 0;
    for (float a : acc) total += a;
    for (; idx < dim; ++idx) {
        const float x = load(idx);
        total = combine<M>(total, M == Metric::dot ? query[idx] * x : query[idx] - x);
    }
    return M == Metric::dot ? -total : total;
}

template <Metric M>
float portable_f32(const float* query, const std::byte* stored, std::size_t dim) {
    const auto* values = reinterpret_cast<const float*>(stored);
    return portable_kernel<M>(query, dim, [values](std::size_t idx) { return values[idx]; });
}
template <Metric M>
float portable_f16(const float* query, const std::byte* stored, std::size_t dim) {
    const auto* values = reinterpret_cast<const std::uint16_t*>(stored);
    return portable_kernel<M>(query, dim, [values](std::size_t idx) { return half_to_float(values[idx]); });
}
template <Metric M>
float portable_u8(const float* query, const std::byte* stored, std::size_t dim) {
    float min_value, scale;
    std::memcpy(&min_value, stored, 4);
    std::memcpy(&scale, stored + 4, 4);
    const auto* codes = reinterpret_cast<const std::uint8_t*>(stored + 8);
    return portable_kernel<M>(query, dim,
                              [&](std::size_t idx) { return min_value + scale * float(codes[idx]); });
}

}  // namespace

const KernelTable& portable_kernels() {
    static const KernelTable table{{
        {portable_f32<Metric::dot>, portable_f16<Metric::dot>, portable_u8<Metric::dot>},
        {portable_f32<Metric::l2>, portable_f16<Metric::l2>, portable_u8<Metric::l2>},
        {portable_f32<Metric::l1>, portable_f16<Metric::l1>, portable_u8<Metric::l1>},
    }};
    return table;
}

DistanceFn distance_fn(Metric metric, StorageType storage, core::IsaLevel level) {
    const KernelTable* table = &portable_kernels();
    const auto& cpu = core::detected_cpu_features();
    if (level >= core::IsaLevel::avx512 && cpu.avx512f && cpu.avx512bw && cpu.avx512vl) {
        table = &avx512_kernels();
    } else if (level >= core::IsaLevel::avx2 && cpu.avx2 && cpu.fma && cpu.f16c) {
        table = &avx2_kernels();
    }
    return table->fn[int(metric)][int(storage)];
}

DistanceFn distance_fn(Metric metric, StorageType storage) {
    return distance_fn(metric, storage, core::active_isa_level());
}

Metric metric_of(Distance distance) {
    switch (distance) {
        case Distance::cosine:
        case Distance::dot: return Metric::dot;
        case Distance::euclid: return Metric::l2;
        case Distance::manhattan: return Metric::l1;
    }
    return Metric::dot;
}

float score_from_distance(Distance distance, float internal) {
    switch (distance) {
        case Distance::cosine:
        case Distance::dot: return -internal;
        case Distance::euclid: return std::sqrt(std::max(internal, 0.0f));
        case Distance::manhattan: return internal;
    }
    return internal;
}

float distance_bound_from_score(Distance distance, float score) {
    switch (distance) {
        case Distance::cosine:
        case Distance::dot: return -score;
        case Distance::euclid: return score < 0 ? -1.0f : score * score;
        case Distance::manhattan: return score;
    }
    return score;
}

std::size_t encoded_size(StorageType storage, std::size_t dim) {
    switch (storage) {
        case StorageType::f32: return dim * 4;
        case StorageType::f16: return dim * 2;
        case StorageType::u8: return 8 + dim;
    }
    return dim * 4;
}

void encode(StorageType storage, std::span<const float> vector, std::byte* out) {
    switch (storage) {
        case StorageType::f32:
            std::memcpy(out, vector.data(), vector.size() * 4);
            return;
        case StorageType::f16:
            for (std::size_t idx = 0; idx < vector.size(); ++idx) {
                const std::uint16_t half = float_to_half(vector[idx]);
                std::memcpy(out + idx * 2, &half, 2);
            }
            return;
        case StorageType::u8: {
            float lo = vector.empty() ? 0.0f : vector[0];
            float hi = lo;
            for (float x : vector) { lo = std::min(lo, x); hi = std::max(hi, x); }
            const float scale = hi > lo ? (hi - lo) / 255.0f : 0.0f;
            std::memcpy(out, &lo, 4);
            std::memcpy(out + 4, &scale, 4);
            auto* codes = reinterpret_cast<std::uint8_t*>(out + 8);
            for (std::size_t idx = 0; idx < vector.size(); ++idx) {
                const float code = scale > 0 ? std::nearbyint((vector[idx] - lo) / scale) : 0.0f;
                codes[idx] = std::uint8_t(std::clamp(code, 0.0f, 255.0f));
            }
            return;
        }
    }
}

void decode(StorageType storage, const std::byte* in, std::size_t dim, float* out) {
    switch (storage) {
        case StorageType::f32:
            std::memcpy(out, in, dim * 4);
            return;
        case StorageType::f16:
            for (std::size_t idx = 0; idx < dim; ++idx) {
                std::uint16_t half;
                std::memcpy(&half, in + idx * 2, 2);
                out[idx] = half_to_float(half);
            }
            return;
        case StorageType::u8: {
            float lo, scale;
            std::memcpy(&lo, in, 4);
            std::memcpy(&scale, in + 4, 4);
            const auto* codes = reinterpret_cast<const std::uint8_t*>(in + 8);
            for (std::size_t idx = 0; idx < dim; ++idx) out[idx] = lo + scale * float(codes[idx]);
            return;
        }
    }
}

}  // namespace tessera::store
