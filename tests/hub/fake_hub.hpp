// A Hub-like HTTP server on loopback for the hub tests: the model-info API, resolve URLs that
// 302-redirect LFS files to a second "CDN" server (another port, so another host for the token
// rule), ETags (git SHA-1 / SHA-256), Range, gated repos (401 without the token), 404s with
// X-Error-Code, cut transfers, corrupted bytes and a request log to assert on.
//
//   FakeHub hub;
//   hub.add_repo("org/model", {{"config.json", "{...}"}, {"model.safetensors", bytes}});
//   tessera::pull_model("org/model", {.endpoint = hub.endpoint()});
#pragma once

#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tessera::testing {

struct LoggedRequest {
    std::string server;  // "hub" or "cdn"
    std::string method;
    std::string path;
    std::string range;
    std::string authorization;
};

class FakeHub {
public:
    FakeHub();
    // HTTPS on both servers with this certificate and key (PEM).
    FakeHub(const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem);
    ~FakeHub();
    FakeHub(const FakeHub&) = delete;
    FakeHub& operator=(const FakeHub&) = delete;

    [[nodiscard]] std::string endpoint() const;      // http://127.0.0.1:<hub port>
    [[nodiscard]] std::string cdn_endpoint() const;  // http://127.0.0.1:<cdn port>

    // Adds (or extends) a repo: `files` at a new commit that `branch` points to. LFS files
    // (*.safetensors, tokenizer.json, *.onnx, *.bin) redirect to the CDN with a SHA-256 ETag.
    // Returns the commit hash.
    std::string add_repo(const std::string& repo_id, const std::map<std::string, std::string>& files,
                         const std::string& branch = "main");
    // The same, from every file under `dir`.
    std::string add_repo_from_dir(const std::string& repo_id, const std::filesystem::path& dir,
                                  const std::string& branch = "main");
    void tag(const std::string& repo_id, const std::string& name, const std::string& commit);
    void set_gated(const std::string& repo_id, const std::string& token);
    // Lists `file_name` among the siblings (without serving it): hostile names.
    void add_sibling_name(const std::string& repo_id, const std::string& file_name);
    // A renamed repo: resolve URLs under `old_id` answer with a relative redirect to `new_id`.
    void rename(const std::string& old_id, const std::string& new_id);

    // The next `count` CDN transfers of `file` stop after `cut_at` bytes of the file.
    void cut_transfers(const std::string& file, int count, std::size_t cut_at);
    // The CDN serves `file` with one byte changed (same length): a SHA-256 mismatch.
    void corrupt(const std::string& file);
    // The CDN ignores Range headers (always 200 with the whole file).
    void ignore_range(bool ignore) { ignore_range_ = ignore; }
    // The model-info API answers 503 this many times first.
    void fail_info(int count) { fail_info_ = count; }
    // Replaces the ETag the hub reports for `file`.
    void override_etag(const std::string& file, const std::string& etag);

    [[nodiscard]] std::vector<LoggedRequest> requests() const;
    [[nodiscard]] std::size_t request_count() const;
    [[nodiscard]] int cdn_gets_of(const std::string& file) const;
    void clear_log();

    static std::string sha256(const std::string& bytes);
    static std::string git_sha1(const std::string& bytes);

private:
    struct File {
        std::string content;
        bool lfs = false;
    };
    struct Repo {
        std::map<std::string, std::string> refs;                       // branch/tag -> commit
        std::map<std::string, std::map<std::string, File>> commits;    // commit -> files
        std::string token;                                             // non-empty: gated
        std::vector<std::string> extra_siblings;
    };

    void setup_hub_routes();
    void setup_cdn_routes();
    void log(const std::string& server, const httplib::Request& req);
    bool authorized(const Repo& repo, const httplib::Request& req) const;

    void start_servers();

    std::string scheme_ = "http";
    std::unique_ptr<httplib::Server> hub_;
    std::unique_ptr<httplib::Server> cdn_;
    int hub_port_ = 0;
    int cdn_port_ = 0;
    std::thread hub_thread_;
    std::thread cdn_thread_;

    mutable std::mutex mutex_;
    std::map<std::string, Repo> repos_;
    std::map<std::string, std::string> renamed_;
    std::map<std::string, std::string> blobs_;        // sha256 -> content (CDN)
    std::map<std::string, std::string> blob_names_;   // sha256 -> file name (for cuts/corruption)
    std::map<std::string, std::pair<int, std::size_t>> cuts_;  // file -> (count, cut_at)
    std::set<std::string> corrupted_;
    std::map<std::string, std::string> etag_overrides_;
    std::vector<LoggedRequest> log_;
    std::atomic<bool> ignore_range_{false};
    std::atomic<int> fail_info_{0};
    int commit_counter_ = 0;
};

}  // namespace tessera::testing
