// A zero-initialised byte buffer on anonymous memory pages that grows without copying and
// without capacity slack in memory: the virtual reservation doubles (mremap moves page tables,
// not bytes), but only the pages in use are ever touched.
//
//   PageBuffer rows;
//   rows.resize(count * row_bytes);        // new bytes read as zero
//   std::byte* row = rows.data() + slot * row_bytes;
//
// Used for the HNSW rows, where a std::vector's geometric growth kept up to half the vectors'
// memory as slack and copied everything on each growth.
#pragma once

#include <cstddef>

namespace tessera::store {

class PageBuffer {
public:
    PageBuffer() = default;
    ~PageBuffer();
    PageBuffer(PageBuffer&& other) noexcept;
    PageBuffer& operator=(PageBuffer&& other) noexcept;
    PageBuffer(const PageBuffer&) = delete;
    PageBuffer& operator=(const PageBuffer&) = delete;

    // Grows or shrinks to `size_bytes`; bytes past the old size are zero.
    // Errors: resource_exhausted when the mapping cannot be made.
    void resize(std::size_t size_bytes);
    [[nodiscard]] std::byte* data() { return data_; }
    [[nodiscard]] const std::byte* data() const { return data_; }
    [[nodiscard]] std::size_t size() const { return size_; }
    // Memory the buffer can occupy: its size rounded up to whole pages.
    [[nodiscard]] std::size_t resident_bytes() const;

private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t reserved_ = 0;
};

}  // namespace tessera::store
