// fetch_url(): image downloads with libcurl, bounded in size and time. Only http and https are
// allowed (also across redirects), so a URL cannot make us read file:// or other schemes.
#include <curl/curl.h>

#include <mutex>

#include "tessera/image.hpp"

namespace tessera {
namespace {

struct Download {
    std::vector<std::uint8_t> bytes;
    std::size_t max_bytes = 0;
    bool too_large = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
    auto* download = static_cast<Download*>(user);
    const std::size_t length = size * count;
    if (download->bytes.size() + length > download->max_bytes) {
        download->too_large = true;
        return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    download->bytes.insert(download->bytes.end(), data, data + length);
    return length;
}

}  // namespace

std::vector<std::uint8_t> fetch_url(const std::string& url, const FetchOptions& options) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        throw Error(ErrorCode::invalid_argument, url + ": only http:// and https:// URLs are fetched");
    }
    static std::once_flag init_once;
    std::call_once(init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    CURL* curl = curl_easy_init();
    if (!curl) throw Error(ErrorCode::resource_exhausted, url + ": libcurl could not create a handle");
    struct Cleanup {
        CURL* curl;
        ~Cleanup() { curl_easy_cleanup(curl); }
    } cleanup{curl};

    Download download;
    download.max_bytes = options.max_bytes;
    char error_text[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &download);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "tessera/0.1");
    const CURLcode result = curl_easy_perform(curl);
    if (download.too_large || result == CURLE_FILESIZE_EXCEEDED) {
        throw Error(ErrorCode::resource_exhausted,
                    url + ": download is larger than the limit of " + std::to_string(options.max_bytes) + " bytes");
    }
    if (result == CURLE_OPERATION_TIMEDOUT) {
        throw Error(ErrorCode::cancelled, url + ": no complete answer within " + std::to_string(options.timeout_ms) + " ms");
    }
    if (result != CURLE_OK) {
        throw Error(ErrorCode::unavailable,
                    url + ": " + (error_text[0] ? std::string(error_text) : std::string(curl_easy_strerror(result))));
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status == 404) throw Error(ErrorCode::not_found, url + ": HTTP 404 (not found)");
    if (status >= 400) throw Error(ErrorCode::unavailable, url + ": HTTP " + std::to_string(status));
    return std::move(download.bytes);
}

}  // namespace tessera
