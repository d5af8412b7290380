// Errors in the shape of the API that was called.
//
//   throw RequestError(ErrorCode::invalid_argument, "input: must not be empty").with_param("input");
//   ...
//   ErrorReply reply = error_reply(ApiFamily::openai, err);   // status + JSON body
//
// One tessera::ErrorCode maps to one HTTP status (tessera::http_status); RequestError adds what
// some APIs want on top: an explicit status (429), OpenAI's `param` and `code`, Retry-After.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "tessera/error.hpp"

namespace tessera::server {

// Which client API a route belongs to; decides the error body's shape.
enum class ApiFamily { openai, ollama, tei, qdrant };

// The family of a request path ("/v1/..." -> openai, "/api/..." -> ollama, "/collections..." ->
// qdrant, everything else -> tei).
[[nodiscard]] ApiFamily family_of_path(std::string_view path);

class RequestError : public Error {
public:
    RequestError(ErrorCode code, std::string message) : Error(code, std::move(message)) {}
    explicit RequestError(const Error& err) : Error(err.code(), err.what()) {}

    RequestError& with_status(int status) { status_ = status; return *this; }
    RequestError& with_param(std::string param) { param_ = std::move(param); return *this; }
    RequestError& with_api_code(std::string api_code) { api_code_ = std::move(api_code); return *this; }
    RequestError& with_retry_after(int seconds) { retry_after_s_ = seconds; return *this; }

    [[nodiscard]] int status() const { return status_ ? *status_ : http_status(code()); }
    [[nodiscard]] const std::optional<std::string>& param() const { return param_; }
    [[nodiscard]] const std::optional<std::string>& api_code() const { return api_code_; }
    [[nodiscard]] std::optional<int> retry_after_s() const { return retry_after_s_; }

private:
    std::optional<int> status_;
    std::optional<std::string> param_;
    std::optional<std::string> api_code_;
    std::optional<int> retry_after_s_;
};

struct ErrorReply {
    int status = 500;
    nlohmann::json body;
    std::optional<int> retry_after_s;
    std::string kind;  // error_code_name, for metrics and logs
};

// OpenAI: {"error":{"message","type","param","code"}}; Ollama: {"error":"..."};
// TEI: {"error":"...","error_type":"Validation"}; Qdrant: {"status":{"error":"..."},"time":0}.
[[nodiscard]] ErrorReply error_reply(ApiFamily family, const RequestError& err);

}  // namespace tessera::server
