// Distance kernels between a float query and a stored (f32, f16 or u8-quantised) vector, with
// runtime dispatch on the CPU's ISA level (portable, AVX2, AVX-512).
//
//   auto fn = store::distance_fn(store::Metric::dot, StorageType::f16);
//   std::vector<std::byte> code(store::encoded_size(StorageType::f16, dim));
//   store::encode(StorageType::f16, vector, code.data());
//   float d = fn(query.data(), code.data(), dim);   // lower is closer for every metric
//
// Internally every metric is a "lower is closer" distance: dot returns -dot, l2 the squared
// euclidean distance, l1 the manhattan distance; score_from_distance converts to Qdrant scores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/cpu_features.hpp"
#include "tessera/store.hpp"

namespace tessera::store {

enum class Metric { dot = 0, l2 = 1, l1 = 2 };

using DistanceFn = float (*)(const float* query, const std::byte* stored, std::size_t dim);

// One function per metric x storage type for one ISA level.
struct KernelTable {
    DistanceFn fn[3][3];  // [Metric][StorageType]
};

const KernelTable& portable_kernels();
const KernelTable& avx2_kernels();    // requires avx2+fma+f16c
const KernelTable& avx512_kernels();  // requires avx512f+bw+vl

// The kernel for the active ISA level (core::active_isa_level(), honouring TESSERA_ISA).
[[nodiscard]] DistanceFn distance_fn(Metric metric, StorageType storage);
[[nodiscard]] DistanceFn distance_fn(Metric metric, StorageType storage, core::IsaLevel level);

[[nodiscard]] Metric metric_of(Distance distance);
// Internal distance -> the score users see (similarity for cosine/dot, distance otherwise).
[[nodiscard]] float score_from_distance(Distance distance, float internal);
// Score threshold -> bound on the internal distance (results need internal <= bound).
[[nodiscard]] float distance_bound_from_score(Distance distance, float score);

// Bytes one encoded vector takes (u8: two floats min/scale, then the codes).
[[nodiscard]] std::size_t encoded_size(StorageType storage, std::size_t dim);
void encode(StorageType storage, std::span<const float> vector, std::byte* out);
void decode(StorageType storage, const std::byte* in, std::size_t dim, float* out);

// IEEE half <-> float, round to nearest even (portable; used where F16C is absent).
[[nodiscard]] std::uint16_t float_to_half(float value);
[[nodiscard]] float half_to_float(std::uint16_t half);

}  // namespace tessera::store
