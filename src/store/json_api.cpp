// The JSON forms of the public types, following Qdrant's REST API field names.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "store/filter.hpp"
#include "tessera/store.hpp"

namespace tessera {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw Error(ErrorCode::invalid_argument, where + ": " + what);
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string quoted(const json& value) {
    std::string text = value.dump();
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

std::size_t get_size(const json& body, const char* key, const std::string& where, std::size_t fallback) {
    if (!body.contains(key)) return fallback;
    const json& value = body.at(key);
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
        bad(where + "." + key, "expected a non-negative integer, got " + quoted(value));
    }
    return value.get<std::size_t>();
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// ------------------------------------------------------------------ enums

std::string_view distance_name(Distance distance) {
    switch (distance) {
        case Distance::cosine: return "Cosine";
        case Distance::dot: return "Dot";
        case Distance::euclid: return "Euclid";
        case Distance::manhattan: return "Manhattan";
    }
    return "Cosine";
}

Distance parse_distance(std::string_view name) {
    const std::string key = lower(name);
    if (key == "cosine") return Distance::cosine;
    if (key == "dot") return Distance::dot;
    if (key == "euclid" || key == "euclidean" || key == "l2") return Distance::euclid;
    if (key == "manhattan" || key == "l1") return Distance::manhattan;
    bad("distance", "unknown distance '" + std::string(name) + "' (Cosine, Dot, Euclid, Manhattan)");
}

std::string_view storage_type_name(StorageType type) {
    switch (type) {
        case StorageType::f32: return "f32";
        case StorageType::f16: return "f16";
        case StorageType::u8: return "u8";
    }
    return "f32";
}

StorageType parse_storage_type(std::string_view name) {
    const std::string key = lower(name);
    if (key == "f32" || key == "float32") return StorageType::f32;
    if (key == "f16" || key == "float16") return StorageType::f16;
    if (key == "u8" || key == "uint8") return StorageType::u8;
    bad("datatype", "unknown storage type '" + std::string(name) + "' (f32, f16, u8)");
}

std::string_view payload_index_type_name(PayloadIndexType type) {
    return type == PayloadIndexType::keyword ? "keyword" : "integer";
}

PayloadIndexType parse_payload_index_type(std::string_view name) {
    const std::string key = lower(name);
    if (key == "keyword") return PayloadIndexType::keyword;
    if (key == "integer") return PayloadIndexType::integer;
    bad("field_schema", "unsupported payload index type '" + std::string(name) + "' (keyword, integer)");
}

FsyncPolicy parse_fsync_policy(std::string_view name) {
    const std::string key = lower(name);
    if (key == "always") return FsyncPolicy::always;
    if (key == "interval") return FsyncPolicy::interval;
    if (key == "never") return FsyncPolicy::never;
    bad("fsync", "unknown policy '" + std::string(name) + "' (always, interval, never)");
}

// ------------------------------------------------------------------ collection config

namespace {

HnswConfig parse_hnsw(const json& body, const std::string& where, HnswConfig config) {
    if (!body.is_object()) bad(where, "expected an object, got " + quoted(body));
    config.m = get_size(body, "m", where, config.m);
    config.ef_construct = get_size(body, "ef_construct", where, config.ef_construct);
    config.ef = get_size(body, "ef", where, config.ef);
    config.full_scan_threshold = get_size(body, "full_scan_threshold", where, config.full_scan_threshold);
    if (config.m < 2 || config.m > 128) bad(where + ".m", "must be in 2..128, got " + std::to_string(config.m));
    if (config.ef_construct < 4 || config.ef_construct > 4096) {
        bad(where + ".ef_construct", "must be in 4..4096, got " + std::to_string(config.ef_construct));
    }
    if (config.ef < 1 || config.ef > 65536) bad(where + ".ef", "must be in 1..65536");
    return config;
}

VectorConfig parse_vector(const json& body, const std::string& where, const HnswConfig& hnsw) {
    if (!body.is_object()) bad(where, "expected an object, got " + quoted(body));
    VectorConfig config;
    config.hnsw = hnsw;
    if (!body.contains("size")) bad(where + ".size", "missing");
    config.size = get_size(body, "size", where, 0);
    if (config.size == 0 || config.size > 65536) {
        bad(where + ".size", "must be in 1..65536, got " + std::to_string(config.size));
    }
    if (body.contains("distance")) {
        if (!body["distance"].is_string()) bad(where + ".distance", "expected a string");
        config.distance = parse_distance(body["distance"].get<std::string>());
    }
    for (const char* key : {"datatype", "storage"}) {
        if (body.contains(key)) {
            if (!body[key].is_string()) bad(where + "." + key, "expected a string");
            config.storage = parse_storage_type(body[key].get<std::string>());
        }
    }
    if (body.contains("model")) {
        if (!body["model"].is_string()) bad(where + ".model", "expected a string");
        config.model = body["model"].get<std::string>();
    }
    if (body.contains("hnsw_config")) config.hnsw = parse_hnsw(body["hnsw_config"], where + ".hnsw_config", hnsw);
    return config;
}

json vector_to_json(const VectorConfig& config) {
    json out = {{"size", config.size},
                {"distance", distance_name(config.distance)},
                {"datatype", storage_type_name(config.storage)},
                {"hnsw_config",
                 {{"m", config.hnsw.m},
                  {"ef_construct", config.hnsw.ef_construct},
                  {"ef", config.hnsw.ef},
                  {"full_scan_threshold", config.hnsw.full_scan_threshold}}}};
    if (!config.model.empty()) out["model"] = config.model;
    return out;
}

}  // namespace

CollectionConfig CollectionConfig::from_json(const json& body) {
    if (!body.is_object()) bad("collection", "expected an object, got " + quoted(body));
    HnswConfig hnsw;
    if (body.contains("hnsw_config")) hnsw = parse_hnsw(body["hnsw_config"], "hnsw_config", hnsw);
    CollectionConfig config;
    if (!body.contains("vectors")) bad("vectors", "missing");
    const json& vectors = body["vectors"];
    if (!vectors.is_object()) bad("vectors", "expected an object, got " + quoted(vectors));
    if (vectors.contains("size")) {
        config.vectors[""] = parse_vector(vectors, "vectors", hnsw);
    } else {
        if (vectors.empty()) bad("vectors", "no vectors configured");
        for (const auto& [name, value] : vectors.items()) {
            config.vectors[name] = parse_vector(value, "vectors." + name, hnsw);
        }
    }
    if (body.contains("payload_indexes")) {
        const json& indexes = body["payload_indexes"];
        if (!indexes.is_object()) bad("payload_indexes", "expected an object of key: type");
        for (const auto& [key, type] : indexes.items()) {
            if (!type.is_string()) bad("payload_indexes." + key, "expected \"keyword\" or \"integer\"");
            config.payload_indexes[key] = parse_payload_index_type(type.get<std::string>());
        }
    }
    return config;
}

json CollectionConfig::to_json() const {
    json out = json::object();
    if (vectors.size() == 1 && vectors.begin()->first.empty()) {
        out["vectors"] = vector_to_json(vectors.begin()->second);
    } else {
        out["vectors"] = json::object();
        for (const auto& [name, config] : vectors) out["vectors"][name] = vector_to_json(config);
    }
    if (!payload_indexes.empty()) {
        out["payload_indexes"] = json::object();
        for (const auto& [key, type] : payload_indexes) out["payload_indexes"][key] = payload_index_type_name(type);
    }
    return out;
}

// ------------------------------------------------------------------ point ids

PointId PointId::parse(std::string_view text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (text.size() > 20) bad("point id", "number too large: '" + std::string(text) + "'");
        std::uint64_t value = 0;
        for (char c : text) {
            const std::uint64_t next = value * 10 + std::uint64_t(c - '0');
            if (next / 10 != value) bad("point id", "number too large: '" + std::string(text) + "'");
            value = next;
        }
        return PointId(value);
    }
    std::string_view body = text;
    if (body.size() >= 2 && body.front() == '{' && body.back() == '}') body = body.substr(1, body.size() - 2);
    Uuid bytes{};
    std::size_t nibble_count = 0;
    for (std::size_t idx = 0; idx < body.size(); ++idx) {
        const char c = body[idx];
        if (c == '-' && (idx == 8 || idx == 13 || idx == 18 || idx == 23)) continue;
        const int value = hex_value(c);
        if (value < 0 || nibble_count >= 32) {
            bad("point id", "not an unsigned integer or a UUID: '" + std::string(text) + "'");
        }
        bytes[nibble_count / 2] = std::uint8_t(bytes[nibble_count / 2] | (value << (nibble_count % 2 ? 0 : 4)));
        ++nibble_count;
    }
    if (nibble_count != 32) bad("point id", "not an unsigned integer or a UUID: '" + std::string(text) + "'");
    return PointId::uuid(bytes);
}

PointId PointId::from_json(const json& value) {
    if (value.is_number_unsigned()) return PointId(value.get<std::uint64_t>());
    if (value.is_number_integer()) {
        bad("point id", "must be an unsigned integer or a UUID, got " + quoted(value));
    }
    if (value.is_string()) {
        const std::string text = value.get<std::string>();
        // Qdrant accepts only UUIDs as strings; tessera also accepts a decimal number.
        return parse(text);
    }
    bad("point id", "must be an unsigned integer or a UUID string, got " + quoted(value));
}

json PointId::to_json() const {
    if (is_number()) return number();
    return to_string();
}

std::string PointId::to_string() const {
    if (is_number()) return std::to_string(number());
    static const char* kHex = "0123456789abcdef";
    std::string out;
    const Uuid& bytes = uuid_bytes();
    for (std::size_t idx = 0; idx < 16; ++idx) {
        if (idx == 4 || idx == 6 || idx == 8 || idx == 10) out += '-';
        out += kHex[bytes[idx] >> 4];
        out += kHex[bytes[idx] & 15];
    }
    return out;
}

std::size_t PointIdHash::operator()(const PointId& id) const noexcept {
    std::uint64_t h;
    if (id.is_number()) {
        h = id.number();
    } else {
        std::uint64_t a, b;
        std::memcpy(&a, id.uuid_bytes().data(), 8);
        std::memcpy(&b, id.uuid_bytes().data() + 8, 8);
        h = a ^ (b * 0x9e3779b97f4a7c15ull) ^ 0x5555;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return std::size_t(h);
}

// ------------------------------------------------------------------ points

namespace {

std::vector<float> parse_floats(const json& value, const std::string& where) {
    if (!value.is_array()) bad(where, "expected an array of numbers, got " + quoted(value));
    std::vector<float> out;
    out.reserve(value.size());
    for (std::size_t idx = 0; idx < value.size(); ++idx) {
        const json& item = value[idx];
        if (!item.is_number()) bad(where + "[" + std::to_string(idx) + "]", "expected a number, got " + quoted(item));
        out.push_back(item.get<float>());
    }
    return out;
}

NamedVectors parse_named_vectors(const json& value, const std::string& where) {
    NamedVectors out;
    if (value.is_array()) {
        out[""] = parse_floats(value, where);
    } else if (value.is_object()) {
        for (const auto& [name, vector] : value.items()) out[name] = parse_floats(vector, where + "." + name);
    } else {
        bad(where, "expected an array of numbers or an object of named vectors, got " + quoted(value));
    }
    return out;
}

json vectors_to_json(const NamedVectors& vectors) {
    if (vectors.size() == 1 && vectors.begin()->first.empty()) return vectors.begin()->second;
    json out = json::object();
    for (const auto& [name, vector] : vectors) out[name.empty() ? "" : name] = vector;
    return out;
}

}  // namespace

Point Point::from_json(const json& value) {
    if (!value.is_object()) bad("point", "expected an object, got " + quoted(value));
    Point point;
    if (!value.contains("id")) bad("point.id", "missing");
    point.id = PointId::from_json(value["id"]);
    const std::string where = "point " + point.id.to_string();
    for (const char* key : {"vector", "vectors"}) {
        if (value.contains(key)) point.vectors = parse_named_vectors(value[key], where + "." + key);
    }
    if (value.contains("payload") && !value["payload"].is_null()) {
        if (!value["payload"].is_object()) bad(where + ".payload", "expected an object, got " + quoted(value["payload"]));
        if (store::json_depth(value["payload"], store::kMaxPayloadDepth) > store::kMaxPayloadDepth) {
            bad(where + ".payload", "nested deeper than " + std::to_string(store::kMaxPayloadDepth) + " levels");
        }
        point.payload = value["payload"];
    }
    return point;
}

json Point::to_json() const {
    json out = {{"id", id.to_json()}, {"payload", payload}};
    if (!vectors.empty()) out["vector"] = vectors_to_json(vectors);
    return out;
}

// ------------------------------------------------------------------ selectors

PayloadSelector PayloadSelector::from_json(const json& value) {
    if (value.is_boolean()) return value.get<bool>() ? all() : none();
    auto keys_of = [](const json& list, const std::string& where) {
        if (!list.is_array()) bad(where, "expected an array of keys, got " + quoted(list));
        std::vector<std::string> keys;
        for (const json& key : list) {
            if (!key.is_string()) bad(where, "expected string keys, got " + quoted(key));
            keys.push_back(key.get<std::string>());
        }
        return keys;
    };
    if (value.is_array()) return include(keys_of(value, "with_payload"));
    if (value.is_object() && value.contains("include")) return include(keys_of(value["include"], "with_payload.include"));
    if (value.is_object() && value.contains("exclude")) {
        return {Mode::exclude, keys_of(value["exclude"], "with_payload.exclude")};
    }
    bad("with_payload", "expected true, false, a list of keys, {\"include\":..} or {\"exclude\":..}, got " + quoted(value));
}

json PayloadSelector::apply(const json& payload) const {
    switch (mode) {
        case Mode::all: return payload;
        case Mode::none: return json::object();
        case Mode::include: {
            json out = json::object();
            for (const std::string& key : keys) {
                if (payload.contains(key)) out[key] = payload[key];
            }
            return out;
        }
        case Mode::exclude: {
            json out = payload;
            for (const std::string& key : keys) out.erase(key);
            return out;
        }
    }
    return payload;
}

VectorSelector VectorSelector::from_json(const json& value) {
    if (value.is_boolean()) return value.get<bool>() ? all() : none();
    if (value.is_array()) {
        VectorSelector out{Mode::include, {}};
        for (const json& name : value) {
            if (!name.is_string()) bad("with_vector", "expected vector names, got " + quoted(name));
            out.names.push_back(name.get<std::string>());
        }
        return out;
    }
    bad("with_vector", "expected true, false or a list of vector names, got " + quoted(value));
}

PointSelector PointSelector::from_json(const json& body) {
    if (!body.is_object()) bad("points selector", "expected an object, got " + quoted(body));
    PointSelector selector;
    if (body.contains("filter")) {
        selector.filter = Filter::from_json(body["filter"]);
    } else if (body.contains("points")) {
        const json& ids = body["points"];
        if (!ids.is_array()) bad("points", "expected an array of ids, got " + quoted(ids));
        for (const json& id : ids) selector.ids.push_back(PointId::from_json(id));
    } else {
        bad("points selector", "expected \"points\" or \"filter\"");
    }
    return selector;
}

// ------------------------------------------------------------------ queries

Query Query::from_json(const json& body) {
    if (!body.is_object()) bad("query", "expected an object, got " + quoted(body));
    Query query;
    const json* vector = nullptr;
    if (body.contains("vector")) vector = &body["vector"];
    if (body.contains("query")) vector = &body["query"];
    if (vector == nullptr) bad("vector", "missing");
    if (vector->is_object() && vector->contains("vector")) {  // {"name": n, "vector": [...]}
        if (vector->contains("name")) {
            if (!(*vector)["name"].is_string()) bad("vector.name", "expected a string");
            query.using_vector = (*vector)["name"].get<std::string>();
        }
        query.vector = parse_floats((*vector)["vector"], "vector.vector");
    } else if (vector->is_object() && vector->contains("nearest")) {  // /points/query
        query.vector = parse_floats((*vector)["nearest"], "query.nearest");
    } else {
        query.vector = parse_floats(*vector, body.contains("query") ? "query" : "vector");
    }
    if (body.contains("using") && !body["using"].is_null()) {
        if (!body["using"].is_string()) bad("using", "expected a string");
        query.using_vector = body["using"].get<std::string>();
    }
    query.limit = get_size(body, "limit", "query", query.limit);
    if (body.contains("top")) query.limit = get_size(body, "top", "query", query.limit);
    query.offset = get_size(body, "offset", "query", 0);
    if (body.contains("score_threshold") && !body["score_threshold"].is_null()) {
        if (!body["score_threshold"].is_number()) bad("score_threshold", "expected a number");
        query.score_threshold = body["score_threshold"].get<float>();
    }
    if (body.contains("filter") && !body["filter"].is_null()) query.filter = Filter::from_json(body["filter"]);
    if (body.contains("with_payload")) query.with_payload = PayloadSelector::from_json(body["with_payload"]);
    else query.with_payload = PayloadSelector::none();  // Qdrant's default for search
    if (body.contains("with_vector")) query.with_vector = VectorSelector::from_json(body["with_vector"]);
    if (body.contains("with_vectors")) query.with_vector = VectorSelector::from_json(body["with_vectors"]);
    if (body.contains("params") && body["params"].is_object()) {
        const json& params = body["params"];
        if (params.contains("exact")) {
            if (!params["exact"].is_boolean()) bad("params.exact", "expected a boolean");
            query.exact = params["exact"].get<bool>();
        }
        if (params.contains("hnsw_ef") && !params["hnsw_ef"].is_null()) query.ef = get_size(params, "hnsw_ef", "params", 0);
    }
    return query;
}

json ScoredPoint::to_json() const {
    json out = {{"id", id.to_json()}, {"version", version}, {"score", score}};
    if (payload) out["payload"] = *payload;
    if (!vectors.empty()) out["vector"] = vectors_to_json(vectors);
    return out;
}

ScrollRequest ScrollRequest::from_json(const json& body) {
    if (!body.is_object()) bad("scroll", "expected an object, got " + quoted(body));
    ScrollRequest request;
    if (body.contains("filter") && !body["filter"].is_null()) request.filter = Filter::from_json(body["filter"]);
    request.limit = get_size(body, "limit", "scroll", request.limit);
    if (body.contains("offset") && !body["offset"].is_null()) request.offset = PointId::from_json(body["offset"]);
    if (body.contains("with_payload")) request.with_payload = PayloadSelector::from_json(body["with_payload"]);
    if (body.contains("with_vector")) request.with_vector = VectorSelector::from_json(body["with_vector"]);
    if (body.contains("with_vectors")) request.with_vector = VectorSelector::from_json(body["with_vectors"]);
    if (body.contains("order_by") && !body["order_by"].is_null()) {
        const json& order = body["order_by"];
        OrderBy by;
        if (order.is_string()) {
            by.key = order.get<std::string>();
        } else if (order.is_object() && order.contains("key") && order["key"].is_string()) {
            by.key = order["key"].get<std::string>();
            if (order.contains("direction")) {
                const std::string direction = order["direction"].is_string() ? lower(order["direction"].get<std::string>()) : "";
                if (direction != "asc" && direction != "desc") bad("order_by.direction", "expected \"asc\" or \"desc\"");
                by.descending = direction == "desc";
            }
            if (order.contains("start_from") && !order["start_from"].is_null()) by.start_from = order["start_from"];
        } else {
            bad("order_by", "expected a key or {\"key\":..,\"direction\":..}, got " + quoted(order));
        }
        request.order_by = by;
    }
    return request;
}

json CollectionInfo::to_json() const {
    json indexed = 0;
    std::size_t vectors_total = 0;
    for (const auto& [vector_name, count] : vector_counts) vectors_total += count;
    json schema = json::object();
    for (const auto& [key, type] : config.payload_indexes) {
        const auto found = payload_index_points.find(key);
        schema[key] = {{"data_type", payload_index_type_name(type)},
                       {"points", found == payload_index_points.end() ? 0 : found->second}};
    }
    return {{"status", "green"},
            {"optimizer_status", "ok"},
            {"points_count", point_count},
            {"vectors_count", vectors_total},
            {"indexed_vectors_count", vectors_total},
            {"segments_count", 1},
            {"config", {{"params", config.to_json()}}},
            {"payload_schema", schema},
            {"disk_bytes", disk_bytes},
            {"memory_bytes", memory_bytes},
            {"wal_bytes", wal_bytes},
            {"deleted_slot_count", deleted_slot_count},
            {"last_operation_id", last_operation_id},
            {"wal_dropped_bytes", wal_dropped_bytes}};
}

}  // namespace tessera
