// Snapshots: the whole store (every collection, freshly checkpointed) in one file of CRC frames,
// and the restore that unpacks one into a directory.
//
// Layout: "TSNAP001", then frames of [u8 kind][...]: kind 1 = a chunk of a file
// (path relative to the store, offset, bytes), kind 2 = the end (file count). A snapshot without
// its end frame is truncated and refused.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <shared_mutex>

#include "core/file_lock.hpp"
#include "store/bytes.hpp"
#include "store/collection_state.hpp"
#include "store/store_state.hpp"

namespace tessera {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSnapshotMagic = "TSNAP001";
constexpr std::size_t kChunkBytes = 8u << 20;

class SnapshotWriter {
public:
    explicit SnapshotWriter(const fs::path& path) : path_(path) {
        tmp_ = path;
        tmp_ += ".tmp";
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) throw Error(ErrorCode::io, tmp_.string() + ": create: " + std::strerror(errno));
        write_raw(kSnapshotMagic, 8);
    }
    ~SnapshotWriter() {
        if (fd_ >= 0) {
            ::close(fd_);
            std::error_code ec;
            fs::remove(tmp_, ec);
        }
    }

    void add_file(const fs::path& file, const std::string& relative) {
        const std::vector<std::byte> bytes = store::read_whole_file(file);
        std::size_t offset = 0;
        do {
            const std::size_t size = std::min(kChunkBytes, bytes.size() - offset);
            store::ByteWriter body;
            body.u8(1);
            body.string(relative);
            body.u64(offset);
            body.raw(bytes.data() + offset, size);
            frame(body);
            offset += size;
        } while (offset < bytes.size());
        ++file_count_;
    }

    std::uint64_t finish() {
        store::ByteWriter body;
        body.u8(2);
        body.u64(file_count_);
        frame(body);
        if (::fsync(fd_) != 0) throw Error(ErrorCode::io, tmp_.string() + ": fsync: " + std::strerror(errno));
        ::close(fd_);
        fd_ = -1;
        if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
            throw Error(ErrorCode::io, path_.string() + ": rename: " + std::strerror(errno));
        }
        return written_;
    }

private:
    void frame(store::ByteWriter& body) {
        std::vector<std::byte> framed;
        store::append_frame(framed, body.bytes());
        write_raw(framed.data(), framed.size());
    }
    void write_raw(const void* data, std::size_t size) {
        const auto* bytes = static_cast<const char*>(data);
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd_, bytes + done, size - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw Error(ErrorCode::io, tmp_.string() + ": write: " + std::strerror(errno));
            }
            done += std::size_t(n);
        }
        written_ += size;
    }

    fs::path path_, tmp_;
    int fd_ = -1;
    std::uint64_t file_count_ = 0;
    std::uint64_t written_ = 0;
};

bool safe_relative(const std::string& path) {
    if (path.empty() || path.front() == '/' || path.rfind("collections/", 0) != 0) return false;
    for (const auto& part : fs::path(path)) {
        if (part == ".." || part == ".") return false;
    }
    return true;
}

}  // namespace

std::uint64_t Store::create_snapshot(const fs::path& file) {
    if (state_->options.read_only) {
        throw Error(ErrorCode::unavailable, "snapshot: store '" + state_->dir.string() + "' is open read-only");
    }
    SnapshotWriter writer(file);
    for (const std::string& name : list_collections()) {
        auto handle = collection(name);
        auto& state = handle->state();
        std::lock_guard checkpoint_lock(state.checkpoint_mutex);
        std::shared_lock lock(state.mutex);
        state.write_checkpoint();  // the log is empty afterwards: the checkpoint files are the state
        const std::string prefix = "collections/" + name + "/";
        writer.add_file(state.dir / "manifest.json", prefix + "manifest.json");
        if (state.generation > 0) {
            const std::string gen = std::to_string(state.generation);
            writer.add_file(state.dir / ("points-" + gen + ".seg"), prefix + "points-" + gen + ".seg");
            for (std::size_t idx = 0; idx < state.vector_names.size(); ++idx) {
                const std::string file_name = "vectors-" + gen + "-" + std::to_string(idx) + ".idx";
                writer.add_file(state.dir / file_name, prefix + file_name);
            }
        }
    }
    return writer.finish();
}

void Store::restore_snapshot(const fs::path& file, const fs::path& dir, bool overwrite) {
    std::error_code ec;
    const bool exists = fs::exists(dir, ec);
    if (exists && !overwrite && !fs::is_empty(dir, ec)) {
        throw Error(ErrorCode::invalid_argument,
                    "restore: '" + dir.string() + "' is not empty (pass overwrite to replace it)");
    }
    std::optional<core::FileLock> lock;
    if (exists) {
        lock = core::FileLock::try_acquire(dir / ".lock");
        if (!lock) throw Error(ErrorCode::unavailable, "restore: store '" + dir.string() + "' is open by another process");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorCode::not_found, "snapshot '" + file.string() + "': cannot open");
    const std::string where = "snapshot '" + file.string() + "'";
    char magic[8] = {};
    in.read(magic, 8);
    if (!in || std::memcmp(magic, kSnapshotMagic, 8) != 0) throw Error(ErrorCode::corrupt, where + ": not a tessera snapshot");

    fs::path staging = dir;
    staging += ".restoring";
    fs::remove_all(staging, ec);
    fs::create_directories(staging / "collections");
    bool ended = false;
    std::uint64_t files_seen = 0;
    std::string last_path;
    std::uint64_t offset_in_file = 8;
    try {
        while (!ended) {
            std::uint32_t header[2];
            in.read(reinterpret_cast<char*>(header), 8);
            if (in.gcount() != 8) throw Error(ErrorCode::corrupt, where + ": truncated at byte " + std::to_string(offset_in_file));
            if (header[0] > kChunkBytes + 4096) throw Error(ErrorCode::corrupt, where + ": bad frame size at byte " + std::to_string(offset_in_file));
            std::vector<std::byte> body(header[0]);
            in.read(reinterpret_cast<char*>(body.data()), std::streamsize(body.size()));
            if (std::size_t(in.gcount()) != body.size()) {
                throw Error(ErrorCode::corrupt, where + ": truncated at byte " + std::to_string(offset_in_file));
            }
            if (store::crc32_of(body) != header[1]) {
                throw Error(ErrorCode::corrupt, where + ": checksum mismatch in frame at byte " + std::to_string(offset_in_file) +
                                                    (last_path.empty() ? "" : " (after '" + last_path + "')"));
            }
            offset_in_file += 8 + body.size();
            store::ByteReader reader(body, where);
            const std::uint8_t kind = reader.u8();
            if (kind == 2) {
                if (reader.u64() != files_seen) throw Error(ErrorCode::corrupt, where + ": file count mismatch");
                ended = true;
                break;
            }
            if (kind != 1) throw Error(ErrorCode::corrupt, where + ": unknown frame kind");
            const std::string relative = reader.string();
            if (!safe_relative(relative)) throw Error(ErrorCode::corrupt, where + ": unsafe path '" + relative + "'");
            const std::uint64_t offset = reader.u64();
            const auto chunk = reader.view(body.size() - reader.position());
            const fs::path target = staging / relative;
            fs::create_directories(target.parent_path());
            if (offset == 0) {
                ++files_seen;
                last_path = relative;
            }
            std::ofstream out(target, std::ios::binary | (offset == 0 ? std::ios::trunc : std::ios::app));
            out.write(reinterpret_cast<const char*>(chunk.data()), std::streamsize(chunk.size()));
            if (!out) throw Error(ErrorCode::io, target.string() + ": write failed");
        }
    } catch (...) {
        fs::remove_all(staging, ec);
        throw;
    }
    lock.reset();
    if (exists) {
        fs::path old = dir;
        old += ".replaced";
        fs::remove_all(old, ec);
        fs::rename(dir, old);
        fs::rename(staging, dir);
        fs::remove_all(old, ec);
    } else {
        fs::rename(staging, dir);
    }
}

}  // namespace tessera
