// Vocab: token string <-> id, with string_view lookups (no allocation per query).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tessera::tokenizers {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
        // FNV-1a: short keys dominate and it beats std::hash on them.
        std::uint64_t hash = 1469598103934665603ull;
        for (char c : text) {
            hash ^= static_cast<unsigned char>(c);
            hash *= 1099511628211ull;
        }
        return static_cast<std::size_t>(hash ^ (hash >> 29));
    }
};

class Vocab {
public:
    // Returns false when `token` was already present (the first id is kept).
    bool add(std::string token, std::int32_t id) {
        if (id >= 0 && static_cast<std::size_t>(id) >= tokens_.size()) tokens_.resize(static_cast<std::size_t>(id) + 1);
        auto [it, inserted] = ids_.emplace(token, id);
        if (id >= 0 && tokens_[static_cast<std::size_t>(id)].empty()) {
            tokens_[static_cast<std::size_t>(id)] = std::move(token);
            has_token_.resize(tokens_.size());
            has_token_[static_cast<std::size_t>(id)] = true;
        }
        return inserted;
    }
    [[nodiscard]] std::optional<std::int32_t> find(std::string_view token) const {
        auto it = ids_.find(token);
        if (it == ids_.end()) return std::nullopt;
        return it->second;
    }
    [[nodiscard]] const std::string* token(std::int32_t id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= has_token_.size() || !has_token_[static_cast<std::size_t>(id)]) {
            return nullptr;
        }
        return &tokens_[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] std::size_t size() const { return ids_.size(); }
    void reserve(std::size_t count) { ids_.reserve(count); }
    [[nodiscard]] const std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>& map() const {
        return ids_;
    }

private:
    std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> ids_;
    std::vector<std::string> tokens_;
    std::vector<bool> has_token_;
};

}  // namespace tessera::tokenizers
