#include "hub/tar_writer.hpp"

#include <cstring>
#include <ctime>
#include <vector>

#include "tessera/error.hpp"

namespace tessera::hub {

namespace fs = std::filesystem;

TarWriter::TarWriter(fs::path path) : path_(std::move(path)) {
    partial_path_ = path_;
    partial_path_ += ".incomplete";
    file_ = std::fopen(partial_path_.c_str(), "wb");
    if (!file_) throw Error(ErrorCode::io, path_.string() + ": cannot create archive: " + std::strerror(errno));
}

TarWriter::~TarWriter() {
    if (file_) {
        std::fclose(file_);
        std::error_code ec;
        fs::remove(partial_path_, ec);  // unfinished: never leave a truncated archive behind
    }
}

void TarWriter::write_bytes(const void* data, std::size_t size) {
    if (std::fwrite(data, 1, size, file_) != size) {
        throw Error(ErrorCode::io, path_.string() + ": write failed (disk full?)");
    }
}

void TarWriter::write_header(const std::string& name, char type, std::uint64_t size_bytes,
                             const std::string& link_target) {
    char header[512] = {0};
    // ustar splits long names at a '/' into prefix (155) + name (100).
    std::string prefix;
    std::string short_name = name;
    if (short_name.size() > 100) {
        auto split = name.rfind('/', name.size() - 1 - (name.back() == '/' ? 1 : 0));
        while (split != std::string::npos && name.size() - split - 1 > 100) split = std::string::npos;
        if (split == std::string::npos || split > 155) {
            throw Error(ErrorCode::invalid_argument, "archive: path too long for ustar: '" + name + "'");
        }
        prefix = name.substr(0, split);
        short_name = name.substr(split + 1);
    }
    if (link_target.size() > 100) {
        throw Error(ErrorCode::invalid_argument, "archive: symlink target too long: '" + link_target + "'");
    }
    std::memcpy(header, short_name.data(), short_name.size());
    std::snprintf(header + 100, 8, "%07o", type == '5' ? 0755u : 0644u);
    std::snprintf(header + 108, 8, "%07o", 0u);
    std::snprintf(header + 116, 8, "%07o", 0u);
    std::snprintf(header + 124, 12, "%011llo", static_cast<unsigned long long>(size_bytes));
    std::snprintf(header + 136, 12, "%011llo", static_cast<unsigned long long>(std::time(nullptr)));
    header[156] = type;
    std::memcpy(header + 157, link_target.data(), link_target.size());
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memcpy(header + 345, prefix.data(), prefix.size());
    std::memset(header + 148, ' ', 8);
    unsigned checksum = 0;
    for (unsigned char byte : header) checksum += byte;
    std::snprintf(header + 148, 8, "%06o", checksum);
    header[155] = ' ';
    write_bytes(header, sizeof header);
}

void TarWriter::add_directory(const std::string& name) {
    write_header(name.back() == '/' ? name : name + "/", '5', 0, "");
}

void TarWriter::add_symlink(const std::string& name, const std::string& target) {
    write_header(name, '2', 0, target);
}

void TarWriter::add_file(const std::string& name, const fs::path& source) {
    std::FILE* in = std::fopen(source.c_str(), "rb");
    if (!in) throw Error(ErrorCode::io, source.string() + ": cannot open: " + std::strerror(errno));
    const std::uint64_t size = fs::file_size(source);
    write_header(name, '0', size, "");
    std::vector<char> buffer(1 << 20);
    std::uint64_t copied = 0;
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), in)) > 0) {
        write_bytes(buffer.data(), got);
        copied += got;
    }
    std::fclose(in);
    if (copied != size) throw Error(ErrorCode::io, source.string() + ": changed while archiving");
    static const char kZeros[512] = {0};
    if (size % 512 != 0) write_bytes(kZeros, 512 - size % 512);
}

void TarWriter::finish() {
    static const char kZeros[1024] = {0};
    write_bytes(kZeros, sizeof kZeros);
    if (std::fclose(file_) != 0) {
        file_ = nullptr;
        throw Error(ErrorCode::io, path_.string() + ": write failed");
    }
    file_ = nullptr;
    fs::rename(partial_path_, path_);
}

}  // namespace tessera::hub
