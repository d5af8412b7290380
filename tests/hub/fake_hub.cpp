#include "fake_hub.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tessera::testing {

namespace fs = std::filesystem;

namespace {

std::string digest_hex(const EVP_MD* md, const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, md, nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int idx = 0; idx < length; ++idx) {
        hex.push_back(kHex[digest[idx] >> 4]);
        hex.push_back(kHex[digest[idx] & 0xF]);
    }
    return hex;
}

bool is_lfs_name(const std::string& file) {
    return file.ends_with(".safetensors") || file == "tokenizer.json" || file.ends_with(".onnx") ||
           file.ends_with(".bin");
}

void start(httplib::Server& server, int& port, std::thread& thread) {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([&server] { server.listen_after_bind(); });
    for (int wait = 0; wait < 500 && !server.is_running(); ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace

std::string FakeHub::sha256(const std::string& bytes) { return digest_hex(EVP_sha256(), bytes); }

std::string FakeHub::git_sha1(const std::string& bytes) {
    std::string blob = "blob " + std::to_string(bytes.size());
    blob.push_back('\0');
    return digest_hex(EVP_sha1(), blob + bytes);
}

FakeHub::FakeHub() : hub_(std::make_unique<httplib::Server>()), cdn_(std::make_unique<httplib::Server>()) {
    start_servers();
}

FakeHub::FakeHub(const fs::path& cert_pem, const fs::path& key_pem)
    : scheme_("https"),
      hub_(std::make_unique<httplib::SSLServer>(cert_pem.c_str(), key_pem.c_str())),
      cdn_(std::make_unique<httplib::SSLServer>(cert_pem.c_str(), key_pem.c_str())) {
    start_servers();
}

void FakeHub::start_servers() {
    setup_hub_routes();
    setup_cdn_routes();
    start(*hub_, hub_port_, hub_thread_);
    start(*cdn_, cdn_port_, cdn_thread_);
}

FakeHub::~FakeHub() {
    hub_->stop();
    cdn_->stop();
    if (hub_thread_.joinable()) hub_thread_.join();
    if (cdn_thread_.joinable()) cdn_thread_.join();
}

std::string FakeHub::endpoint() const { return scheme_ + "://127.0.0.1:" + std::to_string(hub_port_); }
std::string FakeHub::cdn_endpoint() const { return scheme_ + "://127.0.0.1:" + std::to_string(cdn_port_); }

std::string FakeHub::add_repo(const std::string& repo_id,
                              const std::map<std::string, std::string>& files,
                              const std::string& branch) {
    std::lock_guard lock(mutex_);
    std::string commit = digest_hex(EVP_sha1(), repo_id + "#" + std::to_string(++commit_counter_));
    auto& tree = repos_[repo_id].commits[commit];
    for (const auto& [name, content] : files) {
        File file{.content = content, .lfs = is_lfs_name(name)};
        if (file.lfs) {
            std::string sha = sha256(content);
            blobs_[sha] = content;
            blob_names_[sha] = name;
        }
        tree[name] = std::move(file);
    }
    repos_[repo_id].refs[branch] = commit;
    return commit;
}

std::string FakeHub::add_repo_from_dir(const std::string& repo_id, const fs::path& dir,
                                       const std::string& branch) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream content;
        content << in.rdbuf();
        files[fs::relative(entry.path(), dir).generic_string()] = content.str();
    }
    return add_repo(repo_id, files, branch);
}

void FakeHub::tag(const std::string& repo_id, const std::string& name, const std::string& commit) {
    std::lock_guard lock(mutex_);
    repos_[repo_id].refs[name] = commit;
}

void FakeHub::set_gated(const std::string& repo_id, const std::string& token) {
    std::lock_guard lock(mutex_);
    repos_[repo_id].token = token;
}

void FakeHub::add_sibling_name(const std::string& repo_id, const std::string& file_name) {
    std::lock_guard lock(mutex_);
    repos_[repo_id].extra_siblings.push_back(file_name);
}

void FakeHub::rename(const std::string& old_id, const std::string& new_id) {
    std::lock_guard lock(mutex_);
    renamed_[old_id] = new_id;
}

void FakeHub::cut_transfers(const std::string& file, int count, std::size_t cut_at) {
    std::lock_guard lock(mutex_);
    cuts_[file] = {count, cut_at};
}

void FakeHub::corrupt(const std::string& file) {
    std::lock_guard lock(mutex_);
    corrupted_.insert(file);
}

void FakeHub::override_etag(const std::string& file, const std::string& etag) {
    std::lock_guard lock(mutex_);
    etag_overrides_[file] = etag;
}

std::vector<LoggedRequest> FakeHub::requests() const {
    std::lock_guard lock(mutex_);
    return log_;
}

std::size_t FakeHub::request_count() const {
    std::lock_guard lock(mutex_);
    return log_.size();
}

int FakeHub::cdn_gets_of(const std::string& file) const {
    std::lock_guard lock(mutex_);
    int count = 0;
    for (const auto& request : log_) {
        if (request.server != "cdn" || request.method != "GET") continue;
        auto sha = request.path.substr(request.path.rfind('/') + 1);
        auto it = blob_names_.find(sha);
        if (it != blob_names_.end() && it->second == file) ++count;
    }
    return count;
}

void FakeHub::clear_log() {
    std::lock_guard lock(mutex_);
    log_.clear();
}

void FakeHub::log(const std::string& server, const httplib::Request& req) {
    std::lock_guard lock(mutex_);
    log_.push_back(LoggedRequest{.server = server, .method = req.method, .path = req.path,
                                 .range = req.get_header_value("Range"),
                                 .authorization = req.get_header_value("Authorization")});
}

bool FakeHub::authorized(const Repo& repo, const httplib::Request& req) const {
    return repo.token.empty() || req.get_header_value("Authorization") == "Bearer " + repo.token;
}

void FakeHub::setup_hub_routes() {
    hub_->Get(R"(/api/models/([^/]+/[^/]+)/revision/(.+))", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
        log("hub", req);
        if (fail_info_.load() > 0) {
            --fail_info_;
            res.status = 503;
            return;
        }
        std::lock_guard lock(mutex_);
        const std::string repo_id = req.matches[1];
        const std::string revision = req.matches[2];
        if (auto renamed = renamed_.find(repo_id); renamed != renamed_.end()) {
            res.status = 307;
            res.set_header("Location", "/api/models/" + renamed->second + "/revision/" + revision);
            return;
        }
        auto repo = repos_.find(repo_id);
        if (repo == repos_.end()) {
            res.status = 404;
            res.set_header("X-Error-Code", "RepoNotFound");
            return;
        }
        if (!authorized(repo->second, req)) {
            res.status = 401;
            res.set_header("X-Error-Code", "GatedRepo");
            return;
        }
        std::string commit = repo->second.commits.count(revision) ? revision : "";
        if (auto ref = repo->second.refs.find(revision); ref != repo->second.refs.end()) commit = ref->second;
        if (commit.empty()) {
            res.status = 404;
            res.set_header("X-Error-Code", "RevisionNotFound");
            return;
        }
        nlohmann::json info = {{"id", repo_id}, {"sha", commit}, {"siblings", nlohmann::json::array()}};
        for (const auto& [name, file] : repo->second.commits[commit]) {
            info["siblings"].push_back({{"rfilename", name}});
        }
        for (const auto& name : repo->second.extra_siblings) info["siblings"].push_back({{"rfilename", name}});
        res.set_content(info.dump(), "application/json");
    });

    hub_->Get(R"(/([^/]+/[^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req,
                                                              httplib::Response& res) {
        log("hub", req);
        std::lock_guard lock(mutex_);
        const std::string repo_id = req.matches[1];
        const std::string revision = req.matches[2];
        const std::string file_name = req.matches[3];
        if (auto renamed = renamed_.find(repo_id); renamed != renamed_.end()) {
            res.status = 307;  // relative, as the Hub does for renamed repos
            res.set_header("Location", "/" + renamed->second + "/resolve/" + revision + "/" + file_name);
            return;
        }
        auto repo = repos_.find(repo_id);
        if (repo == repos_.end()) {
            res.status = 404;
            res.set_header("X-Error-Code", "RepoNotFound");
            return;
        }
        if (!authorized(repo->second, req)) {
            res.status = 401;
            res.set_header("X-Error-Code", "GatedRepo");
            return;
        }
        std::string commit = repo->second.commits.count(revision) ? revision : "";
        if (auto ref = repo->second.refs.find(revision); ref != repo->second.refs.end()) commit = ref->second;
        auto& tree = repo->second.commits[commit];
        auto file = tree.find(file_name);
        if (commit.empty() || file == tree.end()) {
            res.status = 404;
            res.set_header("X-Error-Code", commit.empty() ? "RevisionNotFound" : "EntryNotFound");
            return;
        }
        res.set_header("X-Repo-Commit", commit);
        std::string override_etag;
        if (auto it = etag_overrides_.find(file_name); it != etag_overrides_.end()) override_etag = it->second;
        if (file->second.lfs) {
            const std::string sha = sha256(file->second.content);
            res.status = 302;
            res.set_header("Location", cdn_endpoint() + "/cdn/" + sha);
            res.set_header("X-Linked-Etag", "\"" + (override_etag.empty() ? sha : override_etag) + "\"");
            res.set_header("X-Linked-Size", std::to_string(file->second.content.size()));
            res.set_header("ETag", "\"" + git_sha1("pointer " + sha) + "\"");
            return;
        }
        res.set_header("ETag", "\"" + (override_etag.empty() ? git_sha1(file->second.content) : override_etag) + "\"");
        res.set_content(file->second.content, "application/octet-stream");
    });
}

void FakeHub::setup_cdn_routes() {
    cdn_->Get(R"(/cdn/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
        log("cdn", req);
        std::string content;
        std::size_t cut_at = std::string::npos;
        {
            std::lock_guard lock(mutex_);
            auto blob = blobs_.find(req.matches[1]);
            if (blob == blobs_.end()) {
                res.status = 404;
                return;
            }
            content = blob->second;
            const std::string& name = blob_names_[blob->first];
            if (corrupted_.count(name) && !content.empty()) content[content.size() / 2] ^= 0x5A;
            if (req.method == "GET") {
                if (auto cut = cuts_.find(name); cut != cuts_.end() && cut->second.first > 0) {
                    --cut->second.first;
                    cut_at = cut->second.second;
                }
            }
        }
        auto shared = std::make_shared<std::string>(std::move(content));
        auto provide = [shared, cut_at](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            std::size_t end = std::min(offset + length, shared->size());
            const bool cut = cut_at != std::string::npos && end > cut_at;
            if (cut) end = std::max(offset, cut_at);
            constexpr std::size_t kChunk = 64 * 1024;
            for (std::size_t pos = offset; pos < end; pos += kChunk) {
                if (!sink.write(shared->data() + pos, std::min(kChunk, end - pos))) return false;
            }
            return !cut;  // false closes the connection mid-body
        };
        if (ignore_range_.load()) {
            // Make httplib forget the parsed Range, so the answer is a 200 with the whole file
            // (test-only: the request object is ours for the duration of the handler).
            const_cast<httplib::Request&>(req).ranges.clear();
        }
        res.set_content_provider(shared->size(), "application/octet-stream", provide);
    });
}

}  // namespace tessera::testing
