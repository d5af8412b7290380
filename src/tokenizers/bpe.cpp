// BPE: a word is split into chars (with continuing_subword_prefix / end_of_word_suffix,
// byte_fallback and unk fusing as the reference), then the ranked merges are applied lowest
// rank first, leftmost first on ties. Results are cached per word.
#include <array>
#include <mutex>
#include <queue>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/vocab.hpp"

namespace tessera::tokenizers {

Vocab read_vocab_object(const JsonReader& node);

namespace utf8 = core::utf8;

namespace {

struct MergeInfo {
    std::int32_t rank;
    std::int32_t new_id;
};

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

struct PairHash {
    std::size_t operator()(std::uint64_t key) const noexcept {
        key ^= key >> 33;
        key *= 0xff51afd7ed558ccdull;
        key ^= key >> 33;
        return static_cast<std::size_t>(key);
    }
};

// A merged symbol: token id and byte length in the word.
struct Piece {
    std::int32_t id;
    std::uint32_t length;
};

// Word -> pieces, sharded so that encode_batch threads rarely contend.
class WordCache {
public:
    static constexpr std::size_t kShards = 64;
    static constexpr std::size_t kCapacityPerShard = 10000 / kShards * 8;

    bool find(std::string_view word, std::size_t hash, std::vector<Piece>& out) const {
        Shard& shard = shards_[hash % kShards];
        std::lock_guard lock(shard.mutex);
        auto it = shard.entries.find(word);
        if (it == shard.entries.end()) return false;
        out.insert(out.end(), it->second.begin(), it->second.end());
        return true;
    }
    void insert(std::string_view word, std::size_t hash, std::span<const Piece> pieces) const {
        Shard& shard = shards_[hash % kShards];
        std::lock_guard lock(shard.mutex);
        if (shard.entries.size() >= kCapacityPerShard) return;
        shard.entries.emplace(std::string(word), std::vector<Piece>(pieces.begin(), pieces.end()));
    }

private:
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, std::vector<Piece>, StringHash, std::equal_to<>> entries;
    };
    mutable std::array<Shard, kShards> shards_;
};

class Bpe final : public Model {
public:
    struct Options {
        std::optional<std::string> unk_token;
        std::string prefix;  // continuing_subword_prefix
        std::string suffix;  // end_of_word_suffix
        bool fuse_unk = false;
        bool byte_fallback = false;
        bool ignore_merges = false;
    };

    Bpe(Vocab vocab, std::unordered_map<std::uint64_t, MergeInfo, PairHash> merges, Options options)
        : vocab_(std::move(vocab)), merges_(std::move(merges)), options_(std::move(options)) {
        if (options_.unk_token) unk_id_ = vocab_.find(*options_.unk_token);
        if (options_.byte_fallback) {
            for (int b = 0; b < 256; ++b) {
                char name[8];
                std::snprintf(name, sizeof name, "<0x%02X>", b);
                byte_ids_[static_cast<std::size_t>(b)] = vocab_.find(name).value_or(-1);
            }
        }
    }

    void tokenize(std::string_view word, std::vector<Token>& out) const override {
        if (word.empty()) return;
        if (options_.ignore_merges) {
            if (auto id = vocab_.find(word)) {
                out.push_back({*id, *vocab_.token(*id), 0, static_cast<std::uint32_t>(word.size())});
                return;
            }
        }
        thread_local std::vector<Piece> pieces;
        pieces.clear();
        const std::size_t hash = StringHash{}(word);
        if (!cache_.find(word, hash, pieces)) {
            merge_word(word, pieces);
            if (word.size() < 256) cache_.insert(word, hash, pieces);
        }
        std::uint32_t offset = 0;
        for (const Piece& piece : pieces) {
            const std::string* value = vocab_.token(piece.id);
            out.push_back({piece.id, value ? *value : std::string(), offset, offset + piece.length});
            offset += piece.length;
        }
    }

    [[nodiscard]] std::optional<std::int32_t> token_to_id(std::string_view token) const override {
        return vocab_.find(token);
    }
    [[nodiscard]] const std::string* id_to_token(std::int32_t id) const override { return vocab_.token(id); }
    [[nodiscard]] std::size_t vocab_size() const override { return vocab_.size(); }

private:
    struct Symbol {
        std::int32_t id;
        std::int32_t prev;
        std::int32_t next;
        std::uint32_t length;
    };

    void merge_word(std::string_view word, std::vector<Piece>& out) const {
        thread_local std::vector<Symbol> symbols;
        thread_local std::string candidate;
        symbols.clear();
        std::optional<Piece> unk;
        const auto add = [&](std::int32_t id, std::uint32_t length) {
            const auto idx = static_cast<std::int32_t>(symbols.size());
            symbols.push_back({id, idx - 1, idx + 1, length});
        };
        std::size_t pos = 0;
        while (pos < word.size()) {
            const std::size_t start = pos;
            pos += utf8::sequence_length(static_cast<unsigned char>(word[pos]));
            const auto byte_length = static_cast<std::uint32_t>(pos - start);
            std::string_view piece = word.substr(start, pos - start);
            const bool first = start == 0;
            const bool last = pos >= word.size();
            if ((!first && !options_.prefix.empty()) || (last && !options_.suffix.empty())) {
                candidate.clear();
                if (!first) candidate.append(options_.prefix);
                candidate.append(piece);
                if (last) candidate.append(options_.suffix);
                piece = candidate;
            }
            if (auto id = vocab_.find(piece)) {
                if (unk) {
                    add(unk->id, unk->length);
                    unk.reset();
                }
                add(*id, byte_length);
                continue;
            }
            if (options_.byte_fallback) {
                bool all = true;
                for (char b : piece) all = all && byte_ids_[static_cast<unsigned char>(b)] >= 0;
                if (all) {
                    // The reference gives each byte token a length of 1 (of the piece, which
                    // may include the prefix/suffix).
                    for (char b : piece) add(byte_ids_[static_cast<unsigned char>(b)], 1);
                    continue;
                }
            }
            if (unk_id_) {
                if (unk && options_.fuse_unk) {
                    unk->length += byte_length;
                } else {
                    if (unk) add(unk->id, unk->length);
                    unk = Piece{*unk_id_, byte_length};
                }
            }
            // Without an unk token the char is dropped, as the reference does.
        }
        if (unk) add(unk->id, unk->length);
        if (!symbols.empty()) symbols.back().next = -1;
        apply_merges(symbols);
        for (const Symbol& symbol : symbols) {
            if (symbol.length != 0) out.push_back({symbol.id, symbol.length});
        }
    }

    void apply_merges(std::vector<Symbol>& symbols) const {
        if (symbols.size() < 2) return;
        struct Candidate {
            std::int32_t rank;
            std::int32_t pos;
            std::int32_t new_id;
            bool operator>(const Candidate& other) const {
                return rank != other.rank ? rank > other.rank : pos > other.pos;
            }
        };
        thread_local std::vector<Candidate> storage;
        storage.clear();
        std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(std::greater<>{},
                                                                                     std::move(storage));
        const auto push_pair = [&](std::int32_t pos) {
            const std::int32_t next = symbols[static_cast<std::size_t>(pos)].next;
            if (next < 0) return;
            auto it = merges_.find(pair_key(symbols[static_cast<std::size_t>(pos)].id,
                                            symbols[static_cast<std::size_t>(next)].id));
            if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
        };
        for (std::size_t pos = 0; pos + 1 < symbols.size(); ++pos) push_pair(static_cast<std::int32_t>(pos));
        while (!queue.empty()) {
            const Candidate top = queue.top();
            queue.pop();
            Symbol& left = symbols[static_cast<std::size_t>(top.pos)];
            if (left.length == 0 || left.next < 0) continue;
            Symbol& right = symbols[static_cast<std::size_t>(left.next)];
            auto it = merges_.find(pair_key(left.id, right.id));
            if (it == merges_.end() || it->second.new_id != top.new_id) continue;  // stale entry
            left.id = top.new_id;
            left.length += right.length;
            right.length = 0;
            left.next = right.next;
            if (left.next >= 0) symbols[static_cast<std::size_t>(left.next)].prev = top.pos;
            if (left.prev >= 0) push_pair(left.prev);
            push_pair(top.pos);
        }
    }

    Vocab vocab_;
    std::unordered_map<std::uint64_t, MergeInfo, PairHash> merges_;
    Options options_;
    std::optional<std::int32_t> unk_id_;
    std::array<std::int32_t, 256> byte_ids_{};
    WordCache cache_;
};

std::string optional_string(const JsonReader& node, std::string_view key) {
    auto child = node.find(key);
    return child ? child->as_string() : std::string();
}

}  // namespace

std::unique_ptr<Model> make_bpe(const JsonReader& node) {
    Vocab vocab = read_vocab_object(node.at("vocab"));
    Bpe::Options options;
    if (auto unk = node.find("unk_token")) options.unk_token = unk->as_string();
    options.prefix = optional_string(node, "continuing_subword_prefix");
    options.suffix = optional_string(node, "end_of_word_suffix");
    options.fuse_unk = node.bool_or("fuse_unk", false);
    options.byte_fallback = node.bool_or("byte_fallback", false);
    options.ignore_merges = node.bool_or("ignore_merges", false);
    if (auto dropout = node.find("dropout")) {
        const double p = dropout->as_double();
        if (p < 0.0 || p > 1.0) dropout->fail("dropout must be in [0, 1], got " + dropout->describe());
        // Dropout is a training-time randomisation; encoding ignores it (as inference does).
    }

    const JsonReader list = node.at("merges");
    list.require_array();
    std::unordered_map<std::uint64_t, MergeInfo, PairHash> merges;
    merges.reserve(list.size() * 2);
    for (std::size_t rank = 0; rank < list.size(); ++rank) {
        const JsonReader entry = list.at(rank);
        std::string a, b;
        if (entry.json().is_string()) {
            const std::string text = entry.as_string();
            const auto space = text.find(' ');
            if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
                entry.fail("expected a merge \"left right\", got " + entry.describe());
            }
            a = text.substr(0, space);
            b = text.substr(space + 1);
        } else if (entry.json().is_array() && entry.size() == 2) {
            a = entry.at(std::size_t{0}).as_string();
            b = entry.at(std::size_t{1}).as_string();
        } else {
            entry.fail("expected a merge \"left right\" or [\"left\", \"right\"], got " + entry.describe());
        }
        auto a_id = vocab.find(a);
        auto b_id = vocab.find(b);
        if (!a_id) entry.fail("merge token '" + a + "' is not in model.vocab");
        if (!b_id) entry.fail("merge token '" + b + "' is not in model.vocab");
        const std::size_t skip = std::min(options.prefix.size(), b.size());
        const std::string merged = a + b.substr(skip);
        auto new_id = vocab.find(merged);
        if (!new_id) entry.fail("merged token '" + merged + "' is not in model.vocab");
        merges.emplace(pair_key(*a_id, *b_id), MergeInfo{static_cast<std::int32_t>(rank), *new_id});
    }
    return std::make_unique<Bpe>(std::move(vocab), std::move(merges), std::move(options));
}

}  // namespace tessera::tokenizers
