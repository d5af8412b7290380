// One named vector of a collection: its encoded vectors (f32/f16/u8) by slot, and the HNSW graph
// over them (Malkov & Yashunin 2016, with hnswlib's neighbour-selection heuristic).
//
//   VectorIndex index(config);
//   index.set(slot, vector);                        // insert or replace; vector already normalised
//   auto hits = index.search(query, 10, 64, &allowed);  // graph search honouring a slot mask
//   auto exact = index.search_exact(query, 10, &allowed, pool);
//
// Layout (as hnswlib's level-0 memory): one row per slot, 32-byte aligned, holding the encoded
// vector and then its level-0 links [count, m0 ids], so a search step touches one row per node;
// rows live in a PageBuffer (growth without copying or slack). Upper-level links, needed by only
// ~1/m of the nodes, are lists in one flat array.
//
// Not internally synchronised: the collection holds a shared_mutex (one writer, many readers).
// Removed slots stay in the graph as routing nodes and are skipped in results; a later set() on
// the slot reuses the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/thread_pool.hpp"
#include "store/bytes.hpp"
#include "store/distance.hpp"
#include "store/page_buffer.hpp"
#include "tessera/store.hpp"

namespace tessera::store {

struct Candidate {
    float distance;  // internal: lower is closer
    std::uint32_t slot;
    bool operator<(const Candidate& other) const {
        return distance < other.distance || (distance == other.distance && slot < other.slot);
    }
};

class VectorIndex {
public:
    explicit VectorIndex(const VectorConfig& config);

    [[nodiscard]] const VectorConfig& config() const { return config_; }
    [[nodiscard]] std::size_t dim() const { return config_.size; }
    [[nodiscard]] std::size_t slot_capacity() const { return present_.size(); }
    [[nodiscard]] bool has(std::uint32_t slot) const { return slot < present_.size() && present_[slot]; }
    [[nodiscard]] std::size_t count() const { return present_count_; }

    // Stores the vector at `slot` and links it into the graph (replacing an earlier vector).
    void set(std::uint32_t slot, std::span<const float> vector);
    void remove(std::uint32_t slot);
    // The stored vector, decoded (f16/u8: the quantised value).
    [[nodiscard]] std::vector<float> get(std::uint32_t slot) const;

    // `allowed` (optional) has one byte per slot; only slots with a nonzero byte are returned.
    [[nodiscard]] std::vector<Candidate> search(std::span<const float> query, std::size_t k, std::size_t ef,
                                                const std::vector<std::uint8_t>* allowed) const;
    [[nodiscard]] std::vector<Candidate> search_exact(std::span<const float> query, std::size_t k,
                                                      const std::vector<std::uint8_t>* allowed,
                                                      core::ThreadPool* pool) const;
    // Exact distances to a list of slots (the filtered fallback).
    [[nodiscard]] std::vector<Candidate> search_slots(std::span<const float> query, std::size_t k,
                                                      std::span<const std::uint32_t> slots) const;

    void save(ByteWriter& out) const;
    // Errors: corrupt naming in.source() (a dump that does not match the config, bad links).
    void load(ByteSource& in);
    [[nodiscard]] std::uint64_t memory_bytes() const;

private:
    [[nodiscard]] std::byte* row(std::uint32_t slot) { return rows_.data() + std::size_t(slot) * row_bytes_; }
    [[nodiscard]] const std::byte* data(std::uint32_t slot) const { return rows_.data() + std::size_t(slot) * row_bytes_; }
    [[nodiscard]] float distance(const float* query, std::uint32_t slot) const { return fn_(query, data(slot), dim()); }
    [[nodiscard]] std::uint32_t* links(std::uint32_t slot, int level);
    [[nodiscard]] const std::uint32_t* links(std::uint32_t slot, int level) const;
    [[nodiscard]] std::size_t max_links(int level) const { return level == 0 ? m0_ : config_.hnsw.m; }
    void grow(std::size_t capacity);
    [[nodiscard]] std::uint32_t greedy_descent(const float* query, std::uint32_t entry, int top_level,
                                               int bottom_level) const;
    // The ef closest accepted nodes reachable from `entry` on `level`, nearest first, into `out`.
    void search_layer(const float* query, std::uint32_t entry, std::size_t ef, int level,
                      const std::vector<std::uint8_t>* allowed, bool for_insert, std::uint32_t skip,
                      std::vector<Candidate>& out) const;
    void select_neighbours(std::vector<Candidate>& candidates, std::size_t max_count) const;
    void connect(std::uint32_t slot, int level, std::vector<Candidate>& candidates);
    [[nodiscard]] const float* decoded(std::uint32_t slot, std::vector<float>& buffer) const;

    VectorConfig config_;
    std::size_t code_bytes_ = 0;  // one encoded vector, rounded up to 4 bytes (also the dump's stride)
    std::size_t row_bytes_ = 0;   // code_bytes_ + level-0 links, rounded up to 64
    std::size_t m0_ = 0;
    std::size_t upper_list_ = 0;  // u32s per upper-level list: [count, m ids]
    std::size_t prefetch_lines_ = 0;
    double level_mult_ = 0;
    DistanceFn fn_ = nullptr;
    PageBuffer rows_;
    std::vector<std::uint8_t> present_;
    std::size_t present_count_ = 0;
    std::vector<std::int8_t> level_;           // -1: never inserted
    std::vector<std::uint32_t> upper_offset_;  // per slot with level > 0: its lists in upper_links_
    std::vector<std::uint32_t> upper_links_;   // levels 1..L of a node, one list after another
    std::int64_t entry_ = -1;
    int max_level_ = -1;
    std::mt19937_64 rng_{0x7e55e7a};
};

}  // namespace tessera::store
