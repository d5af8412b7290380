#include "store/bytes.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <fstream>

namespace tessera::store {

void ByteWriter::point_id(const PointId& id) {
    if (id.is_number()) {
        u8(0);
        u64(id.number());
    } else {
        u8(1);
        raw(id.uuid_bytes().data(), 16);
    }
}

void ByteWriter::json(const nlohmann::json& value) {
    const std::vector<std::uint8_t> cbor = nlohmann::json::to_cbor(value);
    u32(std::uint32_t(cbor.size()));
    raw(cbor.data(), cbor.size());
}

PointId ByteReader::point_id() {
    const std::uint8_t tag = u8();
    if (tag == 0) return PointId(u64());
    if (tag != 1) throw Error(ErrorCode::corrupt, source_ + ": bad point id tag " + std::to_string(tag));
    PointId::Uuid bytes;
    raw(bytes.data(), 16);
    return PointId::uuid(bytes);
}

nlohmann::json ByteReader::json() {
    const std::uint32_t size = u32();
    auto bytes = view(size);
    const auto* begin = reinterpret_cast<const std::uint8_t*>(bytes.data());
    nlohmann::json value = nlohmann::json::from_cbor(begin, begin + bytes.size(), true, false);
    if (value.is_discarded()) throw Error(ErrorCode::corrupt, source_ + ": damaged payload");
    return value;
}

std::uint32_t crc32_of(std::span<const std::byte> bytes) {
    uLong crc = ::crc32(0L, Z_NULL, 0);
    const auto* data = reinterpret_cast<const Bytef*>(bytes.data());
    std::size_t left = bytes.size();
    while (left > 0) {  // zlib takes uInt lengths
        const uInt chunk = uInt(std::min<std::size_t>(left, 1u << 30));
        crc = ::crc32(crc, data, chunk);
        data += chunk;
        left -= chunk;
    }
    return std::uint32_t(crc);
}

void append_frame(std::vector<std::byte>& out, std::span<const std::byte> body) {
    const std::uint32_t size = std::uint32_t(body.size());
    const std::uint32_t crc = crc32_of(body);
    const std::size_t at = out.size();
    out.resize(at + 8 + body.size());
    std::memcpy(out.data() + at, &size, 4);
    std::memcpy(out.data() + at + 4, &crc, 4);
    if (!body.empty()) std::memcpy(out.data() + at + 8, body.data(), body.size());
}

bool FrameReader::next(std::span<const std::byte>& body) {
    if (pos_ == bytes_.size()) return false;
    if (bytes_.size() - pos_ < 8) {
        damaged_ = true;
        damage_ = "torn frame header at offset " + std::to_string(pos_);
        return false;
    }
    std::uint32_t size, crc;
    std::memcpy(&size, bytes_.data() + pos_, 4);
    std::memcpy(&crc, bytes_.data() + pos_ + 4, 4);
    if (size > bytes_.size() - pos_ - 8) {
        damaged_ = true;
        damage_ = "frame at offset " + std::to_string(pos_) + " claims " + std::to_string(size) +
                  " bytes, only " + std::to_string(bytes_.size() - pos_ - 8) + " left";
        return false;
    }
    auto candidate = bytes_.subspan(pos_ + 8, size);
    if (crc32_of(candidate) != crc) {
        damaged_ = true;
        damage_ = "checksum mismatch in frame at offset " + std::to_string(pos_);
        return false;
    }
    body = candidate;
    pos_ += 8 + size;
    return true;
}

namespace {
constexpr std::size_t kReadBuffer = 256u << 10;  // fits L2, so the copy out of it stays cache-hot
constexpr std::uint64_t kParallelCheckBytes = 8u << 20;
}  // namespace

FramedFileReader::FramedFileReader(const std::filesystem::path& path) : source_(path.string()) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(ErrorCode::io, source_ + ": open: " + std::strerror(errno));
    const off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(fd_);
        throw Error(ErrorCode::io, source_ + ": seek: " + reason);
    }
    file_size_ = std::uint64_t(end);
    buffer_.resize(kReadBuffer);
    if (file_size_ >= kParallelCheckBytes) checker_ = std::thread([this] { check_frames(); });
}

FramedFileReader::~FramedFileReader() {
    if (checker_.joinable()) {
        stop_checker_ = true;
        checker_.join();
    }
    if (fd_ >= 0) ::close(fd_);
}

void FramedFileReader::check_frames() {
    std::vector<std::byte> chunk(1u << 20);
    auto read_at = [&](std::byte* out, std::size_t size, std::uint64_t at) {
        while (size > 0) {
            const ssize_t got = ::pread(fd_, out, size, off_t(at));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return false;
            out += got;
            size -= std::size_t(got);
            at += std::uint64_t(got);
        }
        return true;
    };
    std::uint64_t at = 0;
    while (at < file_size_ && !stop_checker_) {
        std::byte header[8];
        if (file_size_ - at < 8 || !read_at(header, 8, at)) {
            checker_damage_ = "torn frame header at offset " + std::to_string(at);
            return;
        }
        std::uint32_t size, crc;
        std::memcpy(&size, header, 4);
        std::memcpy(&crc, header + 4, 4);
        if (size > file_size_ - at - 8) {
            checker_damage_ = "frame at offset " + std::to_string(at) + " claims " + std::to_string(size) +
                              " bytes, only " + std::to_string(file_size_ - at - 8) + " left";
            return;
        }
        uLong running = ::crc32(0L, Z_NULL, 0);
        for (std::uint64_t done = 0; done < size && !stop_checker_;) {
            const std::size_t piece = std::size_t(std::min<std::uint64_t>(chunk.size(), size - done));
            if (!read_at(chunk.data(), piece, at + 8 + done)) {
                checker_damage_ = "read failed in frame at offset " + std::to_string(at);
                return;
            }
            running = ::crc32(running, reinterpret_cast<const Bytef*>(chunk.data()), uInt(piece));
            done += piece;
        }
        if (!stop_checker_ && std::uint32_t(running) != crc) {
            checker_damage_ = "checksum mismatch in frame at offset " + std::to_string(at);
            return;
        }
        at += 8 + std::uint64_t(size);
    }
}

void FramedFileReader::fill(std::byte* out, std::size_t size) {
    const std::size_t buffered = std::min(size, buffer_fill_ - buffer_pos_);
    if (buffered > 0) std::memcpy(out, buffer_.data() + buffer_pos_, buffered);
    buffer_pos_ += buffered;
    out += buffered;
    size -= buffered;
    offset_ += buffered;
    while (size > 0) {
        // Large reads go straight to the destination; small ones through the buffer.
        const bool direct = size >= buffer_.size();
        std::byte* target = direct ? out : buffer_.data();
        const std::size_t want = direct ? size : buffer_.size();
        const ssize_t got = ::read(fd_, target, want);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw Error(ErrorCode::io, source_ + ": read: " + std::strerror(errno));
        }
        if (got == 0) {
            throw Error(ErrorCode::corrupt, source_ + ": truncated record (needs " + std::to_string(size) +
                                                " bytes at offset " + std::to_string(offset_) + ")");
        }
        std::size_t used = std::size_t(got);
        if (!direct) {
            buffer_fill_ = used;
            used = std::min(used, size);
            std::memcpy(out, buffer_.data(), used);
            buffer_pos_ = used;
        }
        out += used;
        size -= used;
        offset_ += used;
    }
}

bool FramedFileReader::begin_frame() {
    if (offset_ == file_size_) return false;
    frame_offset_ = offset_;
    if (file_size_ - offset_ < 8) {
        throw Error(ErrorCode::corrupt, source_ + ": torn frame header at offset " + std::to_string(frame_offset_));
    }
    std::byte header[8];
    fill(header, 8);
    std::uint32_t size;
    std::memcpy(&size, header, 4);
    std::memcpy(&frame_crc_, header + 4, 4);
    if (size > file_size_ - offset_) {
        throw Error(ErrorCode::corrupt, source_ + ": frame at offset " + std::to_string(frame_offset_) + " claims " +
                                            std::to_string(size) + " bytes, only " +
                                            std::to_string(file_size_ - offset_) + " left");
    }
    frame_left_ = size;
    running_crc_ = std::uint32_t(::crc32(0L, Z_NULL, 0));
    in_frame_ = true;
    return true;
}

void FramedFileReader::end_frame() {
    in_frame_ = false;
    if (!checker_.joinable() && running_crc_ != frame_crc_) {
        throw Error(ErrorCode::corrupt, source_ + ": checksum mismatch in frame at offset " + std::to_string(frame_offset_));
    }
}

void FramedFileReader::take(std::byte* out, std::size_t size, bool keep) {
    std::vector<std::byte> scratch;  // where skipped bytes go
    if (!keep) scratch.resize(std::min(size, buffer_.size()));
    while (size > 0) {
        if (frame_left_ == 0) {
            if (in_frame_) end_frame();
            if (!begin_frame()) {
                throw Error(ErrorCode::corrupt, source_ + ": truncated record (needs " + std::to_string(size) +
                                                    " more bytes at the end of the file)");
            }
            continue;
        }
        const std::size_t chunk = std::min({size, std::size_t(frame_left_), keep ? size : scratch.size()});
        std::byte* target = keep ? out : scratch.data();
        fill(target, chunk);
        if (!checker_.joinable()) {
            running_crc_ = std::uint32_t(::crc32(running_crc_, reinterpret_cast<const Bytef*>(target), uInt(chunk)));
        }
        if (keep) out += chunk;
        frame_left_ -= std::uint32_t(chunk);
        size -= chunk;
    }
}

void FramedFileReader::raw(void* out, std::size_t size) { take(static_cast<std::byte*>(out), size, true); }

void FramedFileReader::finish() {
    if (checker_.joinable()) {
        checker_.join();
        if (!checker_damage_.empty()) throw Error(ErrorCode::corrupt, source_ + ": " + checker_damage_);
        return;
    }
    // Whatever follows the last read must still be whole, undamaged frames.
    while (true) {
        if (frame_left_ > 0) take(nullptr, frame_left_, false);
        if (in_frame_) end_frame();
        if (!begin_frame()) return;
    }
}

namespace {
[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path) {
    throw Error(ErrorCode::io, path.string() + ": " + what + ": " + std::strerror(errno));
}
}  // namespace

void fsync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_io("open directory", dir);
    ::fsync(fd);
    ::close(fd);
}

void write_file_durably(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw_io("create", tmp);
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            throw_io("write", tmp);
        }
        written += std::size_t(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        throw_io("fsync", tmp);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_io("rename", tmp);
    fsync_directory(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

std::vector<std::byte> read_whole_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) throw Error(ErrorCode::not_found, path.string() + ": no such file");
        throw_io("open", path);
    }
    std::vector<std::byte> out;
    const off_t size = ::lseek(fd, 0, SEEK_END);
    ::lseek(fd, 0, SEEK_SET);
    out.resize(size > 0 ? std::size_t(size) : 0);
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            throw_io("read", path);
        }
        if (n == 0) break;
        got += std::size_t(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

}  // namespace tessera::store
