#include "store/id_map.hpp"

#include <algorithm>

namespace tessera::store {

std::size_t IdMap::home(const PointId& id) const {
    // splitmix64's finaliser over PointIdHash, so sequential or strided numeric ids spread.
    std::uint64_t h = PointIdHash{}(id);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return std::size_t(h) & (table_.size() - 1);
}

std::optional<std::uint32_t> IdMap::find(const PointId& id) const {
    if (size_ == 0) return std::nullopt;
    const std::size_t mask = table_.size() - 1;
    for (std::size_t at = home(id);; at = (at + 1) & mask) {
        const std::uint32_t slot = table_[at];
        if (slot == kEmpty) return std::nullopt;
        if (slot != kErased && (*ids_)[slot] == id) return slot;
    }
}

void IdMap::rehash(std::size_t capacity) {
    std::vector<std::uint32_t> old = std::move(table_);
    table_.assign(capacity, kEmpty);
    used_ = size_;
    const std::size_t mask = capacity - 1;
    for (const std::uint32_t slot : old) {
        if (slot == kEmpty || slot == kErased) continue;
        std::size_t at = home((*ids_)[slot]);
        while (table_[at] != kEmpty) at = (at + 1) & mask;
        table_[at] = slot;
    }
}

// At most 3/4 full (erased entries count), so probes stay short; growth doubles.
std::size_t IdMap::capacity_for(std::size_t count) {
    std::size_t capacity = 16;
    while (capacity * 3 < count * 4) capacity *= 2;
    return capacity;
}

void IdMap::reserve(std::size_t count) {
    if (count * 4 > table_.size() * 3) rehash(capacity_for(count));
}

bool IdMap::insert(std::uint32_t slot) {
    if ((used_ + 1) * 4 > table_.size() * 3) rehash(capacity_for((size_ + 1) * 2));
    const PointId& id = (*ids_)[slot];
    const std::size_t mask = table_.size() - 1;
    std::size_t target = SIZE_MAX;
    std::size_t at = home(id);
    for (;; at = (at + 1) & mask) {
        const std::uint32_t existing = table_[at];
        if (existing == kEmpty) break;
        if (existing == kErased) {
            if (target == SIZE_MAX) target = at;
        } else if ((*ids_)[existing] == id) {
            return false;
        }
    }
    if (target == SIZE_MAX) {
        target = at;
        ++used_;
    }
    table_[target] = slot;
    ++size_;
    // Ids that arrive in increasing order (the common case) extend the ordered view in place.
    if (ordered_ && ordered_.use_count() == 1 && (ordered_->empty() || (*ids_)[ordered_->back()] < id)) {
        ordered_->push_back(slot);
    } else {
        ordered_.reset();
    }
    return true;
}

void IdMap::erase(const PointId& id) {
    if (size_ == 0) return;
    const std::size_t mask = table_.size() - 1;
    for (std::size_t at = home(id);; at = (at + 1) & mask) {
        const std::uint32_t slot = table_[at];
        if (slot == kEmpty) return;
        if (slot != kErased && (*ids_)[slot] == id) {
            table_[at] = kErased;
            --size_;
            ordered_.reset();
            return;
        }
    }
}

std::shared_ptr<const std::vector<std::uint32_t>> IdMap::ordered() const {
    std::lock_guard lock(ordered_mutex_);
    if (!ordered_) {
        auto slots = std::make_shared<std::vector<std::uint32_t>>();
        slots->reserve(size_);
        for (const std::uint32_t slot : table_) {
            if (slot != kEmpty && slot != kErased) slots->push_back(slot);
        }
        const std::vector<PointId>& ids = *ids_;
        std::sort(slots->begin(), slots->end(), [&](std::uint32_t a, std::uint32_t b) { return ids[a] < ids[b]; });
        ordered_ = std::move(slots);
    }
    return ordered_;
}

std::uint64_t IdMap::memory_bytes() const {
    std::lock_guard lock(ordered_mutex_);
    return table_.capacity() * 4 + (ordered_ ? ordered_->capacity() * 4 : 0);
}

}  // namespace tessera::store
