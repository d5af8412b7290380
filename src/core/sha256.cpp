#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "tessera/error.hpp"

namespace tessera::core {

struct Sha256::State {
    EVP_MD_CTX* ctx = nullptr;
};

namespace {
void init_ctx(EVP_MD_CTX* ctx) {
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
        throw Error(ErrorCode::internal, "sha256: EVP_DigestInit_ex failed");
    }
}
}  // namespace

Sha256::Sha256() : state_(std::make_unique<State>()) {
    state_->ctx = EVP_MD_CTX_new();
    if (state_->ctx == nullptr) throw Error(ErrorCode::internal, "sha256: EVP_MD_CTX_new failed");
    init_ctx(state_->ctx);
}

Sha256::~Sha256() {
    if (state_ && state_->ctx) EVP_MD_CTX_free(state_->ctx);
}

void Sha256::update(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    EVP_DigestUpdate(state_->ctx, bytes.data(), bytes.size());
}

void Sha256::update(std::string_view text) {
    update(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::string Sha256::finish_hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_DigestFinal_ex(state_->ctx, digest, &digest_len);
    init_ctx(state_->ctx);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex(digest_len * 2, '0');
    for (unsigned int byte_idx = 0; byte_idx < digest_len; ++byte_idx) {
        hex[2 * byte_idx] = kHex[digest[byte_idx] >> 4];
        hex[2 * byte_idx + 1] = kHex[digest[byte_idx] & 0xF];
    }
    return hex;
}

std::string sha256_hex(std::string_view bytes) {
    Sha256 hasher;
    hasher.update(bytes);
    return hasher.finish_hex();
}

std::string sha256_file(const std::filesystem::path& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        auto code = errno == ENOENT ? ErrorCode::not_found : ErrorCode::io;
        throw Error(code, path.string() + ": cannot open: " + std::strerror(errno));
    }
    Sha256 hasher;
    std::vector<char> buffer(1 << 20);
    for (;;) {
        std::size_t got = std::fread(buffer.data(), 1, buffer.size(), file);
        if (got > 0) hasher.update(std::string_view(buffer.data(), got));
        if (got < buffer.size()) {
            bool failed = std::ferror(file) != 0;
            std::fclose(file);
            if (failed) throw Error(ErrorCode::io, path.string() + ": read failed");
            break;
        }
    }
    return hasher.finish_hex();
}

}  // namespace tessera::core
