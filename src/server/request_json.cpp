#include "server/request_json.hpp"

#include <openssl/evp.h>

#include "server/api_error.hpp"

namespace tessera::server {

std::string json_type_name(const nlohmann::json& value) {
    if (value.is_number()) return "number";
    return value.type_name();
}

nlohmann::json parse_json_body(const std::string& body) {
    if (body.empty()) throw RequestError(ErrorCode::invalid_argument, "request body: empty, expected a JSON object");
    nlohmann::json parsed;
    try {
        parsed = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& err) {
        throw RequestError(ErrorCode::invalid_argument,
                           "request body: invalid JSON at byte " + std::to_string(err.byte) + ": " +
                               std::string(err.what()));
    }
    if (!parsed.is_object()) {
        throw RequestError(ErrorCode::invalid_argument,
                           "request body: expected a JSON object, got " + json_type_name(parsed));
    }
    return parsed;
}

const nlohmann::json* find_field(const nlohmann::json& body, std::string_view key) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null()) return nullptr;
    return &*found;
}

namespace {

RequestError wrong_type(std::string_view key, std::string_view expected, const nlohmann::json& value) {
    return RequestError(ErrorCode::invalid_argument,
                        std::string(key) + ": expected " + std::string(expected) + ", got " +
                            json_type_name(value) + " " + value.dump().substr(0, 80))
        .with_param(std::string(key));
}

}  // namespace

std::optional<std::string> string_field(const nlohmann::json& body, std::string_view key) {
    const auto* value = find_field(body, key);
    if (!value) return std::nullopt;
    if (!value->is_string()) throw wrong_type(key, "a string", *value);
    return value->get<std::string>();
}

std::optional<bool> bool_field(const nlohmann::json& body, std::string_view key) {
    const auto* value = find_field(body, key);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) throw wrong_type(key, "true or false", *value);
    return value->get<bool>();
}

std::optional<std::size_t> size_field(const nlohmann::json& body, std::string_view key) {
    const auto* value = find_field(body, key);
    if (!value) return std::nullopt;
    if (value->is_number_unsigned()) return value->get<std::size_t>();
    if (value->is_number_integer()) {
        throw RequestError(ErrorCode::invalid_argument,
                           std::string(key) + ": must not be negative, got " + value->dump())
            .with_param(std::string(key));
    }
    throw wrong_type(key, "a non-negative integer", *value);
}

std::vector<std::string> string_or_list_field(const nlohmann::json& value, std::string_view key) {
    if (value.is_string()) return {value.get<std::string>()};
    if (!value.is_array()) throw wrong_type(key, "a string or an array of strings", value);
    std::vector<std::string> out;
    out.reserve(value.size());
    for (std::size_t idx = 0; idx < value.size(); ++idx) {
        if (!value[idx].is_string()) {
            throw wrong_type(std::string(key) + "[" + std::to_string(idx) + "]", "a string", value[idx])
                .with_param(std::string(key));
        }
        out.push_back(value[idx].get<std::string>());
    }
    return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    if (bytes.empty()) return out;
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                        static_cast<int>(bytes.size()));
    out.resize(std::size_t(written));
    return out;
}

std::vector<std::uint8_t> base64_decode(std::string_view text, std::string_view what) {
    // EVP_DecodeBlock skips leading/trailing whitespace but not padding: it returns whole
    // 3-byte groups, so the '=' count tells how many trailing bytes to drop.
    if (text.size() % 4 != 0) {
        throw RequestError(ErrorCode::invalid_argument,
                           std::string(what) + ": base64 length " + std::to_string(text.size()) +
                               " is not a multiple of 4");
    }
    std::vector<std::uint8_t> out(text.size() / 4 * 3);
    if (text.empty()) return out;
    const int written = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                        static_cast<int>(text.size()));
    if (written < 0) {
        throw RequestError(ErrorCode::invalid_argument, std::string(what) + ": invalid base64");
    }
    std::size_t padding = 0;
    if (text.ends_with("==")) padding = 2;
    else if (text.ends_with("=")) padding = 1;
    out.resize(std::size_t(written) - padding);
    return out;
}

}  // namespace tessera::server
