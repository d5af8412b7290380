// Filters against an independent brute-force oracle: random payloads built from plain records,
// random filters built together with a C++ predicate over those records; count() and filtered
// search (exact fallback and in-graph filtering, with and without payload indexes) must agree
// with the predicate.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>

#include "store/test_util.hpp"
#include "tessera/store.hpp"

namespace tessera {
namespace {

using nlohmann::json;

struct Record {
    std::optional<std::string> color;  // missing when nullopt
    int n = 0;
    std::vector<std::string> tags;
    std::optional<double> score;       // meta.score, may be missing
    std::vector<float> vector;
};

struct RandomFilter {
    json filter;
    std::function<bool(const Record&)> predicate;
};

const char* kColors[] = {"red", "green", "blue"};
const char* kTags[] = {"a", "b", "c", "d"};

RandomFilter random_condition(std::mt19937& rng) {
    switch (rng() % 6) {
        case 0: {
            const std::string color = kColors[rng() % 3];
            return {{{"key", "color"}, {"match", {{"value", color}}}}, [color](const Record& r) { return r.color == color; }};
        }
        case 1: {
            const int lo = int(rng() % 100), hi = lo + int(rng() % 40);
            return {{{"key", "n"}, {"range", {{"gte", lo}, {"lt", hi}}}}, [lo, hi](const Record& r) { return r.n >= lo && r.n < hi; }};
        }
        case 2: {
            const std::string a = kTags[rng() % 4], b = kTags[rng() % 4];
            return {{{"key", "tags"}, {"match", {{"any", {a, b}}}}}, [a, b](const Record& r) {
                        return std::find(r.tags.begin(), r.tags.end(), a) != r.tags.end() ||
                               std::find(r.tags.begin(), r.tags.end(), b) != r.tags.end();
                    }};
        }
        case 3: {
            const double bound = double(rng() % 100) / 100.0;
            return {{{"key", "meta.score"}, {"range", {{"gt", bound}}}},
                    [bound](const Record& r) { return r.score && *r.score > bound; }};
        }
        case 4:
            return {{{"is_empty", {{"key", "tags"}}}}, [](const Record& r) { return r.tags.empty(); }};
        default: {
            const std::string color = kColors[rng() % 3];
            return {{{"key", "color"}, {"match", {{"except", {color}}}}},
                    [color](const Record& r) { return r.color && *r.color != color; }};
        }
    }
}

RandomFilter random_filter(std::mt19937& rng, int depth) {
    json filter = json::object();
    std::vector<std::function<bool(const Record&)>> must, should, must_not;
    auto child = [&]() { return depth > 0 && rng() % 4 == 0 ? random_filter(rng, depth - 1) : random_condition(rng); };
    // At least one must: an empty object is not a valid condition.
    for (unsigned idx = 0, count = 1 + rng() % 2; idx < count; ++idx) {
        auto c = child();
        filter["must"].push_back(c.filter);
        must.push_back(c.predicate);
    }
    for (unsigned idx = 0, count = rng() % 3; idx < count; ++idx) {
        auto c = child();
        filter["should"].push_back(c.filter);
        should.push_back(c.predicate);
    }
    for (unsigned idx = 0, count = rng() % 2; idx < count; ++idx) {
        auto c = child();
        filter["must_not"].push_back(c.filter);
        must_not.push_back(c.predicate);
    }
    return {filter, [must, should, must_not](const Record& r) {
                for (const auto& p : must) {
                    if (!p(r)) return false;
                }
                for (const auto& p : must_not) {
                    if (p(r)) return false;
                }
                if (should.empty()) return true;
                return std::any_of(should.begin(), should.end(), [&](const auto& p) { return p(r); });
            }};
}

TEST(FilterRandom, CountAndSearchAgreeWithBruteForce) {
    store::testing::TempDir dir;
    StoreOptions options;
    options.background = false;
    auto store = Store::open(dir.path(), options);
    CollectionConfig config;
    config.vectors[""] = VectorConfig{.size = 8, .distance = Distance::euclid, .hnsw = {.full_scan_threshold = 60}};
    auto collection = store->create_collection("c", config);

    std::mt19937 rng(77);
    std::vector<Record> records(1500);
    std::vector<Point> points;
    for (std::size_t id = 0; id < records.size(); ++id) {
        Record& r = records[id];
        json payload = json::object();
        if (rng() % 5 != 0) {
            r.color = kColors[rng() % 3];
            payload["color"] = *r.color;
        }
        r.n = int(rng() % 140);
        payload["n"] = r.n;
        for (const char* tag : kTags) {
            if (rng() % 3 == 0) r.tags.push_back(tag);
        }
        if (!r.tags.empty() || rng() % 2) payload["tags"] = r.tags;  // [] and missing are both empty
        if (rng() % 4 != 0) {
            r.score = double(rng() % 1000) / 1000.0;
            payload["meta"] = {{"score", *r.score}};
        }
        r.vector = store::testing::random_vector(rng, 8, false);
        points.push_back(Point{.id = id, .vectors = {{"", r.vector}}, .payload = payload});
    }
    collection->upsert(points);

    for (int round = 0; round < 2; ++round) {
        if (round == 1) {  // the same answers through payload indexes
            collection->create_payload_index("color", PayloadIndexType::keyword);
            collection->create_payload_index("n", PayloadIndexType::integer);
            collection->create_payload_index("tags", PayloadIndexType::keyword);
        }
        std::size_t graph_queries = 0;
        for (int trial = 0; trial < 150; ++trial) {
            const RandomFilter f = random_filter(rng, 2);
            const Filter filter = Filter::from_json(f.filter);
            std::vector<std::uint64_t> allowed;
            for (std::size_t id = 0; id < records.size(); ++id) {
                if (f.predicate(records[id])) allowed.push_back(id);
            }
            ASSERT_EQ(collection->count(filter), allowed.size()) << f.filter.dump();

            const std::vector<float> query = store::testing::random_vector(rng, 8, false);
            std::vector<std::pair<double, std::uint64_t>> truth;
            for (const auto id : allowed) {
                double d = 0;
                for (std::size_t i = 0; i < 8; ++i) d += double(query[i] - records[id].vector[i]) * (query[i] - records[id].vector[i]);
                truth.emplace_back(d, id);
            }
            std::sort(truth.begin(), truth.end());
            const std::size_t k = std::min<std::size_t>(10, truth.size());
            std::set<std::uint64_t> expected;
            for (std::size_t idx = 0; idx < k; ++idx) expected.insert(truth[idx].second);

            const auto hits = collection->search(Query{.vector = query, .limit = 10, .filter = filter, .ef = 64});
            std::size_t found = 0;
            for (const auto& hit : hits) {
                ASSERT_TRUE(f.predicate(records[hit.id.number()])) << "result outside the filter: " << f.filter.dump();
                found += expected.count(hit.id.number());
            }
            graph_queries += allowed.size() > 60 ? 1 : 0;
            // Exact fallback must be exact; the in-graph search may miss one in a while.
            if (allowed.size() <= 60) ASSERT_EQ(found, k) << f.filter.dump();
            else EXPECT_GE(found + 1, k) << f.filter.dump();
        }
        EXPECT_GT(graph_queries, 10u);
    }
}

}  // namespace
}  // namespace tessera
