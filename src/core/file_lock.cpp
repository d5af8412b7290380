#include "core/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "tessera/error.hpp"

namespace tessera::core {

namespace {

int open_lock_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw Error(ErrorCode::io, path.string() + ": cannot open lock file: " + std::strerror(errno));
    }
    return fd;
}

// true when locked, false when held elsewhere (non-blocking only).
bool lock_fd(int fd, const std::filesystem::path& path, bool blocking) {
    for (;;) {
        if (::flock(fd, LOCK_EX | (blocking ? 0 : LOCK_NB)) == 0) return true;
        if (errno == EINTR) continue;
        if (!blocking && errno == EWOULDBLOCK) return false;
        int saved = errno;
        ::close(fd);
        throw Error(ErrorCode::io, path.string() + ": cannot lock: " + std::strerror(saved));
    }
}

}  // namespace

FileLock FileLock::acquire(const std::filesystem::path& path) {
    int fd = open_lock_file(path);
    lock_fd(fd, path, true);
    return FileLock(path, fd);
}

std::optional<FileLock> FileLock::try_acquire(const std::filesystem::path& path) {
    int fd = open_lock_file(path);
    if (!lock_fd(fd, path, false)) {
        ::close(fd);
        return std::nullopt;
    }
    return FileLock(path, fd);
}

FileLock FileLock::acquire_for(const std::filesystem::path& path, std::int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (auto lock = try_acquire(path)) return std::move(*lock);
        if (std::chrono::steady_clock::now() >= deadline) {
            throw Error(ErrorCode::unavailable,
                        path.string() + ": lock held by another process for more than " +
                            std::to_string(timeout_ms) + " ms");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

FileLock::FileLock(FileLock&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) {
    other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
        fd_ = -1;
    }
}

}  // namespace tessera::core
