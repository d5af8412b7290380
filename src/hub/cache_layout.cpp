#include "hub/cache_layout.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tessera/error.hpp"

namespace tessera::hub {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
}

bool truthy(const std::string& value) {
    std::string lower;
    for (char c : value) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return lower == "1" || lower == "on" || lower == "yes" || lower == "true";
}

fs::path hf_home() {
    if (auto home = env("HF_HOME")) return *home;
    if (auto xdg = env("XDG_CACHE_HOME")) return fs::path(*xdg) / "huggingface";
    if (auto user_home = env("HOME")) return fs::path(*user_home) / ".cache" / "huggingface";
    return fs::path(".cache") / "huggingface";
}

std::string trim(std::string text) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
    text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
    return text;
}

bool valid_repo_part(std::string_view part) {
    if (part.empty() || part.size() > 96 || part == "." || part == "..") return false;
    return std::all_of(part.begin(), part.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

fs::path default_cache_dir() {
    if (auto cache = env("HF_HUB_CACHE")) return *cache;
    if (auto legacy = env("HUGGINGFACE_HUB_CACHE")) return *legacy;
    return hf_home() / "hub";
}

bool offline_from_env() {
    for (const char* name : {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}) {
        if (auto value = env(name); value && truthy(*value)) return true;
    }
    return false;
}

std::string endpoint_from_env() {
    std::string endpoint = env("HF_ENDPOINT").value_or("https://huggingface.co");
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return endpoint;
}

std::optional<std::string> token_from_env() {
    if (auto token = env("HF_TOKEN")) return trim(*token);
    fs::path token_path = env("HF_TOKEN_PATH").value_or((hf_home() / "token").string());
    std::ifstream in(token_path);
    if (!in) return std::nullopt;
    std::stringstream content;
    content << in.rdbuf();
    std::string token = trim(content.str());
    if (token.empty()) return std::nullopt;
    return token;
}

RepoRef parse_repo_ref(std::string_view text) {
    RepoRef ref;
    std::string_view id = text;
    if (auto at = text.find('@'); at != std::string_view::npos) {
        id = text.substr(0, at);
        ref.revision = std::string(text.substr(at + 1));
        ref.revision_given = true;
        if (ref.revision.empty() || ref.revision.find("..") != std::string::npos ||
            ref.revision.front() == '/' ||
            std::any_of(ref.revision.begin(), ref.revision.end(),
                        [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '\\'; })) {
            throw Error(ErrorCode::invalid_argument,
                        "model name: revision: invalid revision '" + ref.revision + "'");
        }
    }
    auto slash = id.find('/');
    if (slash == std::string_view::npos || id.find('/', slash + 1) != std::string_view::npos ||
        !valid_repo_part(id.substr(0, slash)) || !valid_repo_part(id.substr(slash + 1))) {
        throw Error(ErrorCode::invalid_argument,
                    "model name: expected ORG/NAME[@REVISION] or a known model name, got '" +
                        std::string(text) + "'");
    }
    ref.repo_id = std::string(id);
    return ref;
}

bool is_commit_hash(std::string_view revision) {
    return revision.size() == 40 && std::all_of(revision.begin(), revision.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

void check_relative_file_name(std::string_view file_name, std::string_view where) {
    auto refuse = [&](const char* why) {
        throw Error(ErrorCode::invalid_argument, std::string(where) + ": refusing file name '" +
                                                     std::string(file_name) + "': " + why);
    };
    if (file_name.empty()) refuse("empty");
    if (file_name.front() == '/') refuse("absolute path");
    if (file_name.find('\\') != std::string_view::npos) refuse("backslash");
    if (file_name.find('\0') != std::string_view::npos) refuse("NUL byte");
    if (file_name.size() > 1024) refuse("too long");
    std::size_t start = 0;
    while (start <= file_name.size()) {
        auto end = file_name.find('/', start);
        if (end == std::string_view::npos) end = file_name.size();
        auto part = file_name.substr(start, end - start);
        if (part.empty()) refuse("empty path component");
        if (part == "..") refuse("parent directory '..'");
        if (part == ".") refuse("'.' component");
        start = end + 1;
    }
}

std::string repo_folder_name(std::string_view repo_id) {
    std::string name = "models--";
    for (char c : repo_id) {
        if (c == '/') {
            name += "--";
        } else {
            name.push_back(c);
        }
    }
    return name;
}

bool is_inside(const fs::path& path, const fs::path& root) {
    std::error_code ec;
    fs::path real_path = fs::weakly_canonical(path, ec);
    if (ec) return false;
    fs::path real_root = fs::weakly_canonical(root, ec);
    if (ec) return false;
    auto [root_end, path_it] = std::mismatch(real_root.begin(), real_root.end(), real_path.begin(),
                                             real_path.end());
    (void)path_it;
    return root_end == real_root.end();
}

fs::path CacheLayout::repo_dir(std::string_view repo_id) const {
    return cache_dir_ / repo_folder_name(repo_id);
}

fs::path CacheLayout::blob_path(std::string_view repo_id, std::string_view etag) const {
    return repo_dir(repo_id) / "blobs" / std::string(etag);
}

fs::path CacheLayout::snapshot_dir(std::string_view repo_id, std::string_view commit) const {
    return repo_dir(repo_id) / "snapshots" / std::string(commit);
}

std::optional<std::string> CacheLayout::read_ref(std::string_view repo_id,
                                                 std::string_view revision) const {
    std::ifstream in(repo_dir(repo_id) / "refs" / std::string(revision));
    if (!in) return std::nullopt;
    std::string commit;
    std::getline(in, commit);
    commit = trim(commit);
    if (commit.empty()) return std::nullopt;
    return commit;
}

void CacheLayout::write_ref(std::string_view repo_id, std::string_view revision,
                            std::string_view commit) const {
    fs::path ref_path = repo_dir(repo_id) / "refs" / std::string(revision);
    fs::create_directories(ref_path.parent_path());
    fs::path tmp = ref_path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << commit;  // huggingface_hub writes the hash without a newline
        if (!out) throw Error(ErrorCode::io, tmp.string() + ": cannot write ref");
    }
    fs::rename(tmp, ref_path);
}

std::optional<std::string> CacheLayout::resolve_commit(std::string_view repo_id,
                                                       std::string_view revision) const {
    std::error_code ec;
    if (is_commit_hash(revision)) {
        if (fs::is_directory(snapshot_dir(repo_id, revision), ec)) return std::string(revision);
        return std::nullopt;
    }
    auto commit = read_ref(repo_id, revision);
    if (!commit) return std::nullopt;
    check_relative_file_name(*commit, "refs/" + std::string(revision));
    if (!fs::is_directory(snapshot_dir(repo_id, *commit), ec)) return std::nullopt;
    return commit;
}

std::vector<std::string> CacheLayout::cached_repos() const {
    std::vector<std::string> repos;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(cache_dir_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("models--", 0) != 0 || !entry.is_directory(ec)) continue;
        std::string rest = name.substr(8);
        auto sep = rest.find("--");
        if (sep == std::string::npos) continue;
        repos.push_back(rest.substr(0, sep) + "/" + rest.substr(sep + 2));
    }
    std::sort(repos.begin(), repos.end());
    return repos;
}

std::uintmax_t CacheLayout::repo_size_bytes(std::string_view repo_id) const {
    std::uintmax_t total = 0;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(repo_dir(repo_id), ec)) {
        if (entry.is_regular_file(ec) && !entry.is_symlink(ec)) total += entry.file_size(ec);
    }
    return total;
}

}  // namespace tessera::hub
