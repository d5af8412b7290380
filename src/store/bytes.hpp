// Little binary encoders for the log, checkpoint files and snapshots, and the CRC-framed record
// format they share: [u32 body_size][u32 crc32(body)][body].
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/mapped_file.hpp"
#include "tessera/error.hpp"
#include "tessera/store.hpp"

namespace tessera::store {

class ByteWriter {
public:
    void u8(std::uint8_t value) { bytes_.push_back(std::byte(value)); }
    void u32(std::uint32_t value) { raw(&value, 4); }
    void u64(std::uint64_t value) { raw(&value, 8); }
    void f32(float value) { raw(&value, 4); }
    void raw(const void* data, std::size_t size) {
        const auto* begin = static_cast<const std::byte*>(data);
        bytes_.insert(bytes_.end(), begin, begin + size);
    }
    void string(std::string_view text) { u32(std::uint32_t(text.size())); raw(text.data(), text.size()); }
    void floats(std::span<const float> values) { u32(std::uint32_t(values.size())); raw(values.data(), values.size() * 4); }
    void point_id(const PointId& id);
    void json(const nlohmann::json& value);  // CBOR

    [[nodiscard]] std::vector<std::byte>& bytes() { return bytes_; }
    [[nodiscard]] std::size_t size() const { return bytes_.size(); }

private:
    std::vector<std::byte> bytes_;
};

// A sequential source of bytes: ByteReader over memory, FramedFileReader over a framed file.
// Every read past the end throws Error(corrupt) naming source().
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual void raw(void* out, std::size_t size) = 0;
    [[nodiscard]] virtual const std::string& source() const = 0;
    // At least the bytes left; lets a reader refuse a size before allocating for it (a streamed
    // file's checksums are checked only as its frames end).
    [[nodiscard]] virtual std::uint64_t remaining_bound() const = 0;
    std::uint8_t u8() { std::uint8_t v; raw(&v, 1); return v; }
    std::uint32_t u32() { std::uint32_t v; raw(&v, 4); return v; }
    std::uint64_t u64() { std::uint64_t v; raw(&v, 8); return v; }
};

// Reads what ByteWriter wrote; every read past the end throws Error(corrupt) naming `source_`.
class ByteReader final : public ByteSource {
public:
    ByteReader(std::span<const std::byte> bytes, std::string source) : bytes_(bytes), source_(std::move(source)) {}

    std::uint8_t u8() { std::uint8_t v; raw(&v, 1); return v; }
    std::uint32_t u32() { std::uint32_t v; raw(&v, 4); return v; }
    std::uint64_t u64() { std::uint64_t v; raw(&v, 8); return v; }
    float f32() { float v; raw(&v, 4); return v; }
    void raw(void* out, std::size_t size) override {
        need(size);
        std::memcpy(out, bytes_.data() + pos_, size);
        pos_ += size;
    }
    std::span<const std::byte> view(std::size_t size) {
        need(size);
        auto out = bytes_.subspan(pos_, size);
        pos_ += size;
        return out;
    }
    std::string string() {
        const std::uint32_t size = u32();
        auto chars = view(size);
        return {reinterpret_cast<const char*>(chars.data()), chars.size()};
    }
    std::vector<float> floats() {
        const std::uint32_t count = u32();
        std::vector<float> out(count);
        raw(out.data(), std::size_t(count) * 4);
        return out;
    }
    PointId point_id();
    nlohmann::json json();

    [[nodiscard]] bool done() const { return pos_ == bytes_.size(); }
    [[nodiscard]] std::size_t position() const { return pos_; }
    [[nodiscard]] const std::string& source() const override { return source_; }
    [[nodiscard]] std::uint64_t remaining_bound() const override { return bytes_.size() - pos_; }

private:
    void need(std::size_t size) const {
        if (size > bytes_.size() - pos_) {
            throw Error(ErrorCode::corrupt, source_ + ": truncated record (needs " + std::to_string(size) +
                                                " bytes at offset " + std::to_string(pos_) + ")");
        }
    }
    std::span<const std::byte> bytes_;
    std::size_t pos_ = 0;
    std::string source_;
};

[[nodiscard]] std::uint32_t crc32_of(std::span<const std::byte> bytes);

// Appends one framed record to `out`.
void append_frame(std::vector<std::byte>& out, std::span<const std::byte> body);

// Walks framed records. next() returns false at a clean end; on a torn or damaged frame it
// returns false and sets bad_offset() to where the damage starts.
class FrameReader {
public:
    explicit FrameReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
    bool next(std::span<const std::byte>& body);
    [[nodiscard]] std::size_t offset() const { return pos_; }
    [[nodiscard]] bool damaged() const { return damaged_; }
    [[nodiscard]] std::string damage() const { return damage_; }

private:
    std::span<const std::byte> bytes_;
    std::size_t pos_ = 0;
    bool damaged_ = false;
    std::string damage_;
};

// Reads the bodies of a framed file as one stream, copied straight from a read-only mapping of
// the file into the caller's buffers (no whole-file buffer). A small file's frames are checked
// (FrameReader) before the first read; a large one's by a second thread beside the parse
// (zlib's crc32 runs at ~2 GB/s, a third of a cold open), which finish() waits for. Damage
// throws Error(corrupt) with FrameReader's messages ("<path>: checksum mismatch in frame at
// offset 40").
class FramedFileReader final : public ByteSource {
public:
    // Errors: not_found, io; corrupt for a damaged small file.
    explicit FramedFileReader(const std::filesystem::path& path);
    ~FramedFileReader() override;
    FramedFileReader(const FramedFileReader&) = delete;
    FramedFileReader& operator=(const FramedFileReader&) = delete;

    void raw(void* out, std::size_t size) override;
    [[nodiscard]] const std::string& source() const override { return source_; }
    [[nodiscard]] std::uint64_t remaining_bound() const override { return file_.size() - offset_; }
    // Errors: corrupt when any frame of the file is damaged.
    void finish();

private:
    void check_frames();  // every frame's CRC, into damage_

    core::MappedFile file_;
    std::string source_;
    std::size_t offset_ = 0;      // the next unread byte of the mapping
    std::size_t frame_left_ = 0;  // body bytes of the current frame not yet read
    std::thread checker_;
    std::string damage_;  // written by check_frames, read after it ends
};

// Whole-file helpers. write_file_durably writes `path.tmp`, fsyncs it, renames it over `path`
// and fsyncs the directory, so readers see the old or the new file, never a mix.
void write_file_durably(const std::filesystem::path& path, std::span<const std::byte> bytes);
void fsync_directory(const std::filesystem::path& dir);
[[nodiscard]] std::vector<std::byte> read_whole_file(const std::filesystem::path& path);

}  // namespace tessera::store
