#include "store/filter.hpp"

#include <algorithm>
#include <cmath>

namespace tessera {

namespace {

using nlohmann::json;
using store::PathStep;

constexpr std::size_t kMaxFilterDepth = 32;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw Error(ErrorCode::invalid_argument, where + ": " + what);
}

std::string quoted(const json& value) {
    std::string text = value.dump();
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

bool is_match_scalar(const json& value) {
    return value.is_string() || value.is_number_integer() || value.is_boolean();
}

bool equal_values(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
        if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<std::uint64_t>() == b.get<std::uint64_t>();
        return a.get<std::int64_t>() == b.get<std::int64_t>() && (a.get<std::int64_t>() >= 0) == (b.get<std::int64_t>() >= 0);
    }
    return a == b;
}

Filter::Node parse_filter(const json& value, const std::string& where, std::size_t depth);

std::string require_key(const json& value, const std::string& where) {
    if (!value.contains("key")) bad(where + ".key", "missing");
    if (!value["key"].is_string() || value["key"].get<std::string>().empty()) {
        bad(where + ".key", "expected a non-empty string, got " + quoted(value["key"]));
    }
    return value["key"].get<std::string>();
}

std::optional<double> range_bound(const json& range, const char* name, const std::string& where) {
    if (!range.contains(name) || range[name].is_null()) return std::nullopt;
    const json& bound = range[name];
    if (!bound.is_number()) bad(where + "." + name, "expected a number, got " + quoted(bound));
    const double value = bound.get<double>();
    if (!std::isfinite(value)) bad(where + "." + name, "expected a finite number");
    return value;
}

void parse_range(Filter::Node& node, const json& range, const std::string& where) {
    if (!range.is_object()) bad(where, "expected an object with gt/gte/lt/lte, got " + quoted(range));
    for (const auto& [name, _] : range.items()) {
        if (name != "gt" && name != "gte" && name != "lt" && name != "lte") {
            bad(where + "." + name, "unknown bound (gt, gte, lt, lte)");
        }
    }
    node.gt = range_bound(range, "gt", where);
    node.gte = range_bound(range, "gte", where);
    node.lt = range_bound(range, "lt", where);
    node.lte = range_bound(range, "lte", where);
    if (!node.gt && !node.gte && !node.lt && !node.lte) bad(where, "needs at least one of gt, gte, lt, lte");
}

Filter::Node parse_condition(const json& value, const std::string& where, std::size_t depth) {
    if (!value.is_object()) bad(where, "expected a condition object, got " + quoted(value));
    if (value.contains("must") || value.contains("should") || value.contains("must_not") ||
        value.contains("min_should")) {
        return parse_filter(value, where, depth + 1);
    }
    Filter::Node node;
    if (value.contains("has_id")) {
        node.kind = Filter::Node::Kind::has_id;
        const json& ids = value["has_id"];
        if (!ids.is_array()) bad(where + ".has_id", "expected an array of ids, got " + quoted(ids));
        for (std::size_t idx = 0; idx < ids.size(); ++idx) {
            try {
                node.ids.insert(PointId::from_json(ids[idx]));
            } catch (const Error& err) {
                bad(where + ".has_id[" + std::to_string(idx) + "]", err.what());
            }
        }
        return node;
    }
    for (const char* kind : {"is_empty", "is_null"}) {
        if (value.contains(kind)) {
            node.kind = std::string(kind) == "is_empty" ? Filter::Node::Kind::is_empty : Filter::Node::Kind::is_null;
            const json& inner = value[kind];
            if (!inner.is_object()) bad(where + "." + kind, "expected {\"key\": ...}, got " + quoted(inner));
            node.key = require_key(inner, where + "." + kind);
            node.path = store::parse_path(node.key, where + "." + kind + ".key");
            return node;
        }
    }
    if (value.contains("nested")) {
        const json& inner = value["nested"];
        if (!inner.is_object()) bad(where + ".nested", "expected {\"key\":..,\"filter\":..}");
        node.kind = Filter::Node::Kind::nested;
        node.key = require_key(inner, where + ".nested");
        node.path = store::parse_path(node.key, where + ".nested.key");
        if (!inner.contains("filter")) bad(where + ".nested.filter", "missing");
        node.nested.push_back(parse_filter(inner["filter"], where + ".nested.filter", depth + 1));
        return node;
    }
    node.key = require_key(value, where);
    node.path = store::parse_path(node.key, where + ".key");
    if (value.contains("match")) {
        const json& match = value["match"];
        const std::string at = where + ".match";
        if (!match.is_object()) bad(at, "expected an object, got " + quoted(match));
        if (match.contains("value")) {
            node.kind = Filter::Node::Kind::match_value;
            if (!is_match_scalar(match["value"])) {
                bad(at + ".value", "expected a string, integer or bool, got " + quoted(match["value"]));
            }
            node.values.push_back(match["value"]);
        } else if (match.contains("any") || match.contains("except")) {
            const bool any = match.contains("any");
            node.kind = any ? Filter::Node::Kind::match_any : Filter::Node::Kind::match_except;
            const json& list = match[any ? "any" : "except"];
            const std::string list_at = at + (any ? ".any" : ".except");
            if (!list.is_array()) bad(list_at, "expected an array, got " + quoted(list));
            for (std::size_t idx = 0; idx < list.size(); ++idx) {
                if (!is_match_scalar(list[idx])) {
                    bad(list_at + "[" + std::to_string(idx) + "]", "expected a string, integer or bool, got " + quoted(list[idx]));
                }
                node.values.push_back(list[idx]);
            }
        } else if (match.contains("text")) {
            node.kind = Filter::Node::Kind::match_text;
            if (!match["text"].is_string()) bad(at + ".text", "expected a string, got " + quoted(match["text"]));
            node.text = match["text"].get<std::string>();
        } else {
            bad(at, "expected one of value, any, except, text; got " + quoted(match));
        }
        return node;
    }
    if (value.contains("range")) {
        node.kind = Filter::Node::Kind::range;
        parse_range(node, value["range"], where + ".range");
        return node;
    }
    if (value.contains("values_count")) {
        node.kind = Filter::Node::Kind::values_count;
        parse_range(node, value["values_count"], where + ".values_count");
        return node;
    }
    bad(where, "condition on '" + node.key + "' needs match, range or values_count");
}

void parse_list(const json& value, const char* name, const std::string& where, std::size_t depth,
                std::vector<Filter::Node>& out) {
    if (!value.contains(name) || value[name].is_null()) return;
    const json& list = value[name];
    const std::string at = where + "." + name;
    if (list.is_object()) {  // Qdrant also accepts a single condition
        out.push_back(parse_condition(list, at, depth));
        return;
    }
    if (!list.is_array()) bad(at, "expected an array of conditions, got " + quoted(list));
    for (std::size_t idx = 0; idx < list.size(); ++idx) {
        out.push_back(parse_condition(list[idx], at + "[" + std::to_string(idx) + "]", depth));
    }
}

Filter::Node parse_filter(const json& value, const std::string& where, std::size_t depth) {
    if (depth > kMaxFilterDepth) bad(where, "filter nested deeper than " + std::to_string(kMaxFilterDepth) + " levels");
    if (!value.is_object()) bad(where, "expected an object, got " + quoted(value));
    for (const auto& [name, _] : value.items()) {
        if (name != "must" && name != "should" && name != "must_not" && name != "min_should") {
            bad(where + "." + name, "unknown clause (must, should, must_not, min_should)");
        }
    }
    Filter::Node node;
    node.kind = Filter::Node::Kind::filter;
    node.source = value;
    parse_list(value, "must", where, depth, node.must);
    parse_list(value, "should", where, depth, node.should);
    parse_list(value, "must_not", where, depth, node.must_not);
    if (value.contains("min_should") && !value["min_should"].is_null()) {
        const json& min_should = value["min_should"];
        const std::string at = where + ".min_should";
        if (!min_should.is_object() || !min_should.contains("conditions") || !min_should.contains("min_count")) {
            bad(at, "expected {\"conditions\": [...], \"min_count\": n}");
        }
        parse_list(min_should, "conditions", at, depth, node.min_should);
        if (!min_should["min_count"].is_number_unsigned()) bad(at + ".min_count", "expected a non-negative integer");
        node.min_should_count = min_should["min_count"].get<std::size_t>();
    }
    return node;
}

bool in_range(const Filter::Node& node, double value) {
    if (node.gt && !(value > *node.gt)) return false;
    if (node.gte && !(value >= *node.gte)) return false;
    if (node.lt && !(value < *node.lt)) return false;
    if (node.lte && !(value <= *node.lte)) return false;
    return true;
}

}  // namespace

bool Filter::Node::matches(const PointId& id, const json& payload) const {
    switch (kind) {
        case Kind::filter: {
            for (const Node& child : must) {
                if (!child.matches(id, payload)) return false;
            }
            for (const Node& child : must_not) {
                if (child.matches(id, payload)) return false;
            }
            if (!should.empty()) {
                bool any = false;
                for (const Node& child : should) {
                    if (child.matches(id, payload)) { any = true; break; }
                }
                if (!any) return false;
            }
            if (!min_should.empty() || min_should_count > 0) {
                std::size_t hits = 0;
                for (const Node& child : min_should) hits += child.matches(id, payload) ? 1 : 0;
                if (hits < min_should_count) return false;
            }
            return true;
        }
        case Kind::has_id: return ids.count(id) > 0;
        default: break;
    }
    std::vector<const json*> found;
    store::collect_values(payload, path, found);
    switch (kind) {
        case Kind::match_value:
        case Kind::match_any:
            for (const json* value : found) {
                for (const json& wanted : values) {
                    if (equal_values(*value, wanted)) return true;
                }
            }
            return false;
        case Kind::match_except: {
            // Qdrant: true when the key has a value and none of its values is in the list.
            bool any_value = false;
            for (const json* value : found) {
                if (value->is_null()) continue;
                any_value = true;
                for (const json& unwanted : values) {
                    if (equal_values(*value, unwanted)) return false;
                }
            }
            return any_value;
        }
        case Kind::match_text:
            for (const json* value : found) {
                if (value->is_string() && value->get_ref<const std::string&>().find(text) != std::string::npos) return true;
            }
            return false;
        case Kind::range:
            for (const json* value : found) {
                if (value->is_number() && in_range(*this, value->get<double>())) return true;
            }
            return false;
        case Kind::values_count: {
            std::size_t count = 0;
            for (const json* value : found) count += value->is_null() ? 0 : 1;
            return in_range(*this, double(count));
        }
        case Kind::is_empty:
            return std::all_of(found.begin(), found.end(), [](const json* value) { return value->is_null(); });
        case Kind::is_null: {
            // The key holds null itself (not a missing key, not an array containing null).
            std::vector<const json*> raw;
            std::vector<store::PathStep> exact = path;
            store::collect_values(payload, exact, raw);
            return !raw.empty() && std::all_of(raw.begin(), raw.end(), [](const json* value) { return value->is_null(); });
        }
        case Kind::nested:
            for (const json* element : found) {
                if (element->is_object() && nested.front().matches(id, *element)) return true;
            }
            return false;
        default:
            return false;
    }
}

Filter::Filter() : root_(std::make_shared<Node>()) {}

Filter Filter::from_json(const json& value) {
    Filter filter;
    filter.root_ = std::make_shared<Node>(parse_filter(value, "filter", 0));
    return filter;
}

json Filter::to_json() const { return root_->source.is_null() ? json::object() : root_->source; }

bool Filter::empty() const {
    return root_->must.empty() && root_->should.empty() && root_->must_not.empty() && root_->min_should.empty() &&
           root_->min_should_count == 0;
}

bool Filter::matches(const PointId& id, const json& payload) const { return root_->matches(id, payload); }

}  // namespace tessera

namespace tessera::store {

std::vector<PathStep> parse_path(const std::string& key, const std::string& where) {
    std::vector<PathStep> steps;
    std::size_t start = 0;
    while (start <= key.size()) {
        std::size_t end = key.find('.', start);
        if (end == std::string::npos) end = key.size();
        std::string part = key.substr(start, end - start);
        PathStep step;
        const std::size_t bracket = part.find('[');
        if (bracket != std::string::npos) {
            if (part.back() != ']') bad(where, "bad array index in key '" + key + "'");
            const std::string inside = part.substr(bracket + 1, part.size() - bracket - 2);
            part = part.substr(0, bracket);
            if (inside.empty()) {
                step.index = PathStep::Index::all;
            } else {
                if (!std::all_of(inside.begin(), inside.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
                    inside.size() > 9) {
                    bad(where, "bad array index '" + inside + "' in key '" + key + "'");
                }
                step.index = PathStep::Index::one;
                step.position = std::stoul(inside);
            }
        }
        if (part.empty()) bad(where, "empty path segment in key '" + key + "'");
        step.name = std::move(part);
        steps.push_back(std::move(step));
        start = end + 1;
    }
    return steps;
}

void collect_values(const json& payload, const std::vector<PathStep>& path, std::vector<const json*>& out) {
    std::vector<const json*> current{&payload};
    std::vector<const json*> next;
    for (const PathStep& step : path) {
        next.clear();
        for (const json* value : current) {
            // Arrays of objects on the way are flattened: "a.b" reaches b in every element of a.
            auto visit = [&](const json& object) {
                if (!object.is_object()) return;
                const auto found = object.find(step.name);
                if (found == object.end()) return;
                const json& child = *found;
                if (step.index == PathStep::Index::one) {
                    if (child.is_array() && step.position < child.size()) next.push_back(&child[step.position]);
                } else {
                    next.push_back(&child);
                }
            };
            if (value->is_array()) {
                for (const json& element : *value) visit(element);
            } else {
                visit(*value);
            }
        }
        current.swap(next);
    }
    for (const json* value : current) {
        if (value->is_array()) {
            for (const json& element : *value) out.push_back(&element);
        } else {
            out.push_back(value);
        }
    }
}

std::size_t json_depth(const json& value, std::size_t limit) {
    // Iterative, so a hostile 10,000-level payload costs no stack.
    std::size_t deepest = 0;
    std::vector<std::pair<const json*, std::size_t>> stack{{&value, 1}};
    while (!stack.empty()) {
        auto [node, depth] = stack.back();
        stack.pop_back();
        deepest = std::max(deepest, depth);
        if (deepest > limit) return deepest;
        if (node->is_structured()) {
            for (const json& child : *node) stack.emplace_back(&child, depth + 1);
        }
    }
    return deepest;
}

}  // namespace tessera::store
