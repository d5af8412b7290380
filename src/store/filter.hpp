// The parsed form of a payload filter (tessera::Filter) and the helpers that walk payload paths.
//
//   Filter filter = Filter::from_json(R"({"must":[{"key":"tags[]","match":{"any":["a","b"]}}]})"_json);
//   bool hit = filter.matches(PointId(3), payload);
//   std::vector<const json*> values;  collect_values(payload, parse_path("a.b[0].c"), values);
#pragma once

#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/store.hpp"

namespace tessera::store {

struct PathStep {
    enum class Index { none, all, one };
    std::string name;
    Index index = Index::none;
    std::size_t position = 0;  // for Index::one
};

// "a.b[].c[2]" -> steps. Errors: invalid_argument naming `where`.
[[nodiscard]] std::vector<PathStep> parse_path(const std::string& key, const std::string& where);
// Every value reached by the path; arrays met on the way are flattened (Qdrant semantics), and so
// is an array at the end (its elements are the values).
void collect_values(const nlohmann::json& payload, const std::vector<PathStep>& path,
                    std::vector<const nlohmann::json*>& out);

// Maximum nesting of a payload accepted by upsert/set_payload.
inline constexpr std::size_t kMaxPayloadDepth = 64;
// Returns the depth of a JSON value, stopping early once it exceeds `limit` (no deep recursion).
[[nodiscard]] std::size_t json_depth(const nlohmann::json& value, std::size_t limit);

}  // namespace tessera::store

namespace tessera {

struct Filter::Node {
    enum class Kind {
        filter, match_value, match_any, match_except, match_text, range, values_count, is_empty,
        is_null, has_id, nested
    };
    Kind kind = Kind::filter;

    // Kind::filter
    std::vector<Node> must, should, must_not;
    std::vector<Node> min_should;
    std::size_t min_should_count = 0;
    nlohmann::json source;  // the JSON this filter was parsed from

    // conditions on a key
    std::string key;
    std::vector<store::PathStep> path;
    std::vector<nlohmann::json> values;  // match value / any / except
    std::string text;                    // match text
    std::optional<double> gt, gte, lt, lte;
    std::unordered_set<PointId, PointIdHash> ids;  // has_id
    std::vector<Node> nested;                      // Kind::nested: one filter node

    [[nodiscard]] bool matches(const PointId& id, const nlohmann::json& payload) const;
};

}  // namespace tessera
