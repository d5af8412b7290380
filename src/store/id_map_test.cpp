#include "store/id_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace tessera::store {
namespace {

// Random inserts, erases and slot reuse against a std::map oracle, with numeric ids (sequential
// and strided, which a weak hash would pile up) and UUIDs.
TEST(IdMap, AgreesWithAnOrderedMap) {
    std::mt19937_64 rng(11);
    std::vector<PointId> ids;
    IdMap map(ids);
    std::map<PointId, std::uint32_t> oracle;
    std::vector<std::uint32_t> free_slots;
    auto random_id = [&]() -> PointId {
        switch (rng() % 3) {
            case 0: return PointId(rng() % 5000);
            case 1: return PointId((rng() % 500) * 1024);
            default: {
                PointId::Uuid bytes{};
                bytes[rng() % 16] = std::uint8_t(rng() % 8);
                return PointId::uuid(bytes);
            }
        }
    };
    for (int step = 0; step < 40000; ++step) {
        const PointId id = random_id();
        if (rng() % 3 != 0) {
            const bool present = oracle.count(id) != 0;
            std::uint32_t slot;
            if (!free_slots.empty()) {
                slot = free_slots.back();
                free_slots.pop_back();
            } else {
                slot = std::uint32_t(ids.size());
                ids.emplace_back();
            }
            const PointId previous = ids[slot];
            ids[slot] = id;
            ASSERT_EQ(map.insert(slot), !present);
            if (present) {
                ids[slot] = previous;
                free_slots.push_back(slot);
            } else {
                oracle[id] = slot;
            }
        } else {
            const auto found = oracle.find(id);
            map.erase(id);
            if (found != oracle.end()) {
                free_slots.push_back(found->second);
                oracle.erase(found);
            }
        }
        const auto got = map.find(id);
        const auto want = oracle.find(id);
        ASSERT_EQ(got.has_value(), want != oracle.end());
        if (got) {
            ASSERT_EQ(*got, want->second);
        }
        ASSERT_EQ(map.size(), oracle.size());
        if (step % 4000 == 0) {
            const auto ordered = map.ordered();
            ASSERT_EQ(ordered->size(), oracle.size());
            std::size_t idx = 0;
            for (const auto& [oracle_id, slot] : oracle) ASSERT_EQ((*ordered)[idx++], slot);
        }
    }
}

TEST(IdMap, IncreasingIdsKeepTheOrderedViewAndOthersRebuildIt) {
    std::vector<PointId> ids;
    IdMap map(ids);
    for (std::uint32_t slot = 0; slot < 100; ++slot) {
        ids.emplace_back(std::uint64_t(slot) * 7);
        map.insert(slot);
        if (slot == 10) (void)map.ordered();
    }
    ids.emplace_back(std::uint64_t(3));  // out of order
    map.insert(100);
    const auto ordered = map.ordered();
    ASSERT_EQ(ordered->size(), 101u);
    for (std::size_t idx = 1; idx < ordered->size(); ++idx) EXPECT_LT(ids[(*ordered)[idx - 1]], ids[(*ordered)[idx]]);
    EXPECT_EQ((*ordered)[1], 100u);
}

}  // namespace
}  // namespace tessera::store
