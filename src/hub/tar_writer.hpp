// A minimal POSIX ustar writer (regular files, directories, symlinks) for `tessera pull --archive`.
//
//   hub::TarWriter tar("bge.tar");
//   tar.add_directory("models--BAAI--bge-small-en-v1.5/");
//   tar.add_file("models--BAAI--bge-small-en-v1.5/refs/main", source_path);
//   tar.add_symlink("models--.../snapshots/<c>/config.json", "../../blobs/<etag>");
//   tar.finish();   // two zero blocks, then rename into place
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>

namespace tessera::hub {

class TarWriter {
public:
    // Writes to `path` + ".incomplete" and renames on finish(). Error(io).
    explicit TarWriter(std::filesystem::path path);
    ~TarWriter();
    TarWriter(const TarWriter&) = delete;
    TarWriter& operator=(const TarWriter&) = delete;

    void add_directory(const std::string& name);
    void add_file(const std::string& name, const std::filesystem::path& source);
    void add_symlink(const std::string& name, const std::string& target);
    void finish();

private:
    void write_header(const std::string& name, char type, std::uint64_t size_bytes,
                      const std::string& link_target);
    void write_bytes(const void* data, std::size_t size);

    std::filesystem::path path_;
    std::filesystem::path partial_path_;
    std::FILE* file_ = nullptr;
};

}  // namespace tessera::hub
