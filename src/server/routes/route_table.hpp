// What the route files (openai.cpp, ollama.cpp, tei.cpp, qdrant.cpp) share: the table they add
// their routes to, and the server state a handler may use.
//
//   void register_tei_routes(RouteTable& table, RouteContext& context) {
//       table.add("GET", "/health", "/health", [&](const auto& req, auto& res) { ... },
//                 {.public_route = true});
//   }
//
// Handlers throw tessera::Error (or RequestError); the table's wrapper turns that into the
// error body of the route's API family, counts it and logs it.
#pragma once

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "server/batcher.hpp"
#include "server/metrics.hpp"
#include "server/model_pool.hpp"
#include "tessera/server.hpp"
#include "tessera/store.hpp"

namespace tessera::server {

struct RouteFlags {
    bool public_route = false;  // no API key needed (health checks)
    bool unlimited = false;     // not counted against --max-concurrent-requests (probes, metrics)
};

class RouteTable {
public:
    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
    virtual ~RouteTable() = default;
    // `pattern` is cpp-httplib's (a regex for path parameters); `label` names the route in
    // metrics and logs.
    virtual void add(std::string_view method, const std::string& pattern, const std::string& label,
                     Handler handler, RouteFlags flags = {}) = 0;
};

struct RouteContext {
    const ServerOptions& options;
    ModelPool& models;
    Metrics& metrics;
    Store* store = nullptr;  // nullptr: no --store, the Qdrant routes say so
    std::atomic<bool>& stopping;
    std::function<std::size_t()> in_flight;

    [[nodiscard]] Batcher::Clock::time_point deadline() const {
        return Batcher::Clock::now() + std::chrono::milliseconds(options.request_timeout_ms);
    }
};

void reply_json(httplib::Response& res, const nlohmann::json& body, int status = 200);

void register_openai_routes(RouteTable& table, RouteContext& context);
void register_ollama_routes(RouteTable& table, RouteContext& context);
void register_tei_routes(RouteTable& table, RouteContext& context);
void register_qdrant_routes(RouteTable& table, RouteContext& context);

}  // namespace tessera::server
