// WordPiece: greedy longest-match-first over the vocab, continuation pieces carrying a prefix
// ("##"); a word with an unknown part, or longer than max_input_chars_per_word, is one unk.
#include "core/utf8.hpp"
#include "tokenizers/factories.hpp"
#include "tokenizers/tokenizer_json.hpp"
#include "tokenizers/vocab.hpp"

namespace tessera::tokenizers {

namespace utf8 = core::utf8;

namespace {

class WordPiece final : public Model {
public:
    WordPiece(Vocab vocab, std::string unk_token, std::int32_t unk_id, std::string prefix,
              std::size_t max_chars)
        : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)), unk_id_(unk_id),
          prefix_(std::move(prefix)), max_chars_(max_chars) {
        for (const auto& [token, id] : vocab_.entries()) {
            std::size_t length = token.size();
            if (token.starts_with(prefix_)) length -= prefix_.size();
            max_piece_bytes_ = std::max(max_piece_bytes_, length);
        }
    }

    void tokenize(std::string_view word, std::vector<Token>& out) const override {
        const auto word_bytes = static_cast<std::uint32_t>(word.size());
        if (utf8::count_code_points(word) > max_chars_) {
            out.push_back({unk_id_, unk_token_, 0, word_bytes});
            return;
        }
        const std::size_t first = out.size();
        thread_local std::string candidate;
        std::size_t start = 0;
        while (start < word.size()) {
            // No vocab piece is longer than max_piece_bytes_: start the search there.
            std::size_t end = std::min(word.size(), start + max_piece_bytes_);
            while (end > start && end < word.size() &&
                   (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) {
                --end;
            }
            std::optional<std::int32_t> found;
            while (end > start) {
                std::string_view piece = word.substr(start, end - start);
                if (start > 0) {
                    candidate.assign(prefix_);
                    candidate.append(piece);
                    piece = candidate;
                }
                found = vocab_.find(piece);
                if (found) break;
                --end;
                while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
            }
            if (!found) {
                out.resize(first);
                out.push_back({unk_id_, unk_token_, 0, word_bytes});
                return;
            }
            out.push_back({*found, *vocab_.token(*found), static_cast<std::uint32_t>(start),
                           static_cast<std::uint32_t>(end)});
            start = end;
        }
    }

    [[nodiscard]] std::optional<std::int32_t> token_to_id(std::string_view token) const override {
        return vocab_.find(token);
    }
    [[nodiscard]] const std::string* id_to_token(std::int32_t id) const override { return vocab_.token(id); }
    [[nodiscard]] std::size_t vocab_size() const override { return vocab_.size(); }

private:
    Vocab vocab_;
    std::string unk_token_;
    std::int32_t unk_id_;
    std::string prefix_;
    std::size_t max_chars_;
    std::size_t max_piece_bytes_ = 1;
};

}  // namespace

// A {"token": id, ...} vocab object: packed by parse_tokenizer_json when every id is valid.
Vocab read_vocab_object(const JsonReader& node) {
    Vocab vocab;
    if (node.json().is_binary()) {
        const auto& packed = node.json().get_binary();
        vocab.reserve(packed_vocab_size(packed));
        // Duplicate keys: the last one wins, as in a JSON object (and in Hugging Face's reader).
        std::vector<std::pair<std::string_view, std::int32_t>> entries;
        entries.reserve(packed_vocab_size(packed));
        for_each_packed_vocab_entry(packed, [&](std::string_view token, std::int32_t id) { entries.emplace_back(token, id); });
        for (auto entry = entries.rbegin(); entry != entries.rend(); ++entry) vocab.add(std::string(entry->first), entry->second);
        return vocab;
    }
    node.require_object();
    vocab.reserve(node.size());
    for (const auto& [token, value] : node.json().items()) {
        const JsonReader entry(value, node.path() + "[\"" + token + "\"]", node.origin());
        vocab.add(token, static_cast<std::int32_t>(entry.as_int(0, INT32_MAX)));
    }
    return vocab;
}

std::unique_ptr<Model> make_wordpiece(const JsonReader& node) {
    Vocab vocab = read_vocab_object(node.at("vocab"));
    const std::string unk = node.string_or("unk_token", "[UNK]");
    auto unk_id = vocab.find(unk);
    if (!unk_id) node.at("unk_token").fail("unk_token '" + unk + "' is not in model.vocab");
    auto max_chars = node.find("max_input_chars_per_word");
    return std::make_unique<WordPiece>(std::move(vocab), unk, *unk_id,
                                       node.string_or("continuing_subword_prefix", "##"),
                                       max_chars ? static_cast<std::size_t>(max_chars->as_int(0, INT32_MAX)) : 100);
}

}  // namespace tessera::tokenizers
