// Decoders: turn token strings back into text (WordPiece "##" joining, byte-level bytes,
// Metaspace "▁", the BPE end-of-word suffix, byte fallback "<0xNN>", ...).
#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/regex.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::size_t pos = 0;
    while ((pos = text.find(from, pos)) != std::string::npos) {
        text.replace(pos, from.size(), to);
        pos += to.size();
    }
}

// The reference's clean_up_tokenization.
void cleanup(std::string& text) {
    replace_all(text, " .", ".");
    replace_all(text, " ?", "?");
    replace_all(text, " !", "!");
    replace_all(text, " ,", ",");
    replace_all(text, " ' ", "'");
    replace_all(text, " n't", "n't");
    replace_all(text, " 'm", "'m");
    replace_all(text, " do not", " don't");
    replace_all(text, " 's", "'s");
    replace_all(text, " 've", "'ve");
    replace_all(text, " 're", "'re");
}

class WordPieceDecoder final : public Decoder {
public:
    WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::size_t idx = 0; idx < tokens.size(); ++idx) {
            std::string& token = tokens[idx];
            if (idx != 0) {
                if (token.starts_with(prefix_)) {
                    token.erase(0, prefix_.size());
                } else {
                    token.insert(0, " ");
                }
            }
            if (cleanup_) cleanup(token);
        }
    }

private:
    std::string prefix_;
    bool cleanup_;
};

class ByteLevelDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string bytes;
        for (const auto& token : tokens) {
            const std::size_t before = bytes.size();
            std::size_t pos = 0;
            bool mapped = true;
            while (pos < token.size()) {
                const int byte = char_to_byte(utf8::decode_next(token, pos));
                if (byte < 0) {
                    mapped = false;
                    break;
                }
                bytes.push_back(static_cast<char>(byte));
            }
            if (!mapped) {
                bytes.resize(before);
                bytes.append(token);
            }
        }
        tokens.assign(1, utf8::repair(bytes));
    }
};

class MetaspaceDecoder final : public Decoder {
public:
    MetaspaceDecoder(std::string replacement, bool strip_first)
        : replacement_(std::move(replacement)), strip_first_(strip_first) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::size_t idx = 0; idx < tokens.size(); ++idx) {
            replace_all(tokens[idx], replacement_, idx == 0 && strip_first_ ? "" : " ");
        }
    }

private:
    std::string replacement_;
    bool strip_first_;
};

class BpeDecoder final : public Decoder {
public:
    explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (std::size_t idx = 0; idx < tokens.size(); ++idx) {
            replace_all(tokens[idx], suffix_, idx + 1 == tokens.size() ? "" : " ");
        }
    }

private:
    std::string suffix_;
};

class ByteFallbackDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::vector<std::string> out;
        std::string pending;
        std::size_t pending_count = 0;
        const auto flush = [&] {
            if (pending_count == 0) return;
            if (!utf8::find_invalid(pending)) {
                out.push_back(pending);
            } else {
                for (std::size_t k = 0; k < pending_count; ++k) out.emplace_back("\xEF\xBF\xBD");
            }
            pending.clear();
            pending_count = 0;
        };
        for (auto& token : tokens) {
            int byte = -1;
            if (token.size() == 6 && token.starts_with("<0x") && token.back() == '>') {
                const auto hex = [](char c) {
                    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                        : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                };
                const int high = hex(token[3]);
                const int low = hex(token[4]);
                if (high >= 0 && low >= 0) byte = high * 16 + low;
            }
            if (byte >= 0) {
                pending.push_back(static_cast<char>(byte));
                ++pending_count;
            } else {
                flush();
                out.push_back(std::move(token));
            }
        }
        flush();
        tokens = std::move(out);
    }
};

class FuseDecoder final : public Decoder {
public:
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::string joined;
        for (const auto& token : tokens) joined += token;
        tokens.assign(1, std::move(joined));
    }
};

class StripDecoder final : public Decoder {
public:
    StripDecoder(char32_t content, std::size_t start, std::size_t stop) : content_(content), start_(start), stop_(stop) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (auto& token : tokens) {
            std::u32string chars = utf8::decode_all(token);
            std::size_t begin = 0;
            while (begin < start_ && begin < chars.size() && chars[begin] == content_) ++begin;
            std::size_t end = chars.size();
            std::size_t removed = 0;
            while (removed < stop_ && end > begin && chars[end - 1] == content_) --end, ++removed;
            token = utf8::encode_all(std::u32string_view(chars).substr(begin, end - begin));
        }
    }

private:
    char32_t content_;
    std::size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
public:
    ReplaceDecoder(std::unique_ptr<Regex> regex, std::string content) : regex_(std::move(regex)), content_(std::move(content)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        std::vector<PatternPiece> pieces;
        for (auto& token : tokens) {
            pieces.clear();
            regex_->find_pieces(token, pieces);
            std::string out;
            for (const auto& piece : pieces) {
                if (piece.is_match) {
                    out += content_;
                } else {
                    out.append(token, piece.start, piece.end - piece.start);
                }
            }
            token = std::move(out);
        }
    }

private:
    std::unique_ptr<Regex> regex_;
    std::string content_;
};

class SequenceDecoder final : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
    void decode_chain(std::vector<std::string>& tokens) const override {
        for (const auto& part : parts_) part->decode_chain(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const JsonReader& node) {
    const std::string type = node.at("type").as_string();
    if (type == "WordPiece") {
        return std::make_unique<WordPieceDecoder>(node.string_or("prefix", "##"), node.bool_or("cleanup", true));
    }
    if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (type == "Metaspace") {
        bool strip_first = node.bool_or("add_prefix_space", true);
        if (auto scheme = node.find("prepend_scheme")) strip_first = scheme->as_string() != "never";
        return std::make_unique<MetaspaceDecoder>(node.at("replacement").as_string(), strip_first);
    }
    if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(node.string_or("suffix", "</w>"));
    if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse") return std::make_unique<FuseDecoder>();
    if (type == "Strip") {
        const std::string content = node.at("content").as_string();
        if (content.empty() || utf8::find_invalid(content) || utf8::count_code_points(content) != 1) {
            node.at("content").fail("expected a single character, got " + node.at("content").describe());
        }
        return std::make_unique<StripDecoder>(utf8::decode_all(content)[0],
                                              static_cast<std::size_t>(node.at("start").as_int(0, INT32_MAX)),
                                              static_cast<std::size_t>(node.at("stop").as_int(0, INT32_MAX)));
    }
    if (type == "Replace") {
        return std::make_unique<ReplaceDecoder>(make_pattern(node.at("pattern")), node.at("content").as_string());
    }
    if (type == "Sequence") {
        const JsonReader list = node.at("decoders");
        list.require_array();
        std::vector<std::unique_ptr<Decoder>> parts;
        for (std::size_t idx = 0; idx < list.size(); ++idx) parts.push_back(make_decoder(list.at(idx)));
        return std::make_unique<SequenceDecoder>(std::move(parts));
    }
    node.at("type").fail("unknown decoder type '" + type + "'", ErrorCode::unsupported);
}

}  // namespace tessera::tokenizers
