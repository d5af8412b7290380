#include "core/sha256.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "tessera/error.hpp"

namespace tessera::core {
namespace {

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, StreamingEqualsOneShotAndResets) {
    Sha256 hasher;
    hasher.update(std::string_view("a"));
    hasher.update(std::string_view("bc"));
    EXPECT_EQ(hasher.finish_hex(), sha256_hex("abc"));
    hasher.update(std::string_view("abc"));
    EXPECT_EQ(hasher.finish_hex(), sha256_hex("abc"));
}

TEST(Sha256, Files) {
    const auto path = std::filesystem::temp_directory_path() / ("tessera-sha-" + std::to_string(::getpid()));
    std::string big(3 * 1024 * 1024 + 17, 'x');
    std::ofstream(path, std::ios::binary) << big;
    EXPECT_EQ(sha256_file(path), sha256_hex(big));
    std::filesystem::remove(path);
    try {
        (void)sha256_file(path);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::not_found);
    }
}

}  // namespace
}  // namespace tessera::core
