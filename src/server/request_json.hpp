// Reading request bodies: JSON parsing and typed field access whose errors name the field.
//
//   nlohmann::json body = parse_json_body(req.body);          // 400 on malformed JSON
//   std::size_t dims = size_field(body, "dimensions").value_or(0);
//   bool normalize = bool_field(body, "normalize").value_or(true);
//
// A field that is absent or null is "not given" (nullopt); a field of the wrong type is a
// RequestError(invalid_argument) with `param` set to the field's name.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::server {

// The body as a JSON object. Errors: invalid_argument for an empty body, malformed JSON (with
// the byte offset) or a body that is not an object.
[[nodiscard]] nlohmann::json parse_json_body(const std::string& body);

[[nodiscard]] const nlohmann::json* find_field(const nlohmann::json& body, std::string_view key);
[[nodiscard]] std::optional<std::string> string_field(const nlohmann::json& body, std::string_view key);
[[nodiscard]] std::optional<bool> bool_field(const nlohmann::json& body, std::string_view key);
// A non-negative integer.
[[nodiscard]] std::optional<std::size_t> size_field(const nlohmann::json& body, std::string_view key);

// "a string" or ["a", "b"] -> strings. Errors: wrong types, naming `key` and the element index.
[[nodiscard]] std::vector<std::string> string_or_list_field(const nlohmann::json& value, std::string_view key);

// A short JSON type name for messages ("string", "array", "number", ...).
[[nodiscard]] std::string json_type_name(const nlohmann::json& value);

// Standard base64 (RFC 4648, with padding), through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
[[nodiscard]] std::string base64_encode(std::span<const std::uint8_t> bytes);
// Errors: invalid_argument naming `what` for characters outside the alphabet or a bad length.
[[nodiscard]] std::vector<std::uint8_t> base64_decode(std::string_view text, std::string_view what);

}  // namespace tessera::server
