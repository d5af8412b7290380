// OpenAI's embeddings API: POST /v1/embeddings (and /embeddings), GET /v1/models.
// https://platform.openai.com/docs/api-reference/embeddings — the official SDKs ask for
// encoding_format "base64" by default and decode little-endian float32 themselves.
#include <bit>
#include <cstring>
#include <ctime>

#include "server/api_error.hpp"
#include "server/request_json.hpp"
#include "server/routes/input_limits.hpp"
#include "server/routes/route_table.hpp"

namespace tessera::server {

namespace {

static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian float32");

// One element of `input` after parsing: a text, token ids, or an image (CLIP models).
struct InputItem {
    enum class Kind { text, tokens, image };
    Kind kind = Kind::text;
    std::string text;
    std::vector<std::int32_t> ids;
    ImageSource image;
};

RequestError input_error(const std::string& message) {
    return RequestError(ErrorCode::invalid_argument, message).with_param("input");
}

// "data:image/png;base64,...." -> bytes; "http(s)://..." -> URL; anything else -> raw base64.
ImageSource parse_image(const std::string& value, const std::string& where, bool allow_urls) {
    if (value.starts_with("http://") || value.starts_with("https://")) {
        if (!allow_urls) {
            throw input_error(where + ": image URLs are disabled on this server (start it with "
                                      "--allow-image-urls), send the bytes as a data URL instead");
        }
        return ImageSource::from_url(value);
    }
    std::string_view payload = value;
    if (payload.starts_with("data:")) {
        const auto comma = payload.find(',');
        if (comma == std::string_view::npos || payload.substr(0, comma).find(";base64") == std::string_view::npos) {
            throw input_error(where + ": a data URL must be 'data:<mime>;base64,<bytes>'");
        }
        payload.remove_prefix(comma + 1);
    }
    auto bytes = base64_decode(payload, where);
    if (bytes.empty()) throw input_error(where + ": empty image");
    return ImageSource::from_bytes(std::move(bytes));
}

std::vector<std::int32_t> parse_token_ids(const nlohmann::json& list, const std::string& where) {
    std::vector<std::int32_t> ids;
    ids.reserve(list.size());
    for (std::size_t idx = 0; idx < list.size(); ++idx) {
        const auto& value = list[idx];
        if (!value.is_number_integer()) {
            throw input_error(where + "[" + std::to_string(idx) + "]: expected a token id (integer), got " +
                              json_type_name(value));
        }
        const auto id = value.get<std::int64_t>();
        if (id < 0 || id > INT32_MAX) {
            throw input_error(where + "[" + std::to_string(idx) + "]: token id " + std::to_string(id) +
                              " is outside the vocabulary");
        }
        ids.push_back(std::int32_t(id));
    }
    if (ids.empty()) throw input_error(where + ": empty token list");
    return ids;
}

std::vector<InputItem> parse_input(const nlohmann::json& body, bool allow_urls, std::size_t max_inputs) {
    const auto* input = find_field(body, "input");
    if (!input) throw input_error("input: missing; give a string, an array of strings or of token ids");
    std::vector<InputItem> items;
    auto add_text = [&](const std::string& text, const std::string& where) {
        if (text.empty()) throw input_error(where + ": empty string (OpenAI's API forbids empty inputs)");
        if (text.starts_with("data:image/")) {
            items.push_back(InputItem{.kind = InputItem::Kind::image, .image = parse_image(text, where, allow_urls)});
        } else {
            items.push_back(InputItem{.kind = InputItem::Kind::text, .text = text});
        }
    };
    if (input->is_string()) {
        add_text(input->get<std::string>(), "input");
        return items;
    }
    if (!input->is_array()) {
        throw input_error("input: expected a string or an array, got " + json_type_name(*input));
    }
    if (input->empty()) throw input_error("input: empty array; give at least one input");
    // A flat array of integers is ONE tokenized input.
    if ((*input)[0].is_number()) {
        items.push_back(InputItem{.kind = InputItem::Kind::tokens, .ids = parse_token_ids(*input, "input")});
        return items;
    }
    check_input_count(input->size(), max_inputs, "input");
    items.reserve(input->size());
    for (std::size_t idx = 0; idx < input->size(); ++idx) {
        const auto& element = (*input)[idx];
        const std::string where = "input[" + std::to_string(idx) + "]";
        if (element.is_string()) {
            add_text(element.get<std::string>(), where);
        } else if (element.is_array()) {
            items.push_back(InputItem{.kind = InputItem::Kind::tokens, .ids = parse_token_ids(element, where)});
        } else if (element.is_object() && element.contains("image")) {
            const auto& image = element["image"];
            if (!image.is_string()) throw input_error(where + ".image: expected a string (data URL, base64 or URL)");
            items.push_back(InputItem{.kind = InputItem::Kind::image,
                                      .image = parse_image(image.get<std::string>(), where + ".image", allow_urls)});
        } else if (element.is_object() && element.contains("text")) {
            const auto& text = element["text"];
            if (!text.is_string()) throw input_error(where + ".text: expected a string");
            const std::string value = text.get<std::string>();
            if (value.empty()) throw input_error(where + ".text: empty string");
            items.push_back(InputItem{.kind = InputItem::Kind::text, .text = value});
        } else {
            throw input_error(where + ": expected a string, an array of token ids, {\"text\": ...} or "
                                      "{\"image\": ...}, got " + json_type_name(element));
        }
    }
    return items;
}

nlohmann::json embedding_json(std::span<const float> vector, bool as_base64) {
    if (!as_base64) return nlohmann::json(std::vector<float>(vector.begin(), vector.end()));
    std::vector<std::uint8_t> bytes(vector.size() * sizeof(float));
    std::memcpy(bytes.data(), vector.data(), bytes.size());
    return base64_encode(bytes);
}

void handle_embeddings(const httplib::Request& req, httplib::Response& res, RouteContext& context) {
    const auto body = parse_json_body(req.body);
    ServedEntry& model = context.models.find(string_field(body, "model"));
    const std::string format = string_field(body, "encoding_format").value_or("float");
    if (format != "float" && format != "base64") {
        throw RequestError(ErrorCode::invalid_argument,
                           "encoding_format: expected 'float' or 'base64', got '" + format + "'")
            .with_param("encoding_format");
    }
    EmbedOptions options;
    if (const auto dimensions = size_field(body, "dimensions")) {
        if (*dimensions == 0) {
            throw RequestError(ErrorCode::invalid_argument, "dimensions: must be at least 1").with_param("dimensions");
        }
        options.dimensions = *dimensions;
    }
    (void)string_field(body, "user");  // accepted (and type-checked); nothing is tracked per user

    auto items = parse_input(body, context.options.allow_image_urls, context.options.max_client_batch_size);
    std::vector<std::string> texts;
    std::vector<TokenizedText> token_inputs;
    std::vector<ImageSource> images;
    for (auto& item : items) {
        if (item.kind == InputItem::Kind::text) texts.push_back(std::move(item.text));
        if (item.kind == InputItem::Kind::tokens) token_inputs.push_back(TokenizedText{std::move(item.ids), {}});
        if (item.kind == InputItem::Kind::image) images.push_back(std::move(item.image));
    }
    if (!token_inputs.empty() && (!texts.empty() || !images.empty())) {
        throw input_error("input: mixes token ids with texts or images; send them in separate requests");
    }

    EmbedResult text_result;
    if (!texts.empty()) text_result = model.embed_texts(texts, options, context.deadline());
    if (!token_inputs.empty()) text_result = model.embed_token_ids(std::move(token_inputs), options, context.deadline());
    Matrix image_vectors;
    if (!images.empty()) {
        auto batch = model.embed_images(images);
        for (std::size_t image_idx = 0; image_idx < batch.errors.size(); ++image_idx) {
            if (!batch.errors[image_idx]) continue;
            std::size_t input_idx = 0;  // name the failing image by its place in `input`
            for (std::size_t seen = 0; input_idx < items.size(); ++input_idx) {
                if (items[input_idx].kind == InputItem::Kind::image && seen++ == image_idx) break;
            }
            const auto& err = *batch.errors[image_idx];
            throw RequestError(err.code() == ErrorCode::io ? ErrorCode::invalid_argument : err.code(),
                               "input[" + std::to_string(input_idx) + "]: " + err.what())
                .with_param("input");
        }
        image_vectors = truncate_dimensions(batch.embeddings, options.dimensions);
    }

    const bool as_base64 = format == "base64";
    nlohmann::json data = nlohmann::json::array();
    std::size_t text_row = 0;
    std::size_t image_row = 0;
    for (std::size_t input_idx = 0; input_idx < items.size(); ++input_idx) {
        const bool is_image = items[input_idx].kind == InputItem::Kind::image;
        const auto vector = is_image ? image_vectors.row(image_row++) : text_result.vectors.row(text_row++);
        data.push_back({{"object", "embedding"}, {"index", input_idx}, {"embedding", embedding_json(vector, as_base64)}});
    }
    reply_json(res, {{"object", "list"},
                     {"data", std::move(data)},
                     {"model", model.name()},
                     {"usage", {{"prompt_tokens", text_result.token_count}, {"total_tokens", text_result.token_count}}}});
}

void handle_models(httplib::Response& res, RouteContext& context) {
    nlohmann::json data = nlohmann::json::array();
    const auto now = std::time(nullptr);
    for (const auto& entry : context.models.entries()) {
        data.push_back({{"id", entry->name()}, {"object", "model"}, {"created", now}, {"owned_by", "tessera"}});
    }
    reply_json(res, {{"object", "list"}, {"data", std::move(data)}});
}

}  // namespace

void register_openai_routes(RouteTable& table, RouteContext& context) {
    for (const std::string path : {"/v1/embeddings", "/embeddings"}) {
        table.add("POST", path, path, [&context](const httplib::Request& req, httplib::Response& res) { handle_embeddings(req, res, context); });
    }
    for (const std::string path : {"/v1/models", "/models"}) {
        table.add("GET", path, path, [&context](const httplib::Request&, httplib::Response& res) { handle_models(res, context); },
                  {.unlimited = true});
    }
}

}  // namespace tessera::server
