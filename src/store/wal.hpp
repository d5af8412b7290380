// The write-ahead log of one collection: CRC-framed records appended with one write() each.
//
//   Wal wal = Wal::open(dir / "wal.log", [&](std::span<const std::byte> record) { apply(record); });
//   wal.append(record_bytes);   // then wal.sync() per the fsync policy, then apply in memory
//   wal.reset();                // after a checkpoint holds everything
//
// Opening replays every intact record in order. A torn or damaged tail (a crash in the middle
// of a write) stops the replay there; the tail is cut off so new records follow good ones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <atomic>
#include <mutex>
#include <span>
#include <string>

namespace tessera::store {

class Wal {
public:
    using Replay = std::function<void(std::span<const std::byte> record, std::uint64_t offset)>;

    Wal() = default;
    Wal(const Wal&) = delete;
    Wal& operator=(const Wal&) = delete;
    ~Wal();

    // Errors: io. A damaged tail is not an error: dropped_bytes() reports it (and read_only
    // leaves the file untouched).
    void open(const std::filesystem::path& path, bool read_only, const Replay& replay);
    void append(std::span<const std::byte> record);
    void sync();
    // Empties the log (after a checkpoint), durably.
    void reset();
    void close();

    [[nodiscard]] std::uint64_t size_bytes() const { return size_bytes_; }
    [[nodiscard]] std::uint64_t dropped_bytes() const { return dropped_bytes_; }
    [[nodiscard]] const std::string& damage() const { return damage_; }
    [[nodiscard]] bool dirty() const { return dirty_; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::atomic<std::uint64_t> size_bytes_ = 0;
    std::uint64_t dropped_bytes_ = 0;
    std::string damage_;
    std::atomic<bool> dirty_ = false;
    std::mutex sync_mutex_;  // the background flusher and writers may sync concurrently
};

}  // namespace tessera::store
