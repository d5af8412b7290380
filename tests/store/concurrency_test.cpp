// One writer and several readers on one collection, with background checkpoints and interval
// fsync running; run under ThreadSanitizer in CI (label tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "store/test_util.hpp"
#include "tessera/store.hpp"

namespace tessera {
namespace {

TEST(StoreConcurrency, OneWriterManyReadersAndBackgroundCheckpoints) {
    store::testing::TempDir dir;
    StoreOptions options;
    options.fsync = FsyncPolicy::interval;
    options.fsync_interval_ms = 5;
    options.checkpoint_wal_bytes = 16 << 10;
    options.thread_count = 2;
    auto store = Store::open(dir.path(), options);
    auto c = store->create_collection("c", CollectionConfig{.vectors = {{"", VectorConfig{.size = 8}}}});
    c->create_payload_index("group", PayloadIndexType::integer);
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> reads{0};

    std::thread writer([&] {
        std::mt19937 rng(1);
        for (std::uint64_t id = 0; id < 1500; ++id) {
            c->upsert({Point{.id = id, .vectors = {{"", store::testing::random_vector(rng, 8)}},
                             .payload = {{"id", id}, {"group", int(id % 7)}}}});
            if (id % 10 == 9) c->delete_points(PointSelector{.ids = {PointId(id - 5)}});
            if (id % 25 == 0) c->set_payload(PointSelector{.ids = {PointId(id)}}, {{"touched", true}});
        }
        done = true;
    });
    std::vector<std::thread> readers;
    for (int reader = 0; reader < 3; ++reader) {
        readers.emplace_back([&, reader] {
            std::mt19937 rng(100 + reader);
            const Filter group = Filter::from_json(nlohmann::json::parse(R"({"must":[{"key":"group","match":{"value":3}}]})"));
            while (!done) {
                Query query{.vector = store::testing::random_vector(rng, 8), .limit = 5};
                if (reader == 1) query.filter = group;
                if (reader == 2) query.exact = true;
                for (const auto& hit : c->search(query)) {
                    ASSERT_TRUE(hit.payload);
                    ASSERT_EQ((*hit.payload)["id"], hit.id.number());
                    if (reader == 1) {
                        ASSERT_EQ((*hit.payload)["group"], 3);
                    }
                }
                const auto page = c->scroll(ScrollRequest{.limit = 20});
                for (std::size_t idx = 1; idx < page.points.size(); ++idx) ASSERT_LT(page.points[idx - 1].id, page.points[idx].id);
                (void)c->count(group);
                (void)c->info();
                ++reads;
            }
        });
    }
    writer.join();
    for (auto& reader : readers) reader.join();
    EXPECT_GT(reads.load(), 0u);
    const std::size_t expected = 1500 - 150;
    EXPECT_EQ(c->count(), expected);
    c.reset();
    store.reset();
    auto reopened = Store::open(dir.path(), StoreOptions{.background = false});
    EXPECT_EQ(reopened->collection("c")->count(), expected);
}

}  // namespace
}  // namespace tessera
