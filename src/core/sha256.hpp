// SHA-256 (OpenSSL EVP) of bytes, streams and files, as lowercase hex.
//
//   core::Sha256 hasher;
//   hasher.update(chunk);                          // any number of times
//   std::string hex = hasher.finish_hex();         // "e3b0c442..."
//   std::string file_hex = core::sha256_file(path);
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tessera::core {

class Sha256 {
public:
    Sha256();  // Error(internal) if OpenSSL cannot provide SHA-256
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::span<const std::byte> bytes);
    void update(std::string_view text);
    // The digest as 64 lowercase hex characters; the hasher is reset afterwards.
    [[nodiscard]] std::string finish_hex();

private:
    struct State;
    std::unique_ptr<State> state_;
};

[[nodiscard]] std::string sha256_hex(std::string_view bytes);
// Hashes a whole file by streaming it. Error(not_found) / Error(io).
[[nodiscard]] std::string sha256_file(const std::filesystem::path& path);

}  // namespace tessera::core
