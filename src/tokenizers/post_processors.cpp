// Post-processors: add the model's special tokens around one or two sequences and set type ids
// (TemplateProcessing, BertProcessing, RobertaProcessing), or trim byte-level offsets.
#include <algorithm>
#include <map>

#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/unicode.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

Encoding merge_encodings(std::vector<Encoding>& encodings) {
    if (encodings.size() == 1) return std::move(encodings[0]);
    Encoding out;
    for (auto& e : encodings) {
        out.ids.insert(out.ids.end(), e.ids.begin(), e.ids.end());
        out.type_ids.insert(out.type_ids.end(), e.type_ids.begin(), e.type_ids.end());
        out.tokens.insert(out.tokens.end(), std::make_move_iterator(e.tokens.begin()),
                          std::make_move_iterator(e.tokens.end()));
        out.offsets.insert(out.offsets.end(), e.offsets.begin(), e.offsets.end());
        out.attention_mask.insert(out.attention_mask.end(), e.attention_mask.begin(), e.attention_mask.end());
        out.special_tokens_mask.insert(out.special_tokens_mask.end(), e.special_tokens_mask.begin(),
                                       e.special_tokens_mask.end());
    }
    return out;
}

namespace {

void append_special(Encoding& out, std::int32_t id, const std::string& token, std::int32_t type_id) {
    out.ids.push_back(id);
    out.type_ids.push_back(type_id);
    out.tokens.push_back(token);
    out.offsets.emplace_back(0, 0);
    out.attention_mask.push_back(1);
    out.special_tokens_mask.push_back(1);
}

void append_sequence(Encoding& out, Encoding& sequence, std::optional<std::int32_t> type_id) {
    if (out.ids.empty()) {
        out.ids.reserve(sequence.size() + 4);
        out.type_ids.reserve(sequence.size() + 4);
        out.tokens.reserve(sequence.size() + 4);
        out.offsets.reserve(sequence.size() + 4);
        out.attention_mask.reserve(sequence.size() + 4);
        out.special_tokens_mask.reserve(sequence.size() + 4);
    }
    out.ids.insert(out.ids.end(), sequence.ids.begin(), sequence.ids.end());
    if (type_id) {
        out.type_ids.insert(out.type_ids.end(), sequence.size(), *type_id);
    } else {
        out.type_ids.insert(out.type_ids.end(), sequence.type_ids.begin(), sequence.type_ids.end());
    }
    out.tokens.insert(out.tokens.end(), std::make_move_iterator(sequence.tokens.begin()),
                      std::make_move_iterator(sequence.tokens.end()));
    out.offsets.insert(out.offsets.end(), sequence.offsets.begin(), sequence.offsets.end());
    out.attention_mask.insert(out.attention_mask.end(), sequence.attention_mask.begin(), sequence.attention_mask.end());
    out.special_tokens_mask.insert(out.special_tokens_mask.end(), sequence.special_tokens_mask.begin(),
                                   sequence.special_tokens_mask.end());
}

// The reference's byte-level offset trimming: leading/trailing 'Ġ' (or whitespace) chars of a
// token are taken out of its offsets.
void trim_offsets(Encoding& encoding, bool add_prefix_space) {
    constexpr char32_t kSpaceChar = 0x120;  // byte_to_char(' ')
    for (std::size_t idx = 0; idx < encoding.size(); ++idx) {
        const std::u32string chars = utf8::decode_all(encoding.tokens[idx]);
        auto& [start, end] = encoding.offsets[idx];
        const auto is_space = [](char32_t c) { return c == kSpaceChar || unicode::is_whitespace(c); };
        std::size_t leading = 0;
        while (leading < chars.size() && is_space(chars[leading])) ++leading;
        std::size_t trailing = 0;
        while (trailing < chars.size() && is_space(chars[chars.size() - 1 - trailing])) ++trailing;
        if (leading == 0 && trailing == 0) continue;
        if (leading > 0) {
            const bool is_first = idx == 0 || start == 0;
            if (is_first && add_prefix_space && leading == 1) leading = 0;
            start = std::min<std::uint32_t>(start + static_cast<std::uint32_t>(leading), end);
        }
        if (trailing > 0 && end >= trailing) {
            end = std::max<std::uint32_t>(end - static_cast<std::uint32_t>(trailing), start);
        }
    }
}

class TemplateProcessing final : public PostProcessor {
public:
    struct Piece {
        bool special;
        std::string name;  // special token name, or "A"/"B"
        std::int32_t type_id;
    };
    struct Special {
        std::vector<std::int32_t> ids;
        std::vector<std::string> tokens;
    };

    TemplateProcessing(std::vector<Piece> single, std::vector<Piece> pair, std::map<std::string, Special> specials)
        : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(specials)) {}

    [[nodiscard]] std::size_t added_tokens(bool pair) const override {
        std::size_t count = 0;
        for (const auto& piece : pair ? pair_ : single_) {
            if (piece.special) count += specials_.at(piece.name).ids.size();
        }
        return count;
    }

    void process(std::vector<Encoding>& encodings, bool add_special_tokens) const override {
        const auto& pieces = encodings.size() == 2 ? pair_ : single_;
        Encoding out;
        for (const auto& piece : pieces) {
            if (piece.special) {
                if (!add_special_tokens) continue;
                const Special& special = specials_.at(piece.name);
                for (std::size_t k = 0; k < special.ids.size(); ++k) {
                    append_special(out, special.ids[k], special.tokens[k], piece.type_id);
                }
            } else {
                const std::size_t which = piece.name == "A" ? 0 : 1;
                if (which >= encodings.size()) continue;
                if (uses(pieces, piece.name) > 1) {
                    Encoding copy = encodings[which];  // a template may repeat a sequence
                    append_sequence(out, copy, piece.type_id);
                } else {
                    append_sequence(out, encodings[which], piece.type_id);  // its only use: tokens move
                }
            }
        }
        encodings.clear();
        encodings.push_back(std::move(out));
    }

private:
    static std::size_t uses(const std::vector<Piece>& pieces, const std::string& name) {
        return static_cast<std::size_t>(std::count_if(pieces.begin(), pieces.end(), [&](const Piece& p) {
            return !p.special && p.name == name;
        }));
    }

    std::vector<Piece> single_, pair_;
    std::map<std::string, Special> specials_;
};

// BertProcessing ([CLS] A [SEP] B [SEP], B typed 1) and RobertaProcessing (<s> A </s></s> B </s>,
// all typed 0, optional byte-level offset trimming).
class ClsSepProcessing final : public PostProcessor {
public:
    ClsSepProcessing(std::pair<std::string, std::int32_t> cls, std::pair<std::string, std::int32_t> sep,
                     bool roberta, bool trim, bool add_prefix_space)
        : cls_(std::move(cls)), sep_(std::move(sep)), roberta_(roberta), trim_(trim),
          add_prefix_space_(add_prefix_space) {}

    [[nodiscard]] std::size_t added_tokens(bool pair) const override {
        return pair ? (roberta_ ? 4 : 3) : 2;
    }

    void process(std::vector<Encoding>& encodings, bool add_special_tokens) const override {
        if (roberta_ && trim_) {
            for (auto& e : encodings) trim_offsets(e, add_prefix_space_);
        }
        if (!add_special_tokens) {
            // The reference types both RoBERTa sequences 0 even without special tokens.
            if (roberta_) {
                for (auto& e : encodings) std::fill(e.type_ids.begin(), e.type_ids.end(), 0);
            }
            return;
        }
        Encoding out;
        append_special(out, cls_.second, cls_.first, 0);
        append_sequence(out, encodings[0], 0);
        append_special(out, sep_.second, sep_.first, 0);
        if (encodings.size() == 2) {
            const std::int32_t type_id = roberta_ ? 0 : 1;
            if (roberta_) append_special(out, sep_.second, sep_.first, type_id);
            append_sequence(out, encodings[1], type_id);
            append_special(out, sep_.second, sep_.first, type_id);
        }
        encodings.clear();
        encodings.push_back(std::move(out));
    }

private:
    std::pair<std::string, std::int32_t> cls_, sep_;
    bool roberta_, trim_, add_prefix_space_;
};

class ByteLevelProcessing final : public PostProcessor {
public:
    ByteLevelProcessing(bool trim, bool add_prefix_space) : trim_(trim), add_prefix_space_(add_prefix_space) {}
    [[nodiscard]] std::size_t added_tokens(bool) const override { return 0; }
    void process(std::vector<Encoding>& encodings, bool) const override {
        if (!trim_) return;
        for (auto& e : encodings) trim_offsets(e, add_prefix_space_);
    }

private:
    bool trim_, add_prefix_space_;
};

class SequenceProcessing final : public PostProcessor {
public:
    explicit SequenceProcessing(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
    [[nodiscard]] std::size_t added_tokens(bool pair) const override {
        std::size_t count = 0;
        for (const auto& part : parts_) count += part->added_tokens(pair);
        return count;
    }
    void process(std::vector<Encoding>& encodings, bool add_special_tokens) const override {
        for (const auto& part : parts_) part->process(encodings, add_special_tokens);
    }

private:
    std::vector<std::unique_ptr<PostProcessor>> parts_;
};

std::pair<std::string, std::int32_t> token_and_id(const JsonReader& node) {
    if (!node.json().is_array() || node.size() != 2) node.fail("expected [token, id], got " + node.describe());
    return {node.at(std::size_t{0}).as_string(),
            static_cast<std::int32_t>(node.at(std::size_t{1}).as_int(0, INT32_MAX))};
}

std::vector<TemplateProcessing::Piece> parse_template(const JsonReader& node,
                                                      const std::map<std::string, TemplateProcessing::Special>& specials) {
    node.require_array();
    std::vector<TemplateProcessing::Piece> pieces;
    for (std::size_t idx = 0; idx < node.size(); ++idx) {
        const JsonReader entry = node.at(idx);
        entry.require_object();
        if (auto special = entry.find("SpecialToken")) {
            std::string name = special->at("id").as_string();
            if (!specials.contains(name)) special->at("id").fail("special token '" + name + "' is not in special_tokens");
            pieces.push_back({true, std::move(name),
                              static_cast<std::int32_t>(special->at("type_id").as_int(0, INT32_MAX))});
        } else if (auto sequence = entry.find("Sequence")) {
            std::string name = sequence->at("id").as_string();
            if (name != "A" && name != "B") sequence->at("id").fail("expected \"A\" or \"B\", got '" + name + "'");
            pieces.push_back({false, std::move(name),
                              static_cast<std::int32_t>(sequence->at("type_id").as_int(0, INT32_MAX))});
        } else {
            entry.fail("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}, got " + entry.describe());
        }
    }
    return pieces;
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const JsonReader& node) {
    const std::string type = node.at("type").as_string();
    if (type == "TemplateProcessing") {
        std::map<std::string, TemplateProcessing::Special> specials;
        if (auto list = node.find("special_tokens")) {
            list->require_object();
            for (const auto& [name, value] : list->json().items()) {
                const JsonReader entry(value, list->path() + "[\"" + name + "\"]", node.origin());
                TemplateProcessing::Special special;
                const JsonReader ids = entry.at("ids");
                const JsonReader tokens = entry.at("tokens");
                ids.require_array();
                tokens.require_array();
                if (ids.size() != tokens.size()) entry.fail("ids and tokens differ in length");
                for (std::size_t k = 0; k < ids.size(); ++k) {
                    special.ids.push_back(static_cast<std::int32_t>(ids.at(k).as_int(0, INT32_MAX)));
                    special.tokens.push_back(tokens.at(k).as_string());
                }
                specials.emplace(name, std::move(special));
            }
        }
        auto single = parse_template(node.at("single"), specials);
        auto pair = parse_template(node.at("pair"), specials);
        return std::make_unique<TemplateProcessing>(std::move(single), std::move(pair), std::move(specials));
    }
    if (type == "BertProcessing") {
        return std::make_unique<ClsSepProcessing>(token_and_id(node.at("cls")), token_and_id(node.at("sep")),
                                                  false, false, false);
    }
    if (type == "RobertaProcessing") {
        return std::make_unique<ClsSepProcessing>(token_and_id(node.at("cls")), token_and_id(node.at("sep")),
                                                  true, node.bool_or("trim_offsets", true),
                                                  node.bool_or("add_prefix_space", true));
    }
    if (type == "ByteLevel") {
        return std::make_unique<ByteLevelProcessing>(node.bool_or("trim_offsets", true),
                                                     node.bool_or("add_prefix_space", true));
    }
    if (type == "Sequence") {
        const JsonReader list = node.at("processors");
        list.require_array();
        std::vector<std::unique_ptr<PostProcessor>> parts;
        for (std::size_t idx = 0; idx < list.size(); ++idx) parts.push_back(make_post_processor(list.at(idx)));
        return std::make_unique<SequenceProcessing>(std::move(parts));
    }
    node.at("type").fail("unknown post-processor type '" + type + "'", ErrorCode::unsupported);
}

}  // namespace tessera::tokenizers
