// A read-only memory map of a whole file; the bytes stay valid while the object lives.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace tessera::core {

class MappedFile {
public:
    // Maps `path` read-only. Throws Error(not_found) if missing, Error(io) if it cannot be mapped.
    // An empty file maps to an empty span.
    static MappedFile open(const std::filesystem::path& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    [[nodiscard]] std::span<const std::byte> bytes() const { return {data_, size_}; }
    [[nodiscard]] const std::byte* data() const { return data_; }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

    // Gives the whole pages inside `range` back to the page cache (madvise MADV_DONTNEED): they
    // leave the process's RSS and are read from the file again if touched (the map is read-only,
    // so no data is lost). For weights that were copied elsewhere (packed) after load. Ranges
    // outside this map, and pages shared with the bytes around `range`, are left alone.
    void release(std::span<const std::byte> range) const;

private:
    std::filesystem::path path_;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace tessera::core
