// The private state behind tessera::Collection: points by slot, one VectorIndex per named vector,
// payload indexes, the write-ahead log and the checkpoint files.
//
// Files in a collection directory:
//   manifest.json          config, generation, checkpoint_lsn and the checkpoint files' names
//   points-<gen>.seg       CRC-framed point records (slot, id, version, payload)
//   vectors-<gen>-<k>.idx  CRC-framed dump of the k-th named vector's VectorIndex
//   wal.log                operations after checkpoint_lsn
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/thread_pool.hpp"
#include "store/id_map.hpp"
#include "store/payload_index.hpp"
#include "store/vector_index.hpp"
#include "store/wal.hpp"
#include "tessera/store.hpp"

namespace tessera::store {
// The operations the log records (first byte of a record, then the u64 sequence number).
enum class Op : std::uint8_t {
    upsert = 1, remove = 2, set_payload = 3, delete_keys = 4, clear_payload = 5, create_index = 6,
    delete_index = 7
};
}  // namespace tessera::store

namespace tessera::store {

// A readers-writer lock that does not starve the writer: glibc's pthread rwlock (behind
// std::shared_mutex) lets a steady stream of readers hold off a writer forever. A writer takes
// the gate first, so readers arriving after it wait until it has had its turn.
class RwLock {
public:
    void lock() {
        gate_.lock();
        mutex_.lock();
        gate_.unlock();
    }
    void unlock() { mutex_.unlock(); }
    void lock_shared() {
        gate_.lock();
        gate_.unlock();
        mutex_.lock_shared();
    }
    void unlock_shared() { mutex_.unlock_shared(); }

private:
    std::mutex gate_;
    std::shared_mutex mutex_;
};

}  // namespace tessera::store

namespace tessera {

struct Collection::State {
    std::string name;
    std::filesystem::path dir;
    CollectionConfig config;
    StoreOptions options;
    core::ThreadPool* pool = nullptr;

    mutable store::RwLock mutex;  // shared: readers and checkpoints; unique: writers
    std::mutex checkpoint_mutex;      // one checkpoint at a time
    std::atomic<bool> deleted{false};

    // Points, by slot. A slot is live while it holds a point; freed slots are reused.
    std::vector<PointId> ids;
    store::IdMap slot_of{ids};  // keyed by ids[slot]
    std::vector<nlohmann::json> payloads;
    std::vector<std::uint64_t> versions;
    std::vector<std::uint8_t> live;
    std::vector<std::uint32_t> free_slots;

    std::vector<std::string> vector_names;  // config order; file k holds vector_names[k]
    std::map<std::string, std::unique_ptr<store::VectorIndex>> vectors;
    std::map<std::string, std::unique_ptr<store::PayloadIndex>> payload_indexes;

    store::Wal wal;
    std::uint64_t last_lsn = 0;
    std::uint64_t checkpoint_lsn = 0;
    std::uint64_t generation = 0;
    std::uint64_t checkpoint_bytes = 0;  // size of the current checkpoint files

    // Opens an existing collection directory (manifest, checkpoint, log replay).
    // Errors: corrupt naming the damaged file, io.
    static std::unique_ptr<State> open(const std::string& name, const std::filesystem::path& dir,
                                       const StoreOptions& options, core::ThreadPool* pool);
    // Creates the directory with an empty checkpoint.
    static void create(const std::filesystem::path& dir, const CollectionConfig& config);

    void check_writable() const;
    // Appends an encoded operation to the log (per the fsync policy) and applies it.
    std::uint64_t log_and_apply(std::vector<std::byte>& record);
    void apply(std::span<const std::byte> record, const std::string& source);
    // Writes a checkpoint; the caller holds checkpoint_mutex and at least a shared lock.
    void write_checkpoint();

    // Helpers for the operations (callers hold the lock).
    [[nodiscard]] std::uint32_t allocate_slot();
    [[nodiscard]] std::vector<std::uint32_t> matching_slots(const Filter& filter) const;
    [[nodiscard]] std::vector<std::uint32_t> selected_slots(const PointSelector& selector) const;
    [[nodiscard]] Point make_point(std::uint32_t slot, const PayloadSelector& with_payload,
                                   const VectorSelector& with_vector) const;
    void index_payload(std::uint32_t slot);
    void unindex_payload(std::uint32_t slot);
    [[nodiscard]] std::uint64_t disk_bytes() const;
};

}  // namespace tessera
