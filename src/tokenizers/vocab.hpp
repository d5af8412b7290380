// Vocab: token string <-> id. Lookups (the hot path of every model) go through a flat
// open-addressing table keyed by a 64-bit hash, one probe sequence and no allocation per query.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
    Vocab() = default;
    Vocab(const Vocab& other) { *this = other; }
    Vocab& operator=(const Vocab& other) {
        if (this == &other) return *this;
        ids_ = other.ids_;
        tokens_ = other.tokens_;
        has_token_ = other.has_token_;
        rebuild_index();
        return *this;
    }
    Vocab(Vocab&&) noexcept = default;  // map nodes move with their addresses intact
    Vocab& operator=(Vocab&&) noexcept = default;

    // Returns false when `token` was already present (the first id is kept).
    bool add(std::string token, std::int32_t id) {
        if (id >= 0 && static_cast<std::size_t>(id) >= tokens_.size()) {
            tokens_.resize(static_cast<std::size_t>(id) + 1);
            has_token_.resize(tokens_.size());
        }
        if (id >= 0 && !has_token_[static_cast<std::size_t>(id)]) {
            tokens_[static_cast<std::size_t>(id)] = token;
            has_token_[static_cast<std::size_t>(id)] = true;
        }
        auto [it, inserted] = ids_.emplace(std::move(token), id);
        if (inserted) insert_slot(it->first, id);
        return inserted;
    }

    [[nodiscard]] std::optional<std::int32_t> find(std::string_view token) const {
        if (slots_.empty()) return std::nullopt;
        const std::uint64_t hash = hash_bytes(token);
        std::size_t idx = static_cast<std::size_t>(hash) & mask_;
        while (true) {
            const Slot& slot = slots_[idx];
            if (slot.data == nullptr) return std::nullopt;
            if (slot.hash == hash && slot.length == token.size() &&
                std::memcmp(slot.data, token.data(), token.size()) == 0) {
                return slot.id;
            }
            idx = (idx + 1) & mask_;
        }
    }
    [[nodiscard]] const std::string* token(std::int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= has_token_.size() || !has_token_[static_cast<std::size_t>(id)]) {
            return nullptr;
        }
        return &tokens_[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] std::size_t size() const { return ids_.size(); }
    void reserve(std::size_t count) {
        ids_.reserve(count);
        grow(count * 2);
    }
    [[nodiscard]] const std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>& map() const {
        return ids_;
    }

private:
    struct Slot {
        std::uint64_t hash = 0;
        const char* data = nullptr;  // a key of ids_ (node-based: its address is stable)
        std::uint32_t length = 0;
        std::int32_t id = 0;
    };

    void insert_slot(const std::string& key, std::int32_t id) {
        // ids_ already holds `key`: a growth re-places every key, this one included.
        if (ids_.size() * 2 > slots_.size()) {
            grow(std::max<std::size_t>(64, slots_.size() * 2));
            return;
        }
        place({hash_bytes(key), key.data(), static_cast<std::uint32_t>(key.size()), id});
    }
    void place(const Slot& slot) {
        std::size_t idx = static_cast<std::size_t>(slot.hash) & mask_;
        while (slots_[idx].data != nullptr) idx = (idx + 1) & mask_;
        slots_[idx] = slot;
    }
    void grow(std::size_t wanted) {
        std::size_t capacity = 64;
        while (capacity < wanted) capacity *= 2;
        if (capacity <= slots_.size()) return;
        slots_.assign(capacity, Slot{});
        mask_ = capacity - 1;
        for (const auto& [key, id] : ids_) {
            place({hash_bytes(key), key.data(), static_cast<std::uint32_t>(key.size()), id});
        }
    }
    void rebuild_index() {
        slots_.clear();
        grow(std::max<std::size_t>(64, ids_.size() * 2 + 2));
    }

    std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> ids_;
    std::vector<std::string> tokens_;
    std::vector<bool> has_token_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
};

}  // namespace tessera::tokenizers
