// The huggingface_hub cache layout, shared with Python tools:
//
//   <cache>/models--ORG--NAME/blobs/<etag>            content, named by git SHA-1 or LFS SHA-256
//   <cache>/models--ORG--NAME/refs/<revision>         the commit hash of a branch or tag
//   <cache>/models--ORG--NAME/snapshots/<commit>/<f>  relative symlink to ../../blobs/<etag>
//
//   hub::CacheLayout cache(hub::default_cache_dir());
//   auto dir = cache.repo_dir("BAAI/bge-small-en-v1.5");     // .../models--BAAI--bge-small-en-v1.5
//   std::optional<std::string> commit = cache.read_ref("BAAI/bge-small-en-v1.5", "main");
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::hub {

// HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
[[nodiscard]] std::filesystem::path default_cache_dir();
// HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE set to 1/ON/YES/TRUE (any case).
[[nodiscard]] bool offline_from_env();
// HF_ENDPOINT without trailing '/', else https://huggingface.co.
[[nodiscard]] std::string endpoint_from_env();
// HF_TOKEN, else the file HF_TOKEN_PATH, else $HF_HOME/token; nullopt when none.
[[nodiscard]] std::optional<std::string> token_from_env();

// "ORG/NAME[@REV]" split into its parts; invalid_argument for malformed ids.
struct RepoRef {
    std::string repo_id;
    std::string revision = "main";
    bool revision_given = false;
};
[[nodiscard]] RepoRef parse_repo_ref(std::string_view text);
// True for 40 lowercase hex characters.
[[nodiscard]] bool is_commit_hash(std::string_view revision);

// Checks a repository-relative file name from the network or a manifest: no absolute paths, no
// "..", no empty or "." components, no backslashes or NULs. Error(invalid_argument) otherwise.
void check_relative_file_name(std::string_view file_name, std::string_view where);

class CacheLayout {
public:
    explicit CacheLayout(std::filesystem::path cache_dir) : cache_dir_(std::move(cache_dir)) {}

    [[nodiscard]] const std::filesystem::path& cache_dir() const { return cache_dir_; }
    [[nodiscard]] std::filesystem::path repo_dir(std::string_view repo_id) const;
    [[nodiscard]] std::filesystem::path blob_path(std::string_view repo_id, std::string_view etag) const;
    [[nodiscard]] std::filesystem::path snapshot_dir(std::string_view repo_id,
                                                     std::string_view commit) const;
    [[nodiscard]] std::optional<std::string> read_ref(std::string_view repo_id,
                                                      std::string_view revision) const;
    void write_ref(std::string_view repo_id, std::string_view revision, std::string_view commit) const;
    // A revision (commit, branch or tag) -> the commit whose snapshot exists, if any.
    [[nodiscard]] std::optional<std::string> resolve_commit(std::string_view repo_id,
                                                            std::string_view revision) const;
    // Repos present in the cache ("ORG/NAME"), sorted.
    [[nodiscard]] std::vector<std::string> cached_repos() const;
    // Bytes of the repo's blobs (what removing it frees).
    [[nodiscard]] std::uintmax_t repo_size_bytes(std::string_view repo_id) const;

private:
    std::filesystem::path cache_dir_;
};

// "models--ORG--NAME" for "ORG/NAME".
[[nodiscard]] std::string repo_folder_name(std::string_view repo_id);

// True when `path` (after following symlinks) lies inside `root` (also canonicalised).
[[nodiscard]] bool is_inside(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace tessera::hub
