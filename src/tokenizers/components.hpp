// The interfaces of a tokenizer.json pipeline: normalizer -> pre-tokenizer -> model ->
// post-processor, and the decoder. One implementation per "type" of the format.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/tokenizer.hpp"
#include "tokenizers/normalized_string.hpp"

namespace tessera::tokenizers {

// A token the model produced: byte offsets into the normalized text it was given.
struct Token {
    std::int32_t id;
    std::string value;
    std::uint32_t start;
    std::uint32_t end;
};

// One piece of a pre-tokenized input; `added_id` >= 0 when the piece is an added token.
struct Split {
    NormalizedString normalized;
    std::int32_t added_id = -1;
};

struct PreTokenized {
    std::vector<Split> splits;

    // Replaces every piece that is not an added token by what `fn(split_idx, piece, out)`
    // appends to `out`; empty results are dropped.
    template <typename Fn>
    void split(Fn&& fn) {
        std::vector<Split> next;
        next.reserve(splits.size() * 2);
        std::vector<NormalizedString> pieces;
        for (std::size_t split_idx = 0; split_idx < splits.size(); ++split_idx) {
            Split& split = splits[split_idx];
            if (split.added_id >= 0) {
                next.push_back(std::move(split));
                continue;
            }
            pieces.clear();
            fn(split_idx, std::move(split.normalized), pieces);
            for (auto& piece : pieces) {
                if (!piece.empty()) next.push_back(Split{std::move(piece), -1});
            }
        }
        splits = std::move(next);
    }
};

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(NormalizedString& text) const = 0;
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    virtual void pre_tokenize(PreTokenized& text) const = 0;
};

class Model {
public:
    virtual ~Model() = default;
    // Appends the tokens of one pre-tokenized piece.
    virtual void tokenize(std::string_view text, std::vector<Token>& out) const = 0;
    [[nodiscard]] virtual std::optional<std::int32_t> token_to_id(std::string_view token) const = 0;
    [[nodiscard]] virtual const std::string* id_to_token(std::int32_t id) const = 0;
    [[nodiscard]] virtual std::size_t vocab_size() const = 0;
};

class PostProcessor {
public:
    virtual ~PostProcessor() = default;
    [[nodiscard]] virtual std::size_t added_tokens(bool pair) const = 0;
    // Rewrites the one or two encodings (offsets already in code points).
    virtual void process(std::vector<Encoding>& encodings, bool add_special_tokens) const = 0;
};

class Decoder {
public:
    virtual ~Decoder() = default;
    // The reference's decode_chain: token strings in, token strings out.
    virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Concatenates encodings (the reference's Encoding::merge without growing offsets).
Encoding merge_encodings(std::vector<Encoding>& encodings);

}  // namespace tessera::tokenizers
