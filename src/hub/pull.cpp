// `tessera pull`: the huggingface_hub download sequence (model info -> HEAD resolve -> GET blob),
// resumable, verified and installed atomically into the shared cache layout.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <tuple>

#include "core/file_lock.hpp"
#include "core/progress.hpp"
#include "core/sha256.hpp"
#include "hub/cache_layout.hpp"
#include "hub/http_client.hpp"
#include "hub/pull_plan.hpp"
#include "hub/snapshot_check.hpp"
#include "tessera/hub.hpp"

namespace tessera {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxAttempts = 5;

void backoff(int attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * (1 << std::min(attempt, 5))));
}

bool retryable_status(long status) { return status == 429 || status >= 500; }

// The error for a non-success status of the Hub, with the Hub's own X-Error-Code when present.
[[noreturn]] void throw_for_status(const hub::HttpResponse& response, const std::string& what,
                                   bool has_token) {
    const std::string code = response.header("x-error-code");
    const std::string status = std::to_string(response.status);
    if (response.status == 401 || response.status == 403 || code == "GatedRepo") {
        throw Error(ErrorCode::unauthenticated,
                    what + ": the Hub answered " + status +
                        (has_token ? " with the given token: it lacks access to this gated or private model"
                                   : ": the model is gated or private; set HF_TOKEN or pass --token"));
    }
    if (response.status == 404) {
        if (code == "RevisionNotFound") throw Error(ErrorCode::not_found, what + ": revision not found (404)");
        if (code == "EntryNotFound") throw Error(ErrorCode::not_found, what + ": file not found (404)");
        throw Error(ErrorCode::not_found, what + ": not found on the Hub (404" +
                                              (code.empty() ? "" : ", " + code) + ")");
    }
    throw Error(ErrorCode::unavailable, what + ": the Hub answered HTTP " + status);
}

std::string strip_etag(std::string etag) {
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    return etag;
}

bool is_hex(std::string_view text, std::size_t length) {
    return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// Git's blob id: SHA-1 of "blob <size>\0" + content — what the Hub's ETag is for non-LFS files.
std::string git_blob_sha1(const fs::path& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) throw Error(ErrorCode::io, path.string() + ": cannot open");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
    std::string header = "blob " + std::to_string(fs::file_size(path));
    EVP_DigestUpdate(ctx, header.data(), header.size() + 1);  // includes the NUL
    std::vector<char> buffer(1 << 20);
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), file)) > 0) EVP_DigestUpdate(ctx, buffer.data(), got);
    std::fclose(file);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx, digest, &length);
    EVP_MD_CTX_free(ctx);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int idx = 0; idx < length; ++idx) {
        hex.push_back(kHex[digest[idx] >> 4]);
        hex.push_back(kHex[digest[idx] & 0xF]);
    }
    return hex;
}

struct FileMeta {
    std::string etag;
    std::optional<std::uint64_t> size_bytes;
    std::string download_url;
};

std::string absolute_location(const std::string& base_url, const std::string& location) {
    if (location.find("://") != std::string::npos) return location;
    auto scheme_end = base_url.find("://");
    auto path_start = base_url.find('/', scheme_end + 3);
    std::string origin = path_start == std::string::npos ? base_url : base_url.substr(0, path_start);
    if (!location.empty() && location.front() == '/') return origin + location;
    auto last_slash = base_url.rfind('/');
    return base_url.substr(0, last_slash + 1) + location;
}

class Puller {
public:
    Puller(const HubOptions& options, hub::CacheLayout cache, std::string endpoint,
           std::optional<std::string> token)
        : options_(options),
          cache_(std::move(cache)),
          endpoint_(std::move(endpoint)),
          has_token_(token.has_value()),
          http_(hub::HttpClientOptions{.auth_host = hub::HttpClient::host_of(endpoint_),
                                       .token = std::move(token),
                                       .ca_bundle = options.ca_bundle}) {}

    hub::HttpResponse with_retries(const std::function<hub::HttpResponse()>& request) {
        for (int attempt = 1;; ++attempt) {
            try {
                hub::HttpResponse response = request();
                if (!retryable_status(response.status) || attempt == kMaxAttempts) return response;
            } catch (const hub::TransportError& err) {
                if (!err.retryable() || attempt == kMaxAttempts) throw;
            }
            backoff(attempt);
        }
    }

    // GET /api/models/{repo}/revision/{rev} -> (commit, file list).
    std::pair<std::string, std::vector<std::string>> model_info(const hub::RepoRef& ref) {
        const std::string url = endpoint_ + "/api/models/" + ref.repo_id + "/revision/" +
                                hub::url_encode_segment(ref.revision);
        hub::HttpResponse response = with_retries([&] { return http_.get(url); });
        const std::string what = "model '" + ref.repo_id + "' revision '" + ref.revision + "'";
        if (response.status != 200) throw_for_status(response, what, has_token_);
        nlohmann::json info;
        try {
            info = nlohmann::json::parse(response.body);
        } catch (const nlohmann::json::exception& err) {
            throw Error(ErrorCode::corrupt, url + ": invalid JSON: " + err.what());
        }
        std::string commit = info.value("sha", "");
        if (!hub::is_commit_hash(commit)) {
            throw Error(ErrorCode::corrupt, url + ": sha: expected a 40-hex commit, got '" + commit + "'");
        }
        std::vector<std::string> files;
        if (!info.contains("siblings") || !info["siblings"].is_array()) {
            throw Error(ErrorCode::corrupt, url + ": siblings: missing file list");
        }
        for (const auto& sibling : info["siblings"]) {
            if (!sibling.is_object() || !sibling.contains("rfilename") || !sibling["rfilename"].is_string()) {
                throw Error(ErrorCode::corrupt, url + ": siblings[].rfilename: missing or not a string");
            }
            std::string file = sibling["rfilename"].get<std::string>();
            hub::check_relative_file_name(file, url + ": siblings");
            files.push_back(std::move(file));
        }
        return {commit, files};
    }

    FileMeta file_meta(const hub::RepoRef& ref, const std::string& commit, const std::string& file) {
        std::string url = endpoint_ + "/" + ref.repo_id + "/resolve/" + commit + "/" + hub::url_encode_path(file);
        const std::string what = ref.repo_id + "/" + file;
        // huggingface_hub follows only relative redirects (renamed repos); an absolute one is the CDN.
        for (int hop = 0; hop < 5; ++hop) {
            hub::HttpResponse response = with_retries([&] { return http_.head(url); });
            if (response.status >= 300 && response.status < 400) {
                std::string location = response.header("location");
                if (location.empty()) throw Error(ErrorCode::corrupt, what + ": redirect without Location");
                if (location.find("://") == std::string::npos) {
                    url = absolute_location(url, location);
                    continue;
                }
                FileMeta meta{.etag = strip_etag(response.header("x-linked-etag")), .size_bytes = {},
                              .download_url = location};
                if (meta.etag.empty()) meta.etag = strip_etag(response.header("etag"));
                if (auto size = response.header("x-linked-size"); !size.empty()) meta.size_bytes = std::stoull(size);
                return check_meta(std::move(meta), what);
            }
            if (response.status != 200) throw_for_status(response, what, has_token_);
            FileMeta meta{.etag = strip_etag(response.header("x-linked-etag")), .size_bytes = {},
                          .download_url = url};
            if (meta.etag.empty()) meta.etag = strip_etag(response.header("etag"));
            auto size = response.header("x-linked-size");
            if (size.empty()) size = response.header("content-length");
            if (!size.empty()) meta.size_bytes = std::stoull(size);
            return check_meta(std::move(meta), what);
        }
        throw Error(ErrorCode::unavailable, what + ": too many redirects");
    }

    static FileMeta check_meta(FileMeta meta, const std::string& what) {
        // The ETag becomes a file name under blobs/: only a hash is acceptable.
        if (!is_hex(meta.etag, 40) && !is_hex(meta.etag, 64)) {
            throw Error(ErrorCode::corrupt, what + ": ETag: expected a SHA-1 or SHA-256 hex digest, got '" +
                                                meta.etag + "'");
        }
        return meta;
    }

    // Downloads one file into blobs/ (unless present) and links it into the snapshot.
    std::uint64_t install(const hub::RepoRef& ref, const std::string& commit, const std::string& file) {
        FileMeta meta = file_meta(ref, commit, file);
        const fs::path blob = cache_.blob_path(ref.repo_id, meta.etag);
        std::uint64_t downloaded = 0;
        std::error_code ec;
        if (!fs::is_regular_file(blob, ec)) downloaded = fetch_blob(ref, file, meta, blob);
        link_into_snapshot(ref, commit, file, meta.etag);
        return downloaded;
    }

    std::uint64_t fetch_blob(const hub::RepoRef& ref, const std::string& file, const FileMeta& meta,
                             const fs::path& blob) {
        const std::string what = ref.repo_id + "/" + file;
        fs::create_directories(blob.parent_path());
        fs::path partial = blob;
        partial += ".incomplete";
        core::ProgressBar bar(file, meta.size_bytes.value_or(0), "B",
                              core::ProgressOptions{.enabled = options_.show_progress});
        std::uint64_t received = 0;
        for (int attempt = 1;; ++attempt) {
            std::FILE* out = std::fopen(partial.c_str(), "ab");
            if (!out) throw Error(ErrorCode::io, partial.string() + ": cannot open for writing");
            std::uint64_t offset = static_cast<std::uint64_t>(std::ftell(out));
            if (meta.size_bytes && offset > *meta.size_bytes) {
                std::fclose(out);
                fs::resize_file(partial, 0);
                continue;
            }
            bar.set_done(offset);
            bool done = false;
            try {
                hub::HttpResponse response;
                if (meta.size_bytes && offset == *meta.size_bytes) {
                    done = true;  // a previous run got every byte but was stopped before checking
                } else {
                    response = http_.download(meta.download_url, out, offset, [&](std::uint64_t bytes) {
                        received += bytes;
                        bar.advance(bytes);
                    });
                    if (response.status == 200 || response.status == 206) {
                        done = true;
                    } else if (response.status == 416) {
                        std::fclose(out);
                        out = nullptr;
                        fs::resize_file(partial, 0);  // our partial file is not a prefix any more
                    } else if (!retryable_status(response.status) || attempt == kMaxAttempts) {
                        std::fclose(out);
                        out = nullptr;
                        throw_for_status(response, what, has_token_);
                    }
                }
            } catch (const Error& err) {
                if (out) std::fclose(out);
                out = nullptr;
                const auto* transport = dynamic_cast<const hub::TransportError*>(&err);
                if (transport == nullptr || !transport->retryable() || attempt == kMaxAttempts) {
                    throw err.with_context("downloading " + what + " (partial file kept for resume)");
                }
            }
            if (out && std::fclose(out) != 0) throw Error(ErrorCode::io, partial.string() + ": write failed");
            if (done) {
                std::uint64_t size = fs::file_size(partial);
                if (!meta.size_bytes || size == *meta.size_bytes) break;
                if (size > *meta.size_bytes) fs::resize_file(partial, 0);
                if (attempt == kMaxAttempts) {
                    throw Error(ErrorCode::unavailable, what + ": got " + std::to_string(size) +
                                                            " bytes, expected " +
                                                            std::to_string(*meta.size_bytes));
                }
            }
            if (attempt == kMaxAttempts) {
                throw Error(ErrorCode::unavailable, what + ": download failed after " +
                                                        std::to_string(kMaxAttempts) + " attempts");
            }
            backoff(attempt);
        }
        bar.finish();
        verify(partial, meta.etag, what);
        fs::rename(partial, blob);
        return received;
    }

    static void verify(const fs::path& partial, const std::string& etag, const std::string& what) {
        const bool lfs = etag.size() == 64;
        const std::string actual = lfs ? core::sha256_file(partial) : git_blob_sha1(partial);
        if (actual != etag) {
            std::error_code ec;
            fs::remove(partial, ec);
            throw Error(ErrorCode::corrupt, what + ": " + (lfs ? "SHA-256" : "git SHA-1") +
                                                " mismatch: the Hub says " + etag +
                                                ", the download is " + actual +
                                                "; the file was not installed");
        }
    }

    void link_into_snapshot(const hub::RepoRef& ref, const std::string& commit,
                            const std::string& file, const std::string& etag) {
        const fs::path link = cache_.snapshot_dir(ref.repo_id, commit) / file;
        fs::create_directories(link.parent_path());
        std::string target;
        const fs::path file_path(file);
        const auto depth = static_cast<std::size_t>(std::distance(file_path.begin(), file_path.end()));
        for (std::size_t level = 0; level <= depth; ++level) target += "../";
        target += "blobs/" + etag;
        fs::path temporary = link;
        temporary += ".tessera-tmp-" + std::to_string(::getpid());
        std::error_code ec;
        fs::remove(temporary, ec);
        fs::create_symlink(target, temporary, ec);
        if (ec) {
            // No symlinks (some filesystems): huggingface_hub copies the blob instead.
            fs::copy_file(cache_.blob_path(ref.repo_id, etag), temporary,
                          fs::copy_options::overwrite_existing);
        }
        fs::rename(temporary, link);
    }

    const HubOptions& options_;
    hub::CacheLayout cache_;
    std::string endpoint_;
    bool has_token_;
    hub::HttpClient http_;
};

std::vector<std::string> list_snapshot_files(const fs::path& snapshot) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(snapshot, ec)) {
        if (!entry.is_directory(ec)) files.push_back(entry.path().lexically_relative(snapshot).generic_string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

PullResult pull_model(std::string_view name, const HubOptions& options) {
    std::string full_name(name);
    std::string_view base = name.substr(0, name.find('@'));
    if (const KnownModel* known = find_known_model(base)) {
        full_name = known->repo_id + std::string(name.substr(base.size()));
    }
    const hub::RepoRef ref = hub::parse_repo_ref(full_name);
    hub::CacheLayout cache(options.cache_dir.value_or(hub::default_cache_dir()));

    if (options.offline.value_or(hub::offline_from_env())) {
        try {
            fs::path snapshot = resolve_model(full_name, options);
            return PullResult{.repo_id = ref.repo_id, .revision = snapshot.filename().string(),
                              .snapshot_dir = snapshot, .files = list_snapshot_files(snapshot),
                              .downloaded_bytes = 0};
        } catch (const Error& err) {
            throw Error(ErrorCode::unavailable,
                        "offline (--offline or HF_HUB_OFFLINE): cannot download; " + std::string(err.what()));
        }
    }

    std::string endpoint = options.endpoint.value_or(hub::endpoint_from_env());
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    std::optional<std::string> token = options.token ? options.token : hub::token_from_env();
    if (token && token->empty()) token.reset();
    Puller puller(options, cache, endpoint, token);

    std::string commit;
    std::vector<std::string> all_files;
    try {
        std::tie(commit, all_files) = puller.model_info(ref);
    } catch (const hub::TransportError& err) {
        throw Error(ErrorCode::unavailable,
                    std::string(err.what()) + "; cannot reach the Hub at " + endpoint +
                        " (no network? set HF_ENDPOINT for a mirror, or copy a cache and use --offline)");
    }
    std::vector<std::string> files = hub::files_to_download(all_files);
    if (std::none_of(files.begin(), files.end(), [](const std::string& f) { return f.ends_with(".safetensors"); })) {
        throw Error(ErrorCode::unsupported,
                    "model '" + ref.repo_id + "' revision '" + ref.revision +
                        "': no safetensors weights in the repository (tessera loads neither PyTorch "
                        "pickles nor ONNX)");
    }

    // One puller per repository at a time; a second process waits, then finds the blobs present.
    const fs::path lock_dir = cache.cache_dir() / ".locks" / hub::repo_folder_name(ref.repo_id);
    fs::create_directories(lock_dir);
    std::optional<core::FileLock> lock = core::FileLock::try_acquire(lock_dir / "tessera-pull.lock");
    if (!lock) {
        if (options.show_progress) std::cerr << "tessera: waiting for another pull of " << ref.repo_id << "\n";
        lock = core::FileLock::acquire(lock_dir / "tessera-pull.lock");
    }

    PullResult result{.repo_id = ref.repo_id, .revision = commit,
                      .snapshot_dir = cache.snapshot_dir(ref.repo_id, commit), .files = files,
                      .downloaded_bytes = 0};
    for (const auto& file : files) result.downloaded_bytes += puller.install(ref, commit, file);
    if (!hub::is_commit_hash(ref.revision)) cache.write_ref(ref.repo_id, ref.revision, commit);

    std::vector<std::string> missing = hub::missing_model_files(result.snapshot_dir, cache.repo_dir(ref.repo_id));
    if (!missing.empty()) {
        std::string list;
        for (const auto& file : missing) list += (list.empty() ? "" : ", ") + file;
        throw Error(ErrorCode::unsupported, "model '" + ref.repo_id + "' revision '" + ref.revision +
                                                "': the repository lacks files tessera needs: " + list);
    }
    return result;
}

}  // namespace tessera
