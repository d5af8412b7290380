#include "core/mapped_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace tessera::core {
namespace {

// Resident pages of this process (/proc/self/statm, second field) in bytes.
std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

class MappedFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = std::filesystem::temp_directory_path() /
                ("tessera_mapped_" + std::to_string(::getpid()) + ".bin");
        std::ofstream out(path_, std::ios::binary);
        for (std::uint32_t idx = 0; idx < kWords; ++idx) out.write(reinterpret_cast<const char*>(&idx), 4);
    }
    void TearDown() override { std::filesystem::remove(path_); }

    static std::uint64_t checksum(const MappedFile& file) {
        std::uint64_t sum = 0;
        const auto* words = reinterpret_cast<const std::uint32_t*>(file.data());
        for (std::uint32_t idx = 0; idx < kWords; ++idx) sum += words[idx] ^ idx;  // 0 when intact
        return sum + (words[kWords - 1] == kWords - 1 ? 0 : 1);
    }

    static constexpr std::uint32_t kWords = 4u << 20;  // 16 MB
    std::filesystem::path path_;
};

// Released pages leave the RSS and read back the file's bytes when touched again; ranges outside
// the map, and partial pages, change nothing.
TEST_F(MappedFileTest, ReleaseDropsResidentPagesAndKeepsTheBytes) {
    const auto file = MappedFile::open(path_);
    ASSERT_EQ(file.size(), std::size_t{kWords} * 4);
    ASSERT_EQ(checksum(file), 0u);  // every page touched
    const std::size_t before = resident_bytes();
    file.release(file.bytes());
    const std::size_t after = resident_bytes();
    EXPECT_GT(before, after + (12u << 20)) << "16 MB released, RSS " << before << " -> " << after;
    EXPECT_EQ(checksum(file), 0u) << "released pages must read the file again";

    // A range that covers no whole page, and spans outside the map, are ignored.
    file.release(file.bytes().subspan(100, 1000));
    const std::vector<std::byte> elsewhere(64);
    file.release(std::span<const std::byte>(elsewhere));
    file.release(std::span<const std::byte>(file.data() + file.size() - 10, 20));
    EXPECT_EQ(checksum(file), 0u);
}

}  // namespace
}  // namespace tessera::core
