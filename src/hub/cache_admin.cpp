// Cache administration: list what is cached, remove a model, export one for an air-gapped device.
#include <algorithm>
#include <fstream>

#include "core/file_lock.hpp"
#include "hub/cache_layout.hpp"
#include "hub/snapshot_check.hpp"
#include "tessera/hub.hpp"

namespace tessera {

namespace fs = std::filesystem;

fs::path hub_cache_dir(const HubOptions& options) {
    return options.cache_dir.value_or(hub::default_cache_dir());
}

namespace {

std::string repo_id_for(std::string_view name) {
    std::string_view base = name.substr(0, name.find('@'));
    if (const KnownModel* known = find_known_model(base)) return known->repo_id;
    return hub::parse_repo_ref(base).repo_id;
}

std::vector<std::string> directory_names(const fs::path& dir, bool want_directories) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_directory(ec) == want_directories) names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::vector<CachedModel> list_cached_models(const HubOptions& options) {
    hub::CacheLayout cache(hub_cache_dir(options));
    std::vector<CachedModel> models;
    for (const auto& repo_id : cache.cached_repos()) {
        CachedModel model;
        model.repo_id = repo_id;
        const fs::path repo_dir = cache.repo_dir(repo_id);
        model.commits = directory_names(repo_dir / "snapshots", true);
        std::error_code ec;
        for (const auto& entry : fs::recursive_directory_iterator(repo_dir / "refs", ec)) {
            if (entry.is_regular_file(ec)) {
                model.refs.push_back(entry.path().lexically_relative(repo_dir / "refs").generic_string());
            }
        }
        std::sort(model.refs.begin(), model.refs.end());
        model.size_bytes = cache.repo_size_bytes(repo_id);
        try {
            HubOptions offline = options;
            offline.cache_dir = cache.cache_dir();
            offline.offline = true;
            (void)resolve_model(repo_id, offline);
            model.complete = true;
        } catch (const Error&) {
            model.complete = false;
        }
        models.push_back(std::move(model));
    }
    return models;
}

std::uint64_t remove_cached_model(std::string_view name, const HubOptions& options) {
    const std::string repo_id = repo_id_for(name);
    hub::CacheLayout cache(hub_cache_dir(options));
    const fs::path repo_dir = cache.repo_dir(repo_id);
    std::error_code ec;
    if (!fs::is_directory(repo_dir, ec)) {
        throw Error(ErrorCode::not_found, "model '" + std::string(name) + "' (" + repo_id +
                                              ") is not in the cache " + cache.cache_dir().string());
    }
    const fs::path lock_dir = cache.cache_dir() / ".locks" / hub::repo_folder_name(repo_id);
    fs::create_directories(lock_dir, ec);
    auto lock = core::FileLock::try_acquire(lock_dir / "tessera-pull.lock");
    if (!lock) {
        throw Error(ErrorCode::unavailable,
                    "model '" + repo_id + "': a pull is running; try again when it has finished");
    }
    std::uint64_t freed = cache.repo_size_bytes(repo_id);
    fs::remove_all(repo_dir, ec);
    if (ec) throw Error(ErrorCode::io, repo_dir.string() + ": cannot remove: " + ec.message());
    lock->release();
    fs::remove_all(lock_dir, ec);
    return freed;
}

void export_model_directory(const fs::path& model_dir, const fs::path& destination) {
    std::error_code ec;
    if (!fs::is_directory(model_dir, ec)) {
        throw Error(ErrorCode::not_found, "export: model directory '" + model_dir.string() + "' does not exist");
    }
    fs::create_directories(destination, ec);
    if (ec) throw Error(ErrorCode::io, destination.string() + ": cannot create: " + ec.message());
    for (const auto& entry : fs::recursive_directory_iterator(model_dir, ec)) {
        const fs::path relative = entry.path().lexically_relative(model_dir);
        const fs::path target = destination / relative;
        if (entry.is_directory(ec)) {
            fs::create_directories(target);
            continue;
        }
        fs::create_directories(target.parent_path());
        // copy_file follows the snapshot's symlinks, so the export holds plain files.
        fs::path temporary = target;
        temporary += ".incomplete";
        fs::copy_file(entry.path(), temporary, fs::copy_options::overwrite_existing, ec);
        if (ec) throw Error(ErrorCode::io, entry.path().string() + ": cannot copy: " + ec.message());
        fs::rename(temporary, target);
    }
}

}  // namespace tessera
