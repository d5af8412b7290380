// A small libcurl client for the Hub: JSON GETs, HEAD without following absolute redirects, and
// resumable downloads into a file. TLS verification is always on; a custom CA bundle may be named.
//
//   hub::HttpClient http({.token = "hf_...", .ca_bundle = "/etc/ssl/corp.pem"});
//   hub::HttpResponse info = http.get("https://huggingface.co/api/models/BAAI/bge-small-en-v1.5");
//   hub::HttpResponse meta = http.head(resolve_url);          // 302 + X-Linked-Etag for LFS files
//   http.download(meta.location, file, offset, [&](std::uint64_t n) { bar.advance(n); });
//
// The token is sent only to the host of the URL it was created for (the Hub endpoint), never to
// the CDN a resolve URL redirects to, and never appears in an error message.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "tessera/error.hpp"

namespace tessera::hub {

struct HttpClientOptions {
    std::string auth_host;                           // host:port that may receive the token
    std::optional<std::string> token;
    std::optional<std::filesystem::path> ca_bundle;  // CURLOPT_CAINFO
    std::int64_t connect_timeout_ms = 10000;         // HF_HUB_ETAG_TIMEOUT
    std::int64_t stall_timeout_ms = 10000;           // HF_HUB_DOWNLOAD_TIMEOUT: abort a silent transfer
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lowercased; last value wins
    std::string body;
    std::string url;                             // the URL that answered

    [[nodiscard]] std::string header(const std::string& lower_name) const;
};

// A transport failure (Error(unavailable)); `retryable` is false when trying again cannot help
// (unknown host, TLS verification failure, bad CA bundle).
class TransportError : public Error {
public:
    TransportError(std::string message, bool retryable)
        : Error(ErrorCode::unavailable, std::move(message)), retryable_(retryable) {}
    [[nodiscard]] bool retryable() const { return retryable_; }

private:
    bool retryable_;
};

// Transport failures (no connection, reset, cut transfer) -> Error(unavailable); HTTP statuses are
// returned, not thrown, so the caller can map them with context.
class HttpClient {
public:
    explicit HttpClient(HttpClientOptions options);

    // GET following redirects; the body is returned.
    [[nodiscard]] HttpResponse get(const std::string& url) const;
    // HEAD with Accept-Encoding: identity, following no redirects.
    [[nodiscard]] HttpResponse head(const std::string& url) const;
    // GET `url` appending to `file` from byte `offset` (Range when offset > 0), following redirects.
    // If the server ignores the Range (200), `file` is truncated and the transfer restarts.
    // `on_bytes` sees every chunk written. Returns the final response (body left empty).
    HttpResponse download(const std::string& url, std::FILE* file, std::uint64_t offset,
                          const std::function<void(std::uint64_t)>& on_bytes) const;

    // "host:port" of an absolute URL ("" if none); the port is explicit only when the URL has one.
    [[nodiscard]] static std::string host_of(const std::string& url);

private:
    HttpClientOptions options_;
};

// Percent-encodes a revision for a URL path segment ("refs/pr/1" -> "refs%2Fpr%2F1").
[[nodiscard]] std::string url_encode_segment(std::string_view text);
// Percent-encodes a file path, keeping '/' ("1_Pooling/config.json").
[[nodiscard]] std::string url_encode_path(std::string_view text);

}  // namespace tessera::hub
