#include "server/api_error.hpp"

namespace tessera::server {

ApiFamily family_of_path(std::string_view path) {
    if (path.starts_with("/v1/") || path == "/embeddings" || path == "/models") return ApiFamily::openai;
    if (path.starts_with("/api/")) return ApiFamily::ollama;
    if (path.starts_with("/collections")) return ApiFamily::qdrant;
    return ApiFamily::tei;
}

namespace {

// OpenAI's `type` values as its API returns them.
std::string openai_type(int status) {
    if (status == 401) return "authentication_error";
    if (status == 429) return "rate_limit_error";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}

// TEI's ErrorType names (text-embeddings-inference router/src/lib.rs).
std::string tei_type(const RequestError& err, int status) {
    if (status == 429) return "Overloaded";
    if (status == 503) return "Unhealthy";
    switch (err.code()) {
        case ErrorCode::invalid_argument:
        case ErrorCode::not_found:
        case ErrorCode::unsupported:
        case ErrorCode::corrupt:
        case ErrorCode::resource_exhausted:
        case ErrorCode::unauthenticated: return "Validation";
        default: return "Backend";
    }
}

}  // namespace

ErrorReply error_reply(ApiFamily family, const RequestError& err) {
    ErrorReply reply;
    reply.status = err.status();
    reply.retry_after_s = err.retry_after_s();
    reply.kind = std::string(error_code_name(err.code()));
    const std::string message = err.what();
    switch (family) {
        case ApiFamily::openai: {
            nlohmann::json param = err.param() ? nlohmann::json(*err.param()) : nlohmann::json(nullptr);
            std::string code = err.api_code() ? *err.api_code() : reply.kind;
            reply.body = {{"error",
                           {{"message", message}, {"type", openai_type(reply.status)},
                            {"param", param}, {"code", code}}}};
            break;
        }
        case ApiFamily::ollama: reply.body = {{"error", message}}; break;
        case ApiFamily::tei:
            reply.body = {{"error", message}, {"error_type", tei_type(err, reply.status)}};
            break;
        case ApiFamily::qdrant:
            reply.body = {{"status", {{"error", message}}}, {"time", 0.0}};
            break;
    }
    return reply;
}

}  // namespace tessera::server
