#include "store/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <queue>

namespace tessera::store {

namespace {

// A visited set reused across searches on the same thread: a slot is visited when its tag
// equals the current generation, so clearing is O(1) except on wrap-around.
struct VisitedSet {
    std::vector<std::uint32_t> tags;
    std::uint32_t generation = 0;

    void reset(std::size_t capacity) {
        if (tags.size() < capacity) tags.resize(capacity, 0);
        if (++generation == 0) {
            std::fill(tags.begin(), tags.end(), 0);
            generation = 1;
        }
    }
    bool visit(std::uint32_t slot) {
        if (tags[slot] == generation) return false;
        tags[slot] = generation;
        return true;
    }
};

VisitedSet& visited_set() {
    thread_local VisitedSet visited;
    return visited;
}

using MaxHeap = std::priority_queue<Candidate>;  // worst (largest distance) on top

struct Farther {
    bool operator()(const Candidate& a, const Candidate& b) const { return b < a; }
};
using MinHeap = std::priority_queue<Candidate, std::vector<Candidate>, Farther>;

std::vector<Candidate> drain_sorted(MaxHeap& heap) {
    std::vector<Candidate> out(heap.size());
    for (std::size_t idx = out.size(); idx-- > 0;) {
        out[idx] = heap.top();
        heap.pop();
    }
    return out;
}

}  // namespace

VectorIndex::VectorIndex(const VectorConfig& config)
    : config_(config),
      stride_(encoded_size(config.storage, config.size)),
      m0_(config.hnsw.m * 2),
      level_mult_(1.0 / std::log(double(std::max<std::size_t>(config.hnsw.m, 2)))),
      fn_(distance_fn(metric_of(config.distance), config.storage)) {
    // Keep rows 4-byte aligned so f32 kernels read aligned-enough floats.
    stride_ = (stride_ + 3) & ~std::size_t(3);
}

void VectorIndex::grow(std::size_t capacity) {
    if (capacity <= present_.size()) return;
    // std::vector grows its capacity geometrically on its own; sizing to exactly `capacity` keeps
    // slot_capacity() equal to the slots in use.
    const std::size_t target = capacity;
    data_.resize(target * stride_);
    present_.resize(target, 0);
    level_.resize(target, -1);
    links0_.resize(target * (m0_ + 1), 0);
    upper_.resize(target);
}

std::uint32_t* VectorIndex::links(std::uint32_t slot, int level) {
    if (level == 0) return links0_.data() + std::size_t(slot) * (m0_ + 1);
    return upper_[slot].data() + std::size_t(level - 1) * (config_.hnsw.m + 1);
}

const std::uint32_t* VectorIndex::links(std::uint32_t slot, int level) const {
    if (level == 0) return links0_.data() + std::size_t(slot) * (m0_ + 1);
    return upper_[slot].data() + std::size_t(level - 1) * (config_.hnsw.m + 1);
}

const float* VectorIndex::decoded(std::uint32_t slot, std::vector<float>& buffer) const {
    if (config_.storage == StorageType::f32) return reinterpret_cast<const float*>(data(slot));
    buffer.resize(dim());
    decode(config_.storage, data(slot), dim(), buffer.data());
    return buffer.data();
}

std::vector<float> VectorIndex::get(std::uint32_t slot) const {
    std::vector<float> out(dim());
    decode(config_.storage, data(slot), dim(), out.data());
    return out;
}

void VectorIndex::remove(std::uint32_t slot) {
    if (!has(slot)) return;
    present_[slot] = 0;
    --present_count_;
}

std::vector<Candidate> VectorIndex::search_layer(const float* query, std::uint32_t entry, std::size_t ef, int level,
                                                 const std::vector<std::uint8_t>* allowed, bool for_insert,
                                                 std::uint32_t skip) const {
    VisitedSet& visited = visited_set();
    visited.reset(present_.size());
    auto accept = [&](std::uint32_t slot) {
        if (!present_[slot] || slot == skip) return false;
        return allowed == nullptr || (*allowed)[slot] != 0;
    };
    // Like hnswlib: with a filter (or deletions) the search goes on until it holds ef accepted
    // results, walking through rejected nodes, so the filter costs no recall.
    const bool filtering = allowed != nullptr || present_count_ < present_.size() || for_insert;
    MinHeap candidates;
    MaxHeap results;
    visited.visit(entry);
    const float entry_distance = distance(query, entry);
    candidates.push({entry_distance, entry});
    if (accept(entry)) results.push({entry_distance, entry});
    float bound = results.empty() ? INFINITY : entry_distance;
    while (!candidates.empty()) {
        const Candidate current = candidates.top();
        if (current.distance > bound && (results.size() >= ef || !filtering)) break;
        candidates.pop();
        const std::uint32_t* list = links(current.slot, level);
        const std::uint32_t count = list[0];
        for (std::uint32_t idx = 1; idx <= count; ++idx) {
            const std::uint32_t neighbour = list[idx];
            if (!visited.visit(neighbour)) continue;
            const float d = distance(query, neighbour);
            if (results.size() < ef || d < bound) {
                candidates.push({d, neighbour});
                if (accept(neighbour)) {
                    results.push({d, neighbour});
                    if (results.size() > ef) results.pop();
                    bound = results.top().distance;
                }
            }
        }
    }
    return drain_sorted(results);
}

void VectorIndex::select_neighbours(std::vector<Candidate>& candidates, std::size_t max_count) const {
    std::sort(candidates.begin(), candidates.end());
    if (candidates.size() <= max_count) return;
    // hnswlib's getNeighborsByHeuristic2: keep a candidate only if it is closer to the new node
    // than to every neighbour kept so far, which keeps links pointing in different directions.
    std::vector<Candidate> kept;
    std::vector<float> buffer;
    for (const Candidate& candidate : candidates) {
        if (kept.size() >= max_count) break;
        const float* vector = decoded(candidate.slot, buffer);
        bool good = true;
        for (const Candidate& other : kept) {
            if (fn_(vector, data(other.slot), dim()) < candidate.distance) {
                good = false;
                break;
            }
        }
        if (good) kept.push_back(candidate);
    }
    candidates.swap(kept);
}

void VectorIndex::connect(std::uint32_t slot, const float* /*query*/, int level, std::vector<Candidate> candidates) {
    const std::size_t max_count = max_links(level);
    select_neighbours(candidates, config_.hnsw.m);
    std::uint32_t* own = links(slot, level);
    own[0] = std::uint32_t(candidates.size());
    for (std::size_t idx = 0; idx < candidates.size(); ++idx) own[idx + 1] = candidates[idx].slot;

    std::vector<float> buffer;
    std::vector<Candidate> pool;
    for (const Candidate& neighbour : candidates) {
        std::uint32_t* list = links(neighbour.slot, level);
        const std::uint32_t count = list[0];
        if (std::find(list + 1, list + 1 + count, slot) != list + 1 + count) continue;
        if (count < max_count) {
            list[count + 1] = slot;
            list[0] = count + 1;
            continue;
        }
        const float* base = decoded(neighbour.slot, buffer);
        pool.clear();
        pool.push_back({neighbour.distance, slot});
        for (std::uint32_t idx = 1; idx <= count; ++idx) pool.push_back({fn_(base, data(list[idx]), dim()), list[idx]});
        select_neighbours(pool, max_count);
        list[0] = std::uint32_t(pool.size());
        for (std::size_t idx = 0; idx < pool.size(); ++idx) list[idx + 1] = pool[idx].slot;
    }
}

void VectorIndex::set(std::uint32_t slot, std::span<const float> vector) {
    grow(std::size_t(slot) + 1);
    encode(config_.storage, vector, data_.data() + std::size_t(slot) * stride_);
    if (!present_[slot]) {
        present_[slot] = 1;
        ++present_count_;
    }
    // Insert with the stored (possibly quantised) vector so graph distances match search ones.
    std::vector<float> buffer;
    const float* query = decoded(slot, buffer);
    std::vector<float> query_copy(query, query + dim());
    query = query_copy.data();

    int level = level_[slot];
    if (level < 0) {
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        const double draw = std::max(uniform(rng_), 1e-12);
        level = std::min(int(-std::log(draw) * level_mult_), 16);
        level_[slot] = std::int8_t(level);
        upper_[slot].assign(std::size_t(level) * (config_.hnsw.m + 1), 0);
        links0_[std::size_t(slot) * (m0_ + 1)] = 0;
    }
    if (entry_ < 0) {
        entry_ = slot;
        max_level_ = level;
        return;
    }
    std::uint32_t current = std::uint32_t(entry_);
    float current_distance = distance(query, current);
    for (int layer = max_level_; layer > level; --layer) {
        bool changed = true;
        while (changed) {
            changed = false;
            const std::uint32_t* list = links(current, layer);
            for (std::uint32_t idx = 1; idx <= list[0]; ++idx) {
                const float d = distance(query, list[idx]);
                if (d < current_distance) {
                    current_distance = d;
                    current = list[idx];
                    changed = true;
                }
            }
        }
    }
    for (int layer = std::min(level, max_level_); layer >= 0; --layer) {
        std::vector<Candidate> found =
            search_layer(query, current, config_.hnsw.ef_construct, layer, nullptr, true, slot);
        if (!found.empty()) current = found.front().slot;
        connect(slot, query, layer, std::move(found));
    }
    if (level > max_level_) {
        max_level_ = level;
        entry_ = slot;
    }
}

std::vector<Candidate> VectorIndex::search(std::span<const float> query, std::size_t k, std::size_t ef,
                                           const std::vector<std::uint8_t>* allowed) const {
    if (entry_ < 0 || present_count_ == 0 || k == 0) return {};
    std::uint32_t current = std::uint32_t(entry_);
    float current_distance = distance(query.data(), current);
    for (int layer = max_level_; layer > 0; --layer) {
        bool changed = true;
        while (changed) {
            changed = false;
            const std::uint32_t* list = links(current, layer);
            for (std::uint32_t idx = 1; idx <= list[0]; ++idx) {
                const float d = distance(query.data(), list[idx]);
                if (d < current_distance) {
                    current_distance = d;
                    current = list[idx];
                    changed = true;
                }
            }
        }
    }
    std::vector<Candidate> found =
        search_layer(query.data(), current, std::max(ef, k), 0, allowed, false, UINT32_MAX);
    if (found.size() > k) found.resize(k);
    return found;
}

std::vector<Candidate> VectorIndex::search_exact(std::span<const float> query, std::size_t k,
                                                 const std::vector<std::uint8_t>* allowed,
                                                 core::ThreadPool* pool) const {
    if (k == 0) return {};
    std::mutex merge_mutex;
    MaxHeap merged;
    auto scan = [&](std::size_t begin, std::size_t end) {
        MaxHeap local;
        for (std::size_t slot = begin; slot < end; ++slot) {
            if (!present_[slot] || (allowed != nullptr && !(*allowed)[slot])) continue;
            const float d = fn_(query.data(), data_.data() + slot * stride_, dim());
            if (local.size() < k) {
                local.push({d, std::uint32_t(slot)});
            } else if (d < local.top().distance) {
                local.pop();
                local.push({d, std::uint32_t(slot)});
            }
        }
        std::lock_guard lock(merge_mutex);
        while (!local.empty()) {
            merged.push(local.top());
            local.pop();
            if (merged.size() > k) merged.pop();
        }
    };
    const std::size_t capacity = present_.size();
    if (pool != nullptr && capacity >= 2048) {
        pool->parallel_for(capacity, scan, 1024);
    } else {
        scan(0, capacity);
    }
    return drain_sorted(merged);
}

std::vector<Candidate> VectorIndex::search_slots(std::span<const float> query, std::size_t k,
                                                 std::span<const std::uint32_t> slots) const {
    MaxHeap heap;
    for (std::uint32_t slot : slots) {
        if (!has(slot)) continue;
        const float d = distance(query.data(), slot);
        if (heap.size() < k) {
            heap.push({d, slot});
        } else if (d < heap.top().distance) {
            heap.pop();
            heap.push({d, slot});
        }
    }
    return drain_sorted(heap);
}

std::uint64_t VectorIndex::memory_bytes() const {
    std::uint64_t total = data_.capacity() + present_.capacity() + level_.capacity() + links0_.capacity() * 4 +
                          upper_.capacity() * sizeof(std::vector<std::uint32_t>);
    for (const auto& list : upper_) total += list.capacity() * 4;
    return total;
}

void VectorIndex::save(ByteWriter& out) const {
    out.u32(std::uint32_t(dim()));
    out.u8(std::uint8_t(config_.storage));
    out.u32(std::uint32_t(config_.hnsw.m));
    const std::uint64_t capacity = present_.size();
    out.u64(capacity);
    out.u64(std::uint64_t(entry_));
    out.u32(std::uint32_t(max_level_));
    out.raw(present_.data(), capacity);
    out.raw(level_.data(), capacity);
    out.raw(data_.data(), capacity * stride_);
    out.raw(links0_.data(), capacity * (m0_ + 1) * 4);
    for (std::size_t slot = 0; slot < capacity; ++slot) {
        if (level_[slot] > 0) out.raw(upper_[slot].data(), upper_[slot].size() * 4);
    }
}

void VectorIndex::load(ByteReader& in) {
    const std::uint32_t stored_dim = in.u32();
    const std::uint8_t storage = in.u8();
    const std::uint32_t m = in.u32();
    if (stored_dim != dim() || storage != std::uint8_t(config_.storage) || m != config_.hnsw.m) {
        throw Error(ErrorCode::corrupt, in.source() + ": index does not match the collection config (dim " +
                                            std::to_string(stored_dim) + ", m " + std::to_string(m) + ")");
    }
    const std::uint64_t capacity = in.u64();
    if (capacity > (1ull << 32)) throw Error(ErrorCode::corrupt, in.source() + ": implausible slot count");
    entry_ = std::int64_t(in.u64());
    max_level_ = int(std::int32_t(in.u32()));
    present_.assign(capacity, 0);
    level_.assign(capacity, -1);
    data_.assign(capacity * stride_, std::byte{0});
    links0_.assign(capacity * (m0_ + 1), 0);
    upper_.assign(capacity, {});
    in.raw(present_.data(), capacity);
    in.raw(level_.data(), capacity);
    in.raw(data_.data(), capacity * stride_);
    in.raw(links0_.data(), capacity * (m0_ + 1) * 4);
    present_count_ = 0;
    for (std::size_t slot = 0; slot < capacity; ++slot) {
        present_count_ += present_[slot] ? 1 : 0;
        if (level_[slot] > 16) throw Error(ErrorCode::corrupt, in.source() + ": bad level at slot " + std::to_string(slot));
        if (level_[slot] > 0) {
            upper_[slot].resize(std::size_t(level_[slot]) * (config_.hnsw.m + 1));
            in.raw(upper_[slot].data(), upper_[slot].size() * 4);
        }
    }
    // Links must stay inside the table even if a damaged file passed its checksum.
    const std::size_t limit = capacity;
    auto check = [&](const std::uint32_t* list, std::size_t max_count) {
        if (list[0] > max_count) throw Error(ErrorCode::corrupt, in.source() + ": bad link count");
        for (std::uint32_t idx = 1; idx <= list[0]; ++idx) {
            if (list[idx] >= limit) throw Error(ErrorCode::corrupt, in.source() + ": link out of range");
        }
    };
    for (std::size_t slot = 0; slot < capacity; ++slot) {
        if (level_[slot] < 0) continue;
        for (int level = 0; level <= level_[slot]; ++level) check(links(std::uint32_t(slot), level), max_links(level));
    }
    if (entry_ >= std::int64_t(capacity) || (entry_ >= 0 && level_[std::size_t(entry_)] != max_level_)) {
        throw Error(ErrorCode::corrupt, in.source() + ": bad entry point");
    }
}

}  // namespace tessera::store
