// tessera::Collection: validation at the API edge, then log-and-apply under the writer lock;
// reads under the shared lock.
#include <algorithm>
#include <cmath>
#include <shared_mutex>

#include "store/bytes.hpp"
#include "store/collection_state.hpp"
#include "store/filter.hpp"

namespace tessera {

namespace {

using nlohmann::json;
using store::Op;

constexpr std::size_t kMaxLimit = 100'000;
constexpr std::size_t kMaxRecordBytes = 1u << 30;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw Error(ErrorCode::invalid_argument, where + ": " + what);
}

std::string vector_label(const std::string& name) { return name.empty() ? "the default vector" : "vector '" + name + "'"; }

std::string known_vectors(const CollectionConfig& config) {
    std::string out;
    for (const auto& [name, _] : config.vectors) {
        if (!out.empty()) out += ", ";
        out += "'" + name + "'";
    }
    return out;
}

// Checks a vector against its config and returns the form to store (unit length for cosine).
std::vector<float> checked_vector(const CollectionConfig& config, const std::string& name,
                                  std::span<const float> vector, const std::string& where, bool allow_zero) {
    const auto found = config.vectors.find(name);
    if (found == config.vectors.end()) {
        bad(where, "unknown vector name '" + name + "' (collection has: " + known_vectors(config) + ")");
    }
    const VectorConfig& vector_config = found->second;
    if (vector.size() != vector_config.size) {
        bad(where, vector_label(name) + " has " + std::to_string(vector.size()) + " dimensions, expected " +
                       std::to_string(vector_config.size));
    }
    double norm = 0;
    for (std::size_t idx = 0; idx < vector.size(); ++idx) {
        if (!std::isfinite(vector[idx])) {
            bad(where, vector_label(name) + "[" + std::to_string(idx) + "] is " +
                           (std::isnan(vector[idx]) ? "NaN" : "infinite") + "; components must be finite");
        }
        norm += double(vector[idx]) * double(vector[idx]);
    }
    std::vector<float> out(vector.begin(), vector.end());
    if (vector_config.distance == Distance::cosine) {
        if (norm == 0) {
            if (!allow_zero) bad(where, vector_label(name) + " is all zeros and cannot be normalised for cosine distance");
            return out;
        }
        const float inverse = float(1.0 / std::sqrt(norm));
        for (float& x : out) x *= inverse;
    }
    return out;
}

void check_payload(const json& payload, const std::string& where) {
    if (!payload.is_object()) bad(where + ".payload", "expected a JSON object, got a " + std::string(payload.type_name()));
    if (store::json_depth(payload, store::kMaxPayloadDepth) > store::kMaxPayloadDepth) {
        bad(where + ".payload", "nested deeper than " + std::to_string(store::kMaxPayloadDepth) + " levels");
    }
}

store::ByteWriter begin_record(Op op) {
    store::ByteWriter out;
    out.u8(std::uint8_t(op));
    out.u64(0);  // the log sequence number, filled in by log_and_apply
    return out;
}

void check_size(const store::ByteWriter& record) {
    if (record.size() > kMaxRecordBytes) {
        throw Error(ErrorCode::resource_exhausted, "write of " + std::to_string(record.size()) +
                                                       " bytes: above the 1 GiB limit of one request; split it");
    }
}

void write_ids(store::ByteWriter& out, const std::vector<PointId>& ids) {
    out.u32(std::uint32_t(ids.size()));
    for (const PointId& id : ids) out.point_id(id);
}

}  // namespace

Collection::Collection(std::unique_ptr<State> state) : state_(std::move(state)) {}
Collection::~Collection() = default;

const std::string& Collection::name() const { return state_->name; }
const CollectionConfig& Collection::config() const { return state_->config; }

// ------------------------------------------------------------------ helpers on State

std::vector<std::uint32_t> Collection::State::matching_slots(const Filter& filter) const {
    std::vector<std::uint32_t> out;
    // A payload index answers one `must` condition; the whole filter is then checked on those.
    std::optional<std::vector<std::uint32_t>> candidates;
    for (const Filter::Node& condition : filter.root().must) {
        const auto index = payload_indexes.find(condition.key);
        if (index == payload_indexes.end()) continue;
        auto slots = index->second->candidates(condition);
        if (slots && (!candidates || slots->size() < candidates->size())) candidates = std::move(slots);
    }
    if (candidates) {
        for (const std::uint32_t slot : *candidates) {
            if (slot < live.size() && live[slot] && filter.matches(ids[slot], payloads[slot])) out.push_back(slot);
        }
        return out;
    }
    for (std::uint32_t slot = 0; slot < live.size(); ++slot) {
        if (live[slot] && filter.matches(ids[slot], payloads[slot])) out.push_back(slot);
    }
    return out;
}

std::vector<std::uint32_t> Collection::State::selected_slots(const PointSelector& selector) const {
    if (selector.filter) return matching_slots(*selector.filter);
    std::vector<std::uint32_t> out;
    for (const PointId& id : selector.ids) {
        if (const auto found = slot_of.find(id)) out.push_back(*found);
    }
    return out;
}

Point Collection::State::make_point(std::uint32_t slot, const PayloadSelector& with_payload,
                                    const VectorSelector& with_vector) const {
    Point point;
    point.id = ids[slot];
    point.payload = with_payload.apply(payloads[slot]);
    if (with_vector.mode != VectorSelector::Mode::none) {
        for (const auto& [vector_name, index] : vectors) {
            if (with_vector.mode == VectorSelector::Mode::include &&
                std::find(with_vector.names.begin(), with_vector.names.end(), vector_name) == with_vector.names.end()) {
                continue;
            }
            if (index->has(slot)) point.vectors[vector_name] = index->get(slot);
        }
    }
    return point;
}

// ------------------------------------------------------------------ writes

UpdateResult Collection::upsert(std::span<const Point> points) {
    State& state = *state_;
    state.check_writable();
    store::ByteWriter record = begin_record(Op::upsert);
    record.u32(std::uint32_t(points.size()));
    for (std::size_t point_idx = 0; point_idx < points.size(); ++point_idx) {
        const Point& point = points[point_idx];
        const std::string where = "point " + point.id.to_string();
        if (point.vectors.empty()) bad(where, "no vector (collection has: " + known_vectors(state.config) + ")");
        // Check before any copy: copying a hostile 10,000-level payload would recurse that deep.
        record.point_id(point.id);
        if (point.payload.is_null()) {
            record.json(json::object());
        } else {
            check_payload(point.payload, where);
            record.json(point.payload);
        }
        record.u32(std::uint32_t(point.vectors.size()));
        for (const auto& [name, vector] : point.vectors) {
            const std::vector<float> stored = checked_vector(state.config, name, vector, where, false);
            record.string(name);
            record.floats(stored);
        }
        check_size(record);
    }
    std::unique_lock lock(state.mutex);
    const std::uint64_t lsn = state.log_and_apply(record.bytes());
    return {lsn, points.size()};
}

UpdateResult Collection::delete_points(const PointSelector& selector) {
    State& state = *state_;
    state.check_writable();
    std::unique_lock lock(state.mutex);
    std::vector<PointId> ids;
    for (const std::uint32_t slot : state.selected_slots(selector)) ids.push_back(state.ids[slot]);
    store::ByteWriter record = begin_record(Op::remove);
    write_ids(record, ids);
    check_size(record);
    return {state.log_and_apply(record.bytes()), ids.size()};
}

UpdateResult Collection::set_payload(const PointSelector& selector, const json& payload, PayloadWriteMode mode) {
    State& state = *state_;
    state.check_writable();
    check_payload(payload, "set_payload");
    std::unique_lock lock(state.mutex);
    std::vector<PointId> ids;
    for (const std::uint32_t slot : state.selected_slots(selector)) ids.push_back(state.ids[slot]);
    store::ByteWriter record = begin_record(Op::set_payload);
    record.u8(std::uint8_t(mode));
    record.json(payload);
    write_ids(record, ids);
    check_size(record);
    return {state.log_and_apply(record.bytes()), ids.size()};
}

UpdateResult Collection::delete_payload_keys(const PointSelector& selector, std::span<const std::string> keys) {
    State& state = *state_;
    state.check_writable();
    for (const std::string& key : keys) {
        if (key.empty()) bad("delete_payload.keys", "empty key");
    }
    std::unique_lock lock(state.mutex);
    std::vector<PointId> ids;
    for (const std::uint32_t slot : state.selected_slots(selector)) ids.push_back(state.ids[slot]);
    store::ByteWriter record = begin_record(Op::delete_keys);
    record.u32(std::uint32_t(keys.size()));
    for (const std::string& key : keys) record.string(key);
    write_ids(record, ids);
    return {state.log_and_apply(record.bytes()), ids.size()};
}

UpdateResult Collection::clear_payload(const PointSelector& selector) {
    State& state = *state_;
    state.check_writable();
    std::unique_lock lock(state.mutex);
    std::vector<PointId> ids;
    for (const std::uint32_t slot : state.selected_slots(selector)) ids.push_back(state.ids[slot]);
    store::ByteWriter record = begin_record(Op::clear_payload);
    write_ids(record, ids);
    return {state.log_and_apply(record.bytes()), ids.size()};
}

UpdateResult Collection::create_payload_index(const std::string& key, PayloadIndexType type) {
    State& state = *state_;
    state.check_writable();
    if (key.empty()) bad("field_name", "empty key");
    (void)store::parse_path(key, "field_name");
    std::unique_lock lock(state.mutex);
    store::ByteWriter record = begin_record(Op::create_index);
    record.string(key);
    record.u8(std::uint8_t(type));
    return {state.log_and_apply(record.bytes()), 0};
}

UpdateResult Collection::delete_payload_index(const std::string& key) {
    State& state = *state_;
    state.check_writable();
    std::unique_lock lock(state.mutex);
    if (!state.payload_indexes.count(key)) throw Error(ErrorCode::not_found, "payload index '" + key + "': not found");
    store::ByteWriter record = begin_record(Op::delete_index);
    record.string(key);
    return {state.log_and_apply(record.bytes()), 0};
}

void Collection::flush() { state_->wal.sync(); }

void Collection::checkpoint() {
    State& state = *state_;
    state.check_writable();
    std::lock_guard checkpoint_lock(state.checkpoint_mutex);
    std::shared_lock lock(state.mutex);
    state.write_checkpoint();
}

// ------------------------------------------------------------------ reads

std::vector<Point> Collection::get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                   const VectorSelector& with_vector) const {
    const State& state = *state_;
    std::shared_lock lock(state.mutex);
    std::vector<Point> out;
    for (const PointId& id : ids) {
        if (const auto found = state.slot_of.find(id)) out.push_back(state.make_point(*found, with_payload, with_vector));
    }
    return out;
}

std::optional<Point> Collection::get(const PointId& id) const {
    std::vector<Point> found = get(std::span(&id, 1));
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::size_t Collection::count(const std::optional<Filter>& filter) const {
    const State& state = *state_;
    std::shared_lock lock(state.mutex);
    if (!filter || filter->empty()) return state.slot_of.size();
    return state.matching_slots(*filter).size();
}

ScrollResult Collection::scroll(const ScrollRequest& request) const {
    const State& state = *state_;
    if (request.limit == 0 || request.limit > kMaxLimit) bad("scroll.limit", "must be in 1..100000");
    std::shared_lock lock(state.mutex);
    ScrollResult result;
    const bool filtered = request.filter && !request.filter->empty();
    if (!request.order_by) {
        const auto ordered = state.slot_of.ordered();
        auto it = ordered->begin();
        if (request.offset) {
            it = std::lower_bound(ordered->begin(), ordered->end(), *request.offset,
                                  [&](std::uint32_t slot, const PointId& id) { return state.ids[slot] < id; });
        }
        for (; it != ordered->end(); ++it) {
            const std::uint32_t slot = *it;
            const PointId& id = state.ids[slot];
            if (filtered && !request.filter->matches(id, state.payloads[slot])) continue;
            if (result.points.size() == request.limit) {
                result.next_page_offset = id;
                break;
            }
            result.points.push_back(state.make_point(slot, request.with_payload, request.with_vector));
        }
        return result;
    }
    const OrderBy& order = *request.order_by;
    const auto path = store::parse_path(order.key, "order_by.key");
    struct Entry {
        json value;
        PointId id;
        std::uint32_t slot;
    };
    std::vector<Entry> entries;
    auto less = [](const json& a, const json& b) {
        if (a.is_number() && b.is_number()) return a.get<double>() < b.get<double>();
        if (a.is_number() != b.is_number()) return a.is_number();
        return a < b;
    };
    // Any visiting order will do: the sort below orders by (value, id).
    for (std::uint32_t slot = 0; slot < state.live.size(); ++slot) {
        if (!state.live[slot]) continue;
        const PointId& id = state.ids[slot];
        if (filtered && !request.filter->matches(id, state.payloads[slot])) continue;
        std::vector<const json*> values;
        store::collect_values(state.payloads[slot], path, values);
        for (const json* value : values) {
            if (!value->is_number() && !value->is_string()) continue;
            if (order.start_from && (order.descending ? less(*order.start_from, *value) : less(*value, *order.start_from))) {
                continue;
            }
            entries.push_back({*value, id, slot});
            break;  // one entry per point: its first orderable value
        }
    }
    std::stable_sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
        if (less(a.value, b.value)) return !order.descending;
        if (less(b.value, a.value)) return order.descending;
        return a.id < b.id;
    });
    for (std::size_t idx = 0; idx < entries.size() && idx < request.limit; ++idx) {
        result.points.push_back(state.make_point(entries[idx].slot, request.with_payload, request.with_vector));
    }
    return result;
}

std::vector<ScoredPoint> Collection::search(const Query& query) const {
    const State& state = *state_;
    if (query.limit == 0 || query.limit > kMaxLimit) bad("query.limit", "must be in 1..100000, got " + std::to_string(query.limit));
    if (query.offset > kMaxLimit) bad("query.offset", "must be at most 100000");
    const std::vector<float> vector = checked_vector(state.config, query.using_vector, query.vector, "query", true);
    const VectorConfig& config = state.config.vectors.at(query.using_vector);
    const std::size_t k = query.limit + query.offset;
    const std::size_t ef = std::max(query.ef.value_or(config.hnsw.ef), k);

    std::shared_lock lock(state.mutex);
    const store::VectorIndex& index = *state.vectors.at(query.using_vector);
    std::vector<store::Candidate> found;
    if (query.filter && !query.filter->empty()) {
        const std::vector<std::uint32_t> slots = state.matching_slots(*query.filter);
        if (query.exact || slots.size() <= config.hnsw.full_scan_threshold) {
            found = index.search_slots(vector, k, slots);
        } else {
            std::vector<std::uint8_t> allowed(index.slot_capacity(), 0);
            for (const std::uint32_t slot : slots) {
                if (slot < allowed.size()) allowed[slot] = 1;
            }
            found = index.search(vector, k, ef, &allowed);
        }
    } else if (query.exact) {
        found = index.search_exact(vector, k, nullptr, state.pool);
    } else {
        found = index.search(vector, k, ef, nullptr);
    }

    std::vector<ScoredPoint> out;
    const float bound = query.score_threshold ? store::distance_bound_from_score(config.distance, *query.score_threshold)
                                              : INFINITY;
    for (std::size_t idx = query.offset; idx < found.size(); ++idx) {
        const store::Candidate& candidate = found[idx];
        if (candidate.distance > bound) break;
        ScoredPoint point;
        const std::uint32_t slot = candidate.slot;
        point.id = state.ids[slot];
        point.score = store::score_from_distance(config.distance, candidate.distance);
        point.version = state.versions[slot];
        if (query.with_payload.mode != PayloadSelector::Mode::none) point.payload = query.with_payload.apply(state.payloads[slot]);
        if (query.with_vector.mode != VectorSelector::Mode::none) point.vectors = state.make_point(slot, PayloadSelector::none(), query.with_vector).vectors;
        out.push_back(std::move(point));
    }
    return out;
}

std::vector<std::vector<ScoredPoint>> Collection::search_batch(std::span<const Query> queries) const {
    std::vector<std::vector<ScoredPoint>> out;
    out.reserve(queries.size());
    for (const Query& query : queries) out.push_back(search(query));
    return out;
}

CollectionInfo Collection::info() const {
    const State& state = *state_;
    std::shared_lock lock(state.mutex);
    CollectionInfo info;
    info.name = state.name;
    info.config = state.config;
    info.point_count = state.slot_of.size();
    info.deleted_slot_count = state.free_slots.size();
    std::uint64_t memory = state.ids.capacity() * sizeof(PointId) + state.versions.capacity() * 8 +
                           state.live.capacity() + state.slot_of.memory_bytes();
    for (const auto& [name, index] : state.vectors) {
        info.vector_counts[name] = index->count();
        memory += index->memory_bytes();
    }
    for (std::uint32_t slot = 0; slot < state.live.size(); ++slot) {
        // nlohmann::json keeps ~3x the serialised size in nodes; a cheap, stable estimate.
        if (state.live[slot]) memory += 16 + 3 * (state.payloads[slot].empty() ? 0 : state.payloads[slot].size() * 32);
    }
    for (const auto& [key, index] : state.payload_indexes) {
        info.payload_index_points[key] = index->point_count();
        memory += index->memory_bytes();
    }
    info.memory_bytes = memory;
    info.disk_bytes = state.disk_bytes();
    info.wal_bytes = state.wal.size_bytes();
    info.last_operation_id = state.last_lsn;
    info.wal_dropped_bytes = state.wal.dropped_bytes();
    return info;
}

}  // namespace tessera
