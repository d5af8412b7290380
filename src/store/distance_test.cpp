#include "store/distance.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tessera::store {
namespace {

double reference(Metric metric, const std::vector<float>& a, const std::vector<float>& b) {
    double total = 0;
    for (std::size_t idx = 0; idx < a.size(); ++idx) {
        const double x = a[idx], y = b[idx];
        if (metric == Metric::dot) total += x * y;
        else if (metric == Metric::l2) total += (x - y) * (x - y);
        else total += std::fabs(x - y);
    }
    return metric == Metric::dot ? -total : total;
}

TEST(Distance, EveryIsaMatchesDoubleReferenceForEveryMetricAndStorage) {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    for (const std::size_t dim : {1u, 3u, 8u, 15u, 16u, 17u, 31u, 33u, 64u, 384u, 385u}) {
        std::vector<float> query(dim), stored(dim);
        for (auto& x : query) x = normal(rng);
        for (auto& x : stored) x = normal(rng);
        for (const StorageType storage : {StorageType::f32, StorageType::f16, StorageType::u8}) {
            std::vector<std::byte> code(encoded_size(storage, dim));
            encode(storage, stored, code.data());
            std::vector<float> decoded(dim);
            decode(storage, code.data(), dim, decoded.data());
            for (const Metric metric : {Metric::dot, Metric::l2, Metric::l1}) {
                const double expected = reference(metric, query, decoded);
                for (const auto level : {core::IsaLevel::portable, core::IsaLevel::avx2, core::IsaLevel::avx512}) {
                    const float got = distance_fn(metric, storage, level)(query.data(), code.data(), dim);
                    EXPECT_NEAR(got, expected, 1e-4 * (1 + std::fabs(expected)))
                        << "dim " << dim << " storage " << int(storage) << " metric " << int(metric) << " isa "
                        << int(level);
                }
            }
        }
    }
}

TEST(Distance, QuantisationErrorIsBounded) {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> uniform(-1, 1);
    std::vector<float> vector(384);
    for (auto& x : vector) x = uniform(rng);
    for (const StorageType storage : {StorageType::f16, StorageType::u8}) {
        std::vector<std::byte> code(encoded_size(storage, vector.size()));
        encode(storage, vector, code.data());
        std::vector<float> decoded(vector.size());
        decode(storage, code.data(), vector.size(), decoded.data());
        const float tolerance = storage == StorageType::f16 ? 1e-3f : 2.0f / 255.0f;
        for (std::size_t idx = 0; idx < vector.size(); ++idx) EXPECT_NEAR(decoded[idx], vector[idx], tolerance);
    }
}

TEST(Distance, HalfConversionRoundsToNearestEvenAndKeepsSpecials) {
    for (const float value : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f}) {
        EXPECT_EQ(half_to_float(float_to_half(value)), value) << value;
    }
    EXPECT_TRUE(std::isinf(half_to_float(float_to_half(1e6f))));
    EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
    EXPECT_EQ(half_to_float(float_to_half(1.0f + 1.0f / 4096)), 1.0f);  // halfway rounds to even
}

TEST(Distance, ScoresFollowQdrantConventions) {
    EXPECT_FLOAT_EQ(score_from_distance(Distance::cosine, -0.75f), 0.75f);
    EXPECT_FLOAT_EQ(score_from_distance(Distance::euclid, 4.0f), 2.0f);
    EXPECT_FLOAT_EQ(score_from_distance(Distance::manhattan, 3.0f), 3.0f);
    EXPECT_FLOAT_EQ(distance_bound_from_score(Distance::euclid, 2.0f), 4.0f);
    EXPECT_FLOAT_EQ(distance_bound_from_score(Distance::dot, 0.5f), -0.5f);
}

}  // namespace
}  // namespace tessera::store
