// Opening, logging, replaying and checkpointing a collection.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "store/bytes.hpp"
#include "store/collection_state.hpp"
#include "store/filter.hpp"

namespace tessera {

namespace {

using nlohmann::json;
using store::Op;
namespace fs = std::filesystem;

constexpr std::size_t kFrameChunk = 16u << 20;
constexpr std::uint32_t kPointsPerFrame = 1024;
constexpr const char* kSegmentMagic = "TSEG0001";

fs::path points_file(const fs::path& dir, std::uint64_t generation) {
    return dir / ("points-" + std::to_string(generation) + ".seg");
}
fs::path vectors_file(const fs::path& dir, std::uint64_t generation, std::size_t index) {
    return dir / ("vectors-" + std::to_string(generation) + "-" + std::to_string(index) + ".idx");
}

// Writes `bytes` as CRC frames of at most kFrameChunk, to `path.tmp`, fsync, rename.
void write_framed_durably(const fs::path& path, std::span<const std::byte> bytes) {
    std::vector<std::byte> framed;
    framed.reserve(bytes.size() + (bytes.size() / kFrameChunk + 1) * 8);
    std::size_t at = 0;
    do {
        const std::size_t size = std::min(kFrameChunk, bytes.size() - at);
        store::append_frame(framed, bytes.subspan(at, size));
        at += size;
    } while (at < bytes.size());
    store::write_file_durably(path, framed);
}

// Reads a framed file back into one buffer. Errors: corrupt naming the file and the offset.
std::vector<std::byte> read_framed(const fs::path& path) {
    const std::vector<std::byte> raw = store::read_whole_file(path);
    store::FrameReader frames(raw);
    std::vector<std::byte> out;
    out.reserve(raw.size());
    std::span<const std::byte> body;
    while (frames.next(body)) out.insert(out.end(), body.begin(), body.end());
    if (frames.damaged()) throw Error(ErrorCode::corrupt, path.string() + ": " + frames.damage());
    return out;
}

void erase_path(json& payload, const std::string& key) {
    std::size_t start = 0;
    json* node = &payload;
    while (true) {
        const std::size_t dot = key.find('.', start);
        const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (!node->is_object()) return;
        if (dot == std::string::npos) {
            node->erase(part);
            return;
        }
        const auto found = node->find(part);
        if (found == node->end()) return;
        node = &*found;
        start = dot + 1;
    }
}

}  // namespace

// ------------------------------------------------------------------ apply

void Collection::State::apply(std::span<const std::byte> record, const std::string& source) {
    store::ByteReader in(record, source);
    const Op op = Op(in.u8());
    const std::uint64_t lsn = in.u64();
    auto read_slots = [&](bool existing_only) {
        const std::uint32_t count = in.u32();
        std::vector<std::uint32_t> slots;
        for (std::uint32_t idx = 0; idx < count; ++idx) {
            const PointId id = in.point_id();
            const auto found = slot_of.find(id);
            if (found) slots.push_back(*found);
            else if (!existing_only) slots.push_back(UINT32_MAX);
        }
        return slots;
    };
    switch (op) {
        case Op::upsert: {
            const std::uint32_t count = in.u32();
            for (std::uint32_t idx = 0; idx < count; ++idx) {
                const PointId id = in.point_id();
                json payload = in.json();
                const auto found = slot_of.find(id);
                std::uint32_t slot;
                if (found) {
                    slot = *found;
                    unindex_payload(slot);
                } else {
                    slot = allocate_slot();
                    ids[slot] = id;
                    slot_of.insert(slot);
                    live[slot] = 1;
                }
                payloads[slot] = std::move(payload);
                versions[slot] = lsn;
                index_payload(slot);
                const std::uint32_t vector_count = in.u32();
                std::map<std::string, std::vector<float>> given;
                for (std::uint32_t vec_idx = 0; vec_idx < vector_count; ++vec_idx) {
                    std::string vector_name = in.string();
                    given[std::move(vector_name)] = in.floats();
                }
                for (auto& [vector_name, index] : vectors) {
                    const auto vector = given.find(vector_name);
                    if (vector == given.end()) {
                        index->remove(slot);
                    } else {
                        if (vector->second.size() != index->dim()) {
                            throw Error(ErrorCode::corrupt, source + ": vector '" + name + "' has the wrong size");
                        }
                        index->set(slot, vector->second);
                    }
                }
            }
            break;
        }
        case Op::remove:
            for (const std::uint32_t slot : read_slots(true)) {
                if (!live[slot]) continue;  // the same id twice in one request
                unindex_payload(slot);
                for (auto& [vector_name, index] : vectors) index->remove(slot);
                slot_of.erase(ids[slot]);
                live[slot] = 0;
                payloads[slot] = json();
                free_slots.push_back(slot);
            }
            break;
        case Op::set_payload: {
            const auto mode = PayloadWriteMode(in.u8());
            const json payload = in.json();
            for (const std::uint32_t slot : read_slots(true)) {
                unindex_payload(slot);
                if (mode == PayloadWriteMode::overwrite) payloads[slot] = payload;
                else payloads[slot].update(payload);
                versions[slot] = lsn;
                index_payload(slot);
            }
            break;
        }
        case Op::delete_keys: {
            const std::uint32_t key_count = in.u32();
            std::vector<std::string> keys;
            for (std::uint32_t idx = 0; idx < key_count; ++idx) keys.push_back(in.string());
            for (const std::uint32_t slot : read_slots(true)) {
                unindex_payload(slot);
                for (const auto& key : keys) erase_path(payloads[slot], key);
                versions[slot] = lsn;
                index_payload(slot);
            }
            break;
        }
        case Op::clear_payload:
            for (const std::uint32_t slot : read_slots(true)) {
                unindex_payload(slot);
                payloads[slot] = json::object();
                versions[slot] = lsn;
            }
            break;
        case Op::create_index: {
            const std::string key = in.string();
            const auto type = PayloadIndexType(in.u8());
            auto index = std::make_unique<store::PayloadIndex>(key, type);
            for (std::uint32_t slot = 0; slot < live.size(); ++slot) {
                if (live[slot]) index->add(slot, payloads[slot]);
            }
            payload_indexes[key] = std::move(index);
            config.payload_indexes[key] = type;
            break;
        }
        case Op::delete_index: {
            const std::string key = in.string();
            payload_indexes.erase(key);
            config.payload_indexes.erase(key);
            break;
        }
        default:
            throw Error(ErrorCode::corrupt, source + ": unknown operation " + std::to_string(int(op)));
    }
    last_lsn = std::max(last_lsn, lsn);
}

std::uint64_t Collection::State::log_and_apply(std::vector<std::byte>& record) {
    check_writable();
    const std::uint64_t lsn = last_lsn + 1;
    std::memcpy(record.data() + 1, &lsn, 8);
    wal.append(record);
    if (options.fsync == FsyncPolicy::always) wal.sync();
    apply(record, wal.path().string());
    return lsn;
}

std::uint32_t Collection::State::allocate_slot() {
    if (!free_slots.empty()) {
        const std::uint32_t slot = free_slots.back();
        free_slots.pop_back();
        return slot;
    }
    const auto slot = std::uint32_t(ids.size());
    ids.emplace_back();
    payloads.emplace_back();
    versions.push_back(0);
    live.push_back(0);
    return slot;
}

void Collection::State::index_payload(std::uint32_t slot) {
    for (auto& [key, index] : payload_indexes) index->add(slot, payloads[slot]);
}

void Collection::State::unindex_payload(std::uint32_t slot) {
    for (auto& [key, index] : payload_indexes) index->remove(slot, payloads[slot]);
}

void Collection::State::check_writable() const {
    if (deleted) throw Error(ErrorCode::not_found, "collection '" + name + "': deleted");
    if (options.read_only) {
        throw Error(ErrorCode::unavailable, "collection '" + name + "': the store is open read-only");
    }
}

// ------------------------------------------------------------------ create / open

void Collection::State::create(const fs::path& dir, const CollectionConfig& config) {
    fs::create_directories(dir);
    const json manifest = {{"format", 1}, {"config", config.to_json()}, {"generation", 0}, {"checkpoint_lsn", 0}};
    const std::string text = manifest.dump(2);
    store::write_file_durably(dir / "manifest.json",
                              std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

std::unique_ptr<Collection::State> Collection::State::open(const std::string& name, const fs::path& dir,
                                                           const StoreOptions& options, core::ThreadPool* pool) {
    auto state = std::make_unique<State>();
    state->name = name;
    state->dir = dir;
    state->options = options;
    state->pool = pool;

    const fs::path manifest_path = dir / "manifest.json";
    json manifest;
    {
        const auto bytes = store::read_whole_file(manifest_path);
        manifest = json::parse(reinterpret_cast<const char*>(bytes.data()),
                               reinterpret_cast<const char*>(bytes.data()) + bytes.size(), nullptr, false);
        if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("config") ||
            !manifest["generation"].is_number_unsigned() || !manifest["checkpoint_lsn"].is_number_unsigned()) {
            throw Error(ErrorCode::corrupt, manifest_path.string() + ": not a valid collection manifest");
        }
        try {
            state->config = CollectionConfig::from_json(manifest["config"]);
        } catch (const Error& err) {
            throw Error(ErrorCode::corrupt, manifest_path.string() + ": config: " + err.what());
        }
    }
    state->generation = manifest["generation"].get<std::uint64_t>();
    state->checkpoint_lsn = manifest["checkpoint_lsn"].get<std::uint64_t>();
    state->last_lsn = state->checkpoint_lsn;
    for (const auto& [vector_name, vector_config] : state->config.vectors) {
        state->vector_names.push_back(vector_name);
        state->vectors[vector_name] = std::make_unique<store::VectorIndex>(vector_config);
    }
    for (const auto& [key, type] : state->config.payload_indexes) {
        state->payload_indexes[key] = std::make_unique<store::PayloadIndex>(key, type);
    }

    if (state->generation > 0) {
        const fs::path points_path = points_file(dir, state->generation);
        const std::vector<std::byte> bytes = read_framed(points_path);
        store::ByteReader in(bytes, points_path.string());
        char magic[8];
        in.raw(magic, 8);
        if (std::memcmp(magic, kSegmentMagic, 8) != 0) throw Error(ErrorCode::corrupt, points_path.string() + ": bad magic");
        const std::uint64_t capacity = in.u64();
        const std::uint64_t count = in.u64();
        if (capacity > (1ull << 32) || count > capacity) {
            throw Error(ErrorCode::corrupt, points_path.string() + ": implausible point count");
        }
        state->ids.resize(capacity);
        state->payloads.resize(capacity);
        state->versions.resize(capacity, 0);
        state->live.resize(capacity, 0);
        state->slot_of.reserve(count);
        for (std::uint64_t idx = 0; idx < count; ++idx) {
            const std::uint32_t slot = in.u32();
            if (slot >= capacity || state->live[slot]) {
                throw Error(ErrorCode::corrupt, points_path.string() + ": bad slot " + std::to_string(slot));
            }
            state->ids[slot] = in.point_id();
            state->versions[slot] = in.u64();
            state->payloads[slot] = in.json();
            state->live[slot] = 1;
            if (!state->slot_of.insert(slot)) {
                throw Error(ErrorCode::corrupt, points_path.string() + ": duplicate id " + state->ids[slot].to_string());
            }
            state->index_payload(slot);
        }
        for (std::uint32_t slot = std::uint32_t(capacity); slot-- > 0;) {
            if (!state->live[slot]) state->free_slots.push_back(slot);
        }
        for (std::size_t idx = 0; idx < state->vector_names.size(); ++idx) {
            // Streamed from the file into the index's rows: one pass, no whole-file buffers.
            const fs::path path = vectors_file(dir, state->generation, idx);
            try {
                store::FramedFileReader vector_in(path);
                state->vectors[state->vector_names[idx]]->load(vector_in);
                vector_in.finish();
            } catch (const Error& err) {
                // The index may have tripped over a damaged frame before its checksum was
                // reached; name the damage, as a whole-file check would have.
                if (err.code() != ErrorCode::corrupt) throw;
                (void)read_framed(path);
                throw;
            }
        }
        state->checkpoint_bytes = 0;
        std::error_code ec;
        state->checkpoint_bytes += fs::file_size(points_path, ec);
        for (std::size_t idx = 0; idx < state->vector_names.size(); ++idx) {
            state->checkpoint_bytes += fs::file_size(vectors_file(dir, state->generation, idx), ec);
        }
    }

    State* raw = state.get();
    const std::string wal_source = (dir / "wal.log").string();
    raw->wal.open(dir / "wal.log", options.read_only, [raw, &wal_source](std::span<const std::byte> record, std::uint64_t offset) {
        store::ByteReader header(record, wal_source);
        header.u8();
        const std::uint64_t lsn = header.u64();
        if (lsn <= raw->checkpoint_lsn) return;  // already in the checkpoint
        raw->apply(record, wal_source + " (record at offset " + std::to_string(offset) + ")");
    });
    if (raw->wal.dropped_bytes() > 0) {
        std::fprintf(stderr, "tessera: store: %s: dropped a torn log tail of %llu bytes (%s)\n", wal_source.c_str(),
                     static_cast<unsigned long long>(raw->wal.dropped_bytes()), raw->wal.damage().c_str());
    }
    return state;
}

// ------------------------------------------------------------------ checkpoint

void Collection::State::write_checkpoint() {
    if (options.read_only) return;
    if (generation > 0 && wal.size_bytes() == 0 && last_lsn == checkpoint_lsn) return;
    const std::uint64_t next = generation + 1;

    store::ByteWriter points;
    points.raw(kSegmentMagic, 8);
    points.u64(ids.size());
    points.u64(slot_of.size());
    for (std::uint32_t slot = 0; slot < ids.size(); ++slot) {
        if (!live[slot]) continue;
        points.u32(slot);
        points.point_id(ids[slot]);
        points.u64(versions[slot]);
        points.json(payloads[slot]);
    }
    std::uint64_t total_bytes = 0;
    write_framed_durably(points_file(dir, next), points.bytes());
    total_bytes += points.size();
    for (std::size_t idx = 0; idx < vector_names.size(); ++idx) {
        store::ByteWriter out;
        vectors.at(vector_names[idx])->save(out);
        write_framed_durably(vectors_file(dir, next, idx), out.bytes());
        total_bytes += out.size();
    }
    const json manifest = {{"format", 1},
                           {"config", config.to_json()},
                           {"generation", next},
                           {"checkpoint_lsn", last_lsn}};
    const std::string text = manifest.dump(2);
    // The manifest rename is the commit point: before it the old checkpoint + log are current,
    // after it the new checkpoint is, and log records up to checkpoint_lsn are skipped on replay.
    store::write_file_durably(dir / "manifest.json",
                              std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
    const std::uint64_t previous = generation;
    generation = next;
    checkpoint_lsn = last_lsn;
    checkpoint_bytes = total_bytes;
    wal.reset();
    std::error_code ec;
    if (previous > 0) {
        fs::remove(points_file(dir, previous), ec);
        for (std::size_t idx = 0; idx < vector_names.size(); ++idx) fs::remove(vectors_file(dir, previous, idx), ec);
    }
}

std::uint64_t Collection::State::disk_bytes() const {
    std::uint64_t total = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file(ec)) total += entry.file_size(ec);
    }
    return total;
}

}  // namespace tessera
