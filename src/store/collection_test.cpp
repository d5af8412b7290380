#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>

#include "store/test_util.hpp"
#include "tessera/store.hpp"

namespace tessera {
namespace {

using nlohmann::json;
using store::testing::TempDir;

CollectionConfig simple_config(std::size_t dim = 4, Distance distance = Distance::cosine) {
    CollectionConfig config;
    config.vectors[""] = VectorConfig{.size = dim, .distance = distance};
    return config;
}

StoreOptions quiet_options() {
    StoreOptions options;
    options.background = false;
    options.thread_count = 2;
    return options;
}

Point make_point(PointId id, std::vector<float> vector, json payload = json::object()) {
    Point point;
    point.id = id;
    point.vectors[""] = std::move(vector);
    point.payload = std::move(payload);
    return point;
}

template <typename F>
void expect_error(F&& body, ErrorCode code, const std::string& message) {
    try {
        body();
        ADD_FAILURE() << "no error, expected: " << message;
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), code) << err.what();
        EXPECT_NE(std::string(err.what()).find(message), std::string::npos) << err.what();
    }
}

TEST(Store, CreateListInfoDeleteCollections) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    EXPECT_TRUE(store->list_collections().empty());
    auto notes = store->create_collection("notes", simple_config());
    store->create_collection("images", simple_config(8, Distance::euclid));
    EXPECT_EQ(store->list_collections(), (std::vector<std::string>{"images", "notes"}));
    expect_error([&] { store->create_collection("notes", simple_config()); }, ErrorCode::unsupported, "already exists");
    expect_error([&] { store->create_collection("../x", simple_config()); }, ErrorCode::invalid_argument, "collection name");
    notes->upsert({make_point(1, {1, 0, 0, 0})});
    const CollectionInfo info = notes->info();
    EXPECT_EQ(info.point_count, 1u);
    EXPECT_EQ(info.vector_counts.at(""), 1u);
    EXPECT_GT(info.disk_bytes, 0u);
    EXPECT_GT(info.memory_bytes, 0u);
    EXPECT_EQ(info.to_json()["points_count"], 1);
    EXPECT_EQ(info.to_json()["config"]["params"]["vectors"]["distance"], "Cosine");
    EXPECT_TRUE(store->delete_collection("notes"));
    EXPECT_FALSE(store->delete_collection("notes"));
    EXPECT_EQ(store->list_collections(), (std::vector<std::string>{"images"}));
    expect_error([&] { (void)store->collection("notes"); }, ErrorCode::not_found, "collection 'notes'");
    expect_error([&] { notes->upsert({make_point(2, {1, 0, 0, 0})}); }, ErrorCode::not_found, "deleted");
}

TEST(Store, UpsertGetDeleteAndReopen) {
    TempDir dir;
    const PointId uuid = PointId::parse("550e8400-e29b-41d4-a716-446655440000");
    {
        auto store = Store::open(dir.path(), quiet_options());
        auto c = store->create_collection("c", simple_config());
        c->upsert({make_point(1, {1, 0, 0, 0}, {{"a", 1}}), make_point(uuid, {0, 2, 0, 0}, {{"a", 2}}),
                   make_point(3, {0, 0, 3, 0})});
        c->upsert({make_point(1, {0, 0, 0, 5}, {{"a", 10}})});  // replace
        const auto one = c->get(PointId(1));
        ASSERT_TRUE(one);
        EXPECT_EQ(one->payload, json({{"a", 10}}));
        EXPECT_EQ(one->vectors.at(""), (std::vector<float>{0, 0, 0, 1}));  // normalised for cosine
        EXPECT_EQ(c->delete_points(PointSelector{.ids = {PointId(3), PointId(99)}}).point_count, 1u);
        EXPECT_FALSE(c->get(PointId(3)));
        EXPECT_EQ(c->count(), 2u);
    }
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->collection("c");
    EXPECT_EQ(c->count(), 2u);
    const std::vector<PointId> ids{uuid, PointId(1), PointId(3)};
    const auto points = c->get(ids);
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].id, uuid);
    EXPECT_EQ(points[0].payload["a"], 2);
    EXPECT_EQ(points[1].vectors.at("")[3], 1.0f);
    // Checkpoint, reopen again: same state from the segment files and an empty log.
    c->checkpoint();
    EXPECT_EQ(c->info().wal_bytes, 0u);
    store.reset();
    store = Store::open(dir.path(), quiet_options());
    EXPECT_EQ(store->collection("c")->get(PointId(1))->payload["a"], 10);
    EXPECT_EQ(store->collection("c")->count(), 2u);
}

TEST(Store, PayloadOperations) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->create_collection("c", simple_config());
    c->upsert({make_point(1, {1, 0, 0, 0}, {{"a", 1}, {"b", {{"c", 2}, {"d", 3}}}}),
               make_point(2, {0, 1, 0, 0}, {{"a", 2}})});
    c->set_payload(PointSelector{.ids = {PointId(1)}}, {{"z", "new"}});
    EXPECT_EQ(c->get(PointId(1))->payload["z"], "new");
    EXPECT_EQ(c->get(PointId(1))->payload["a"], 1);
    c->delete_payload_keys(PointSelector{.ids = {PointId(1)}}, std::vector<std::string>{"b.c", "z"});
    EXPECT_EQ(c->get(PointId(1))->payload, json({{"a", 1}, {"b", {{"d", 3}}}}));
    c->set_payload(PointSelector{.filter = Filter::from_json(json::parse(R"({"must":[{"key":"a","match":{"value":2}}]})"))},
                   {{"only", true}}, PayloadWriteMode::overwrite);
    EXPECT_EQ(c->get(PointId(2))->payload, json({{"only", true}}));
    c->clear_payload(PointSelector{.ids = {PointId(1)}});
    EXPECT_EQ(c->get(PointId(1))->payload, json::object());
    const auto selected = c->get(std::vector<PointId>{PointId(2)}, PayloadSelector::none(), VectorSelector::none());
    EXPECT_EQ(selected[0].payload, json::object());
    EXPECT_TRUE(selected[0].vectors.empty());
    expect_error([&] { c->set_payload(PointSelector{.ids = {PointId(1)}}, json::array()); }, ErrorCode::invalid_argument,
                 "expected a JSON object");
    // Delete by filter.
    c->set_payload(PointSelector{.ids = {PointId(1)}}, {{"drop", 1}});
    EXPECT_EQ(c->delete_points(PointSelector{.filter = Filter::from_json(json::parse(R"({"must":[{"key":"drop","match":{"value":1}}]})"))}).point_count, 1u);
    EXPECT_EQ(c->count(), 1u);
}

TEST(Store, ScrollCountAndOrder) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->create_collection("c", simple_config());
    std::vector<Point> points;
    for (std::uint64_t id = 1; id <= 25; ++id) points.push_back(make_point(id, {1, float(id), 0, 0}, {{"rank", 100 - int(id)}, {"even", id % 2 == 0}}));
    c->upsert(points);
    ScrollRequest request;
    request.limit = 10;
    std::vector<std::uint64_t> seen;
    while (true) {
        const ScrollResult page = c->scroll(request);
        for (const auto& p : page.points) seen.push_back(p.id.number());
        if (!page.next_page_offset) break;
        request.offset = page.next_page_offset;
    }
    ASSERT_EQ(seen.size(), 25u);
    for (std::size_t idx = 0; idx < seen.size(); ++idx) EXPECT_EQ(seen[idx], idx + 1);
    const Filter even = Filter::from_json(json::parse(R"({"must":[{"key":"even","match":{"value":true}}]})"));
    EXPECT_EQ(c->count(even), 12u);
    ScrollRequest ordered = ScrollRequest::from_json(json::parse(R"({"limit":3,"order_by":{"key":"rank","direction":"asc"}})"));
    const auto top = c->scroll(ordered);
    ASSERT_EQ(top.points.size(), 3u);
    EXPECT_EQ(top.points[0].id, PointId(25));
    EXPECT_EQ(top.points[2].id, PointId(23));
    ordered.order_by->descending = true;
    ordered.order_by->start_from = 90;
    EXPECT_EQ(c->scroll(ordered).points[0].id, PointId(10));
}

TEST(Store, SearchOptions) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->create_collection("c", simple_config(2, Distance::euclid));
    std::vector<Point> points;
    for (std::uint64_t id = 0; id < 10; ++id) points.push_back(make_point(id, {float(id), 0}, {{"id", id}, {"k", "v"}}));
    c->upsert(points);
    Query query;
    query.vector = {0.1f, 0};
    query.limit = 3;
    auto hits = c->search(query);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(hits[0].id, PointId(0));
    EXPECT_NEAR(hits[0].score, 0.1f, 1e-6);  // euclid: the distance itself
    EXPECT_EQ(hits[1].id, PointId(1));
    EXPECT_TRUE(hits[0].payload);
    query.offset = 2;
    EXPECT_EQ(c->search(query)[0].id, PointId(2));
    query.offset = 0;
    query.score_threshold = 1.5f;
    EXPECT_EQ(c->search(query).size(), 2u);
    query.score_threshold.reset();
    query.with_payload = PayloadSelector::include({"k"});
    query.with_vector = VectorSelector::all();
    hits = c->search(query);
    EXPECT_EQ(*hits[0].payload, json({{"k", "v"}}));
    EXPECT_EQ(hits[0].vectors.at(""), (std::vector<float>{0, 0}));
    query.filter = Filter::from_json(json::parse(R"({"must":[{"key":"id","range":{"gte":5}}]})"));
    query.exact = true;
    EXPECT_EQ(c->search(query)[0].id, PointId(5));
    const auto batch = c->search_batch(std::vector<Query>{query, Query{.vector = {9, 0}, .limit = 1}});
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[1][0].id, PointId(9));
    const json body = json::parse(R"({"vector":[3,0],"limit":1,"with_payload":true,"params":{"exact":true}})");
    EXPECT_EQ(c->search(Query::from_json(body))[0].to_json()["id"], 3);
}

TEST(Store, NamedVectorsAndStorageTypes) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    const CollectionConfig config = CollectionConfig::from_json(json::parse(R"({"vectors":{
        "text":{"size":3,"distance":"Dot","datatype":"float16","model":"BAAI/bge-small-en-v1.5"},
        "image":{"size":2,"distance":"Manhattan","datatype":"uint8"}}})"));
    EXPECT_EQ(config.vectors.at("text").storage, StorageType::f16);
    EXPECT_EQ(config.vectors.at("text").model, "BAAI/bge-small-en-v1.5");
    auto c = store->create_collection("mm", config);
    c->upsert({Point{.id = 1, .vectors = {{"text", {1, 2, 3}}, {"image", {0, 1}}}},
               Point{.id = 2, .vectors = {{"text", {3, 2, 1}}}}});
    EXPECT_EQ(c->info().vector_counts.at("image"), 1u);
    auto hits = c->search(Query{.vector = {0, 0.9f}, .using_vector = "image", .limit = 5});
    ASSERT_EQ(hits.size(), 1u);  // point 2 has no image vector
    EXPECT_NEAR(hits[0].score, 0.1f, 0.02f);
    hits = c->search(Query{.vector = {1, 0, 0}, .using_vector = "text", .limit = 5});
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].id, PointId(2));
    EXPECT_NEAR(hits[0].score, 3.0f, 0.01f);
    const json round = CollectionConfig::from_json(config.to_json()).to_json();
    EXPECT_EQ(round, config.to_json());
}

TEST(Store, BadInputIsRefusedAndNothingIsWritten) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->create_collection("c", simple_config(3));
    c->upsert({make_point(1, {1, 0, 0})});
    const std::uint64_t wal_before = c->info().wal_bytes;
    json deep = 1;
    for (int level = 0; level < 10000; ++level) deep = json{{"a", std::move(deep)}};
    // Each batch has one good point first: all or nothing.
    expect_error([&] { c->upsert({make_point(2, {1, 0, 0}), make_point(3, {1, 0})}); }, ErrorCode::invalid_argument,
                 "point 3: the default vector has 2 dimensions, expected 3");
    expect_error([&] { c->upsert({make_point(2, {1, 0, 0}), make_point(4, {1, NAN, 0})}); }, ErrorCode::invalid_argument,
                 "point 4: the default vector[1] is NaN");
    expect_error([&] { c->upsert({make_point(2, {1, 0, 0}), make_point(5, {INFINITY, 0, 0})}); }, ErrorCode::invalid_argument,
                 "is infinite");
    expect_error([&] { c->upsert({Point{.id = 6, .vectors = {{"nope", {1, 0, 0}}}}}); }, ErrorCode::invalid_argument,
                 "point 6: unknown vector name 'nope'");
    Point deep_point;
    deep_point.id = 7;
    deep_point.vectors[""] = {1, 0, 0};
    deep_point.payload = std::move(deep);  // no copy: copying recurses 10,000 levels
    expect_error([&] { c->upsert(std::span<const Point>(&deep_point, 1)); }, ErrorCode::invalid_argument,
                 "point 7.payload: nested deeper than 64 levels");
    expect_error([&] { c->upsert({make_point(8, {1, 0, 0}, json::array())}); }, ErrorCode::invalid_argument,
                 "expected a JSON object");
    expect_error([&] { c->upsert({Point{.id = 9}}); }, ErrorCode::invalid_argument, "point 9: no vector");
    expect_error([&] { c->upsert({make_point(10, {0, 0, 0})}); }, ErrorCode::invalid_argument, "all zeros");
    expect_error([&] { (void)c->search(Query{.vector = {1, 0}}); }, ErrorCode::invalid_argument, "2 dimensions, expected 3");
    expect_error([&] { (void)c->search(Query{.vector = {1, 0, 0}, .using_vector = "x"}); }, ErrorCode::invalid_argument,
                 "unknown vector name 'x'");
    expect_error([&] { (void)c->search(Query{.vector = {1, 0, 0}, .limit = 0}); }, ErrorCode::invalid_argument, "limit");
    expect_error([&] { (void)Query::from_json(json::parse(R"({"vector":[1,0,0],"filter":{"must":5}})")); },
                 ErrorCode::invalid_argument, "filter.must");
    expect_error([&] { (void)Point::from_json(json::parse(R"({"id":-1,"vector":[1,0,0]})")); }, ErrorCode::invalid_argument,
                 "point id");
    expect_error([&] { (void)PointId::parse("not-a-uuid"); }, ErrorCode::invalid_argument, "not-a-uuid");
    expect_error([&] { (void)CollectionConfig::from_json(json::parse(R"({"vectors":{"size":0}})")); },
                 ErrorCode::invalid_argument, "vectors.size");
    expect_error([&] { (void)CollectionConfig::from_json(json::parse(R"({"vectors":{"size":3,"distance":"Hamming"}})")); },
                 ErrorCode::invalid_argument, "unknown distance 'Hamming'");
    EXPECT_EQ(c->count(), 1u);
    EXPECT_EQ(c->info().wal_bytes, wal_before);
    store.reset();
    store = Store::open(dir.path(), quiet_options());
    EXPECT_EQ(store->collection("c")->count(), 1u);
}

TEST(Store, SecondWriterIsRefused) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    expect_error([&] { (void)Store::open(dir.path(), quiet_options()); }, ErrorCode::unavailable,
                 "already open for writing by another process (pid ");
    StoreOptions read_only = quiet_options();
    read_only.read_only = true;
    store->create_collection("c", simple_config())->upsert({make_point(1, {1, 0, 0, 0})});
    auto reader = Store::open(dir.path(), read_only);
    EXPECT_EQ(reader->collection("c")->count(), 1u);
    expect_error([&] { reader->collection("c")->upsert({make_point(2, {1, 0, 0, 0})}); }, ErrorCode::unavailable, "read-only");
}

TEST(Store, TruncatedLogTailIsDropped) {
    TempDir dir;
    {
        auto store = Store::open(dir.path(), quiet_options());
        auto c = store->create_collection("c", simple_config());
        for (std::uint64_t id = 0; id < 5; ++id) c->upsert({make_point(id, {1, float(id), 0, 0})});
    }
    const auto wal = dir.path() / "collections" / "c" / "wal.log";
    const auto size = std::filesystem::file_size(wal);
    std::filesystem::resize_file(wal, size - 7);  // tear the last record
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->collection("c");
    EXPECT_EQ(c->count(), 4u);
    EXPECT_FALSE(c->get(PointId(4)));
    EXPECT_GT(c->info().wal_dropped_bytes, 0u);
    c->upsert({make_point(9, {1, 0, 0, 0})});  // appended after the good records
    store.reset();
    store = Store::open(dir.path(), quiet_options());
    EXPECT_EQ(store->collection("c")->count(), 5u);
    EXPECT_EQ(store->collection("c")->info().wal_dropped_bytes, 0u);
}

TEST(Store, CorruptedSegmentNamesTheFileAndOtherCollectionsStayReadable) {
    TempDir dir;
    {
        auto store = Store::open(dir.path(), quiet_options());
        for (const char* name : {"good", "bad"}) {
            auto c = store->create_collection(name, simple_config());
            for (std::uint64_t id = 0; id < 50; ++id) c->upsert({make_point(id, {1, float(id), 0, 0}, {{"n", id}})});
            c->checkpoint();
        }
    }
    const auto segment = dir.path() / "collections" / "bad" / "points-1.seg";
    ASSERT_TRUE(std::filesystem::exists(segment));
    {
        std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(40);
        file.put('\x5a');
    }
    auto store = Store::open(dir.path(), quiet_options());
    expect_error([&] { (void)store->collection("bad"); }, ErrorCode::corrupt, segment.string() + ": checksum mismatch");
    EXPECT_EQ(store->collection("good")->count(), 50u);
    EXPECT_EQ(store->list_collections().size(), 2u);
}

// The vector index is streamed from its file; damage anywhere in it (early, in the middle of a
// frame, or a cut-off tail) still names the file, and a clean file reopens with the same hits.
TEST(Store, CorruptedVectorFileNamesTheFile) {
    TempDir dir;
    {
        auto store = Store::open(dir.path(), quiet_options());
        auto c = store->create_collection("c", simple_config());
        for (std::uint64_t id = 0; id < 300; ++id) c->upsert({make_point(id, {1, float(id % 17), float(id % 5), 1}, {})});
        c->checkpoint();
    }
    const auto vectors = dir.path() / "collections" / "c" / "vectors-1-0.idx";
    ASSERT_TRUE(std::filesystem::exists(vectors));
    const auto size = std::filesystem::file_size(vectors);
    const auto pristine = dir.path() / "pristine.idx";
    std::filesystem::copy_file(vectors, pristine);
    {
        auto store = Store::open(dir.path(), quiet_options());
        const auto hits = store->collection("c")->search(Query{.vector = {1, 3, 2, 1}, .limit = 5});
        ASSERT_EQ(hits.size(), 5u);
    }
    for (const std::uintmax_t offset : {std::uintmax_t(20), std::uintmax_t(size / 2), std::uintmax_t(size - 1)}) {
        std::filesystem::copy_file(pristine, vectors, std::filesystem::copy_options::overwrite_existing);
        {
            std::fstream file(vectors, std::ios::in | std::ios::out | std::ios::binary);
            file.seekg(std::streamoff(offset));
            const char old = char(file.get());
            file.seekp(std::streamoff(offset));
            file.put(char(old ^ 0x5a));
        }
        auto store = Store::open(dir.path(), quiet_options());
        expect_error([&] { (void)store->collection("c"); }, ErrorCode::corrupt, vectors.string() + ": checksum mismatch");
    }
    std::filesystem::copy_file(pristine, vectors, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(vectors, size - 3);
    {
        auto store = Store::open(dir.path(), quiet_options());
        expect_error([&] { (void)store->collection("c"); }, ErrorCode::corrupt, vectors.string() + ": frame at offset 0");
    }
}

TEST(Store, SnapshotAndRestore) {
    TempDir dir;
    TempDir target;
    const auto file = dir.path() / "all.snapshot";
    {
        auto store = Store::open(dir.path() / "store", quiet_options());
        auto c = store->create_collection("c", simple_config());
        for (std::uint64_t id = 0; id < 30; ++id) c->upsert({make_point(id, {1, float(id), 0, 0}, {{"n", id}})});
        store->create_collection("empty", simple_config());
        EXPECT_GT(store->create_snapshot(file), 0u);
        c->upsert({make_point(100, {1, 0, 0, 0})});  // after the snapshot
    }
    const auto restored = target.path() / "restored";
    Store::restore_snapshot(file, restored);
    {
        auto store = Store::open(restored, quiet_options());
        EXPECT_EQ(store->list_collections(), (std::vector<std::string>{"c", "empty"}));
        auto c = store->collection("c");
        EXPECT_EQ(c->count(), 30u);
        EXPECT_EQ(c->get(PointId(7))->payload["n"], 7);
        EXPECT_EQ(c->search(Query{.vector = {1, 7, 0, 0}, .limit = 1, .exact = true})[0].id, PointId(7));
    }
    expect_error([&] { Store::restore_snapshot(file, restored); }, ErrorCode::invalid_argument, "not empty");
    // A damaged snapshot is refused and leaves the target untouched.
    {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\x01');
    }
    expect_error([&] { Store::restore_snapshot(file, target.path() / "other"); }, ErrorCode::corrupt, "checksum mismatch");
    EXPECT_FALSE(std::filesystem::exists(target.path() / "other"));
}

TEST(Store, PayloadIndexesGiveTheSameAnswersAsAScan) {
    TempDir dir;
    auto store = Store::open(dir.path(), quiet_options());
    auto c = store->create_collection("c", simple_config());
    std::mt19937 rng(3);
    std::vector<Point> points;
    const char* cities[] = {"a", "b", "c", "d"};
    for (std::uint64_t id = 0; id < 400; ++id) {
        points.push_back(make_point(id, store::testing::random_vector(rng, 4),
                                    {{"city", cities[rng() % 4]}, {"n", int(rng() % 50)}}));
    }
    c->upsert(points);
    const std::vector<json> filters = {
        json::parse(R"({"must":[{"key":"city","match":{"value":"b"}}]})"),
        json::parse(R"({"must":[{"key":"n","range":{"gte":10,"lt":20}},{"key":"city","match":{"any":["a","c"]}}]})"),
        json::parse(R"({"must":[{"key":"n","match":{"value":7}}]})"),
    };
    std::vector<std::size_t> before;
    for (const auto& f : filters) before.push_back(c->count(Filter::from_json(f)));
    c->create_payload_index("city", PayloadIndexType::keyword);
    c->create_payload_index("n", PayloadIndexType::integer);
    EXPECT_EQ(c->info().payload_index_points.at("city"), 400u);
    for (std::size_t idx = 0; idx < filters.size(); ++idx) EXPECT_EQ(c->count(Filter::from_json(filters[idx])), before[idx]);
    // Indexes follow updates and deletes.
    c->set_payload(PointSelector{.ids = {PointId(0)}}, {{"city", "zz"}});
    c->delete_points(PointSelector{.ids = {PointId(1)}});
    EXPECT_EQ(c->count(Filter::from_json(json::parse(R"({"must":[{"key":"city","match":{"value":"zz"}}]})"))), 1u);
    store.reset();
    store = Store::open(dir.path(), quiet_options());
    EXPECT_EQ(store->collection("c")->config().payload_indexes.size(), 2u);
    EXPECT_EQ(store->collection("c")->count(Filter::from_json(json::parse(R"({"must":[{"key":"city","match":{"value":"zz"}}]})"))), 1u);
}

}  // namespace
}  // namespace tessera
