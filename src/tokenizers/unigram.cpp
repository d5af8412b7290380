// Unigram: Viterbi over the scored pieces (a forward pass over UTF-8 byte positions, f64 scores,
// a later candidate replaces the best only if strictly better, as the reference). Unknown chars
// score min_score - 10 and consecutive ones fuse into one unk (or their bytes with byte_fallback).
#include <limits>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/vocab.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

// A byte trie over the pieces: the root has a 256-entry table, other nodes sorted child lists.
class PieceTrie {
public:
    void insert(std::string_view key, std::int32_t id) {
        if (nodes_.empty()) nodes_.emplace_back();
        std::uint32_t node = 0;
        for (char ch : key) {
            const auto byte = static_cast<unsigned char>(ch);
            auto& children = nodes_[node].children;
            auto it = std::lower_bound(children.begin(), children.end(), byte,
                                       [](const auto& child, unsigned char b) { return child.first < b; });
            if (it != children.end() && it->first == byte) {
                node = it->second;
                continue;
            }
            const auto next = static_cast<std::uint32_t>(nodes_.size());
            children.insert(it, {byte, next});
            nodes_.emplace_back();
            node = next;
        }
        if (nodes_[node].id < 0) nodes_[node].id = id;
    }

    void finish() {
        if (nodes_.empty()) nodes_.emplace_back();
        root_.fill(0);
        for (const auto& [byte, child] : nodes_[0].children) root_[byte] = child;
    }

    // Calls fn(length, id) for every piece that is a prefix of `text`.
    template <typename Fn>
    void prefixes(std::string_view text, Fn&& fn) const {
        if (text.empty()) return;
        std::uint32_t node = root_[static_cast<unsigned char>(text[0])];
        if (node == 0) return;
        std::size_t length = 1;
        while (true) {
            const Node& current = nodes_[node];
            if (current.id >= 0) fn(length, current.id);
            if (length >= text.size() || current.children.empty()) return;
            const auto byte = static_cast<unsigned char>(text[length]);
            std::uint32_t next = 0;
            for (const auto& [b, child] : current.children) {
                if (b == byte) {
                    next = child;
                    break;
                }
                if (b > byte) break;
            }
            if (next == 0) return;
            node = next;
            ++length;
        }
    }

private:
    struct Node {
        std::int32_t id = -1;
        std::vector<std::pair<unsigned char, std::uint32_t>> children;
    };
    std::vector<Node> nodes_;
    std::array<std::uint32_t, 256> root_{};
};

class Unigram final : public Model {
public:
    Unigram(std::vector<std::pair<std::string, double>> pieces, std::optional<std::int32_t> unk_id,
            bool byte_fallback)
        : unk_id_(unk_id), byte_fallback_(byte_fallback) {
        double min_score = std::numeric_limits<double>::infinity();
        scores_.reserve(pieces.size());
        vocab_.reserve(pieces.size());
        for (std::size_t id = 0; id < pieces.size(); ++id) {
            auto& [piece, score] = pieces[id];
            min_score = std::min(min_score, score);
            scores_.push_back(score);
            trie_.insert(piece, static_cast<std::int32_t>(id));
            vocab_.add(std::move(piece), static_cast<std::int32_t>(id));
        }
        trie_.finish();
        unk_score_ = min_score - 10.0;
        if (byte_fallback_) {
            for (int b = 0; b < 256; ++b) {
                char name[8];
                std::snprintf(name, sizeof name, "<0x%02X>", b);
                byte_ids_[static_cast<std::size_t>(b)] = vocab_.find(name).value_or(-1);
            }
        }
    }

    void tokenize(std::string_view text, std::vector<Token>& out) const override {
        if (text.empty()) return;
        struct Node {
            double score;
            std::int32_t starts_at;  // -1: unreached
            std::int32_t id;
        };
        thread_local std::vector<Node> best;
        best.assign(text.size() + 1, Node{0.0, -1, -1});
        best[0].starts_at = 0;
        const std::int32_t unk = unk_id_.value_or(-1);
        std::size_t start = 0;
        while (start < text.size()) {
            const double base = best[start].score;
            const std::size_t char_length = utf8::sequence_length(static_cast<unsigned char>(text[start]));
            bool has_single = false;
            trie_.prefixes(text.substr(start), [&](std::size_t length, std::int32_t id) {
                Node& target = best[start + length];
                const double candidate = base + scores_[static_cast<std::size_t>(id)];
                if (target.starts_at < 0 || candidate > target.score) {
                    target = {candidate, static_cast<std::int32_t>(start), id};
                }
                has_single = has_single || length == char_length;
            });
            if (!has_single) {
                Node& target = best[start + char_length];
                const double candidate = base + unk_score_;
                if (target.starts_at < 0 || candidate > target.score) {
                    target = {candidate, static_cast<std::int32_t>(start), unk};
                }
            }
            start += char_length;
        }
        // Walk back; consecutive unk pieces fuse into one.
        thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // [start, end)
        thread_local std::vector<std::int32_t> ids;
        ranges.clear();
        ids.clear();
        std::size_t end = text.size();
        while (end > 0) {
            const Node& node = best[end];
            const auto from = static_cast<std::size_t>(node.starts_at);
            if (node.id == unk && unk >= 0 && !ids.empty() && ids.back() == unk) {
                ranges.back().first = static_cast<std::uint32_t>(from);
            } else {
                ranges.push_back({static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(end)});
                ids.push_back(node.id);
            }
            end = from;
        }
        // A huge piece (a long text without spaces) should not pin its lattice per thread.
        if (best.capacity() > (std::size_t{1} << 20)) std::vector<Node>().swap(best);
        for (std::size_t k = ids.size(); k-- > 0;) {
            const auto [from, to] = ranges[k];
            const std::string_view piece = text.substr(from, to - from);
            std::int32_t id = ids[k];
            if (id == unk || id < 0) {
                // The reference looks the fused string up again: it may be a piece after all.
                if (auto found = vocab_.find(piece)) {
                    id = *found;
                } else if (byte_fallback_) {
                    bool all = true;
                    for (char b : piece) all = all && byte_ids_[static_cast<unsigned char>(b)] >= 0;
                    if (all) {
                        for (char b : piece) {
                            const std::int32_t byte_id = byte_ids_[static_cast<unsigned char>(b)];
                            out.push_back({byte_id, *vocab_.token(byte_id), from, to});
                        }
                        continue;
                    }
                }
                if (id < 0) continue;  // no unk id: the reference fails; dropped here
                out.push_back({id, std::string(piece), from, to});
                continue;
            }
            out.push_back({id, *vocab_.token(id), from, to});
        }
    }

    [[nodiscard]] std::optional<std::int32_t> token_to_id(std::string_view token) const override {
        return vocab_.find(token);
    }
    [[nodiscard]] const std::string* id_to_token(std::int32_t id) const override { return vocab_.token(id); }
    [[nodiscard]] std::size_t vocab_size() const override { return scores_.size(); }

private:
    Vocab vocab_;
    std::vector<double> scores_;
    PieceTrie trie_;
    std::optional<std::int32_t> unk_id_;
    bool byte_fallback_;
    double unk_score_ = 0.0;
    std::array<std::int32_t, 256> byte_ids_{};
};

}  // namespace

std::unique_ptr<Model> make_unigram(const JsonReader& node) {
    const JsonReader list = node.at("vocab");
    list.require_array();
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(list.size());
    for (std::size_t idx = 0; idx < list.size(); ++idx) {
        const JsonReader entry = list.at(idx);
        if (!entry.json().is_array() || entry.size() != 2) {
            entry.fail("expected [piece, score], got " + entry.describe());
        }
        pieces.emplace_back(entry.at(std::size_t{0}).as_string(), entry.at(std::size_t{1}).as_double());
    }
    std::optional<std::int32_t> unk_id;
    if (auto unk = node.find("unk_id")) {
        unk_id = static_cast<std::int32_t>(unk->as_int(0, static_cast<std::int64_t>(pieces.size()) - 1));
    }
    return std::make_unique<Unigram>(std::move(pieces), unk_id, node.bool_or("byte_fallback", false));
}

}  // namespace tessera::tokenizers
