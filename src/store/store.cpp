// tessera::Store: the directory, its process lock, the collection registry and the background
// thread that fsyncs logs (interval policy) and folds large logs into checkpoints.
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <shared_mutex>
#include <thread>

#include "core/file_lock.hpp"
#include "store/bytes.hpp"
#include "store/collection_state.hpp"
#include "store/store_state.hpp"

namespace tessera {

namespace fs = std::filesystem;


namespace {

void check_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 255 && name.front() != '.' &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                    });
    if (!ok) {
        throw Error(ErrorCode::invalid_argument,
                    "collection name '" + name + "': use 1..255 characters of A-Z a-z 0-9 _ - . (not starting with '.')");
    }
}

void checkpoint_quietly(Collection& collection) {
    try {
        auto& state = collection.state();
        std::unique_lock checkpoint_lock(state.checkpoint_mutex, std::try_to_lock);
        if (!checkpoint_lock) return;
        std::shared_lock lock(state.mutex);
        if (state.deleted) return;
        state.write_checkpoint();
    } catch (const std::exception& err) {
        std::fprintf(stderr, "tessera: store: checkpoint of '%s' failed: %s\n", collection.name().c_str(), err.what());
    }
}

}  // namespace

void Store::State::background_loop() {
    const auto period = std::chrono::milliseconds(
        options.fsync == FsyncPolicy::interval ? std::max<std::uint32_t>(options.fsync_interval_ms, 1) : 200);
    std::unique_lock guard(background_mutex);
    while (!stopping) {
        wake.wait_for(guard, period, [this] { return stopping; });
        if (stopping) break;
        guard.unlock();
        for (const auto& collection : open_collections()) {
            auto& state = collection->state();
            try {
                if (options.fsync == FsyncPolicy::interval && state.wal.dirty()) state.wal.sync();
            } catch (const std::exception& err) {
                std::fprintf(stderr, "tessera: store: fsync of '%s' failed: %s\n", collection->name().c_str(), err.what());
            }
            if (state.wal.size_bytes() >= options.checkpoint_wal_bytes) checkpoint_quietly(*collection);
        }
        guard.lock();
    }
}

fs::path Store::default_dir() {
    if (const char* home = std::getenv("TESSERA_HOME"); home != nullptr && *home != '\0') return fs::path(home) / "store";
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
        return fs::path(xdg) / "tessera" / "store";
    }
    if (const char* user_home = std::getenv("HOME"); user_home != nullptr && *user_home != '\0') {
        return fs::path(user_home) / ".local" / "share" / "tessera" / "store";
    }
    return fs::path("tessera-store");
}

std::unique_ptr<Store> Store::open(const fs::path& dir, const StoreOptions& options) {
    auto state = std::make_unique<State>();
    state->dir = dir;
    state->options = options;
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        if (!options.create || options.read_only) {
            throw Error(ErrorCode::not_found, "store '" + dir.string() + "': no such directory");
        }
        fs::create_directories(dir, ec);
        if (ec) throw Error(ErrorCode::io, "store '" + dir.string() + "': cannot create: " + ec.message());
    } else if (!fs::is_directory(dir, ec)) {
        throw Error(ErrorCode::invalid_argument, "store '" + dir.string() + "': not a directory");
    }
    if (!options.read_only) {
        auto lock = core::FileLock::try_acquire(dir / ".lock");
        if (!lock) {
            std::string holder;
            std::ifstream pid_file(dir / ".lock.pid");
            std::getline(pid_file, holder);
            throw Error(ErrorCode::unavailable,
                        "store '" + dir.string() + "': already open for writing by another process" +
                            (holder.empty() ? std::string() : " (pid " + holder + ")") +
                            "; only one writer at a time");
        }
        state->lock = std::move(*lock);
        std::ofstream(dir / ".lock.pid", std::ios::trunc) << ::getpid() << "\n";
        fs::create_directories(state->collections_dir(), ec);
        if (ec) throw Error(ErrorCode::io, "store '" + dir.string() + "': " + ec.message());
    }
    state->pool = std::make_unique<core::ThreadPool>(options.thread_count);
    auto store = std::make_unique<Store>(std::move(state));
    if (options.background && !options.read_only) {
        Store::State* raw = store->state_.get();
        raw->background = std::thread([raw] { raw->background_loop(); });
    }
    return store;
}

Store::Store(std::unique_ptr<State> state) : state_(std::move(state)) {}

Store::~Store() {
    {
        std::lock_guard guard(state_->background_mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    if (state_->background.joinable()) state_->background.join();
    for (const auto& collection : state_->open_collections()) {
        auto& state = collection->state();
        try {
            state.wal.sync();
            // A log of more than 1 MiB is folded now, so the next open need not replay it.
            if (!state_->options.read_only && state.wal.size_bytes() > (1u << 20)) checkpoint_quietly(*collection);
        } catch (const std::exception& err) {
            std::fprintf(stderr, "tessera: store: closing '%s': %s\n", collection->name().c_str(), err.what());
        }
        state.wal.close();
    }
}

const fs::path& Store::dir() const { return state_->dir; }
const StoreOptions& Store::options() const { return state_->options; }

std::shared_ptr<Collection> Store::create_collection(const std::string& name, const CollectionConfig& config) {
    check_name(name);
    if (state_->options.read_only) throw Error(ErrorCode::unavailable, "store '" + state_->dir.string() + "': read-only");
    if (config.vectors.empty()) throw Error(ErrorCode::invalid_argument, "collection '" + name + "': no vectors configured");
    // Round-trip through JSON: the same validation as the REST API.
    const CollectionConfig checked = CollectionConfig::from_json(config.to_json());
    std::lock_guard guard(state_->mutex);
    const fs::path dir = state_->collections_dir() / name;
    if (fs::exists(dir)) throw Error(ErrorCode::unsupported, "collection '" + name + "': already exists");
    const fs::path staging = state_->collections_dir() / ("." + name + ".creating");
    std::error_code ec;
    fs::remove_all(staging, ec);
    Collection::State::create(staging, checked);
    fs::rename(staging, dir);
    store::fsync_directory(state_->collections_dir());
    auto collection = std::make_shared<Collection>(
        Collection::State::open(name, dir, state_->options, state_->pool.get()));
    state_->open[name] = collection;
    return collection;
}

std::shared_ptr<Collection> Store::collection(const std::string& name) {
    check_name(name);
    std::lock_guard guard(state_->mutex);
    const auto found = state_->open.find(name);
    if (found != state_->open.end()) return found->second;
    const fs::path dir = state_->collections_dir() / name;
    if (!fs::exists(dir / "manifest.json")) {
        throw Error(ErrorCode::not_found, "collection '" + name + "': not found in store '" + state_->dir.string() + "'");
    }
    auto collection = std::make_shared<Collection>(Collection::State::open(name, dir, state_->options, state_->pool.get()));
    state_->open[name] = collection;
    return collection;
}

bool Store::has_collection(const std::string& name) const {
    std::error_code ec;
    return fs::exists(state_->collections_dir() / name / "manifest.json", ec);
}

std::vector<std::string> Store::list_collections() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(state_->collections_dir(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.front() == '.') continue;
        if (fs::exists(entry.path() / "manifest.json", ec)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool Store::delete_collection(const std::string& name) {
    check_name(name);
    if (state_->options.read_only) throw Error(ErrorCode::unavailable, "store '" + state_->dir.string() + "': read-only");
    std::lock_guard guard(state_->mutex);
    const fs::path dir = state_->collections_dir() / name;
    if (!fs::exists(dir)) return false;
    if (const auto found = state_->open.find(name); found != state_->open.end()) {
        auto& state = found->second->state();
        std::lock_guard checkpoint_lock(state.checkpoint_mutex);
        std::unique_lock lock(state.mutex);
        state.deleted = true;
        state.wal.close();
        state_->open.erase(found);
    }
    // Rename first so a crash never leaves a half-deleted collection that looks valid.
    const fs::path doomed = state_->collections_dir() / ("." + name + ".deleting");
    std::error_code ec;
    fs::remove_all(doomed, ec);
    fs::rename(dir, doomed);
    store::fsync_directory(state_->collections_dir());
    fs::remove_all(doomed, ec);
    return true;
}

}  // namespace tessera
