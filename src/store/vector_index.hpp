// One named vector of a collection: its encoded vectors (f32/f16/u8) by slot, and the HNSW graph
// over them (Malkov & Yashunin 2016, with hnswlib's neighbour-selection heuristic).
//
//   VectorIndex index(config);
//   index.set(slot, vector);                        // insert or replace; vector already normalised
//   auto hits = index.search(query, 10, 64, &allowed);  // graph search honouring a slot mask
//   auto exact = index.search_exact(query, 10, &allowed, pool);
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
    void load(ByteReader& in);
    [[nodiscard]] std::uint64_t memory_bytes() const;

private:
    [[nodiscard]] const std::byte* data(std::uint32_t slot) const { return data_.data() + std::size_t(slot) * stride_; }
    [[nodiscard]] float distance(const float* query, std::uint32_t slot) const { return fn_(query, data(slot), dim()); }
    [[nodiscard]] std::uint32_t* links(std::uint32_t slot, int level);
    [[nodiscard]] const std::uint32_t* links(std::uint32_t slot, int level) const;
    [[nodiscard]] std::size_t max_links(int level) const { return level == 0 ? m0_ : config_.hnsw.m; }
    void grow(std::size_t capacity);
    [[nodiscard]] std::vector<Candidate> search_layer(const float* query, std::uint32_t entry, std::size_t ef,
                                                      int level, const std::vector<std::uint8_t>* allowed,
                                                      bool for_insert, std::uint32_t skip) const;
    void select_neighbours(std::vector<Candidate>& candidates, std::size_t max_count) const;
    void connect(std::uint32_t slot, const float* query, int level, std::vector<Candidate> candidates);
    [[nodiscard]] const float* decoded(std::uint32_t slot, std::vector<float>& buffer) const;

    VectorConfig config_;
    std::size_t stride_ = 0;
    std::size_t m0_ = 0;
    double level_mult_ = 0;
    DistanceFn fn_ = nullptr;
    std::vector<std::byte> data_;
    std::vector<std::uint8_t> present_;
    std::size_t present_count_ = 0;
    std::vector<std::int8_t> level_;               // -1: never inserted
    std::vector<std::uint32_t> links0_;            // per slot: [count, m0 ids]
    std::vector<std::vector<std::uint32_t>> upper_;  // per slot: levels 1..L, each [count, m ids]
    std::int64_t entry_ = -1;
    int max_level_ = -1;
    std::mt19937_64 rng_{0x7e55e7a};
};

}  // namespace tessera::store
