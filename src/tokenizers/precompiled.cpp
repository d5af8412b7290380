// The Precompiled normalizer: sentencepiece's normalization rules compiled into a
// double-array trie (Darts-clone) plus a blob of NUL-terminated replacement strings, as XLM-R
// style tokenizer.json files carry them (base64). Layout: u32 trie size in bytes (LE), the
// trie units (u32 LE), then the replacement blob.
#include <cstring>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/unicode.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

std::string base64_decode(const JsonReader& node) {
    const std::string text = node.as_string();
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (std::size_t idx = 0; idx < text.size(); ++idx) {
        const char c = text[idx];
        if (c == '=') break;
        const auto value = kAlphabet.find(c);
        if (value == std::string_view::npos) {
            node.fail("invalid base64 character at position " + std::to_string(idx));
        }
        buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return out;
}

class Precompiled final : public Normalizer {
public:
    explicit Precompiled(const JsonReader& node) {
        const std::string bytes = base64_decode(node);
        if (bytes.size() < 4) node.fail("charsmap shorter than its 4-byte header");
        std::uint32_t trie_size = 0;
        std::memcpy(&trie_size, bytes.data(), 4);
        if (trie_size % 4 != 0 || trie_size > bytes.size() - 4) {
            node.fail("charsmap trie size " + std::to_string(trie_size) + " does not fit its " +
                      std::to_string(bytes.size()) + " bytes");
        }
        units_.resize(trie_size / 4);
        std::memcpy(units_.data(), bytes.data() + 4, trie_size);
        normalized_ = bytes.substr(4 + trie_size);
        if (units_.empty()) node.fail("charsmap has an empty trie");
    }

    // The reference (spm_precompiled + tokenizers' Precompiled) works per extended grapheme
    // cluster: a cluster under 6 bytes is looked up whole and, when some prefix of it is in the
    // trie, replaced by the shortest prefix's rule (the rest of the cluster is dropped);
    // otherwise each char is looked up on its own.
    void normalize(NormalizedString& text) const override {
        const std::string& src = text.text();
        struct Change {
            char32_t c;
            int change;
        };
        std::vector<Change> changes;
        changes.reserve(src.size());
        bool modified = false;
        std::size_t pos = 0;
        int state = 0;
        while (pos < src.size()) {
            // One grapheme cluster [pos, end).
            std::size_t end = pos;
            char32_t previous = utf8::decode_next(src, end);
            while (end < src.size()) {
                std::size_t next = end;
                const char32_t c = utf8::decode_next(src, next);
                if (unicode::grapheme_break(previous, c, &state)) break;
                previous = c;
                end = next;
            }
            const std::string_view cluster(src.data() + pos, end - pos);
            if (cluster.size() < 6) {
                if (auto rule = lookup(cluster)) {
                    modified = true;
                    replace(changes, cluster, *rule);
                    pos = end;
                    continue;
                }
            }
            std::size_t char_pos = 0;
            while (char_pos < cluster.size()) {
                std::size_t next = char_pos;
                const char32_t c = utf8::decode_next(cluster, next);
                const std::string_view part = cluster.substr(char_pos, next - char_pos);
                if (auto rule = lookup(part)) {
                    modified = true;
                    replace(changes, part, *rule);
                } else {
                    changes.push_back({c, 0});
                }
                char_pos = next;
            }
            pos = end;
        }
        if (!modified) return;
        TextBuilder out(text);
        for (const auto& change : changes) out.emit(change.c, change.change);
        text = out.finish();
    }

private:
    template <typename Changes>
    static void replace(Changes& changes, std::string_view old_part, std::string_view new_part) {
        const auto old_count = static_cast<long>(utf8::count_code_points(old_part));
        const std::size_t first = changes.size();
        std::size_t pos = 0;
        while (pos < new_part.size()) changes.push_back({utf8::decode_next(new_part, pos), 0});
        const long new_count = static_cast<long>(changes.size() - first);
        const long diff = new_count - old_count;
        if (diff > 0) {
            for (long k = 0; k < diff; ++k) changes[changes.size() - 1 - static_cast<std::size_t>(k)].change = 1;
        } else if (diff < 0 && !changes.empty()) {
            changes.back().change += static_cast<int>(diff);
        }
    }

    // The replacement of the shortest prefix of `key` in the trie.
    [[nodiscard]] std::optional<std::string_view> lookup(std::string_view key) const {
        std::size_t node = 0;
        std::uint32_t unit = units_[0];
        node ^= offset(unit);
        for (char ch : key) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == 0) break;
            node ^= c;
            if (node >= units_.size()) return std::nullopt;
            unit = units_[node];
            if (label(unit) != c) return std::nullopt;
            node ^= offset(unit);
            if (node >= units_.size()) return std::nullopt;
            if ((unit >> 8) & 1u) {
                const std::size_t start = units_[node] & 0x7FFFFFFFu;
                if (start >= normalized_.size()) return std::string_view();
                const std::size_t stop = normalized_.find('\0', start);
                const std::string_view rule(normalized_.data() + start,
                                            (stop == std::string::npos ? normalized_.size() : stop) - start);
                if (core::utf8::find_invalid(rule)) return std::nullopt;
                return rule;
            }
        }
        return std::nullopt;
    }

    static std::uint32_t label(std::uint32_t unit) { return unit & ((1u << 31) | 0xFFu); }
    static std::size_t offset(std::uint32_t unit) {
        return static_cast<std::size_t>((unit >> 10) << ((unit & (1u << 9)) >> 6));
    }

    std::vector<std::uint32_t> units_;
    std::string normalized_;
};

}  // namespace

std::unique_ptr<Normalizer> make_precompiled(const JsonReader& charsmap_node) {
    return std::make_unique<Precompiled>(charsmap_node);
}

}  // namespace tessera::tokenizers
