// tessera::Server — one HTTP server that speaks the OpenAI, Ollama, TEI and Qdrant APIs.
//
//   tessera::ServerOptions options;
//   options.models.push_back({.name = "bge-small", .model_dir = tessera::resolve_model("bge-small-en-v1.5")});
//   options.port = 8080;                      // 0: pick a free port
//   tessera::Server server(options);          // loads every model once
//   int port = server.bind();                 // listening from here on
//   server.run();                             // blocks until stop() (from another thread or a signal)
//
// Requests from many clients are tokenized on the HTTP threads, queued per model, packed into
// batches by a token budget and run on the engine; the vectors are the library's (batching is
// invisible). Errors are answered in the shape of the API that was called. See the README's server section.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tessera/error.hpp"

namespace tessera {

// One model to serve: the name clients put in "model", and its local directory.
struct ServedModel {
    std::string name;
    std::filesystem::path model_dir;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                              // 0: an ephemeral port (see Server::bind)
    std::vector<ServedModel> models;              // the first one is the default model
    std::optional<std::string> api_key;           // Bearer token required on every route but /health
    std::size_t max_batch_tokens = 16384;         // token budget of one engine batch
    std::size_t max_concurrent_requests = 128;    // more in flight: 429 + Retry-After
    std::size_t max_client_batch_size = 2048;     // inputs in one request
    std::size_t payload_limit_bytes = 8u << 20;   // request bodies above: 413
    long request_timeout_ms = 60'000;             // queued work not done by then: 504
    std::size_t http_threads = 0;                 // most connection threads; 0: max(1024, 2 x max_concurrent_requests)
    std::size_t engine_threads = 0;               // 0: one per available core
    bool allow_image_urls = false;                // fetch http(s) image URLs on /v1/embeddings
    std::optional<std::filesystem::path> store_dir;  // enables the Qdrant routes
    bool access_log = true;                       // one JSON line per request on stderr
};

class Server {
public:
    // Loads every model (each once). Errors: those of TextEmbedder::open / ImageEmbedder::open
    // with the model name as context; invalid_argument for bad options (no model, duplicate name).
    explicit Server(ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds host:port and returns the bound port. Errors: unavailable (port in use, bad host).
    int bind();
    // Serves until stop(); then finishes the queued work before returning.
    void run();
    // Graceful shutdown, safe from any thread (not from a signal handler: use a signal thread).
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera
