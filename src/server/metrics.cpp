#include "server/metrics.hpp"

#include <charconv>

namespace tessera::server {

namespace {

const std::vector<double> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10,   30};
const std::vector<double> kItemBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
const std::vector<double> kTokenBounds = {16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536};

// Shortest text that reads back as the same double ("0.005", not "0.0050000000000000001").
std::string format_number(double value) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

// Label values are escaped as the exposition format asks (backslash, quote, newline).
std::string escape_label(std::string_view value) {
    std::string out;
    for (char ch : value) {
        if (ch == '\\' || ch == '"') out += '\\';
        if (ch == '\n') {
            out += "\\n";
            continue;
        }
        out += ch;
    }
    return out;
}

std::string label(std::string_view key, std::string_view value) {
    return std::string(key) + "=\"" + escape_label(value) + "\"";
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, double value) {
    out += name;
    if (!labels.empty()) {
        out += '{';
        out += labels;
        out += '}';
    }
    out += ' ';
    out += format_number(value);
    out += '\n';
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    std::size_t bucket = 0;
    while (bucket < upper_bounds_.size() && value > upper_bounds_[bucket]) ++bucket;
    ++counts_[bucket];
    sum_ += value;
    ++count_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
    std::uint64_t cumulative = 0;
    const std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
    for (std::size_t bucket = 0; bucket <= upper_bounds_.size(); ++bucket) {
        cumulative += counts_[bucket];
        const std::string le = bucket < upper_bounds_.size() ? format_number(upper_bounds_[bucket]) : "+Inf";
        sample(out, std::string(name) + "_bucket", prefix + label("le", le), double(cumulative));
    }
    sample(out, std::string(name) + "_sum", labels, sum_);
    sample(out, std::string(name) + "_count", labels, double(count_));
}

Metrics::Metrics() = default;

void Metrics::observe_request(std::string_view route, int status, double seconds) {
    std::lock_guard lock(mutex_);
    auto found = routes_.find(route);
    if (found == routes_.end()) {
        found = routes_.emplace(std::string(route), RouteStats{{}, Histogram(kLatencyBounds)}).first;
    }
    ++found->second.by_status[status];
    found->second.latency.observe(seconds);
}

Metrics::ModelStats& Metrics::model_stats(std::string_view model) {
    auto found = models_.find(model);
    if (found == models_.end()) {
        found = models_
                    .emplace(std::string(model),
                             ModelStats{Histogram(kItemBounds), Histogram(kTokenBounds),
                                        Histogram(kLatencyBounds)})
                    .first;
    }
    return found->second;
}

void Metrics::observe_batch(std::string_view model, const BatchStats& stats) {
    std::lock_guard lock(mutex_);
    auto& entry = model_stats(model);
    entry.batch_items.observe(double(stats.item_count));
    entry.batch_tokens.observe(double(stats.token_count));
    entry.batch_seconds.observe(stats.seconds);
    ++entry.batch_count;
    entry.embedded_tokens += stats.token_count;
    entry.embedded_inputs += stats.item_count;
    if (stats.seconds > 0) {
        const double rate = double(stats.token_count) / stats.seconds;
        entry.tokens_per_second =
            entry.batch_count == 1 ? rate : 0.8 * entry.tokens_per_second + 0.2 * rate;
    }
}

void Metrics::count_error(std::string_view kind) {
    std::lock_guard lock(mutex_);
    auto found = errors_.find(kind);
    if (found == errors_.end()) found = errors_.emplace(std::string(kind), 0).first;
    ++found->second;
}

void Metrics::count_rejected() {
    std::lock_guard lock(mutex_);
    ++rejected_;
}

std::string Metrics::render(const std::vector<std::pair<std::string, std::size_t>>& queue_depths,
                            std::size_t in_flight) const {
    std::lock_guard lock(mutex_);
    std::string out;
    header(out, "tessera_http_requests_total", "counter", "HTTP requests by route pattern and status.");
    for (const auto& [route, stats] : routes_) {
        for (const auto& [status, count] : stats.by_status) {
            sample(out, "tessera_http_requests_total",
                   label("route", route) + "," + label("status", std::to_string(status)), double(count));
        }
    }
    header(out, "tessera_http_request_duration_seconds", "histogram",
           "Time from the request's arrival to its response, by route pattern.");
    for (const auto& [route, stats] : routes_) {
        stats.latency.render(out, "tessera_http_request_duration_seconds", label("route", route));
    }
    header(out, "tessera_http_requests_in_flight", "gauge", "Requests being handled now.");
    sample(out, "tessera_http_requests_in_flight", "", double(in_flight));
    header(out, "tessera_http_rejected_total", "counter",
           "Requests answered 429 because --max-concurrent-requests were in flight.");
    sample(out, "tessera_http_rejected_total", "", double(rejected_));
    header(out, "tessera_errors_total", "counter", "Error responses by kind (tessera ErrorCode).");
    for (const auto& [kind, count] : errors_) sample(out, "tessera_errors_total", label("kind", kind), double(count));

    header(out, "tessera_queue_depth", "gauge", "Inputs waiting for the engine, per model.");
    for (const auto& [model, depth] : queue_depths) {
        sample(out, "tessera_queue_depth", label("model", model), double(depth));
    }
    header(out, "tessera_batch_size", "histogram", "Inputs per engine batch.");
    for (const auto& [model, stats] : models_) stats.batch_items.render(out, "tessera_batch_size", label("model", model));
    header(out, "tessera_batch_tokens", "histogram", "Tokens per engine batch.");
    for (const auto& [model, stats] : models_) stats.batch_tokens.render(out, "tessera_batch_tokens", label("model", model));
    header(out, "tessera_batch_duration_seconds", "histogram", "Engine time per batch.");
    for (const auto& [model, stats] : models_) {
        stats.batch_seconds.render(out, "tessera_batch_duration_seconds", label("model", model));
    }
    header(out, "tessera_embedded_tokens_total", "counter", "Tokens run through the engine.");
    for (const auto& [model, stats] : models_) {
        sample(out, "tessera_embedded_tokens_total", label("model", model), double(stats.embedded_tokens));
    }
    header(out, "tessera_embedded_inputs_total", "counter", "Inputs embedded.");
    for (const auto& [model, stats] : models_) {
        sample(out, "tessera_embedded_inputs_total", label("model", model), double(stats.embedded_inputs));
    }
    header(out, "tessera_tokens_per_second", "gauge",
           "Engine throughput over the recent batches (exponentially weighted), tokens/s.");
    for (const auto& [model, stats] : models_) {
        sample(out, "tessera_tokens_per_second", label("model", model), stats.tokens_per_second);
    }
    return out;
}

}  // namespace tessera::server
