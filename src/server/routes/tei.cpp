// Hugging Face text-embeddings-inference's routes: POST /embed, /embed_sparse, /tokenize,
// /decode; GET /info, /health, /metrics. https://huggingface.github.io/text-embeddings-inference/
#include <algorithm>
#include <cctype>

#include "server/api_error.hpp"
#include "server/request_json.hpp"
#include "server/routes/input_limits.hpp"
#include "server/routes/route_table.hpp"

namespace tessera::server {

namespace {

std::vector<std::string> parse_inputs(const nlohmann::json& body, const RouteContext& context) {
    const auto* inputs = find_field(body, "inputs");
    if (!inputs) throw RequestError(ErrorCode::invalid_argument, "inputs: missing").with_param("inputs");
    if (inputs->is_array()) check_input_count(inputs->size(), context.options.max_client_batch_size, "inputs");
    auto texts = string_or_list_field(*inputs, "inputs");
    if (texts.empty()) throw RequestError(ErrorCode::invalid_argument, "inputs: empty list").with_param("inputs");
    return texts;
}

TruncationSide parse_direction(const nlohmann::json& body) {
    auto direction = string_field(body, "truncation_direction").value_or("right");
    std::transform(direction.begin(), direction.end(), direction.begin(),
                   [](unsigned char ch) { return char(std::tolower(ch)); });
    if (direction == "right") return TruncationSide::right;
    if (direction == "left") return TruncationSide::left;
    throw RequestError(ErrorCode::invalid_argument,
                       "truncation_direction: expected 'Right' or 'Left', got '" + direction + "'")
        .with_param("truncation_direction");
}

// Checks a prompt_name against the model's prompts, so a typo is a 400 rather than a surprise.
std::optional<std::string> parse_prompt_name(const nlohmann::json& body, const ServedEntry& model) {
    auto prompt_name = string_field(body, "prompt_name");
    if (prompt_name && !model.info().prompts.contains(*prompt_name)) {
        std::string known;
        for (const auto& [name, prefix] : model.info().prompts) known += (known.empty() ? "'" : ", '") + name + "'";
        throw RequestError(ErrorCode::invalid_argument,
                           "prompt_name: model '" + model.name() + "' has no prompt '" + *prompt_name +
                               "' (it has: " + (known.empty() ? "none" : known) + ")")
            .with_param("prompt_name");
    }
    return prompt_name;
}

void handle_embed(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto body = parse_json_body(req.body);
    ServedEntry& model = context.models.find(string_field(body, "model"));
    const auto texts = parse_inputs(body, context);
    EmbedOptions options;
    options.normalize = bool_field(body, "normalize").value_or(true);
    options.truncate = bool_field(body, "truncate").value_or(true);
    options.truncation_side = parse_direction(body);
    options.prompt_name = parse_prompt_name(body, model);
    options.dimensions = size_field(body, "dimensions").value_or(0);
    const auto result = model.embed_texts(texts, options, context.deadline());
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t row = 0; row < result.vectors.rows(); ++row) {
        const auto vector = result.vectors.row(row);
        out.push_back(std::vector<float>(vector.begin(), vector.end()));
    }
    reply_json(res, out);
}

// Byte offset of each code point of `text` (and one past the end), to turn the tokenizer's
// code-point offsets into substrings.
std::vector<std::size_t> code_point_starts(std::string_view text) {
    std::vector<std::size_t> starts;
    for (std::size_t byte_idx = 0; byte_idx < text.size(); ++byte_idx) {
        if ((static_cast<unsigned char>(text[byte_idx]) & 0xC0) != 0x80) starts.push_back(byte_idx);
    }
    starts.push_back(text.size());
    return starts;
}

void handle_tokenize(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto body = parse_json_body(req.body);
    ServedEntry& model = context.models.find(string_field(body, "model"));
    const auto texts = parse_inputs(body, context);
    const bool add_special_tokens = bool_field(body, "add_special_tokens").value_or(true);
    const auto prompt_name = parse_prompt_name(body, model);
    const std::string prefix = prompt_name ? model.info().prompts.at(*prompt_name) : "";
    nlohmann::json out = nlohmann::json::array();
    for (const auto& raw_text : texts) {
        const std::string text = prefix + raw_text;
        const auto encoding = model.tokenizer().encode(text, add_special_tokens);
        const auto starts = code_point_starts(text);
        const std::size_t code_points = starts.size() - 1;
        nlohmann::json tokens = nlohmann::json::array();
        for (std::size_t token_idx = 0; token_idx < encoding.ids.size(); ++token_idx) {
            const bool special = token_idx < encoding.special_tokens_mask.size() &&
                                 encoding.special_tokens_mask[token_idx] != 0;
            auto [start, stop] = token_idx < encoding.offsets.size() ? encoding.offsets[token_idx]
                                                                     : std::pair<std::uint32_t, std::uint32_t>{0, 0};
            start = std::min<std::uint32_t>(start, std::uint32_t(code_points));
            stop = std::clamp<std::uint32_t>(stop, start, std::uint32_t(code_points));
            nlohmann::json token = {{"id", encoding.ids[token_idx]}, {"special", special},
                                    {"start", nullptr}, {"stop", nullptr}};
            if (special) {
                token["text"] = token_idx < encoding.tokens.size() ? encoding.tokens[token_idx] : "";
            } else {
                token["text"] = text.substr(starts[start], starts[stop] - starts[start]);
                token["start"] = start;
                token["stop"] = stop;
            }
            tokens.push_back(std::move(token));
        }
        out.push_back(std::move(tokens));
    }
    reply_json(res, out);
}

void handle_decode(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto body = parse_json_body(req.body);
    ServedEntry& model = context.models.find(string_field(body, "model"));
    const auto* ids = find_field(body, "ids");
    if (!ids || !ids->is_array() || ids->empty()) {
        throw RequestError(ErrorCode::invalid_argument,
                           "ids: expected a non-empty array of token ids or of arrays of token ids")
            .with_param("ids");
    }
    const bool skip_special = bool_field(body, "skip_special_tokens").value_or(true);
    std::vector<nlohmann::json> sequences;
    if ((*ids)[0].is_array()) {
        check_input_count(ids->size(), context.options.max_client_batch_size, "ids");
        sequences.assign(ids->begin(), ids->end());
    } else {
        sequences.push_back(*ids);
    }
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t seq_idx = 0; seq_idx < sequences.size(); ++seq_idx) {
        const auto& sequence = sequences[seq_idx];
        if (!sequence.is_array()) {
            throw RequestError(ErrorCode::invalid_argument,
                               "ids[" + std::to_string(seq_idx) + "]: expected an array of token ids")
                .with_param("ids");
        }
        std::vector<std::int32_t> token_ids;
        for (std::size_t token_idx = 0; token_idx < sequence.size(); ++token_idx) {
            const auto& value = sequence[token_idx];
            if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
                value.get<std::int64_t>() >= std::int64_t(model.tokenizer().vocab_size())) {
                throw RequestError(ErrorCode::invalid_argument,
                                   "ids: " + value.dump() + " (at " + std::to_string(token_idx) +
                                       ") is not a token id of model '" + model.name() + "'")
                    .with_param("ids");
            }
            token_ids.push_back(value.get<std::int32_t>());
        }
        out.push_back(model.tokenizer().decode(token_ids, skip_special));
    }
    reply_json(res, out);
}

void handle_info(httplib::Response& res, RouteContext& context) {
    const ServedEntry& model = *context.models.entries().front();
    const auto& info = model.info();
    nlohmann::json served = nlohmann::json::array();
    for (const auto& entry : context.models.entries()) served.push_back(entry->name());
    reply_json(res, {{"model_id", model.name()},
                     {"model_sha", nullptr},
                     {"model_dtype", info.precision.empty() ? "float32" : info.precision},
                     {"model_type", {{"embedding", {{"pooling", info.pooling}}}}},
                     {"max_concurrent_requests", context.options.max_concurrent_requests},
                     {"max_input_length", info.max_seq_length},
                     {"max_batch_tokens", context.options.max_batch_tokens},
                     {"max_batch_requests", nullptr},
                     {"max_client_batch_size", context.options.max_client_batch_size},
                     {"auto_truncate", true},
                     {"tokenization_workers", context.options.http_threads},
                     {"version", "tessera 0.1.0"},
                     {"served_models", std::move(served)},
                     {"embedding_dim", info.output_dim}});
}

}  // namespace

void register_tei_routes(RouteTable& table, RouteContext& context) {
    table.add("POST", "/embed", "/embed", [&context](const httplib::Request& req, httplib::Response& res) { handle_embed(req, res, context); });
    table.add("POST", "/embed_sparse", "/embed_sparse", [](const httplib::Request&, httplib::Response&) {
        throw RequestError(ErrorCode::unsupported,
                           "/embed_sparse: no sparse model is served; it needs a SPLADE-style sparse "
                           "model, and tessera serves dense models only so far");
    });
    table.add("POST", "/tokenize", "/tokenize",
              [&context](const httplib::Request& req, httplib::Response& res) { handle_tokenize(req, res, context); });
    table.add("POST", "/decode", "/decode",
              [&context](const httplib::Request& req, httplib::Response& res) { handle_decode(req, res, context); });
    table.add("GET", "/info", "/info", [&context](const httplib::Request&, httplib::Response& res) { handle_info(res, context); },
              {.unlimited = true});
    table.add("GET", "/health", "/health",
              [&context](const httplib::Request&, httplib::Response& res) {
                  if (context.stopping) {
                      throw RequestError(ErrorCode::unavailable, "shutting down");
                  }
                  reply_json(res, {{"status", "ok"}});
              },
              {.public_route = true, .unlimited = true});
    table.add("GET", "/metrics", "/metrics",
              [&context](const httplib::Request&, httplib::Response& res) {
                  std::vector<std::pair<std::string, std::size_t>> depths;
                  for (const auto& entry : context.models.entries()) depths.emplace_back(entry->name(), entry->queued_items());
                  res.set_content(context.metrics.render(depths, context.in_flight()),
                                  "text/plain; version=0.0.4; charset=utf-8");
              },
              {.unlimited = true});
}

}  // namespace tessera::server
