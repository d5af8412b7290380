// Ollama's API: POST /api/embed, the legacy POST /api/embeddings, and the probes clients make
// (GET /api/tags, POST /api/show, GET /api/version). https://github.com/ollama/ollama/blob/main/docs/api.md
#include <chrono>
#include <cstdio>
#include <ctime>

#include "server/api_error.hpp"
#include "server/request_json.hpp"
#include "server/routes/input_limits.hpp"
#include "server/routes/route_table.hpp"

namespace tessera::server {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t nanoseconds_since(Clock::time_point started) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count();
}

std::string iso8601_now() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

ServedEntry& find_model(const nlohmann::json& body, RouteContext& context) {
    const auto name = string_field(body, "model");
    if (!name || name->empty()) {
        throw RequestError(ErrorCode::invalid_argument, "model: missing (Ollama requests name the model)")
            .with_param("model");
    }
    return context.models.find(*name);
}

// Ollama's "22.6M" style; tessera knows the weight bytes, at 4 bytes a float32 parameter.
std::string parameter_size(const ModelInfo& info) {
    const double bytes_per_parameter = info.precision == "bf16" ? 2 : info.precision == "int8" ? 1 : 4;
    const double parameters = double(info.weight_bytes) / bytes_per_parameter;
    char buffer[32];
    if (parameters >= 1e9) std::snprintf(buffer, sizeof buffer, "%.1fB", parameters / 1e9);
    else std::snprintf(buffer, sizeof buffer, "%.1fM", parameters / 1e6);
    return buffer;
}

nlohmann::json details_json(const ServedEntry& entry) {
    const auto& info = entry.info();
    return {{"parent_model", ""},
            {"format", "safetensors"},
            {"family", info.model_type},
            {"families", {info.model_type}},
            {"parameter_size", parameter_size(info)},
            {"quantization_level", info.precision.empty() ? "F32" : info.precision}};
}

void handle_embed(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto started = Clock::now();
    const auto body = parse_json_body(req.body);
    ServedEntry& model = find_model(body, context);
    const auto* input = find_field(body, "input");
    if (!input) throw RequestError(ErrorCode::invalid_argument, "input: missing").with_param("input");
    if (input->is_array()) check_input_count(input->size(), context.options.max_client_batch_size, "input");
    auto texts = string_or_list_field(*input, "input");
    if (texts.empty()) throw RequestError(ErrorCode::invalid_argument, "input: empty list").with_param("input");
    // Ollama always returns unit vectors from /api/embed.
    EmbedOptions options{.normalize = true};
    options.truncate = bool_field(body, "truncate").value_or(true);
    options.dimensions = size_field(body, "dimensions").value_or(0);
    (void)find_field(body, "keep_alive");  // accepted: models stay loaded for the server's lifetime
    const auto result = model.embed_texts(texts, options, context.deadline());
    nlohmann::json embeddings = nlohmann::json::array();
    for (std::size_t row = 0; row < result.vectors.rows(); ++row) {
        const auto vector = result.vectors.row(row);
        embeddings.push_back(std::vector<float>(vector.begin(), vector.end()));
    }
    reply_json(res, {{"model", model.name()},
                     {"embeddings", std::move(embeddings)},
                     {"total_duration", nanoseconds_since(started)},
                     {"load_duration", 0},
                     {"prompt_eval_count", result.token_count}});
}

void handle_legacy_embeddings(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto body = parse_json_body(req.body);
    ServedEntry& model = find_model(body, context);
    const auto prompt = string_field(body, "prompt");
    if (!prompt) throw RequestError(ErrorCode::invalid_argument, "prompt: missing").with_param("prompt");
    // The legacy endpoint answers an empty prompt with an empty embedding, as Ollama does.
    if (prompt->empty()) {
        reply_json(res, {{"embedding", nlohmann::json::array()}});
        return;
    }
    const std::vector<std::string> texts{*prompt};
    const auto result = model.embed_texts(texts, EmbedOptions{}, context.deadline());
    const auto vector = result.vectors.row(0);
    reply_json(res, {{"embedding", std::vector<float>(vector.begin(), vector.end())}});
}

void handle_tags(httplib::Response& res, RouteContext& context) {
    nlohmann::json models = nlohmann::json::array();
    for (const auto& entry : context.models.entries()) {
        models.push_back({{"name", entry->name()},
                          {"model", entry->name()},
                          {"modified_at", iso8601_now()},
                          {"size", entry->info().weight_bytes},
                          {"digest", ""},
                          {"details", details_json(*entry)}});
    }
    reply_json(res, {{"models", std::move(models)}});
}

void handle_show(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto body = parse_json_body(req.body);
    // Older clients send "name" instead of "model".
    auto name = string_field(body, "model");
    if (!name) name = string_field(body, "name");
    if (!name) throw RequestError(ErrorCode::invalid_argument, "model: missing").with_param("model");
    const ServedEntry& entry = context.models.find(*name);
    const auto& info = entry.info();
    const std::string family = info.model_type;
    reply_json(res, {{"modelfile", "FROM " + entry.model_dir().string()},
                     {"parameters", ""},
                     {"template", ""},
                     {"details", details_json(entry)},
                     {"model_info",
                      {{"general.architecture", family},
                       {family + ".embedding_length", info.output_dim},
                       {family + ".context_length", info.max_seq_length},
                       {family + ".block_count", info.layer_count},
                       {family + ".attention.head_count", info.head_count},
                       {family + ".pooling_type", info.pooling}}},
                     {"capabilities", entry.has_vision() ? nlohmann::json{"embedding", "vision"}
                                                         : nlohmann::json{"embedding"}},
                     {"modified_at", iso8601_now()}});
}

}  // namespace

void register_ollama_routes(RouteTable& table, RouteContext& context) {
    table.add("POST", "/api/embed", "/api/embed",
              [&context](const httplib::Request& req, httplib::Response& res) { handle_embed(req, res, context); });
    table.add("POST", "/api/embeddings", "/api/embeddings",
              [&context](const httplib::Request& req, httplib::Response& res) { handle_legacy_embeddings(req, res, context); });
    table.add("GET", "/api/tags", "/api/tags", [&context](const httplib::Request&, httplib::Response& res) { handle_tags(res, context); },
              {.unlimited = true});
    table.add("POST", "/api/show", "/api/show",
              [&context](const httplib::Request& req, httplib::Response& res) { handle_show(req, res, context); }, {.unlimited = true});
    table.add("GET", "/api/version", "/api/version",
              [](const httplib::Request&, httplib::Response& res) { reply_json(res, {{"version", "0.6.0"}}); }, {.unlimited = true});
}

}  // namespace tessera::server
