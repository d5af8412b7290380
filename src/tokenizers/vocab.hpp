// Vocab: token string <-> id. Lookups (the hot path of every model) go through a flat
// open-addressing table keyed by a 64-bit hash, one probe sequence and no allocation per query.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::tokenizers {

// A fast hash of short strings: 8 bytes at a time, multiply-xorshift mixing.
inline std::uint64_t hash_bytes(std::string_view text) noexcept {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
    std::uint64_t hash = text.size() * kMul;
    const char* data = text.data();
    std::size_t left = text.size();
    while (left >= 8) {
        std::uint64_t word;
        std::memcpy(&word, data, 8);
        hash = (hash ^ word) * kMul;
        hash ^= hash >> 29;
        data += 8;
        left -= 8;
    }
    if (left > 0) {
        std::uint64_t word = 0;
        std::memcpy(&word, data, left);
        hash = (hash ^ word) * kMul;
        hash ^= hash >> 29;
    }
    hash *= 0xBF58476D1CE4E5B9ull;
    return hash ^ (hash >> 31);
}

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return static_cast<std::size_t>(hash_bytes(text)); }
};

class Vocab {
public:
    struct Entry {
        std::string token;
        std::int32_t id = 0;
    };

    // Returns false when `token` was already present (the first id is kept).
    bool add(std::string token, std::int32_t id) {
        const std::uint64_t hash = hash_bytes(token);
        if (find_slot(token, hash) != nullptr) return false;
        if (id >= 0 && static_cast<std::size_t>(id) >= entry_of_id_.size()) {
            entry_of_id_.resize(static_cast<std::size_t>(id) + 1, kNone);
        }
        const auto entry_idx = static_cast<std::uint32_t>(entries_.size());
        if (id >= 0 && entry_of_id_[static_cast<std::size_t>(id)] == kNone) {
            entry_of_id_[static_cast<std::size_t>(id)] = entry_idx;
        }
        entries_.push_back({std::move(token), id});
        if (entries_.size() * 2 > slots_.size()) grow(std::max<std::size_t>(64, slots_.size() * 2));
        else place({hash, entry_idx});
        return true;
    }

    [[nodiscard]] std::optional<std::int32_t> find(std::string_view token) const {
        const Slot* slot = find_slot(token, hash_bytes(token));
        if (slot == nullptr) return std::nullopt;
        return entries_[slot->entry].id;
    }
    [[nodiscard]] const std::string* token(std::int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= entry_of_id_.size()) return nullptr;
        const std::uint32_t entry_idx = entry_of_id_[static_cast<std::size_t>(id)];
        return entry_idx == kNone ? nullptr : &entries_[entry_idx].token;
    }
    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    void reserve(std::size_t count) {
        entries_.reserve(count);
        grow(count * 2);
    }
    // Every (token, id) in the order they were added.
    [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }

private:
    // Slots index entries_ by position, so the table survives entries_ reallocating and a copied
    // Vocab is valid as is.
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t entry = kNone;
    };
    static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

    [[nodiscard]] const Slot* find_slot(std::string_view token, std::uint64_t hash) const {
        if (slots_.empty()) return nullptr;
        std::size_t idx = static_cast<std::size_t>(hash) & mask_;
        while (true) {
            const Slot& slot = slots_[idx];
            if (slot.entry == kNone) return nullptr;
            if (slot.hash == hash && entries_[slot.entry].token == token) return &slot;
            idx = (idx + 1) & mask_;
        }
    }
    void place(const Slot& slot) {
        std::size_t idx = static_cast<std::size_t>(slot.hash) & mask_;
        while (slots_[idx].entry != kNone) idx = (idx + 1) & mask_;
        slots_[idx] = slot;
    }
    void grow(std::size_t wanted) {
        std::size_t capacity = 64;
        while (capacity < wanted) capacity *= 2;
        if (capacity <= slots_.size()) return;
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        for (std::size_t entry_idx = 0; entry_idx < entries_.size(); ++entry_idx) {
            place({hash_bytes(entries_[entry_idx].token), static_cast<std::uint32_t>(entry_idx)});
        }
    }

    std::vector<Entry> entries_;
    std::vector<std::uint32_t> entry_of_id_;  // id -> its first entry, kNone for gaps
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

}  // namespace tessera::tokenizers
