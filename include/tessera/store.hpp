// The embedded vector store: a directory on disk that one process opens, writes and queries,
// with no server. Collections hold points (an id, one vector per named vector, a JSON payload)
// and answer nearest-neighbour queries with payload filters, exactly or through an HNSW index.
//
//   auto store = tessera::Store::open("notes.store");             // creates the directory
//   auto notes = store->create_collection("notes", tessera::CollectionConfig{
//       .vectors = {{"", tessera::VectorConfig{.size = 384, .distance = tessera::Distance::cosine}}}});
//   notes->upsert({tessera::Point{.id = 7, .vectors = {{"", embedding}}, .payload = {{"tag", "a"}}}});
//   auto hits = notes->search(tessera::Query{.vector = question, .limit = 5,
//       .filter = tessera::Filter::from_json(R"({"must":[{"key":"tag","match":{"value":"a"}}]})"_json)});
//
// Durability: every write is appended to the collection's write-ahead log (CRC-32 per record,
// fsync per StoreOptions::fsync) before it is applied in memory and before the call returns, so
// after a crash or `kill -9` the store reopens with every acknowledged write. A torn log tail is
// dropped. The log is folded into checkpoint files (segments) in the background.
//
// Concurrency: any number of threads may read while one writes (writes are serialised per
// collection). A second process opening the same directory for writing gets Error(unavailable).
//
// The JSON forms (Filter::from_json, PointId::from_json, ScoredPoint::to_json, ...) follow
// Qdrant's REST API, so a Qdrant-compatible server is a thin layer over this header.
// Every function that can fail throws tessera::Error; the codes are named beside each one.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/error.hpp"

namespace tessera {

// ---------------------------------------------------------------------------------------------
// Configuration

// How two vectors are compared. Scores follow Qdrant: cosine and dot are similarities (higher is
// closer); euclid and manhattan are distances (lower is closer). Cosine vectors are normalised
// on insert, so their stored form has unit length.
enum class Distance { cosine, dot, euclid, manhattan };

// How vector components are stored. f16: half precision (half the memory, ~1e-3 relative error).
// u8: scalar quantisation per vector (min + scale * code, a quarter of the memory).
enum class StorageType { f32, f16, u8 };

// "Cosine", "Dot", "Euclid", "Manhattan" (Qdrant's spelling); parsing is case-insensitive.
// Errors: invalid_argument for an unknown name.
[[nodiscard]] std::string_view distance_name(Distance distance);
[[nodiscard]] Distance parse_distance(std::string_view name);
// "f32", "f16", "u8" (also accepts Qdrant's "float32", "float16", "uint8").
[[nodiscard]] std::string_view storage_type_name(StorageType type);
[[nodiscard]] StorageType parse_storage_type(std::string_view name);

struct HnswConfig {
    std::size_t m = 16;              // links per node on upper layers (2*m on the base layer)
    std::size_t ef_construct = 100;  // beam width while inserting
    std::size_t ef = 64;             // default beam width while searching (Query::ef overrides)
    // A filtered query whose filter leaves at most this many points is answered by exact search
    // over those points instead of the graph (Qdrant's full_scan_threshold, counted in points).
    std::size_t full_scan_threshold = 10'000;
};

struct VectorConfig {
    std::size_t size = 0;                  // dimensions, 1..65536
    Distance distance = Distance::cosine;
    StorageType storage = StorageType::f32;
    std::string model{};                     // the model that produces these vectors ("" = none)
    HnswConfig hnsw{};
};

// The type of a payload index. keyword: strings (and bools as "true"/"false");
// integer: whole numbers (match and range).
enum class PayloadIndexType { keyword, integer };
[[nodiscard]] std::string_view payload_index_type_name(PayloadIndexType type);
[[nodiscard]] PayloadIndexType parse_payload_index_type(std::string_view name);

struct CollectionConfig {
    // Named vectors. The name "" is the default (unnamed) vector of Qdrant's API.
    std::map<std::string, VectorConfig> vectors{};
    // Payload indexes to create with the collection (more can be added later).
    std::map<std::string, PayloadIndexType> payload_indexes{};

    // Qdrant's create-collection body: {"vectors": {"size":384,"distance":"Cosine"}} or
    // {"vectors": {"text": {...}, "image": {...}}}, plus "hnsw_config": {"m":..,"ef_construct":..},
    // per-vector "datatype" ("float32"|"float16"|"uint8"), "hnsw_config" and tessera's "model".
    // Errors: invalid_argument naming the field.
    [[nodiscard]] static CollectionConfig from_json(const nlohmann::json& body);
    [[nodiscard]] nlohmann::json to_json() const;  // same shape (Qdrant's collection config)
};

// ---------------------------------------------------------------------------------------------
// Points

// A point id: an unsigned 64-bit integer or a UUID. Integers sort before UUIDs.
class PointId {
public:
    using Uuid = std::array<std::uint8_t, 16>;

    PointId() = default;
    // Any integer converts implicitly (ids are numbers). Error(invalid_argument) if negative.
    template <typename T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    PointId(T number) : value_(std::uint64_t(number)) {  // NOLINT(google-explicit-constructor)
        if constexpr (std::is_signed_v<T>) {
            if (number < 0) throw Error(ErrorCode::invalid_argument,
                                        "point id: must be >= 0, got " + std::to_string(number));
        }
    }
    static PointId uuid(const Uuid& bytes) { PointId id; id.value_ = bytes; return id; }

    // "123" -> number, "550e8400-e29b-41d4-a716-446655440000" (any case, with or without
    // dashes, or in braces) -> UUID. Errors: invalid_argument quoting the text.
    [[nodiscard]] static PointId parse(std::string_view text);
    // A JSON unsigned integer or a UUID string. Errors: invalid_argument (negative, float, other).
    [[nodiscard]] static PointId from_json(const nlohmann::json& value);
    [[nodiscard]] nlohmann::json to_json() const;  // number or "xxxxxxxx-xxxx-..." string
    [[nodiscard]] std::string to_string() const;

    [[nodiscard]] bool is_number() const { return std::holds_alternative<std::uint64_t>(value_); }
    [[nodiscard]] std::uint64_t number() const { return std::get<std::uint64_t>(value_); }
    [[nodiscard]] const Uuid& uuid_bytes() const { return std::get<Uuid>(value_); }

    friend bool operator==(const PointId&, const PointId&) = default;
    friend std::strong_ordering operator<=>(const PointId&, const PointId&) = default;

private:
    std::variant<std::uint64_t, Uuid> value_{std::uint64_t{0}};
};

struct PointIdHash {
    std::size_t operator()(const PointId& id) const noexcept;
};

// Vectors by name ("" = the default vector).
using NamedVectors = std::map<std::string, std::vector<float>>;

// A point as written (upsert) and as read back (get, scroll).
struct Point {
    PointId id{};
    NamedVectors vectors{};                                   // every vector is optional per point
    nlohmann::json payload = nlohmann::json::object();      // a JSON object

    // Qdrant's point JSON: {"id": 1, "vector": [...] | {"name": [...]}, "payload": {...}}
    // ("vectors" is accepted as a synonym of "vector"). Errors: invalid_argument naming the field.
    [[nodiscard]] static Point from_json(const nlohmann::json& value);
    // Qdrant's record JSON; "vector" omitted when `vectors` is empty, a plain array when the only
    // vector is the default one.
    [[nodiscard]] nlohmann::json to_json() const;
};

// Which payload keys to return: all, none, or only / all but the listed top-level keys.
struct PayloadSelector {
    enum class Mode { all, none, include, exclude };
    Mode mode = Mode::all;
    std::vector<std::string> keys{};

    [[nodiscard]] static PayloadSelector all() { return {}; }
    [[nodiscard]] static PayloadSelector none() { return {Mode::none, {}}; }
    [[nodiscard]] static PayloadSelector include(std::vector<std::string> keys) {
        return {Mode::include, std::move(keys)};
    }
    // Qdrant's with_payload: true | false | ["a","b"] | {"include":[..]} | {"exclude":[..]}.
    // Errors: invalid_argument.
    [[nodiscard]] static PayloadSelector from_json(const nlohmann::json& value);
    [[nodiscard]] nlohmann::json apply(const nlohmann::json& payload) const;
};

// Which vectors to return: none, all, or the listed names (Qdrant's with_vector:
// false | true | ["name", ...]).
struct VectorSelector {
    enum class Mode { none, all, include };
    Mode mode = Mode::none;
    std::vector<std::string> names{};

    [[nodiscard]] static VectorSelector none() { return {}; }
    [[nodiscard]] static VectorSelector all() { return {Mode::all, {}}; }
    [[nodiscard]] static VectorSelector from_json(const nlohmann::json& value);  // invalid_argument
};

// ---------------------------------------------------------------------------------------------
// Filters

// A payload filter in Qdrant's syntax:
//   {"must": [cond...], "should": [cond...], "must_not": [cond...], "min_should": {...}}
// where a condition is one of
//   {"key": "a.b", "match": {"value": v}}            v: string, integer or bool
//   {"key": "tags[]", "match": {"any": [v, ...]}}     any of the values
//   {"key": "k", "match": {"except": [v, ...]}}       none of the values
//   {"key": "k", "match": {"text": "substr"}}         substring of a string value
//   {"key": "k", "range": {"gt": x, "gte": x, "lt": x, "lte": x}}
//   {"key": "k", "values_count": {"gte": n, ...}}
//   {"is_empty": {"key": "k"}}   missing, null or []
//   {"is_null": {"key": "k"}}    present and null
//   {"has_id": [1, "uuid", ...]}
//   {"nested": {"key": "arr", "filter": {...}}}      the filter must hold for one element of arr
//   {"must": [...], ...}                             a nested filter (any depth up to 32)
// Keys are dotted paths; arrays on the way are flattened (Qdrant semantics: "a.b" reaches every
// b of every element of array a; "a[]" is accepted as the same; "a[2]" picks one element).
// A condition on a key matches if any of the values reached matches.
class Filter {
public:
    struct Node;  // the parsed tree (defined in src/store/filter.hpp)

    Filter();  // the empty filter: matches every point
    // Errors: invalid_argument with the JSON path of the problem, e.g.
    // "filter.must[1].range.gt: expected a number, got \"x\"".
    [[nodiscard]] static Filter from_json(const nlohmann::json& value);
    [[nodiscard]] nlohmann::json to_json() const;

    [[nodiscard]] bool empty() const;
    // Evaluates the filter on one point.
    [[nodiscard]] bool matches(const PointId& id, const nlohmann::json& payload) const;
    [[nodiscard]] const Node& root() const { return *root_; }

private:
    std::shared_ptr<const Node> root_{};
};

// ---------------------------------------------------------------------------------------------
// Queries and results

struct Query {
    std::vector<float> vector{};             // the query vector (size of the named vector)
    std::string using_vector{};              // which named vector ("" = the default one)
    std::size_t limit = 10;
    std::size_t offset = 0;                // skip the first `offset` results
    std::optional<float> score_threshold{};  // similarities: score >= t; distances: score <= t
    std::optional<Filter> filter{};
    PayloadSelector with_payload = PayloadSelector::all();
    VectorSelector with_vector = VectorSelector::none();
    bool exact = false;                    // brute force instead of HNSW (the recall oracle)
    std::optional<std::size_t> ef{};         // HNSW beam width for this query

    // Qdrant's search body: {"vector": [...] | {"name": n, "vector": [...]}, "filter", "limit",
    // "offset", "score_threshold", "with_payload", "with_vector", "params": {"hnsw_ef", "exact"}}.
    // Also Qdrant's /points/query body: {"query": [...], "using": n, ...}.
    // Errors: invalid_argument naming the field.
    [[nodiscard]] static Query from_json(const nlohmann::json& body);
};

struct ScoredPoint {
    PointId id{};
    float score = 0;
    std::optional<nlohmann::json> payload{};  // absent when with_payload is none
    NamedVectors vectors{};                   // filled per with_vector
    std::uint64_t version = 0;              // the log sequence number of the point's last write

    // Qdrant's {"id", "version", "score", "payload", "vector"}.
    [[nodiscard]] nlohmann::json to_json() const;
};

struct OrderBy {
    std::string key{};           // a payload key with numbers (or strings)
    bool descending = false;
    std::optional<nlohmann::json> start_from{};  // first value to return (inclusive)
};

struct ScrollRequest {
    std::optional<Filter> filter{};
    std::size_t limit = 10;
    std::optional<PointId> offset{};   // first id to return (id order only)
    std::optional<OrderBy> order_by{}; // order by a payload value instead of by id
    PayloadSelector with_payload = PayloadSelector::all();
    VectorSelector with_vector = VectorSelector::none();

    // Qdrant's scroll body ("filter", "limit", "offset", "order_by": "key" | {"key","direction",
    // "start_from"}, "with_payload", "with_vector"). Errors: invalid_argument.
    [[nodiscard]] static ScrollRequest from_json(const nlohmann::json& body);
};

struct ScrollResult {
    std::vector<Point> points{};
    std::optional<PointId> next_page_offset{};  // pass as offset to continue (id order only)
};

// How set_payload changes the payload of each selected point.
enum class PayloadWriteMode {
    merge,      // set the given keys, keep the others (Qdrant's "set payload")
    overwrite,  // replace the whole payload (Qdrant's "overwrite payload")
};

// Which points an update applies to: a list of ids or a filter.
struct PointSelector {
    std::vector<PointId> ids{};
    std::optional<Filter> filter{};  // used when set (ids ignored)

    // Qdrant's {"points": [..]} or {"filter": {..}}. Errors: invalid_argument.
    [[nodiscard]] static PointSelector from_json(const nlohmann::json& body);
};

// The outcome of a write: the sequence number it got in the log and how many points it touched.
struct UpdateResult {
    std::uint64_t operation_id = 0;
    std::size_t point_count = 0;
};

struct CollectionInfo {
    std::string name{};
    CollectionConfig config{};
    std::size_t point_count = 0;             // live points
    std::map<std::string, std::size_t> vector_counts{};  // points holding each named vector
    std::size_t deleted_slot_count = 0;      // freed slots waiting for reuse
    std::uint64_t disk_bytes = 0;            // checkpoint files + log
    std::uint64_t memory_bytes = 0;          // vectors + graph + payloads (estimate)
    std::uint64_t wal_bytes = 0;             // log not yet folded into a checkpoint
    std::uint64_t last_operation_id = 0;
    std::uint64_t wal_dropped_bytes = 0;     // torn tail dropped when the collection was opened
    std::map<std::string, std::size_t> payload_index_points{};  // key -> points indexed

    // {"status":"green","points_count":..,"indexed_vectors_count":..,"config":{..},...}
    [[nodiscard]] nlohmann::json to_json() const;
};

// ---------------------------------------------------------------------------------------------
// Collection

class Collection {
public:
    struct State;  // private implementation (src/store/collection.cpp)
    explicit Collection(std::unique_ptr<State> state);
    ~Collection();
    Collection(const Collection&) = delete;
    Collection& operator=(const Collection&) = delete;

    [[nodiscard]] const std::string& name() const;
    [[nodiscard]] const CollectionConfig& config() const;
    // Counts, configuration, disk and memory use.
    [[nodiscard]] CollectionInfo info() const;

    // Inserts or replaces points, all or nothing: every point is validated first (vector names,
    // sizes, finite components, payload an object nested at most 64 levels, at least one vector)
    // and nothing is written if one fails. Errors: invalid_argument naming the point and field;
    // unavailable if the store is read-only; io if the log cannot be written.
    UpdateResult upsert(std::span<const Point> points);
    UpdateResult upsert(std::initializer_list<Point> points) {
        return upsert(std::span<const Point>(points.begin(), points.size()));
    }

    // The points with these ids, in the order asked; missing ids are skipped.
    [[nodiscard]] std::vector<Point> get(std::span<const PointId> ids,
                                         const PayloadSelector& with_payload = PayloadSelector::all(),
                                         const VectorSelector& with_vector = VectorSelector::all()) const;
    [[nodiscard]] std::optional<Point> get(const PointId& id) const;

    // Deletes the selected points (missing ids are ignored).
    UpdateResult delete_points(const PointSelector& selector);
    // Payload updates on the selected points. set_payload requires an object. delete_payload_keys
    // removes top-level keys (or dotted paths). clear_payload empties the payload.
    UpdateResult set_payload(const PointSelector& selector, const nlohmann::json& payload,
                             PayloadWriteMode mode = PayloadWriteMode::merge);
    UpdateResult delete_payload_keys(const PointSelector& selector, std::span<const std::string> keys);
    UpdateResult clear_payload(const PointSelector& selector);

    // Points in id order (or by a payload value), after `offset`, at most `limit`.
    [[nodiscard]] ScrollResult scroll(const ScrollRequest& request) const;
    // The number of points matching the filter (all points when empty).
    [[nodiscard]] std::size_t count(const std::optional<Filter>& filter = std::nullopt) const;

    // Nearest neighbours, best first. Errors: invalid_argument (unknown vector name, wrong size,
    // NaN or infinite components, limit 0 or above 100000).
    [[nodiscard]] std::vector<ScoredPoint> search(const Query& query) const;
    [[nodiscard]] std::vector<std::vector<ScoredPoint>> search_batch(std::span<const Query> queries) const;

    // Payload indexes make selective match/range filters on the key fast.
    UpdateResult create_payload_index(const std::string& key, PayloadIndexType type);
    UpdateResult delete_payload_index(const std::string& key);

    // Forces the log to disk now (whatever the fsync policy).
    void flush();
    // Folds the log into a fresh checkpoint now (normally done in the background).
    void checkpoint();

    [[nodiscard]] State& state() const { return *state_; }

private:
    std::unique_ptr<State> state_{};
};

// ---------------------------------------------------------------------------------------------
// Store

enum class FsyncPolicy {
    always,    // fsync the log before every write returns (no acknowledged write is ever lost)
    interval,  // fsync every fsync_interval_ms in the background (a crash of the OS may lose that much)
    never,     // leave it to the OS (a process crash loses nothing, an OS crash may)
};
[[nodiscard]] FsyncPolicy parse_fsync_policy(std::string_view name);  // invalid_argument

struct StoreOptions {
    bool read_only = false;      // no writes; shares the directory with other readers only
    bool create = true;          // create the directory when missing
    FsyncPolicy fsync = FsyncPolicy::always;
    std::uint32_t fsync_interval_ms = 100;
    // Fold a collection's log into a checkpoint once it is this large (background thread).
    std::uint64_t checkpoint_wal_bytes = 8ull << 20;
    bool background = true;      // run the background fsync/checkpoint thread
    std::size_t thread_count = 0;  // exact-search threads; 0 = one per available core
};

class Store {
public:
    struct State;
    // Opens (or creates) a store directory and takes its write lock.
    // Errors: unavailable (another process has it open for writing, naming its pid), not_found
    // (missing with create=false), corrupt (a damaged manifest, naming the file), io.
    [[nodiscard]] static std::unique_ptr<Store> open(const std::filesystem::path& dir,
                                                     const StoreOptions& options = {});
    // $TESSERA_HOME/store, else $XDG_DATA_HOME/tessera/store, else ~/.local/share/tessera/store.
    [[nodiscard]] static std::filesystem::path default_dir();

    explicit Store(std::unique_ptr<State> state);
    ~Store();  // stops the background thread, syncs the logs
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    [[nodiscard]] const std::filesystem::path& dir() const;

    // Names: 1..255 characters of [A-Za-z0-9_.-], not starting with '.'.
    // Errors: invalid_argument (bad name or config), unsupported (exists already: use
    // has_collection), unavailable (read-only).
    std::shared_ptr<Collection> create_collection(const std::string& name, const CollectionConfig& config);
    // Errors: not_found; corrupt when a checkpoint file of the collection is damaged (naming the
    // file; other collections stay usable).
    [[nodiscard]] std::shared_ptr<Collection> collection(const std::string& name);
    [[nodiscard]] bool has_collection(const std::string& name) const;
    [[nodiscard]] std::vector<std::string> list_collections() const;
    // Returns false when it did not exist.
    bool delete_collection(const std::string& name);

    // Writes the whole store (every collection, checkpointed) into one file.
    // Errors: io. Returns the bytes written.
    std::uint64_t create_snapshot(const std::filesystem::path& file);
    // Unpacks a snapshot into `dir`, which must not exist or be empty unless `overwrite`.
    // Errors: corrupt (bad checksum, naming the entry), invalid_argument (dir not empty), io.
    static void restore_snapshot(const std::filesystem::path& file, const std::filesystem::path& dir,
                                 bool overwrite = false);

    [[nodiscard]] const StoreOptions& options() const;

private:
    std::unique_ptr<State> state_{};
};

}  // namespace tessera
