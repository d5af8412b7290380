// Point id -> slot for a collection, as a flat open-addressing table of slots (the ids
// themselves stay in the collection's `ids` vector, which the table reads to compare keys),
// plus an id-ordered view of the slots built on demand for scrolling.
//
//   IdMap slot_of(ids);               // ids[slot] is the key of every slot in the map
//   ids[slot] = id; slot_of.insert(slot);
//   std::optional<std::uint32_t> found = slot_of.find(id);
//   auto ordered = slot_of.ordered();  // slots in id order (a snapshot)
//
// About 8 bytes per point where a std::map<PointId, u32> took ~80. Not internally synchronised
// except ordered(), which readers may call concurrently under the collection's shared lock.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "tessera/store.hpp"

namespace tessera::store {

class IdMap {
public:
    explicit IdMap(const std::vector<PointId>& ids) : ids_(&ids) {}

    [[nodiscard]] std::optional<std::uint32_t> find(const PointId& id) const;
    // Adds `slot` under ids[slot]; false (and no change) when that id is already mapped.
    bool insert(std::uint32_t slot);
    void erase(const PointId& id);
    // Room for `count` ids without rehashing (a checkpoint's point count, on open).
    void reserve(std::size_t count);
    [[nodiscard]] std::size_t size() const { return size_; }
    // The mapped slots sorted by id; shared until the next insert or erase.
    [[nodiscard]] std::shared_ptr<const std::vector<std::uint32_t>> ordered() const;
    [[nodiscard]] std::uint64_t memory_bytes() const;

private:
    static constexpr std::uint32_t kEmpty = UINT32_MAX;
    static constexpr std::uint32_t kErased = UINT32_MAX - 1;
    [[nodiscard]] std::size_t home(const PointId& id) const;
    void rehash(std::size_t capacity);
    [[nodiscard]] static std::size_t capacity_for(std::size_t count);

    const std::vector<PointId>* ids_;
    std::vector<std::uint32_t> table_;  // slots, kEmpty or kErased; size a power of two
    std::size_t size_ = 0;
    std::size_t used_ = 0;  // size_ + erased entries
    mutable std::mutex ordered_mutex_;
    mutable std::shared_ptr<std::vector<std::uint32_t>> ordered_;  // null: to be rebuilt
};

}  // namespace tessera::store
