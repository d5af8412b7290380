// `tessera serve`: the HTTP server (OpenAI, Ollama, TEI and Qdrant APIs) over the library.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/command.hpp"
#include "cli/model_option.hpp"
#include "tessera/server.hpp"

namespace tessera::cli {

namespace {

struct ServeArgs {
    std::vector<std::string> models;
    bool offline = false;
    std::string cache_dir;
    ServerOptions server;
    std::string api_key;
    std::string payload_limit = "8M";
    std::string store_dir;
    bool quiet = false;
};

// "8M", "512k", "1G" or plain bytes.
std::size_t parse_size(const std::string& text, const std::string& flag) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    const std::string suffix = text.substr(digits);
    std::size_t scale = 1;
    if (suffix == "k" || suffix == "K" || suffix == "KiB") scale = 1u << 10;
    else if (suffix == "m" || suffix == "M" || suffix == "MiB") scale = 1u << 20;
    else if (suffix == "g" || suffix == "G" || suffix == "GiB") scale = 1u << 30;
    else if (!suffix.empty() && suffix != "B") digits = 0;
    if (digits == 0 || digits > 12) {
        throw Error(ErrorCode::invalid_argument,
                    flag + ": expected a size such as 2000000, 512K or 8M, got '" + text + "'");
    }
    return std::stoull(text.substr(0, digits)) * scale;
}

// "[NAME=]MODEL": MODEL is a directory, a registry name or a Hub id; NAME is what clients send
// as "model" (default: MODEL as typed, or the directory's name for a path).
ServedModel resolve_served_model(const std::string& spec, const ServeArgs& args) {
    std::string name;
    std::string model = spec;
    const auto equals = spec.find('=');
    if (equals != std::string::npos && !std::filesystem::exists(spec)) {
        name = spec.substr(0, equals);
        model = spec.substr(equals + 1);
        if (name.empty() || model.empty()) {
            throw Error(ErrorCode::invalid_argument, "--model: expected [NAME=]MODEL, got '" + spec + "'");
        }
    }
    ModelOption option{.kind = ModelKind::text, .model = model, .offline = args.offline, .cache_dir = args.cache_dir};
    std::filesystem::path dir = option.resolve();
    if (name.empty()) {
        name = std::filesystem::is_directory(model)
                   ? std::filesystem::weakly_canonical(model).filename().string()
                   : model;
    }
    return ServedModel{.name = name, .model_dir = dir};
}

void run_serve(ServeArgs& args) {
    if (args.models.empty()) args.models.push_back(default_text_model());
    for (const auto& spec : args.models) args.server.models.push_back(resolve_served_model(spec, args));
    if (!args.api_key.empty()) {
        args.server.api_key = args.api_key;
    } else if (const char* env_key = std::getenv("TESSERA_API_KEY"); env_key && *env_key) {
        args.server.api_key = env_key;
    }
    args.server.payload_limit_bytes = parse_size(args.payload_limit, "--payload-limit");
    if (!args.store_dir.empty()) args.server.store_dir = args.store_dir;
    args.server.access_log = !args.quiet;

    // SIGINT/SIGTERM go to one thread that asks the server to stop; blocked everywhere else
    // (threads inherit the mask), because Server::stop is not async-signal-safe.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Server server(args.server);
    const int port = server.bind();
    std::thread signal_thread([&server, signals] {
        int signal_number = 0;
        sigwait(&signals, &signal_number);
        std::cerr << "{\"msg\":\"shutting down\",\"signal\":" << signal_number
                  << ",\"detail\":\"finishing queued requests\"}\n";
        server.stop();
    });
    std::string names;
    for (const auto& model : args.server.models) names += (names.empty() ? "" : ", ") + model.name;
    std::cout << "{\"listening\":\"http://" << args.server.host << ":" << port << "\",\"port\":" << port
              << ",\"models\":\"" << names << "\"}" << std::endl;
    server.run();
    signal_thread.join();
    std::cerr << "{\"msg\":\"stopped\"}\n";
}

const bool registered = register_command({
    .name = "serve",
    .order = 60,
    .setup =
        [](CLI::App& app) {
            auto args = std::make_shared<ServeArgs>();
            auto* cmd = app.add_subcommand(
                "serve",
                "HTTP server speaking the OpenAI (/v1/embeddings), Ollama (/api/embed), TEI (/embed, "
                "/tokenize, /info, /health, /metrics) and Qdrant (/collections/...) APIs, with "
                "batching across requests");
            cmd->add_option("-m,--model", args->models,
                            "[NAME=]MODEL to serve, repeatable; MODEL is a directory, a known name or "
                            "a Hub id ORG/NAME[@REV]; NAME is what clients send as \"model\" (default: "
                            "MODEL as typed, or the directory name). The first is the default model. "
                            "Default: " + default_text_model());
            cmd->add_flag("--offline", args->offline, "resolve models from the cache only, never download");
            cmd->add_option("--cache-dir", args->cache_dir, "model cache (default HF_HUB_CACHE / HF_HOME/hub)");
            cmd->add_option("--host", args->server.host, "address to bind (127.0.0.1: this machine only)")
                ->capture_default_str();
            cmd->add_option("-p,--port", args->server.port, "port to listen on; 0 picks a free one")
                ->capture_default_str();
            cmd->add_option("--api-key", args->api_key,
                            "require 'Authorization: Bearer KEY' (or Qdrant's 'api-key: KEY') on every "
                            "route but /health; also from TESSERA_API_KEY");
            cmd->add_option("--max-batch-tokens", args->server.max_batch_tokens,
                            "token budget of one engine batch; queued inputs from all requests are "
                            "packed up to it")
                ->capture_default_str();
            cmd->add_option("--max-concurrent-requests", args->server.max_concurrent_requests,
                            "requests handled at once; more get 429 with Retry-After")
                ->capture_default_str();
            cmd->add_option("--max-client-batch-size", args->server.max_client_batch_size,
                            "inputs in one request; more get 413")
                ->capture_default_str();
            cmd->add_option("--payload-limit", args->payload_limit,
                            "largest request body (bytes, or with K/M/G); larger get 413")
                ->capture_default_str();
            cmd->add_option("--request-timeout", args->server.request_timeout_ms,
                            "milliseconds a request may wait for the engine before 504 (also the "
                            "socket read/write timeout)")
                ->capture_default_str();
            cmd->add_option("--http-threads", args->server.http_threads,
                            "most HTTP threads (one per open connection, they also tokenize; started on demand, idle ones exit after 30 s); 0 = max(1024, 2 x --max-concurrent-requests)")
                ->capture_default_str();
            cmd->add_option("-t,--threads", args->server.engine_threads,
                            "engine threads per model; 0 = one per available core")
                ->capture_default_str();
            cmd->add_flag("--allow-image-urls", args->server.allow_image_urls,
                          "let /v1/embeddings fetch http(s) image URLs (CLIP models)");
            cmd->add_option("--store", args->store_dir,
                            "vector store directory; enables the Qdrant-compatible /collections routes");
            cmd->add_flag("-q,--quiet", args->quiet, "no access log (one JSON line per request on stderr)");
            cmd->callback([args] { run_serve(*args); });
        },
});

}  // namespace

}  // namespace tessera::cli
