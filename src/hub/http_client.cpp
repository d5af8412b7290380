#include "hub/http_client.hpp"

#include <curl/curl.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "tessera/error.hpp"

namespace tessera::hub {

namespace {

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

struct TransferState {
    HttpResponse* response = nullptr;
    std::FILE* file = nullptr;
    std::uint64_t offset = 0;
    const std::function<void(std::uint64_t)>* on_bytes = nullptr;
    bool started_body = false;
    bool write_failed = false;
};

size_t on_header(char* buffer, size_t size, size_t count, void* user) {
    auto* state = static_cast<TransferState*>(user);
    std::string line(buffer, size * count);
    // A new status line (after a redirect or 100-continue) starts a fresh header set.
    if (line.rfind("HTTP/", 0) == 0) {
        state->response->headers.clear();
        return size * count;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) return size * count;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    auto first = value.find_first_not_of(" \t");
    auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    state->response->headers[name] = value;
    return size * count;
}

size_t on_body(char* buffer, size_t size, size_t count, void* user) {
    auto* state = static_cast<TransferState*>(user);
    const size_t bytes = size * count;
    if (state->file == nullptr) {
        state->response->body.append(buffer, bytes);
        return bytes;
    }
    if (!state->started_body) {
        state->started_body = true;
        // The server ignored our Range (or we asked for none): start the file over.
        if (state->offset > 0 && state->response->status == 200) {
            std::fflush(state->file);
            if (::ftruncate(::fileno(state->file), 0) != 0) {
                state->write_failed = true;
                return 0;
            }
            std::rewind(state->file);
            state->offset = 0;
        }
    }
    if (state->response->status != 200 && state->response->status != 206) {
        // An error page: keep it for the message, never write it into the blob.
        if (state->response->body.size() < 4096) state->response->body.append(buffer, bytes);
        return bytes;
    }
    if (std::fwrite(buffer, 1, bytes, state->file) != bytes) {
        state->write_failed = true;
        return 0;
    }
    if (*state->on_bytes) (*state->on_bytes)(bytes);
    return bytes;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) { global_init(); }

std::string HttpClient::host_of(const std::string& url) {
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return "";
    auto host_start = scheme_end + 3;
    auto host_end = url.find_first_of("/?#", host_start);
    std::string host = url.substr(host_start, host_end == std::string::npos ? std::string::npos
                                                                            : host_end - host_start);
    if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return host;
}

namespace {

enum class Method { get, head };

HttpResponse perform(const HttpClientOptions& options, Method method, const std::string& url,
                     bool follow, std::FILE* file, std::uint64_t offset,
                     const std::function<void(std::uint64_t)>& on_bytes) {
    CurlHandle curl(curl_easy_init());
    if (!curl) throw Error(ErrorCode::internal, "http: curl_easy_init failed");
    HttpResponse response;
    response.url = url;
    TransferState state{.response = &response, .file = file, .offset = offset, .on_bytes = &on_bytes};

    HeaderList headers;
    auto add_header = [&](const std::string& header) {
        headers.reset(curl_slist_append(headers.release(), header.c_str()));
    };
    add_header("User-Agent: tessera/0.1; hf_hub-compatible");
    add_header("Accept-Encoding: identity");
    if (options.token && !options.token->empty() && HttpClient::host_of(url) == options.auth_host) {
        add_header("Authorization: Bearer " + *options.token);
    }
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
    // libcurl (>= 7.58) drops a custom Authorization header when a redirect changes host, so the
    // token never reaches the CDN; CURLOPT_UNRESTRICTED_AUTH stays off on purpose.
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(options.stall_timeout_ms / 1000)));
    curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
    if (options.ca_bundle) curl_easy_setopt(curl.get(), CURLOPT_CAINFO, options.ca_bundle->c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &state);
    if (method == Method::head) curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
    std::string range;
    if (file != nullptr && offset > 0) {
        range = std::to_string(offset) + "-";
        curl_easy_setopt(curl.get(), CURLOPT_RANGE, range.c_str());
    }
    // The status must be known before the first body byte decides truncate-or-append.
    struct StatusProbe {
        static size_t header(char* buffer, size_t size, size_t count, void* user) {
            auto* st = static_cast<TransferState*>(user);
            std::string_view line(buffer, size * count);
            if (line.rfind("HTTP/", 0) == 0) {
                auto space = line.find(' ');
                if (space != std::string_view::npos) {
                    st->response->status = std::strtol(std::string(line.substr(space + 1, 3)).c_str(),
                                                       nullptr, 10);
                }
            }
            return on_header(buffer, size, count, user);
        }
    };
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, StatusProbe::header);

    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_buffer);
    CURLcode code = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    char* effective = nullptr;
    curl_easy_getinfo(curl.get(), CURLINFO_EFFECTIVE_URL, &effective);
    if (effective) response.url = effective;
    if (state.write_failed) {
        throw Error(ErrorCode::io, "http: writing the download of " + url + " failed (disk full?)");
    }
    if (code != CURLE_OK) {
        std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
        const bool tls = code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
                         code == CURLE_SSL_CONNECT_ERROR || code == CURLE_SSL_CERTPROBLEM;
        if (tls) detail += " (TLS verification stays on; pass --ca-bundle FILE.pem for a private CA)";
        const bool retryable = !tls && code != CURLE_COULDNT_RESOLVE_HOST &&
                               code != CURLE_COULDNT_RESOLVE_PROXY && code != CURLE_UNSUPPORTED_PROTOCOL &&
                               code != CURLE_URL_MALFORMAT;
        throw TransportError("http: " + url + ": " + detail, retryable);
    }
    return response;
}

}  // namespace

HttpResponse HttpClient::get(const std::string& url) const {
    return perform(options_, Method::get, url, true, nullptr, 0, {});
}

HttpResponse HttpClient::head(const std::string& url) const {
    return perform(options_, Method::head, url, false, nullptr, 0, {});
}

HttpResponse HttpClient::download(const std::string& url, std::FILE* file, std::uint64_t offset,
                                  const std::function<void(std::uint64_t)>& on_bytes) const {
    return perform(options_, Method::get, url, true, file, offset, on_bytes);
}

namespace {
std::string percent_encode(std::string_view text, bool keep_slash) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        }
    }
    return out;
}
}  // namespace

std::string url_encode_segment(std::string_view text) { return percent_encode(text, false); }
std::string url_encode_path(std::string_view text) { return percent_encode(text, true); }

}  // namespace tessera::hub
