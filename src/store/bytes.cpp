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
constexpr std::size_t kParallelCheckBytes = 8u << 20;
}  // namespace

FramedFileReader::FramedFileReader(const std::filesystem::path& path)
    : file_(core::MappedFile::open(path)), source_(path.string()) {
    if (file_.size() >= kParallelCheckBytes) {
        checker_ = std::thread([this] { check_frames(); });
        return;
    }
    check_frames();
    if (!damage_.empty()) throw Error(ErrorCode::corrupt, source_ + ": " + damage_);
}

FramedFileReader::~FramedFileReader() {
    if (checker_.joinable()) checker_.join();
}

void FramedFileReader::check_frames() {
    FrameReader frames(file_.bytes());
    std::span<const std::byte> body;
    while (frames.next(body)) {}
    if (frames.damaged()) damage_ = frames.damage();
}

void FramedFileReader::raw(void* out, std::size_t size) {
    auto* target = static_cast<std::byte*>(out);
    const std::byte* bytes = file_.data();
    while (size > 0) {
        if (frame_left_ == 0) {
            // The frame structure is checked again here, as the checker may not have reached
            // this frame yet; its message is the precise one, so finish() is asked first.
            std::uint32_t frame_size = 0;
            if (file_.size() - offset_ >= 8) std::memcpy(&frame_size, bytes + offset_, 4);
            if (file_.size() - offset_ < 8 || frame_size > file_.size() - offset_ - 8) {
                finish();
                throw Error(ErrorCode::corrupt, source_ + ": truncated record (needs " + std::to_string(size) +
                                                    " more bytes at offset " + std::to_string(offset_) + ")");
            }
            offset_ += 8;
            frame_left_ = frame_size;
            continue;
        }
        const std::size_t chunk = std::min(size, frame_left_);
        std::memcpy(target, bytes + offset_, chunk);
        target += chunk;
        size -= chunk;
        offset_ += chunk;
        frame_left_ -= chunk;
    }
}

void FramedFileReader::finish() {
    if (checker_.joinable()) checker_.join();
    if (!damage_.empty()) throw Error(ErrorCode::corrupt, source_ + ": " + damage_);
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
