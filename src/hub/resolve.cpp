// Offline resolution: a name from --model -> a local model directory, never touching the network.
#include <algorithm>
#include <filesystem>

#include "hub/cache_layout.hpp"
#include "hub/snapshot_check.hpp"
#include "tessera/hub.hpp"

namespace tessera {

namespace fs = std::filesystem;

std::string default_text_model() { return "BAAI/bge-small-en-v1.5"; }
std::string default_image_model() { return "openai/clip-vit-base-patch32"; }

namespace {

bool looks_like_path(std::string_view text) {
    return text.starts_with("/") || text.starts_with("./") || text.starts_with("../") ||
           text.starts_with("~") || text == "." || text == ".." ||
           std::count(text.begin(), text.end(), '/') > 1;
}

std::string join(const std::vector<std::string>& items) {
    std::string joined;
    for (const auto& item : items) joined += (joined.empty() ? "" : ", ") + item;
    return joined;
}

}  // namespace

fs::path resolve_model(std::string_view name_or_path, const HubOptions& options) {
    if (name_or_path.empty()) {
        throw Error(ErrorCode::invalid_argument, "--model: empty model name");
    }
    std::error_code ec;
    const fs::path as_path{std::string(name_or_path)};
    if (fs::is_directory(as_path, ec)) return as_path;
    if (looks_like_path(name_or_path)) {
        throw Error(ErrorCode::not_found,
                    "model directory '" + std::string(name_or_path) + "' does not exist");
    }

    // Registry names and aliases map to a repo id; the revision after '@' is kept.
    std::string_view base = name_or_path.substr(0, name_or_path.find('@'));
    std::string revision_suffix(name_or_path.substr(base.size()));
    std::string full_name(name_or_path);
    if (const KnownModel* known = find_known_model(base)) full_name = known->repo_id + revision_suffix;
    if (full_name.find('/') == std::string::npos) {
        throw Error(ErrorCode::not_found,
                    "model '" + std::string(name_or_path) +
                        "' is neither a directory nor a known model name (see `tessera models "
                        "list`) nor a Hub id ORG/NAME");
    }
    hub::RepoRef ref = hub::parse_repo_ref(full_name);

    hub::CacheLayout cache(options.cache_dir.value_or(hub::default_cache_dir()));
    std::string pull_command = "tessera pull " + full_name;
    if (options.cache_dir) pull_command += " --cache-dir " + options.cache_dir->string();
    std::string what = "model '" + std::string(name_or_path) + "'" +
                       (full_name != name_or_path ? " (" + ref.repo_id + ")" : "") +
                       " at revision '" + ref.revision + "'";

    std::optional<std::string> commit = cache.resolve_commit(ref.repo_id, ref.revision);
    if (!commit && !ref.revision_given) {
        // A cache copied without refs/ (e.g. a snapshot folder carried by hand): one snapshot
        // is unambiguous, so use it.
        std::vector<std::string> snapshots;
        for (const auto& entry :
             fs::directory_iterator(cache.repo_dir(ref.repo_id) / "snapshots", ec)) {
            if (entry.is_directory(ec)) snapshots.push_back(entry.path().filename().string());
        }
        if (snapshots.size() == 1) commit = snapshots.front();
    }
    if (!commit) {
        throw Error(ErrorCode::not_found,
                    what + " is not in the cache " + cache.cache_dir().string() +
                        ": missing config.json, model.safetensors, tokenizer.json; fetch it with: " +
                        pull_command);
    }
    fs::path snapshot = cache.snapshot_dir(ref.repo_id, *commit);
    std::vector<std::string> missing =
        hub::missing_model_files(snapshot, cache.repo_dir(ref.repo_id));
    if (!missing.empty()) {
        throw Error(ErrorCode::not_found, what + " is incomplete in the cache (" +
                                              snapshot.string() + "): missing " + join(missing) +
                                              "; fetch it with: " + pull_command);
    }
    return snapshot;
}

}  // namespace tessera
