#include "kernels/work_buffer.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <string>

#include "tessera/error.hpp"

namespace tessera::kernels {

namespace {

struct FreeDeleter {
    void operator()(void* ptr) const { std::free(ptr); }
};

struct Buffer {
    std::unique_ptr<std::byte, FreeDeleter> data;
    std::size_t size = 0;
};

}  // namespace

void* work_buffer(WorkSlot slot, std::size_t bytes) {
    thread_local std::array<Buffer, static_cast<std::size_t>(WorkSlot::count)> buffers;
    Buffer& buffer = buffers[static_cast<std::size_t>(slot)];
    if (buffer.size < bytes) {
        // Grow by 1.5x so slowly increasing batch sizes do not reallocate every call.
        const std::size_t size = std::max(bytes, buffer.size + buffer.size / 2);
        const std::size_t rounded = (size + 63) / 64 * 64;
        void* ptr = std::aligned_alloc(64, rounded);
        if (ptr == nullptr) {
            throw Error(ErrorCode::resource_exhausted,
                        "kernels: work buffer: cannot allocate " + std::to_string(rounded) + " bytes");
        }
        buffer.data.reset(static_cast<std::byte*>(ptr));
        buffer.size = rounded;
    }
    return buffer.data.get();
}

}  // namespace tessera::kernels
