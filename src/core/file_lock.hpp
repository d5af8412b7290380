// An advisory, exclusive lock on a file (flock), held for the lifetime of the object.
//
//   core::FileLock lock = core::FileLock::acquire(repo_dir / ".lock");   // blocks until free
//   if (auto lock = core::FileLock::try_acquire(path)) { ... }           // std::nullopt if held
//   auto lock = core::FileLock::acquire_for(path, 5000);                 // Error(unavailable) after 5 s
//
// The lock file is created if absent and left in place (removing it would race with a waiter).
// flock locks belong to the open file, so two FileLock objects on one path exclude each other
// even inside one process, across threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace tessera::core {

class FileLock {
public:
    // Blocks until the lock is free. Error(io) if the file cannot be created or locked.
    static FileLock acquire(const std::filesystem::path& path);
    // Returns std::nullopt when another holder has it. Error(io) on other failures.
    static std::optional<FileLock> try_acquire(const std::filesystem::path& path);
    // Waits at most timeout_ms. Error(unavailable) naming the path when it stays held.
    static FileLock acquire_for(const std::filesystem::path& path, std::int64_t timeout_ms);

    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    // Releases early; the destructor then does nothing.
    void release();

private:
    FileLock(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
    std::filesystem::path path_;
    int fd_ = -1;
};

}  // namespace tessera::core
