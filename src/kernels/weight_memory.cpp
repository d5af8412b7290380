#include "kernels/weight_memory.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "tessera/error.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TESSERA_WEIGHTS_FROM_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TESSERA_WEIGHTS_FROM_MALLOC 1
#endif
#endif

namespace tessera::kernels {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
// Small buffers share blocks of this size; larger ones get a block of their own.
constexpr std::size_t kSharedBlockBytes = 16 * kHugePage;

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

struct Block {
    std::byte* base = nullptr;
    std::size_t size = 0;
    Block(std::byte* block_base, std::size_t block_size) : base(block_base), size(block_size) {}
    Block(const Block&) = delete;
    Block& operator=(const Block&) = delete;
    ~Block() { ::munmap(base, size); }
};

// A fresh anonymous mapping of `size` bytes (a multiple of kHugePage) starting on a 2 MB
// boundary. Only its first `huge_bytes` are offered to huge pages: a huge page is resident as a
// whole once touched, so a buffer's ragged tail stays in 4 KB pages rather than waste up to 2 MB.
std::shared_ptr<Block> map_block(std::size_t size, std::size_t huge_bytes) {
    void* raw = ::mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        throw Error(ErrorCode::resource_exhausted, "cannot map " + std::to_string(size >> 20) +
                                                       " MB for packed weights: " + std::strerror(errno));
    }
    const auto raw_address = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t start = round_up(raw_address, kHugePage);
    const std::size_t head = start - raw_address;
    if (head > 0) ::munmap(raw, head);
    if (kHugePage - head > 0) ::munmap(reinterpret_cast<void*>(start + size), kHugePage - head);
    auto* base = reinterpret_cast<std::byte*>(start);
    // Where transparent huge pages are off this fails harmlessly and 4 KB pages are used.
    if (huge_bytes > 0) (void)::madvise(base, huge_bytes, MADV_HUGEPAGE);
    return std::make_shared<Block>(base, size);
}

std::mutex g_mutex;
std::weak_ptr<Block> g_shared_block;  // weak: the block goes when the last buffer in it goes
std::size_t g_shared_used = 0;

}  // namespace

std::shared_ptr<std::byte> allocate_weight_bytes(std::size_t bytes) {
    bytes = round_up(bytes == 0 ? 1 : bytes, 64);
#ifdef TESSERA_WEIGHTS_FROM_MALLOC
    // AddressSanitizer only guards heap buffers: a kernel reading past its packed panel must be
    // caught, so sanitizer builds keep each buffer a malloc block of its own.
    void* ptr = std::aligned_alloc(64, bytes);
    if (ptr == nullptr) throw Error(ErrorCode::resource_exhausted, "cannot allocate packed weights");
    std::memset(ptr, 0, bytes);
    return std::shared_ptr<std::byte>(static_cast<std::byte*>(ptr), [](std::byte* p) { std::free(p); });
#else
    if (bytes > kSharedBlockBytes / 4) {
        auto block = map_block(round_up(bytes, kHugePage), bytes / kHugePage * kHugePage);
        return std::shared_ptr<std::byte>(block, block->base);
    }
    std::lock_guard lock(g_mutex);
    auto block = g_shared_block.lock();
    if (block == nullptr || g_shared_used + bytes > block->size) {
        block = map_block(kSharedBlockBytes, kSharedBlockBytes);
        g_shared_block = block;
        g_shared_used = 0;
    }
    std::byte* ptr = block->base + g_shared_used;
    g_shared_used += bytes;
    return std::shared_ptr<std::byte>(block, ptr);
#endif
}

}  // namespace tessera::kernels
