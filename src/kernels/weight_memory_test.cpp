#include "kernels/weight_memory.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace tessera::kernels {
namespace {

bool all_zero(const std::byte* bytes, std::size_t size) {
    for (std::size_t idx = 0; idx < size; ++idx) {
        if (bytes[idx] != std::byte{0}) return false;
    }
    return true;
}

// Buffers carved from shared blocks and buffers with a block of their own are zeroed, aligned,
// never overlap, and stay valid while any other buffer comes and goes.
TEST(WeightMemory, BuffersAreZeroedAlignedAndDisjoint) {
    const std::vector<std::size_t> sizes = {1, 63, 64, 4096, 600'000, 1'769'472, 9'437'184, 3, 20'000'000};
    std::vector<std::shared_ptr<std::byte>> buffers;
    for (std::size_t idx = 0; idx < sizes.size(); ++idx) {
        auto buffer = allocate_weight_bytes(sizes[idx]);
        ASSERT_NE(buffer, nullptr);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer.get()) % 64, 0u) << sizes[idx];
        EXPECT_TRUE(all_zero(buffer.get(), sizes[idx])) << sizes[idx];
        std::memset(buffer.get(), static_cast<int>(idx + 1), sizes[idx]);
        buffers.push_back(std::move(buffer));
    }
    buffers[2].reset();  // releasing one buffer leaves its block's neighbours intact
    buffers.push_back(allocate_weight_bytes(128));
    EXPECT_TRUE(all_zero(buffers.back().get(), 128));
    for (std::size_t idx = 0; idx < sizes.size(); ++idx) {
        if (idx == 2) continue;
        const std::byte expected{static_cast<unsigned char>(idx + 1)};
        EXPECT_EQ(buffers[idx].get()[0], expected) << sizes[idx];
        EXPECT_EQ(buffers[idx].get()[sizes[idx] - 1], expected) << sizes[idx];
    }
}

}  // namespace
}  // namespace tessera::kernels
