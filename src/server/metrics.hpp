// Metrics — Prometheus counters, gauges and histograms for GET /metrics.
//
//   Metrics metrics;
//   metrics.observe_request("/v1/embeddings", 200, 0.012);
//   metrics.observe_batch("bge-small", {.item_count = 12, .token_count = 340, .seconds = 0.03});
//   std::string text = metrics.render({{"bge-small", 4}}, 3);   // text exposition format 0.0.4
//
// Route labels are route patterns, never raw paths, so the series count stays bounded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/batcher.hpp"

namespace tessera::server {

// A cumulative histogram with fixed upper bounds.
class Histogram {
public:
    explicit Histogram(std::vector<double> upper_bounds);
    void observe(double value);
    // Appends the _bucket/_sum/_count lines of `name` with `labels` ("" or `route="/x"`).
    void render(std::string& out, std::string_view name, std::string_view labels) const;

private:
    std::vector<double> upper_bounds_;
    std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; last one is +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

class Metrics {
public:
    Metrics();

    void observe_request(std::string_view route, int status, double seconds);
    void observe_batch(std::string_view model, const BatchStats& stats);
    void count_error(std::string_view kind);
    void count_rejected();  // a 429 from the concurrency limit

    // queue_depths: model -> inputs waiting for the engine; in_flight: requests being handled.
    [[nodiscard]] std::string render(const std::vector<std::pair<std::string, std::size_t>>& queue_depths,
                                     std::size_t in_flight) const;

private:
    struct RouteStats {
        std::map<int, std::uint64_t> by_status;
        Histogram latency;
    };
    struct ModelStats {
        Histogram batch_items;
        Histogram batch_tokens;
        Histogram batch_seconds;
        std::uint64_t batch_count = 0;
        std::uint64_t embedded_tokens = 0;
        std::uint64_t embedded_inputs = 0;
        double tokens_per_second = 0;  // of the last batches (exponentially weighted)
    };
    ModelStats& model_stats(std::string_view model);

    mutable std::mutex mutex_;
    std::map<std::string, RouteStats, std::less<>> routes_;
    std::map<std::string, ModelStats, std::less<>> models_;
    std::map<std::string, std::uint64_t, std::less<>> errors_;
    std::uint64_t rejected_ = 0;
};

}  // namespace tessera::server
