// tessera's store vs Debian's hnswlib on the same vectors, M, ef_construct and ef, in one run:
// recall@10 against exact search, queries/s, build time, bytes per vector in memory and on disk,
// cold open time, and exact-search scan speed against measured memory bandwidth.
//
//   tessera_store_bench [--n 100000] [--dim 384] [--queries 1000] [--m 16] [--ef-construct 100]
//                       [--ef 16,32,...,1024] [--dataset random|clustered|both] [--noise 0.35]
//                       [--json out.json]
//
// Both indexes are built single-threaded and queried one query at a time on one thread, so the
// comparison is per core; per ef the two take turns (best of three passes each). Output: a human table on stderr, one JSON document on stdout.
#include <hnswlib/hnswlib.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu_features.hpp"
#include "core/thread_pool.hpp"
#include "tessera/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Args {
    std::size_t n = 100000;
    std::size_t dim = 384;
    std::size_t queries = 1000;
    std::size_t m = 16;
    std::size_t ef_construct = 100;
    std::vector<std::size_t> efs = {16, 32, 64, 128, 256, 512, 1024};
    std::string dataset = "both";
    std::string json_path;
    float noise = 0.35f;  // clustered set: norm of the isotropic noise added to each point
};

Args parse_args(int argc, char** argv) {
    Args args;
    for (int idx = 1; idx + 1 < argc; idx += 2) {
        const std::string key = argv[idx];
        const std::string value = argv[idx + 1];
        if (key == "--n") args.n = std::stoul(value);
        else if (key == "--dim") args.dim = std::stoul(value);
        else if (key == "--queries") args.queries = std::stoul(value);
        else if (key == "--m") args.m = std::stoul(value);
        else if (key == "--ef-construct") args.ef_construct = std::stoul(value);
        else if (key == "--dataset") args.dataset = value;
        else if (key == "--json") args.json_path = value;
        else if (key == "--noise") args.noise = std::stof(value);
        else if (key == "--ef") {
            args.efs.clear();
            std::stringstream list(value);
            std::string item;
            while (std::getline(list, item, ',')) args.efs.push_back(std::stoul(item));
        } else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            std::exit(2);
        }
    }
    return args;
}

void normalise(float* v, std::size_t dim) {
    double norm = 0;
    for (std::size_t i = 0; i < dim; ++i) norm += double(v[i]) * v[i];
    const float inv = float(1.0 / std::sqrt(norm));
    for (std::size_t i = 0; i < dim; ++i) v[i] *= inv;
}

// Random: isotropic gaussian, normalised (the hard case for HNSW at 384-d).
// Clustered, shaped like sentence embeddings (low intrinsic dimension, tight topics): 300 topic
// centres in a 32-d subspace whose axes carry a decaying spectrum (scale 1/sqrt(1 + axis/4)),
// each point = its centre + 0.5 x a fresh draw in the same subspace, projected to `dim`,
// normalised, plus isotropic noise of norm ~0.35 (0.35/sqrt(dim) per dimension; --noise), normalised.
constexpr std::size_t kTopicCount = 300;
constexpr std::size_t kLatentDim = 32;

struct Topics {
    std::vector<float> basis;    // kLatentDim rows of `dim`
    std::vector<float> centres;  // kTopicCount rows of kLatentDim
};

std::vector<float> make_data(const std::string& kind, std::size_t count, std::size_t dim, std::uint64_t seed,
                             const Topics* topics, float noise_norm) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<float> out(count * dim);
    if (kind == "random") {
        for (auto& x : out) x = normal(rng);
    } else {
        const float noise = noise_norm / std::sqrt(float(dim));
        std::vector<float> latent(kLatentDim);
        for (std::size_t row = 0; row < count; ++row) {
            const float* centre = topics->centres.data() + (rng() % kTopicCount) * kLatentDim;
            for (std::size_t axis = 0; axis < kLatentDim; ++axis) {
                latent[axis] = centre[axis] + 0.5f * normal(rng) / std::sqrt(1.0f + float(axis) / 4.0f);
            }
            float* v = out.data() + row * dim;
            for (std::size_t axis = 0; axis < kLatentDim; ++axis) {
                const float* direction = topics->basis.data() + axis * dim;
                for (std::size_t i = 0; i < dim; ++i) v[i] += latent[axis] * direction[i];
            }
            normalise(v, dim);
            for (std::size_t i = 0; i < dim; ++i) v[i] += noise * normal(rng);
        }
    }
    for (std::size_t row = 0; row < count; ++row) normalise(out.data() + row * dim, dim);
    return out;
}

Topics make_topics(std::size_t dim, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    Topics topics{std::vector<float>(kLatentDim * dim), std::vector<float>(kTopicCount * kLatentDim)};
    for (auto& x : topics.basis) x = normal(rng) / std::sqrt(float(dim));  // near-orthonormal rows
    for (std::size_t topic = 0; topic < kTopicCount; ++topic) {
        for (std::size_t axis = 0; axis < kLatentDim; ++axis) {
            topics.centres[topic * kLatentDim + axis] = normal(rng) / std::sqrt(1.0f + float(axis) / 4.0f);
        }
    }
    return topics;
}

// Streaming read bandwidth: sum a 512 MiB buffer with all cores.
double memory_bandwidth_gbs(tessera::core::ThreadPool& pool) {
    const std::size_t count = (512u << 20) / sizeof(float);
    std::vector<float> buffer(count, 1.0f);
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        std::vector<double> sums(pool.thread_count() * 64, 0);
        std::atomic<int> slot{0};
        const auto start = Clock::now();
        pool.parallel_for(count, [&](std::size_t begin, std::size_t end) {
            float acc[16] = {};
            for (std::size_t i = begin; i + 16 <= end; i += 16) {
                for (int l = 0; l < 16; ++l) acc[l] += buffer[i + l];
            }
            double total = 0;
            for (float a : acc) total += a;
            sums[std::size_t(slot++) * 8 % sums.size()] += total;
        });
        const double elapsed = seconds_since(start);
        best = std::max(best, double(count * sizeof(float)) / elapsed / 1e9);
        if (sums[0] < 0) std::printf("%f", sums[0]);  // keep the loop alive
    }
    return best;
}

std::uint64_t dir_bytes(const fs::path& dir) {
    std::uint64_t total = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (entry.is_regular_file()) total += entry.file_size();
    }
    return total;
}

double recall(const std::vector<std::vector<std::uint64_t>>& got, const std::vector<std::vector<std::uint64_t>>& truth) {
    double total = 0;
    for (std::size_t q = 0; q < truth.size(); ++q) {
        std::set<std::uint64_t> expected(truth[q].begin(), truth[q].end());
        std::size_t hits = 0;
        for (auto id : got[q]) hits += expected.count(id);
        total += double(hits) / double(truth[q].size());
    }
    return total / double(truth.size());
}

json run_dataset(const Args& args, const std::string& kind, tessera::core::ThreadPool& pool, double bandwidth) {
    const std::size_t dim = args.dim;
    const Topics topics = make_topics(dim, 7);
    const std::vector<float> data = make_data(kind, args.n, dim, 1, &topics, args.noise);
    const std::vector<float> queries = make_data(kind, args.queries, dim, 2, &topics, args.noise);
    json result = {{"dataset", kind}, {"n", args.n}, {"dim", dim}, {"queries", args.queries}, {"m", args.m},
                   {"ef_construct", args.ef_construct}};
    if (kind == "clustered") result["noise"] = args.noise;
    const fs::path work = fs::temp_directory_path() / ("tessera-store-bench-" + std::to_string(::getpid()));
    fs::remove_all(work);

    // ---- tessera: build through the public API (log writes included, fsync never).
    tessera::StoreOptions options;
    options.fsync = tessera::FsyncPolicy::never;
    options.background = false;
    options.checkpoint_wal_bytes = ~0ull;
    double build_s = 0, checkpoint_s = 0;
    std::uint64_t memory_bytes = 0;
    {
        auto store = tessera::Store::open(work / "store", options);
        tessera::CollectionConfig config;
        config.vectors[""] = tessera::VectorConfig{.size = dim, .distance = tessera::Distance::cosine,
                                                   .hnsw = {.m = args.m, .ef_construct = args.ef_construct}};
        auto collection = store->create_collection("bench", config);
        const auto start = Clock::now();
        for (std::size_t first = 0; first < args.n; first += 1000) {
            std::vector<tessera::Point> batch;
            for (std::size_t row = first; row < std::min(args.n, first + 1000); ++row) {
                tessera::Point point;
                point.id = row;
                point.vectors[""].assign(data.begin() + std::ptrdiff_t(row * dim), data.begin() + std::ptrdiff_t((row + 1) * dim));
                batch.push_back(std::move(point));
            }
            collection->upsert(batch);
        }
        build_s = seconds_since(start);
        const auto checkpoint_start = Clock::now();
        collection->checkpoint();
        checkpoint_s = seconds_since(checkpoint_start);
        memory_bytes = collection->info().memory_bytes;
    }
    const std::uint64_t disk_bytes = dir_bytes(work / "store");
    // Cold open: the best of three (both libraries), as single opens vary by 2x on a shared VM.
    constexpr int kOpenRuns = 3;
    double open_s = INFINITY;
    std::unique_ptr<tessera::Store> store;
    std::shared_ptr<tessera::Collection> collection;
    for (int run = 0; run < kOpenRuns; ++run) {
        collection.reset();
        store.reset();
        const auto open_start = Clock::now();
        store = tessera::Store::open(work / "store", options);
        collection = store->collection("bench");
        open_s = std::min(open_s, seconds_since(open_start));
    }

    // ---- exact search: the ground truth, and the scan speed.
    std::vector<std::vector<std::uint64_t>> truth(args.queries);
    const auto exact_start = Clock::now();
    for (std::size_t q = 0; q < args.queries; ++q) {
        tessera::Query query{.vector = std::vector<float>(queries.begin() + std::ptrdiff_t(q * dim), queries.begin() + std::ptrdiff_t((q + 1) * dim)),
                             .limit = 10, .with_payload = tessera::PayloadSelector::none(), .exact = true};
        for (const auto& hit : collection->search(query)) truth[q].push_back(hit.id.number());
    }
    const double exact_s = seconds_since(exact_start);
    const double scanned_gb = double(args.n) * dim * sizeof(float) * double(args.queries) / 1e9;
    result["exact"] = {{"qps", double(args.queries) / exact_s},
                       {"scan_gb_per_s", scanned_gb / exact_s},
                       {"memory_bandwidth_gb_per_s", bandwidth},
                       {"fraction_of_bandwidth", scanned_gb / exact_s / bandwidth},
                       {"threads", pool.thread_count()}};

    result["tessera"] = {{"build_s", build_s},
                         {"checkpoint_s", checkpoint_s},
                         {"memory_bytes_per_vector", double(memory_bytes) / double(args.n)},
                         {"disk_bytes_per_vector", double(disk_bytes) / double(args.n)},
                         {"cold_open_s", open_s},
                         {"isa", std::string(tessera::core::isa_level_name(tessera::core::active_isa_level()))}};

    // ---- hnswlib on the same data, M, ef_construct, ef.
    hnswlib::InnerProductSpace space(dim);
    auto index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, args.n, args.m, args.ef_construct, 100);
    const auto hnsw_start = Clock::now();
    for (std::size_t row = 0; row < args.n; ++row) index->addPoint(data.data() + row * dim, row);
    const double hnsw_build_s = seconds_since(hnsw_start);
    const fs::path file = work / "hnswlib.bin";
    index->saveIndex(file.string());
    const double hnsw_memory = double(args.n) * double(index->size_data_per_element_ + sizeof(void*) + sizeof(int)) +
                               double(args.n) * 0.0625 * double(index->size_links_per_element_);
    // What the formula leaves out: the label -> id std::unordered_map (a 32-byte heap node
    // per label in libstdc++, plus 8 bytes per bucket).
    const double hnsw_label_map = double(index->label_lookup_.size()) * 32.0 +
                                  double(index->label_lookup_.bucket_count()) * 8.0;
    double hnsw_open_s = INFINITY;
    for (int run = 0; run < kOpenRuns; ++run) {
        index.reset();
        const auto load_start = Clock::now();
        index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, file.string(), false, args.n);
        hnsw_open_s = std::min(hnsw_open_s, seconds_since(load_start));
    }

    // ---- queries: per ef, the two libraries take turns, three passes each, best pass kept, so a
    // slow spell on a shared machine hits both rather than whichever ran then.
    constexpr int kQueryPasses = 3;
    auto tessera_pass = [&](std::size_t ef, std::vector<std::vector<std::uint64_t>>& got) {
        const auto start = Clock::now();
        for (std::size_t q = 0; q < args.queries; ++q) {
            tessera::Query query{.vector = std::vector<float>(queries.begin() + std::ptrdiff_t(q * dim), queries.begin() + std::ptrdiff_t((q + 1) * dim)),
                                 .limit = 10, .with_payload = tessera::PayloadSelector::none(), .ef = ef};
            got[q].clear();
            for (const auto& hit : collection->search(query)) got[q].push_back(hit.id.number());
        }
        return seconds_since(start);
    };
    auto hnswlib_pass = [&](std::size_t ef, std::vector<std::vector<std::uint64_t>>& got) {
        index->setEf(ef);
        const auto start = Clock::now();
        for (std::size_t q = 0; q < args.queries; ++q) {
            auto heap = index->searchKnn(queries.data() + q * dim, 10);
            got[q].clear();
            while (!heap.empty()) {
                got[q].push_back(heap.top().second);
                heap.pop();
            }
        }
        return seconds_since(start);
    };
    json tessera_runs = json::array();
    json hnswlib_runs = json::array();
    for (const std::size_t ef : args.efs) {
        std::vector<std::vector<std::uint64_t>> tessera_got(args.queries), hnswlib_got(args.queries);
        double tessera_s = INFINITY, hnswlib_s = INFINITY;
        for (int pass = 0; pass < kQueryPasses; ++pass) {
            tessera_s = std::min(tessera_s, tessera_pass(ef, tessera_got));
            hnswlib_s = std::min(hnswlib_s, hnswlib_pass(ef, hnswlib_got));
        }
        tessera_runs.push_back({{"ef", ef}, {"recall_at_10", recall(tessera_got, truth)}, {"qps", double(args.queries) / tessera_s}});
        hnswlib_runs.push_back({{"ef", ef}, {"recall_at_10", recall(hnswlib_got, truth)}, {"qps", double(args.queries) / hnswlib_s}});
    }
    result["tessera"]["runs"] = tessera_runs;
    result["tessera"]["query_passes"] = kQueryPasses;
    result["hnswlib"] = {{"build_s", hnsw_build_s},
                         {"memory_bytes_per_vector", hnsw_memory / double(args.n)},
                         {"label_map_bytes_per_vector", hnsw_label_map / double(args.n)},
                         {"disk_bytes_per_vector", double(fs::file_size(file)) / double(args.n)},
                         {"cold_open_s", hnsw_open_s},
                         {"runs", hnswlib_runs}};
    index.reset();
    collection.reset();
    store.reset();
    fs::remove_all(work);
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse_args(argc, argv);
    tessera::core::ThreadPool pool(0);
    const double bandwidth = memory_bandwidth_gbs(pool);
    json report = {{"benchmark", "store_vs_hnswlib"},
                   {"cores", tessera::core::ThreadPool::available_cores()},
                   {"isa", std::string(tessera::core::isa_level_name(tessera::core::active_isa_level()))},
                   {"note", "single-threaded build and queries; exact search uses all cores"},
                   {"results", json::array()}};
    if (const char* commit = std::getenv("GIT_COMMIT")) report["commit"] = commit;
    std::vector<std::string> kinds;
    if (args.dataset == "both") kinds = {"random", "clustered"};
    else kinds = {args.dataset};
    for (const auto& kind : kinds) {
        const json result = run_dataset(args, kind, pool, bandwidth);
        report["results"].push_back(result);
        std::fprintf(stderr, "\n== %s: %zu x %zu, M=%zu ef_construct=%zu\n", kind.c_str(), args.n, args.dim, args.m, args.ef_construct);
        std::fprintf(stderr, "%-8s %10s %12s %12s %10s\n", "", "build s", "mem B/vec", "disk B/vec", "open s");
        for (const char* name : {"tessera", "hnswlib"}) {
            const json& r = result[name];
            std::fprintf(stderr, "%-8s %10.2f %12.0f %12.0f %10.3f\n", name, r["build_s"].get<double>(),
                         r["memory_bytes_per_vector"].get<double>(), r["disk_bytes_per_vector"].get<double>(),
                         r["cold_open_s"].get<double>());
        }
        std::fprintf(stderr, "%6s %14s %12s %14s %12s\n", "ef", "tessera rec", "tessera qps", "hnswlib rec", "hnswlib qps");
        for (std::size_t idx = 0; idx < args.efs.size(); ++idx) {
            const json& a = result["tessera"]["runs"][idx];
            const json& b = result["hnswlib"]["runs"][idx];
            std::fprintf(stderr, "%6zu %14.4f %12.0f %14.4f %12.0f\n", args.efs[idx], a["recall_at_10"].get<double>(),
                         a["qps"].get<double>(), b["recall_at_10"].get<double>(), b["qps"].get<double>());
        }
        for (const char* name : {"tessera", "hnswlib"}) {
            for (const json& run : result[name]["runs"]) {
                if (run["recall_at_10"].get<double>() < 0.95) continue;
                std::fprintf(stderr, "%s reaches recall 0.95 at ef %zu: %.4f at %.0f q/s\n", name,
                             run["ef"].get<std::size_t>(), run["recall_at_10"].get<double>(), run["qps"].get<double>());
                break;
            }
        }
        std::fprintf(stderr, "exact: %.1f q/s, %.2f GB/s scanned vs %.2f GB/s memory bandwidth (%zu threads)\n",
                     result["exact"]["qps"].get<double>(), result["exact"]["scan_gb_per_s"].get<double>(), bandwidth,
                     pool.thread_count());
    }
    const std::string text = report.dump(2);
    std::cout << text << "\n";
    if (!args.json_path.empty()) std::ofstream(args.json_path) << text << "\n";
    return 0;
}
