// AddedVocabulary: the tokenizer.json "added_tokens", matched in the text before the model runs
// (leftmost-longest), with their single_word / lstrip / rstrip / normalized options.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizers/components.hpp"

namespace tessera::tokenizers {

struct AddedToken {
    std::string content;
    std::int32_t id = 0;
    bool special = false;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
};

class AddedVocabulary {
public:
    AddedVocabulary() = default;
    // `normalizer` (may be null) normalizes the content of the `normalized` tokens.
    AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

    [[nodiscard]] const std::vector<AddedToken>& tokens() const { return tokens_; }
    [[nodiscard]] const AddedToken* find_by_id(std::int32_t id) const;
    [[nodiscard]] const AddedToken* find_by_content(std::string_view content) const;
    [[nodiscard]] bool empty() const { return tokens_.empty(); }

    // Splits `piece` around the matches of the non-normalized (normalized_pass false) or
    // normalized tokens; matches become splits with added_id set.
    void split(NormalizedString&& piece, bool normalized_pass, std::vector<Split>& out) const;

private:
    struct Matcher {
        std::array<std::vector<std::uint32_t>, 256> by_first_byte;  // token indices, longest first
        std::vector<std::string> patterns;                          // per token index
        bool empty = true;
    };

    std::vector<AddedToken> tokens_;
    Matcher raw_, normalized_;
};

}  // namespace tessera::tokenizers
