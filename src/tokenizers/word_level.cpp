// WordLevel: each pre-tokenized piece is one token, or the unk token.
#include "tokenizers/factories.hpp"
#include "tokenizers/vocab.hpp"

namespace tessera::tokenizers {

Vocab read_vocab_object(const JsonReader& node);

namespace {

class WordLevel final : public Model {
public:
    WordLevel(Vocab vocab, std::string unk_token, std::optional<std::int32_t> unk_id)
        : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)), unk_id_(unk_id) {}

    void tokenize(std::string_view word, std::vector<Token>& out) const override {
        const auto length = static_cast<std::uint32_t>(word.size());
        if (auto id = vocab_.find(word)) {
            out.push_back({*id, *vocab_.token(*id), 0, length});
        } else if (unk_id_) {
            out.push_back({*unk_id_, unk_token_, 0, length});
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
    std::optional<std::int32_t> unk_id_;
};

}  // namespace

std::unique_ptr<Model> make_word_level(const JsonReader& node) {
    Vocab vocab = read_vocab_object(node.at("vocab"));
    const std::string unk = node.string_or("unk_token", "<unk>");
    auto unk_id = vocab.find(unk);
    return std::make_unique<WordLevel>(std::move(vocab), unk, unk_id);
}

}  // namespace tessera::tokenizers
