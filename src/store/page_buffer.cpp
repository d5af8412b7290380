#include "store/page_buffer.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

#include "tessera/error.hpp"

namespace tessera::store {

namespace {

std::size_t page_size() {
    static const std::size_t size = std::size_t(::sysconf(_SC_PAGESIZE));
    return size;
}

std::size_t round_to_pages(std::size_t bytes) {
    const std::size_t page = page_size();
    return (bytes + page - 1) / page * page;
}

[[noreturn]] void out_of_memory(std::size_t bytes) {
    throw Error(ErrorCode::resource_exhausted, "vector index: cannot map " + std::to_string(bytes) + " bytes");
}

}  // namespace

PageBuffer::~PageBuffer() {
    if (data_ != nullptr) ::munmap(data_, reserved_);
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      reserved_(std::exchange(other.reserved_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) ::munmap(data_, reserved_);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        reserved_ = std::exchange(other.reserved_, 0);
    }
    return *this;
}

void PageBuffer::resize(std::size_t size_bytes) {
    if (size_bytes <= size_) {
        // Shrinking: zero the dropped tail so a later growth reads zeros, and give its whole
        // pages back.
        if (size_bytes < size_) {
            const std::size_t keep = round_to_pages(size_bytes);
            const std::size_t zero_end = std::min(keep, size_);
            std::memset(data_ + size_bytes, 0, zero_end - size_bytes);
            if (keep < size_) ::madvise(data_ + keep, round_to_pages(size_) - keep, MADV_DONTNEED);
        }
        size_ = size_bytes;
        return;
    }
    if (size_bytes > reserved_) {
        // Fresh anonymous pages (mmap or the grown part of mremap) are zero.
        const std::size_t target = round_to_pages(std::max(size_bytes, reserved_ * 2));
        void* mapped = reserved_ == 0
                           ? ::mmap(nullptr, target, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                    -1, 0)
                           : ::mremap(data_, reserved_, target, MREMAP_MAYMOVE);
        if (mapped == MAP_FAILED) out_of_memory(target);
        data_ = static_cast<std::byte*>(mapped);
        reserved_ = target;
    }
    size_ = size_bytes;
}

std::size_t PageBuffer::resident_bytes() const { return round_to_pages(size_); }

}  // namespace tessera::store
