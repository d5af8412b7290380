// Payload indexes: value -> slots for keyword and integer keys, so a selective match or range
// condition yields its candidate points without reading every payload.
//
//   PayloadIndex index("city", PayloadIndexType::keyword);
//   index.add(slot, payload);  index.remove(slot, payload);
//   std::optional<std::vector<std::uint32_t>> slots = index.candidates(condition);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/filter.hpp"
#include "tessera/store.hpp"

namespace tessera::store {

class PayloadIndex {
public:
    PayloadIndex(std::string key, PayloadIndexType type);

    [[nodiscard]] const std::string& key() const { return key_; }
    [[nodiscard]] PayloadIndexType type() const { return type_; }
    void add(std::uint32_t slot, const nlohmann::json& payload);
    void remove(std::uint32_t slot, const nlohmann::json& payload);
    [[nodiscard]] std::size_t point_count() const { return point_count_; }

    // The slots that can match `condition` (a superset is fine: the filter is evaluated on them
    // afterwards), or nullopt when this index cannot answer the condition.
    [[nodiscard]] std::optional<std::vector<std::uint32_t>> candidates(const Filter::Node& condition) const;
    [[nodiscard]] std::uint64_t memory_bytes() const;

private:
    // Returns true when the payload has a value the index cannot hold (a float in an integer index).
    bool values_of(const nlohmann::json& payload, std::vector<std::string>& keywords,
                   std::vector<std::int64_t>& integers) const;

    std::string key_;
    PayloadIndexType type_;
    std::vector<PathStep> path_;
    std::unordered_map<std::string, std::vector<std::uint32_t>> keywords_;
    std::map<std::int64_t, std::vector<std::uint32_t>> integers_;
    std::size_t point_count_ = 0;
    std::size_t unindexable_points_ = 0;  // points with float values: ranges/matches fall back to a scan
};

}  // namespace tessera::store
