#include "store/wal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/bytes.hpp"

namespace tessera::store {

namespace {
[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path) {
    throw Error(ErrorCode::io, path.string() + ": " + what + ": " + std::strerror(errno));
}
}  // namespace

Wal::~Wal() { close(); }

void Wal::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void Wal::open(const std::filesystem::path& path, bool read_only, const Replay& replay) {
    path_ = path;
    std::vector<std::byte> bytes;
    if (std::filesystem::exists(path)) bytes = read_whole_file(path);
    FrameReader frames(bytes);
    std::span<const std::byte> body;
    std::size_t offset = 0;
    while (frames.next(body)) {
        replay(body, offset);
        offset = frames.offset();
    }
    size_bytes_ = frames.offset();
    const std::uint64_t good_bytes = size_bytes_;
    if (frames.damaged()) {
        dropped_bytes_ = bytes.size() - frames.offset();
        damage_ = frames.damage();
    }
    if (read_only) return;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_io("open", path);
    if (dropped_bytes_ > 0) {
        // Cut the torn tail so the next record is not appended after garbage.
        if (::ftruncate(fd_, off_t(good_bytes)) != 0) throw_io("truncate torn tail", path);
        if (::fsync(fd_) != 0) throw_io("fsync", path);
    }
    if (::lseek(fd_, off_t(good_bytes), SEEK_SET) < 0) throw_io("seek", path);
}

void Wal::append(std::span<const std::byte> record) {
    const std::uint64_t good_bytes = size_bytes_;
    std::vector<std::byte> frame;
    frame.reserve(record.size() + 8);
    append_frame(frame, record);
    std::size_t written = 0;
    while (written < frame.size()) {
        const ssize_t n = ::write(fd_, frame.data() + written, frame.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int saved = errno;
            // Undo a partial record so the log stays a sequence of whole frames.
            if (::ftruncate(fd_, off_t(good_bytes)) == 0) ::lseek(fd_, off_t(good_bytes), SEEK_SET);
            errno = saved;
            throw_io("append", path_);
        }
        written += std::size_t(n);
    }
    size_bytes_ += frame.size();
    dirty_ = true;
}

void Wal::sync() {
    std::lock_guard lock(sync_mutex_);
    if (fd_ < 0 || !dirty_) return;
    dirty_ = false;
    if (::fdatasync(fd_) != 0) {
        dirty_ = true;
        throw_io("fdatasync", path_);
    }
}

void Wal::reset() {
    std::lock_guard lock(sync_mutex_);
    if (fd_ < 0) return;
    if (::ftruncate(fd_, 0) != 0) throw_io("truncate", path_);
    if (::lseek(fd_, 0, SEEK_SET) < 0) throw_io("seek", path_);
    if (::fsync(fd_) != 0) throw_io("fsync", path_);
    size_bytes_ = 0;
    dirty_ = false;
}

}  // namespace tessera::store
