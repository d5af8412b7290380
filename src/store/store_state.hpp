// The private state behind tessera::Store (shared by store.cpp and snapshot.cpp).
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/file_lock.hpp"
#include "core/thread_pool.hpp"
#include "tessera/store.hpp"

namespace tessera {


struct Store::State {
    std::filesystem::path dir;
    StoreOptions options;
    std::optional<core::FileLock> lock;
    std::unique_ptr<core::ThreadPool> pool;

    mutable std::mutex mutex;  // guards `open`
    std::map<std::string, std::shared_ptr<Collection>> open;

    std::thread background;
    std::mutex background_mutex;
    std::condition_variable wake;
    bool stopping = false;

    [[nodiscard]] std::filesystem::path collections_dir() const { return dir / "collections"; }
    void background_loop();
    std::vector<std::shared_ptr<Collection>> open_collections() const {
        std::lock_guard guard(mutex);
        std::vector<std::shared_ptr<Collection>> out;
        for (const auto& [name, collection] : open) out.push_back(collection);
        return out;
    }
};

}  // namespace tessera
