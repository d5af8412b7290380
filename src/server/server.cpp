// The HTTP layer: cpp-httplib from Debian (libcpp-httplib-dev 0.11.4). Chosen over Boost.Beast
// because it is a maintained, packaged, small library whose thread-per-connection model fits
// this server: each HTTP thread tokenizes its own request (the "tokenization workers" of TEI)
// and then blocks on the batcher, while one engine thread per model runs the packed batches —
// so the CPU-heavy part never runs on the I/O path and no async framework is needed. Its
// built-in payload limit, timeouts, keep-alive and pre-routing hook cover what the issue asks.
#include "tessera/server.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <unordered_set>

#include "server/api_error.hpp"
#include "server/http_pool.hpp"
#include "server/metrics.hpp"
#include "server/model_pool.hpp"
#include "server/routes/route_table.hpp"
#include "tessera/store.hpp"

namespace tessera {

using server::ApiFamily;
using server::RequestError;

namespace {

using Clock = std::chrono::steady_clock;

// Per-request state of the HTTP thread handling it: cpp-httplib runs a request from pre-routing
// to the logger on one thread, so thread-locals carry what the logger needs.
struct RequestTrace {
    Clock::time_point started;
    std::string route = "unmatched";
    std::string error_kind;
    bool active = false;
};
thread_local RequestTrace t_trace;

std::string utc_timestamp() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[40];
    const std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buffer + length, sizeof buffer - length, ".%03dZ", int(millis));
    return buffer;
}

// Compares without an early exit, so the time taken says nothing about the key.
bool same_secret(std::string_view given, std::string_view expected) {
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (std::size_t idx = 0; idx < given.size(); ++idx) {
        diff |= static_cast<unsigned char>(given[idx] ^ expected[idx % std::max<std::size_t>(expected.size(), 1)]);
    }
    return diff == 0;
}

}  // namespace

namespace server {

void reply_json(httplib::Response& res, const nlohmann::json& body, int status) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

}  // namespace server

struct Server::Impl final : server::RouteTable {
    ServerOptions options;
    server::Metrics metrics;
    std::unique_ptr<server::ModelPool> models;
    std::unique_ptr<Store> store;
    httplib::Server http;
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> in_flight{0};
    std::unique_ptr<server::RouteContext> context;
    std::set<std::string> public_paths;
    std::mutex log_mutex;
    bool bound = false;

    explicit Impl(ServerOptions server_options) : options(std::move(server_options)) {
        if (options.max_concurrent_requests == 0) {
            throw Error(ErrorCode::invalid_argument, "serve: --max-concurrent-requests must be at least 1");
        }
        if (options.max_client_batch_size == 0) {
            throw Error(ErrorCode::invalid_argument, "serve: --max-client-batch-size must be at least 1");
        }
        if (options.max_batch_tokens == 0) {
            throw Error(ErrorCode::invalid_argument, "serve: --max-batch-tokens must be at least 1");
        }
        if (options.request_timeout_ms <= 0) {
            throw Error(ErrorCode::invalid_argument, "serve: --request-timeout must be positive");
        }
        if (options.api_key && options.api_key->empty()) {
            throw Error(ErrorCode::invalid_argument, "serve: --api-key must not be empty");
        }
        if (options.http_threads == 0) {
            options.http_threads = std::max<std::size_t>(1024, 2 * options.max_concurrent_requests);
        }
        models = std::make_unique<server::ModelPool>(
            options.models,
            server::PoolOptions{.engine_threads = options.engine_threads,
                                .max_batch_tokens = options.max_batch_tokens,
                                .allow_image_urls = options.allow_image_urls},
            &metrics);
        if (options.store_dir) store = Store::open(*options.store_dir);
        context = std::make_unique<server::RouteContext>(server::RouteContext{
            .options = options,
            .models = *models,
            .metrics = metrics,
            .store = store.get(),
            .stopping = stopping,
            .in_flight = [this] { return in_flight.load(); }});
        configure_http();
        server::register_openai_routes(*this, *context);
        server::register_ollama_routes(*this, *context);
        server::register_tei_routes(*this, *context);
        server::register_qdrant_routes(*this, *context);
    }

    void configure_http() {
        const std::size_t thread_count = options.http_threads;
        http.new_task_queue = [thread_count] {
            return new server::ElasticTaskQueue(std::min<std::size_t>(8, thread_count), thread_count,
                                                std::chrono::seconds(30));
        };
        http.set_payload_max_length(options.payload_limit_bytes);
        const time_t timeout_s = std::max<time_t>(1, time_t((options.request_timeout_ms + 999) / 1000));
        http.set_read_timeout(timeout_s, 0);
        http.set_write_timeout(timeout_s, 0);
        http.set_keep_alive_max_count(10'000);
        http.set_keep_alive_timeout(5);

        http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            t_trace = RequestTrace{.started = Clock::now(), .route = "unmatched", .error_kind = {}, .active = true};
            if (!options.api_key || public_paths.contains(req.path)) return httplib::Server::HandlerResponse::Unhandled;
            std::string given;
            const std::string authorization = req.get_header_value("Authorization");
            if (authorization.starts_with("Bearer ")) given = authorization.substr(7);
            else given = req.get_header_value("api-key");  // the Qdrant clients' header
            if (given.empty() || !same_secret(given, *options.api_key)) {
                const char* what = given.empty() ? "missing API key: send 'Authorization: Bearer <key>'"
                                                 : "invalid API key";
                write_error(server::family_of_path(req.path),
                            RequestError(ErrorCode::unauthenticated, what).with_api_code("invalid_api_key"), res);
                res.set_header("WWW-Authenticate", "Bearer");
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });

        // Statuses cpp-httplib sets itself (no route, body over the limit, bad request line) get
        // the calling API's error body too.
        http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                           httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
            const ApiFamily family = server::family_of_path(req.path);
            if (res.status == 404) {
                write_error(family, RequestError(ErrorCode::not_found, "no route for " + req.method + " " + req.path), res);
            } else if (res.status == 413) {
                write_error(family,
                            RequestError(ErrorCode::resource_exhausted,
                                         "request body is larger than the server's payload limit of " +
                                             std::to_string(options.payload_limit_bytes) + " bytes (--payload-limit)"),
                            res);
            } else {
                write_error(family,
                            RequestError(res.status >= 500 ? ErrorCode::internal : ErrorCode::invalid_argument,
                                         "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path)
                                .with_status(res.status),
                            res);
            }
            return httplib::Server::HandlerResponse::Handled;
        }));

        http.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log_request(req, res); });
    }

    void write_error(ApiFamily family, const RequestError& err, httplib::Response& res) {
        const auto reply = server::error_reply(family, err);
        server::reply_json(res, reply.body, reply.status);
        if (reply.retry_after_s) res.set_header("Retry-After", std::to_string(*reply.retry_after_s));
        t_trace.error_kind = reply.kind;
    }

    void add(std::string_view method, const std::string& pattern, const std::string& label, Handler handler,
             server::RouteFlags flags) override {
        if (flags.public_route) public_paths.insert(pattern);
        const ApiFamily family = server::family_of_path(label);
        auto wrapped = [this, label, family, flags, handler = std::move(handler)](const httplib::Request& req,
                                                                                  httplib::Response& res) {
            t_trace.route = label;
            bool counted = false;
            try {
                if (!flags.unlimited) {
                    if (stopping) throw RequestError(ErrorCode::unavailable, "server is shutting down").with_retry_after(1);
                    if (in_flight.fetch_add(1) >= options.max_concurrent_requests) {
                        in_flight.fetch_sub(1);
                        metrics.count_rejected();
                        throw RequestError(ErrorCode::resource_exhausted,
                                           "too many concurrent requests (limit " +
                                               std::to_string(options.max_concurrent_requests) + "); retry later")
                            .with_status(429)
                            .with_retry_after(1)
                            .with_api_code("rate_limit_exceeded");
                    }
                    counted = true;
                }
                handler(req, res);
            } catch (const RequestError& err) {
                write_error(family, err, res);
            } catch (const Error& err) {
                write_error(family, RequestError(err), res);
            } catch (const nlohmann::json::exception& err) {
                write_error(family, RequestError(ErrorCode::invalid_argument, std::string("request body: ") + err.what()), res);
            } catch (const std::exception& err) {
                write_error(family, RequestError(ErrorCode::internal, std::string("internal error: ") + err.what()), res);
            }
            if (counted) in_flight.fetch_sub(1);
        };
        if (method == "GET") http.Get(pattern, std::move(wrapped));
        else if (method == "POST") http.Post(pattern, std::move(wrapped));
        else if (method == "PUT") http.Put(pattern, std::move(wrapped));
        else if (method == "DELETE") http.Delete(pattern, std::move(wrapped));
        else if (method == "PATCH") http.Patch(pattern, std::move(wrapped));
        else throw Error(ErrorCode::internal, "route " + pattern + ": unknown method " + std::string(method));
    }

    void log_request(const httplib::Request& req, const httplib::Response& res) {
        const double seconds = t_trace.active ? std::chrono::duration<double>(Clock::now() - t_trace.started).count() : 0;
        const std::string route = t_trace.active ? t_trace.route : "unmatched";
        if (res.status >= 400) metrics.count_error(t_trace.error_kind.empty() ? "http_" + std::to_string(res.status) : t_trace.error_kind);
        metrics.observe_request(route, res.status, seconds);
        if (options.access_log) {
            nlohmann::json line = {{"ts", utc_timestamp()},
                                   {"level", res.status >= 500 ? "error" : res.status >= 400 ? "warn" : "info"},
                                   {"msg", "request"},
                                   {"method", req.method},
                                   {"path", req.path},
                                   {"route", route},
                                   {"status", res.status},
                                   {"duration_ms", std::round(seconds * 1e5) / 100},
                                   {"remote", req.remote_addr},
                                   {"bytes_in", req.body.size()},
                                   {"bytes_out", res.body.size()}};
            if (!t_trace.error_kind.empty()) line["error"] = t_trace.error_kind;
            const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
            std::lock_guard lock(log_mutex);
            std::fwrite(text.data(), 1, text.size(), stderr);
        }
        t_trace = RequestTrace{};
    }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
    stop();
    if (impl_->models) impl_->models->shutdown();
}

int Server::bind() {
    auto& impl = *impl_;
    int port = impl.options.port;
    if (port == 0) {
        port = impl.http.bind_to_any_port(impl.options.host);
        if (port < 0) {
            throw Error(ErrorCode::unavailable, "serve: cannot bind " + impl.options.host + " (any port)");
        }
    } else if (!impl.http.bind_to_port(impl.options.host, port)) {
        throw Error(ErrorCode::unavailable, "serve: cannot bind " + impl.options.host + ":" + std::to_string(port) +
                                                " (in use, or not an address of this machine)");
    }
    impl.bound = true;
    impl.options.port = port;
    return port;
}

void Server::run() {
    auto& impl = *impl_;
    if (!impl.bound) bind();
    // listen_after_bind returns once stop() closed the socket and its thread pool has finished
    // every accepted request; those may still be waiting on the batchers, which keep running.
    impl.http.listen_after_bind();
    impl.models->shutdown();
}

void Server::stop() {
    impl_->stopping = true;
    impl_->http.stop();
}

}  // namespace tessera
