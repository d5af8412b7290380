// Pre-tokenizers of the format: they cut normalized text into the pieces the model sees.
#include <array>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/regex.hpp"
#include "tokenizers/unicode.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

// GPT-2's table: printable bytes map to themselves, the others to U+0100 + n in byte order.
struct ByteTable {
    std::array<char32_t, 256> to_char{};
    ByteTable() {
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            to_char[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
        }
    }
};
const ByteTable kByteTable;

// Each char `match` accepts is its own match (the reference's Pattern for Fn(char) -> bool).
template <typename Match>
void char_pieces(std::string_view text, Match match, std::vector<PatternPiece>& out) {
    if (text.empty()) {
        out.push_back({0, 0, false});
        return;
    }
    std::uint32_t last = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto start = static_cast<std::uint32_t>(pos);
        const char32_t c = utf8::decode_next(text, pos);
        if (match(c)) {
            if (last < start) out.push_back({last, start, false});
            out.push_back({start, static_cast<std::uint32_t>(pos), true});
            last = static_cast<std::uint32_t>(pos);
        }
    }
    if (last < text.size()) out.push_back({last, static_cast<std::uint32_t>(text.size()), false});
}

void invert(std::vector<PatternPiece>& pieces) {
    for (auto& piece : pieces) piece.is_match = !piece.is_match;
}

SplitBehavior parse_behavior(const JsonReader& node) {
    const std::string name = node.as_string();
    if (name == "Removed") return SplitBehavior::removed;
    if (name == "Isolated") return SplitBehavior::isolated;
    if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
    if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
    if (name == "Contiguous") return SplitBehavior::contiguous;
    node.fail("unknown split behavior '" + name + "'");
}

// Whitespace split then punctuation isolated, in one pass over each piece.
class BertPreTokenizer final : public PreTokenizer {
public:
    void pre_tokenize(PreTokenized& text) const override {
        text.split([](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            const std::string& s = piece.text();
            std::size_t word_start = 0;
            std::size_t pos = 0;
            while (pos < s.size()) {
                const std::size_t start = pos;
                const auto byte = static_cast<unsigned char>(s[pos]);
                char32_t c;
                if (byte < 0x80) {
                    c = byte;
                    ++pos;
                } else {
                    c = utf8::decode_next(s, pos);
                }
                const bool space = byte < 0x80 ? (c == ' ' || (c >= 9 && c <= 13)) : unicode::is_whitespace(c);
                if (space) {
                    if (start > word_start) out.push_back(piece.slice(word_start, start));
                    word_start = pos;
                } else if (unicode::is_bert_punctuation(c)) {
                    if (start > word_start) out.push_back(piece.slice(word_start, start));
                    out.push_back(piece.slice(start, pos));
                    word_start = pos;
                }
            }
            if (s.size() > word_start) out.push_back(piece.slice(word_start, s.size()));
        });
    }
};

class WhitespaceSplit final : public PreTokenizer {
public:
    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            pieces.clear();
            char_pieces(piece.text(), unicode::is_whitespace, pieces);
            piece.split(pieces, SplitBehavior::removed, out);
        });
    }
};

// `\w+|[^\w\s]+`: runs of word chars and runs of other non-space chars; spaces removed.
class Whitespace final : public PreTokenizer {
public:
    void pre_tokenize(PreTokenized& text) const override {
        text.split([](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            const std::string& s = piece.text();
            std::size_t pos = 0;
            std::size_t run_start = 0;
            int run_kind = 0;  // 0 space, 1 word, 2 other
            while (pos < s.size()) {
                const std::size_t start = pos;
                const char32_t c = utf8::decode_next(s, pos);
                const int kind = unicode::is_word_char(c) ? 1 : unicode::is_whitespace(c) ? 0 : 2;
                if (kind != run_kind) {
                    if (run_kind != 0 && start > run_start) out.push_back(piece.slice(run_start, start));
                    run_start = start;
                    run_kind = kind;
                }
            }
            if (run_kind != 0 && s.size() > run_start) out.push_back(piece.slice(run_start, s.size()));
        });
    }
};

class Punctuation final : public PreTokenizer {
public:
    explicit Punctuation(SplitBehavior behavior) : behavior_(behavior) {}
    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            pieces.clear();
            char_pieces(piece.text(), unicode::is_bert_punctuation, pieces);
            piece.split(pieces, behavior_, out);
        });
    }

private:
    SplitBehavior behavior_;
};

class CharDelimiterSplit final : public PreTokenizer {
public:
    explicit CharDelimiterSplit(char32_t delimiter) : delimiter_(delimiter) {}
    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            pieces.clear();
            char_pieces(piece.text(), [&](char32_t c) { return c == delimiter_; }, pieces);
            piece.split(pieces, SplitBehavior::removed, out);
        });
    }

private:
    char32_t delimiter_;
};

class Digits final : public PreTokenizer {
public:
    explicit Digits(bool individual) : individual_(individual) {}
    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            pieces.clear();
            char_pieces(piece.text(), unicode::is_numeric, pieces);
            piece.split(pieces, individual_ ? SplitBehavior::isolated : SplitBehavior::contiguous, out);
        });
    }

private:
    bool individual_;
};

class SplitPreTokenizer final : public PreTokenizer {
public:
    SplitPreTokenizer(std::unique_ptr<Regex> regex, SplitBehavior behavior, bool inverted)
        : regex_(std::move(regex)), behavior_(behavior), invert_(inverted) {}
    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            pieces.clear();
            regex_->find_pieces(piece.text(), pieces);
            if (invert_) invert(pieces);
            piece.split(pieces, behavior_, out);
        });
    }

private:
    std::unique_ptr<Regex> regex_;
    SplitBehavior behavior_;
    bool invert_;
};

enum class PrependScheme { always, first, never };

class Metaspace final : public PreTokenizer {
public:
    Metaspace(char32_t replacement, PrependScheme scheme, bool split)
        : replacement_(replacement), scheme_(scheme), split_(split) {
        utf8::append(replacement_text_, replacement);
    }
    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            // ' ' -> replacement, each aligned with its space.
            const std::string& s = piece.text();
            if (s.find(' ') != std::string::npos) {
                TextBuilder builder(piece);
                while (builder.position() < s.size()) {
                    if (s[builder.position()] == ' ') {
                        builder.emit(replacement_, 0);
                    } else {
                        const std::size_t next = s.find(' ', builder.position());
                        builder.keep_until(next == std::string::npos ? s.size() : next);
                    }
                }
                piece = builder.finish();
            }
            const bool starts = piece.text().starts_with(replacement_text_);
            if (!starts && (scheme_ == PrependScheme::always ||
                            (scheme_ == PrependScheme::first && piece.origin() == 0))) {
                piece.prepend(replacement_text_);
            }
            if (!split_) {
                out.push_back(std::move(piece));
                return;
            }
            pieces.clear();
            char_pieces(piece.text(), [&](char32_t c) { return c == replacement_; }, pieces);
            piece.split(pieces, SplitBehavior::merged_with_next, out);
        });
    }

private:
    char32_t replacement_;
    std::string replacement_text_;
    PrependScheme scheme_;
    bool split_;
};

constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel final : public PreTokenizer {
public:
    ByteLevel(bool add_prefix_space, bool use_regex)
        : add_prefix_space_(add_prefix_space),
          regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern, "ByteLevel") : nullptr) {}

    void pre_tokenize(PreTokenized& text) const override {
        std::vector<PatternPiece> pieces;
        text.split([&](std::size_t, NormalizedString&& piece, std::vector<NormalizedString>& out) {
            if (add_prefix_space_ && !piece.text().starts_with(' ')) piece.prepend(" ");
            if (!regex_) {
                out.push_back(std::move(piece));
                return;
            }
            pieces.clear();
            regex_->find_pieces(piece.text(), pieces);
            piece.split(pieces, SplitBehavior::isolated, out);
        });
        for (auto& split : text.splits) {
            if (split.added_id < 0) split.normalized = to_byte_chars(split.normalized);
        }
    }

    // Each byte of each char becomes its table char; all are aligned with the source char.
    static NormalizedString to_byte_chars(const NormalizedString& piece) {
        const std::string& s = piece.text();
        NormalizedString out;
        std::string& text = out.mutable_text();
        auto& align = out.mutable_alignments();
        text.reserve(s.size() * 2);
        align.reserve(s.size() * 2);
        out.set_origin(piece.origin());
        const auto& source = piece.alignments();
        for (std::size_t pos = 0; pos < s.size(); ++pos) {
            const auto byte = static_cast<unsigned char>(s[pos]);
            const char32_t c = kByteTable.to_char[byte];
            const std::size_t before = text.size();
            utf8::append(text, c);
            // Bytes after the first of a char inherit the alignment of the byte before, which
            // is the same source char.
            align.insert(align.end(), text.size() - before, source[pos]);
        }
        return out;
    }

private:
    bool add_prefix_space_;
    std::unique_ptr<Regex> regex_;
};

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
    void pre_tokenize(PreTokenized& text) const override {
        for (const auto& part : parts_) part->pre_tokenize(text);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

PrependScheme parse_prepend_scheme(const JsonReader& node) {
    if (auto scheme = node.find("prepend_scheme")) {
        const std::string name = scheme->as_string();
        if (name == "always") return PrependScheme::always;
        if (name == "first") return PrependScheme::first;
        if (name == "never") return PrependScheme::never;
        scheme->fail("unknown prepend_scheme '" + name + "'");
    }
    return node.bool_or("add_prefix_space", true) ? PrependScheme::always : PrependScheme::never;
}

char32_t single_char(const JsonReader& node) {
    const std::string text = node.as_string();
    if (text.empty() || utf8::find_invalid(text) || utf8::count_code_points(text) != 1) {
        node.fail("expected a single character, got " + node.describe());
    }
    std::size_t pos = 0;
    return utf8::decode_next(text, pos);
}

}  // namespace

char32_t byte_to_char(unsigned char byte) noexcept { return kByteTable.to_char[byte]; }

int char_to_byte(char32_t c) noexcept {
    if (c < 256) {
        const bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255);
        return printable ? static_cast<int>(c) : -1;
    }
    for (int b = 0; b < 256; ++b) {
        if (kByteTable.to_char[static_cast<std::size_t>(b)] == c) return b;
    }
    return -1;
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonReader& node) {
    const std::string type = node.at("type").as_string();
    if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
    if (type == "Whitespace") return std::make_unique<Whitespace>();
    if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
    if (type == "Punctuation") {
        auto behavior = node.find("behavior");
        return std::make_unique<Punctuation>(behavior ? parse_behavior(*behavior) : SplitBehavior::isolated);
    }
    if (type == "CharDelimiterSplit") return std::make_unique<CharDelimiterSplit>(single_char(node.at("delimiter")));
    if (type == "Digits") return std::make_unique<Digits>(node.bool_or("individual_digits", false));
    if (type == "Split") {
        return std::make_unique<SplitPreTokenizer>(make_pattern(node.at("pattern")),
                                                   parse_behavior(node.at("behavior")),
                                                   node.bool_or("invert", false));
    }
    if (type == "Metaspace") {
        return std::make_unique<Metaspace>(single_char(node.at("replacement")), parse_prepend_scheme(node),
                                           node.bool_or("split", true));
    }
    if (type == "ByteLevel") {
        return std::make_unique<ByteLevel>(node.bool_or("add_prefix_space", true), node.bool_or("use_regex", true));
    }
    if (type == "Sequence") {
        const JsonReader list = node.at("pretokenizers");
        list.require_array();
        std::vector<std::unique_ptr<PreTokenizer>> parts;
        for (std::size_t idx = 0; idx < list.size(); ++idx) parts.push_back(make_pre_tokenizer(list.at(idx)));
        return std::make_unique<SequencePreTokenizer>(std::move(parts));
    }
    node.at("type").fail("unknown pre-tokenizer type '" + type + "'", ErrorCode::unsupported);
}

}  // namespace tessera::tokenizers
