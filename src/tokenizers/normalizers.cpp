// Normalizers of the format. Each rebuilds the NormalizedString with the reference's change
// semantics so that offsets keep pointing into the original text.
#include <algorithm>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/regex.hpp"
#include "tokenizers/unicode.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

bool is_ascii(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

class BertNormalizer final : public Normalizer {
public:
    BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
        : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents),
          lowercase_(lowercase) {}

    // The reference runs clean_text, Chinese padding, NFD + mark removal and lowercasing as
    // four passes; each maps one char to chars aligned with it, so one pass gives the same
    // text and alignments.
    void normalize(NormalizedString& text) const override {
        const std::string& src = text.text();
        TextBuilder out(text);
        char32_t decomposed[32];
        char32_t lowered[3];
        while (out.position() < src.size()) {
            const std::size_t pos = out.position();
            const auto byte = static_cast<unsigned char>(src[pos]);
            if (byte < 0x80) {
                char32_t c = byte;
                if (clean_text_) {
                    if (c == '\t' || c == '\n' || c == '\r') {
                        out.emit(' ', 0);
                        continue;
                    }
                    if (c < 0x20 || c == 0x7F) {
                        out.skip();
                        continue;
                    }
                }
                if (lowercase_ && c >= 'A' && c <= 'Z') {
                    out.emit(c + 32, 0);
                } else {
                    out.keep();
                }
                continue;
            }
            std::size_t next = pos;
            char32_t c = utf8::decode_next(src, next);
            if (clean_text_) {
                if (c == 0xFFFD || unicode::is_other(c)) {
                    out.skip();
                    continue;
                }
                if (unicode::is_whitespace(c)) c = ' ';
            }
            const bool pad = chinese_ && unicode::is_chinese_char(c);
            if (pad) out.emit(' ', 1);
            std::size_t count = 1;
            decomposed[0] = c;
            if (strip_accents_) count = unicode::decompose(c, false, decomposed);
            bool consumed = false;
            for (std::size_t k = 0; k < count; ++k) {
                const char32_t d = decomposed[k];
                if (strip_accents_ && unicode::is_nonspacing_mark(d)) continue;
                const std::size_t lowered_count =
                    lowercase_ ? unicode::to_lowercase(d, lowered) : (lowered[0] = d, 1);
                for (std::size_t l = 0; l < lowered_count; ++l) {
                    out.emit(lowered[l], consumed ? 1 : 0);
                    consumed = true;
                }
            }
            if (!consumed) {
                out.skip();
            } else if (pad) {
                out.emit(' ', 1);
            }
        }
        text = out.finish();
    }

private:
    bool clean_text_, chinese_, strip_accents_, lowercase_;
};

// NFD/NFKD/NFC/NFKC with the alignment bookkeeping of unicode-normalization-alignments: the
// first char of a decomposition replaces its source (change 0), the others are inserted (+1);
// canonical reordering moves changes with their chars; a composition adds the changes of its
// two parts minus one.
class UnicodeNormalizer final : public Normalizer {
public:
    UnicodeNormalizer(bool compat, bool compose) : compat_(compat), compose_(compose) {}

    void normalize(NormalizedString& text) const override {
        const std::string& src = text.text();
        if (is_ascii(src)) return;
        if (compose_ && !compat_) {
            // Text of chars below U+0300 is already NFC.
            bool stable = true;
            std::size_t pos = 0;
            while (pos < src.size() && stable) stable = utf8::decode_next(src, pos) < 0x300;
            if (stable) return;
        }
        struct Item {
            char32_t c;
            int change;
            int ccc;
        };
        std::vector<Item> items;
        items.reserve(src.size());
        char32_t buffer[32];
        std::size_t pos = 0;
        while (pos < src.size()) {
            const char32_t c = utf8::decode_next(src, pos);
            const std::size_t count = unicode::decompose(c, compat_, buffer);
            for (std::size_t k = 0; k < count; ++k) {
                items.push_back({buffer[k], k == 0 ? 0 : 1, unicode::combining_class(buffer[k])});
            }
        }
        // Canonical ordering: stable sort of each run of non-starters by combining class.
        for (std::size_t start = 0; start < items.size();) {
            if (items[start].ccc == 0) {
                ++start;
                continue;
            }
            std::size_t end = start;
            while (end < items.size() && items[end].ccc != 0) ++end;
            if (end - start > 1) {
                std::stable_sort(items.begin() + static_cast<std::ptrdiff_t>(start),
                                 items.begin() + static_cast<std::ptrdiff_t>(end),
                                 [](const Item& a, const Item& b) { return a.ccc < b.ccc; });
            }
            start = end;
        }
        if (compose_) items = composed(items);
        TextBuilder out(text);
        for (const auto& item : items) out.emit(item.c, item.change);
        text = out.finish();
    }

private:
    template <typename Item>
    static std::vector<Item> composed(const std::vector<Item>& items) {
        std::vector<Item> out;
        out.reserve(items.size());
        std::ptrdiff_t starter = -1;  // index in `out` of the last starter
        int last_ccc = -1;            // ccc of the last char appended after the starter, -1: none
        for (const Item& item : items) {
            if (starter >= 0) {
                Item& s = out[static_cast<std::size_t>(starter)];
                const bool blocked = last_ccc != -1 && (last_ccc == 0 || last_ccc >= item.ccc);
                if (!blocked) {
                    if (char32_t composite = unicode::compose(s.c, item.c)) {
                        s.c = composite;
                        s.change = s.change + item.change - 1;
                        continue;
                    }
                }
            }
            out.push_back(item);
            if (item.ccc == 0) {
                starter = static_cast<std::ptrdiff_t>(out.size() - 1);
                last_ccc = -1;
            } else {
                last_ccc = item.ccc;
            }
        }
        return out;
    }

    bool compat_, compose_;
};

class Lowercase final : public Normalizer {
public:
    void normalize(NormalizedString& text) const override {
        const std::string& src = text.text();
        TextBuilder out(text);
        char32_t lowered[3];
        while (out.position() < src.size()) {
            const auto byte = static_cast<unsigned char>(src[out.position()]);
            if (byte < 0x80) {
                if (byte >= 'A' && byte <= 'Z') {
                    out.emit(byte + 32u, 0);
                } else {
                    out.keep();
                }
                continue;
            }
            std::size_t next = out.position();
            const char32_t c = utf8::decode_next(src, next);
            const std::size_t count = unicode::to_lowercase(c, lowered);
            for (std::size_t k = 0; k < count; ++k) out.emit(lowered[k], k == 0 ? 0 : 1);
        }
        text = out.finish();
    }
};

// Keeps the chars `keep` accepts (each with its own alignment).
template <typename Keep>
void filter_chars(NormalizedString& text, Keep keep) {
    const std::string& src = text.text();
    TextBuilder out(text);
    while (out.position() < src.size()) {
        std::size_t next = out.position();
        const char32_t c = utf8::decode_next(src, next);
        if (keep(c)) {
            out.keep();
        } else {
            out.skip();
        }
    }
    text = out.finish();
}

class StripAccents final : public Normalizer {
public:
    void normalize(NormalizedString& text) const override {
        if (is_ascii(text.text())) return;
        filter_chars(text, [](char32_t c) { return !unicode::is_mark(c); });
    }
};

class Strip final : public Normalizer {
public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    void normalize(NormalizedString& text) const override {
        const std::string& src = text.text();
        std::size_t begin = 0;
        std::size_t end = src.size();
        if (left_) {
            while (begin < end) {
                std::size_t next = begin;
                if (!unicode::is_whitespace(utf8::decode_next(src, next))) break;
                begin = next;
            }
        }
        if (right_) {
            while (end > begin) {
                std::size_t start = end - 1;
                while (start > begin && (static_cast<unsigned char>(src[start]) & 0xC0) == 0x80) --start;
                std::size_t next = start;
                if (!unicode::is_whitespace(utf8::decode_next(src, next))) break;
                end = start;
            }
        }
        if (begin == 0 && end == src.size()) return;
        NormalizedString result = text.slice(begin, end);
        result.set_origin(text.origin());
        text = std::move(result);
    }

private:
    bool left_, right_;
};

class Replace final : public Normalizer {
public:
    Replace(std::unique_ptr<Regex> regex, std::string content)
        : regex_(std::move(regex)), content_(std::move(content)), content_chars_(utf8::decode_all(content_)) {}

    // The reference removes each match and inserts the content chars (+1), so they align with
    // the last char of the match.
    void normalize(NormalizedString& text) const override {
        std::vector<PatternPiece> pieces;
        regex_->find_pieces(text.text(), pieces);
        if (pieces.size() == 1 && !pieces[0].is_match) return;
        TextBuilder out(text);
        for (const auto& piece : pieces) {
            if (!piece.is_match) {
                out.keep_until(piece.end);
                continue;
            }
            out.skip(utf8::count_code_points(std::string_view(text.text()).substr(piece.start, piece.end - piece.start)));
            for (char32_t c : content_chars_) out.emit(c, 1);
        }
        text = out.finish();
    }

private:
    std::unique_ptr<Regex> regex_;
    std::string content_;
    std::u32string content_chars_;
};

class Prepend final : public Normalizer {
public:
    explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
    void normalize(NormalizedString& text) const override { text.prepend(prefix_); }

private:
    std::string prefix_;
};

class ByteLevelNormalizer final : public Normalizer {
public:
    void normalize(NormalizedString& text) const override {
        const std::string& src = text.text();
        TextBuilder out(text);
        std::size_t pos = 0;
        while (pos < src.size()) {
            const std::size_t len = utf8::sequence_length(static_cast<unsigned char>(src[pos]));
            for (std::size_t k = 0; k < len; ++k) {
                out.emit(byte_to_char(static_cast<unsigned char>(src[pos + k])), k == 0 ? 0 : 1);
            }
            pos += len;
        }
        text = out.finish();
    }
};

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
    void normalize(NormalizedString& text) const override {
        for (const auto& part : parts_) part->normalize(text);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

// The pattern of Replace and Split: {"String": "..."} or {"Regex": "..."}.
std::unique_ptr<Regex> make_pattern(const JsonReader& node) {
    node.require_object();
    if (auto literal = node.find("String")) {
        return std::make_unique<Regex>(Regex::escape(literal->as_string()), literal->origin() + ": " + literal->path());
    }
    if (auto regex = node.find("Regex")) {
        return std::make_unique<Regex>(regex->as_string(), regex->origin() + ": " + regex->path());
    }
    node.fail("expected {\"String\": ...} or {\"Regex\": ...}, got " + node.describe());
}

std::unique_ptr<Normalizer> make_normalizer(const JsonReader& node) {
    const std::string type = node.at("type").as_string();
    if (type == "BertNormalizer") {
        const bool lowercase = node.bool_or("lowercase", true);
        auto strip = node.find("strip_accents");
        return std::make_unique<BertNormalizer>(node.bool_or("clean_text", true),
                                                node.bool_or("handle_chinese_chars", true),
                                                strip ? strip->as_bool() : lowercase, lowercase);
    }
    if (type == "NFD") return std::make_unique<UnicodeNormalizer>(false, false);
    if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(true, false);
    if (type == "NFC") return std::make_unique<UnicodeNormalizer>(false, true);
    if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(true, true);
    if (type == "Lowercase") return std::make_unique<Lowercase>();
    if (type == "StripAccents") return std::make_unique<StripAccents>();
    if (type == "Strip") {
        return std::make_unique<Strip>(node.bool_or("strip_left", true), node.bool_or("strip_right", true));
    }
    if (type == "Replace") {
        return std::make_unique<Replace>(make_pattern(node.at("pattern")), node.at("content").as_string());
    }
    if (type == "Prepend") return std::make_unique<Prepend>(node.at("prepend").as_string());
    if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
    if (type == "Precompiled") return make_precompiled(node.at("precompiled_charsmap"));
    if (type == "Sequence") {
        const JsonReader list = node.at("normalizers");
        list.require_array();
        std::vector<std::unique_ptr<Normalizer>> parts;
        for (std::size_t idx = 0; idx < list.size(); ++idx) parts.push_back(make_normalizer(list.at(idx)));
        return std::make_unique<SequenceNormalizer>(std::move(parts));
    }
    node.at("type").fail("unknown normalizer type '" + type + "'", ErrorCode::unsupported);
}

}  // namespace tessera::tokenizers
