#include "store/vector_index.hpp"

#include <gtest/gtest.h>

#include <set>

#include "store/test_util.hpp"

namespace tessera::store {
namespace {

double recall_at(const std::vector<Candidate>& got, const std::vector<Candidate>& truth) {
    std::set<std::uint32_t> expected;
    for (const auto& c : truth) expected.insert(c.slot);
    std::size_t hits = 0;
    for (const auto& c : got) hits += expected.count(c.slot);
    return truth.empty() ? 1.0 : double(hits) / double(truth.size());
}

struct Fixture {
    VectorConfig config;
    std::vector<std::vector<float>> data;
    std::vector<std::vector<float>> queries;
};

Fixture make(std::size_t count, std::size_t dim, StorageType storage, Distance distance) {
    Fixture f;
    f.config.size = dim;
    f.config.storage = storage;
    f.config.distance = distance;
    std::mt19937 rng(42);
    for (std::size_t idx = 0; idx < count; ++idx) f.data.push_back(testing::random_vector(rng, dim));
    for (std::size_t idx = 0; idx < 40; ++idx) f.queries.push_back(testing::random_vector(rng, dim));
    return f;
}

double mean_recall(const VectorIndex& index, const Fixture& f, std::size_t ef, const std::vector<std::uint8_t>* allowed) {
    double total = 0;
    for (const auto& query : f.queries) {
        total += recall_at(index.search(query, 10, ef, allowed), index.search_exact(query, 10, allowed, nullptr));
    }
    return total / double(f.queries.size());
}

TEST(VectorIndex, HnswRecallAgainstExactForEveryMetricAndStorage) {
    for (const StorageType storage : {StorageType::f32, StorageType::f16, StorageType::u8}) {
        for (const Distance distance : {Distance::cosine, Distance::euclid, Distance::manhattan}) {
            Fixture f = make(1500, 24, storage, distance);
            VectorIndex index(f.config);
            for (std::uint32_t slot = 0; slot < f.data.size(); ++slot) index.set(slot, f.data[slot]);
            EXPECT_GE(mean_recall(index, f, 64, nullptr), 0.95)
                << "storage " << int(storage) << " distance " << int(distance);
        }
    }
}

TEST(VectorIndex, FilteredSearchKeepsRecallAndReturnsOnlyAllowedSlots) {
    Fixture f = make(2500, 24, StorageType::f32, Distance::cosine);
    VectorIndex index(f.config);
    for (std::uint32_t slot = 0; slot < f.data.size(); ++slot) index.set(slot, f.data[slot]);
    for (const std::uint32_t every : {2u, 10u, 50u}) {
        std::vector<std::uint8_t> allowed(index.slot_capacity(), 0);
        for (std::uint32_t slot = 0; slot < f.data.size(); slot += every) allowed[slot] = 1;
        EXPECT_GE(mean_recall(index, f, 64, &allowed), 0.95) << "1 in " << every;
        for (const auto& c : index.search(f.queries[0], 10, 64, &allowed)) EXPECT_TRUE(allowed[c.slot]);
    }
}

TEST(VectorIndex, DeletesAreSkippedAndSlotsReused) {
    Fixture f = make(3000, 16, StorageType::f32, Distance::euclid);
    VectorIndex index(f.config);
    for (std::uint32_t slot = 0; slot < f.data.size(); ++slot) index.set(slot, f.data[slot]);
    for (std::uint32_t slot = 0; slot < f.data.size(); slot += 3) index.remove(slot);
    EXPECT_EQ(index.count(), 2000u);
    for (const auto& query : f.queries) {
        for (const auto& c : index.search(query, 10, 64, nullptr)) EXPECT_NE(c.slot % 3, 0u);
    }
    EXPECT_GE(mean_recall(index, f, 64, nullptr), 0.95);
    // Reuse the deleted slots with new vectors: the graph stays searchable.
    std::mt19937 rng(7);
    for (std::uint32_t slot = 0; slot < f.data.size(); slot += 3) {
        f.data[slot] = testing::random_vector(rng, 16);
        index.set(slot, f.data[slot]);
    }
    EXPECT_EQ(index.count(), 3000u);
    EXPECT_GE(mean_recall(index, f, 64, nullptr), 0.95);
    // The exact oracle finds a vector itself at distance 0.
    const auto hit = index.search_exact(f.data[3], 1, nullptr, nullptr);
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].slot, 3u);
}

TEST(VectorIndex, SaveAndLoadGiveIdenticalResults) {
    Fixture f = make(1500, 20, StorageType::f16, Distance::dot);
    VectorIndex index(f.config);
    for (std::uint32_t slot = 0; slot < f.data.size(); ++slot) index.set(slot, f.data[slot]);
    index.remove(5);
    ByteWriter out;
    index.save(out);
    VectorIndex loaded(f.config);
    ByteReader in(out.bytes(), "test");
    loaded.load(in);
    EXPECT_EQ(loaded.count(), index.count());
    for (const auto& query : f.queries) {
        const auto a = index.search(query, 10, 32, nullptr);
        const auto b = loaded.search(query, 10, 32, nullptr);
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t idx = 0; idx < a.size(); ++idx) EXPECT_EQ(a[idx].slot, b[idx].slot);
    }
    // A truncated dump is an error, not a crash.
    std::vector<std::byte> cut(out.bytes().begin(), out.bytes().begin() + out.size() / 2);
    VectorIndex broken(f.config);
    ByteReader cut_in(cut, "cut.idx");
    EXPECT_THROW(broken.load(cut_in), Error);
}

TEST(VectorIndex, ExactSearchIsTheSameWithAThreadPool) {
    Fixture f = make(4000, 8, StorageType::f32, Distance::euclid);
    VectorIndex index(f.config);
    // Exact search does not need the graph, but set() builds it; keep m small for speed.
    for (std::uint32_t slot = 0; slot < f.data.size(); ++slot) index.set(slot, f.data[slot]);
    core::ThreadPool pool(2);
    for (std::size_t q = 0; q < 5; ++q) {
        const auto serial = index.search_exact(f.queries[q], 10, nullptr, nullptr);
        const auto parallel = index.search_exact(f.queries[q], 10, nullptr, &pool);
        ASSERT_EQ(serial.size(), parallel.size());
        for (std::size_t idx = 0; idx < serial.size(); ++idx) EXPECT_EQ(serial[idx].slot, parallel[idx].slot);
    }
}

}  // namespace
}  // namespace tessera::store
