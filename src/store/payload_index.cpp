#include "store/payload_index.hpp"

#include <algorithm>
#include <cmath>

namespace tessera::store {

namespace {
void erase_slot(std::vector<std::uint32_t>& slots, std::uint32_t slot) {
    const auto found = std::find(slots.begin(), slots.end(), slot);
    if (found != slots.end()) {
        *found = slots.back();
        slots.pop_back();
    }
}
}  // namespace

PayloadIndex::PayloadIndex(std::string key, PayloadIndexType type)
    : key_(std::move(key)), type_(type), path_(parse_path(key_, "payload index key")) {}

bool PayloadIndex::values_of(const nlohmann::json& payload, std::vector<std::string>& keywords,
                             std::vector<std::int64_t>& integers) const {
    bool unindexable = false;
    std::vector<const nlohmann::json*> values;
    collect_values(payload, path_, values);
    for (const nlohmann::json* value : values) {
        if (type_ == PayloadIndexType::keyword) {
            if (value->is_string()) keywords.push_back(value->get<std::string>());
            else if (value->is_boolean()) keywords.push_back(value->get<bool>() ? "\x01" "true" : "\x01" "false");
        } else if (value->is_number_integer() && !value->is_number_unsigned()) {
            integers.push_back(value->get<std::int64_t>());
        } else if (value->is_number_unsigned() && value->get<std::uint64_t>() <= std::uint64_t(INT64_MAX)) {
            integers.push_back(std::int64_t(value->get<std::uint64_t>()));
        } else if (value->is_number()) {
            unindexable = true;
        }
    }
    std::sort(keywords.begin(), keywords.end());
    keywords.erase(std::unique(keywords.begin(), keywords.end()), keywords.end());
    std::sort(integers.begin(), integers.end());
    integers.erase(std::unique(integers.begin(), integers.end()), integers.end());
    return unindexable;
}

void PayloadIndex::add(std::uint32_t slot, const nlohmann::json& payload) {
    std::vector<std::string> keywords;
    std::vector<std::int64_t> integers;
    if (values_of(payload, keywords, integers)) ++unindexable_points_;
    for (const auto& keyword : keywords) keywords_[keyword].push_back(slot);
    for (const auto integer : integers) integers_[integer].push_back(slot);
    if (!keywords.empty() || !integers.empty()) ++point_count_;
}

void PayloadIndex::remove(std::uint32_t slot, const nlohmann::json& payload) {
    std::vector<std::string> keywords;
    std::vector<std::int64_t> integers;
    if (values_of(payload, keywords, integers) && unindexable_points_ > 0) --unindexable_points_;
    for (const auto& keyword : keywords) {
        auto found = keywords_.find(keyword);
        if (found == keywords_.end()) continue;
        erase_slot(found->second, slot);
        if (found->second.empty()) keywords_.erase(found);
    }
    for (const auto integer : integers) {
        auto found = integers_.find(integer);
        if (found == integers_.end()) continue;
        erase_slot(found->second, slot);
        if (found->second.empty()) integers_.erase(found);
    }
    if ((!keywords.empty() || !integers.empty()) && point_count_ > 0) --point_count_;
}

std::optional<std::vector<std::uint32_t>> PayloadIndex::candidates(const Filter::Node& condition) const {
    using Kind = Filter::Node::Kind;
    if (condition.key != key_ || unindexable_points_ > 0) return std::nullopt;
    std::vector<std::uint32_t> out;
    if (condition.kind == Kind::match_value || condition.kind == Kind::match_any) {
        for (const nlohmann::json& value : condition.values) {
            if (type_ == PayloadIndexType::keyword) {
                std::string keyword;
                if (value.is_string()) keyword = value.get<std::string>();
                else if (value.is_boolean()) keyword = value.get<bool>() ? "\x01" "true" : "\x01" "false";
                else return std::nullopt;  // integer values are not in a keyword index
                const auto found = keywords_.find(keyword);
                if (found != keywords_.end()) out.insert(out.end(), found->second.begin(), found->second.end());
            } else {
                if (!value.is_number_integer()) return std::nullopt;
                if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(INT64_MAX)) continue;
                const auto found = integers_.find(value.get<std::int64_t>());
                if (found != integers_.end()) out.insert(out.end(), found->second.begin(), found->second.end());
            }
        }
    } else if (condition.kind == Kind::range && type_ == PayloadIndexType::integer) {
        // Only integer values are indexed; a float payload value in range would be missed.
        double lo = -INFINITY, hi = INFINITY;
        if (condition.gt) lo = std::max(lo, std::floor(*condition.gt) + 1);
        if (condition.gte) lo = std::max(lo, std::ceil(*condition.gte));
        if (condition.lt) hi = std::min(hi, std::ceil(*condition.lt) - 1);
        if (condition.lte) hi = std::min(hi, std::floor(*condition.lte));
        if (lo > hi || lo > 9.2e18 || hi < -9.2e18) return out;
        auto begin = lo <= -9.2e18 ? integers_.begin() : integers_.lower_bound(std::int64_t(lo));
        auto end = hi >= 9.2e18 ? integers_.end() : integers_.upper_bound(std::int64_t(hi));
        for (auto it = begin; it != end; ++it) out.insert(out.end(), it->second.begin(), it->second.end());
    } else {
        return std::nullopt;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::uint64_t PayloadIndex::memory_bytes() const {
    std::uint64_t total = 0;
    for (const auto& [keyword, slots] : keywords_) total += keyword.size() + 64 + slots.capacity() * 4;
    for (const auto& [value, slots] : integers_) total += 64 + slots.capacity() * 4;
    return total;
}

}  // namespace tessera::store
