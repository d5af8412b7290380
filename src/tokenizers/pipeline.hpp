// Pipeline: one loaded tokenizer.json (immutable, shared by every copy of a Tokenizer).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/tokenizer.hpp"
#include "tokenizers/added_vocabulary.hpp"
#include "tokenizers/components.hpp"

namespace tessera::tokenizers {

class Pipeline {
public:
    // Parses tokenizer.json text; errors are prefixed with `origin`.
    static std::shared_ptr<const Pipeline> parse(std::string_view json, std::string_view origin,
                                                 std::optional<TruncationParams>& truncation,
                                                 std::optional<PaddingParams>& padding);

    // Normalize, split, tokenize one sequence; offsets in code points of `text`.
    [[nodiscard]] Encoding encode_sequence(std::string_view text, std::int32_t type_id) const;
    // Post-processes one or two sequences (already truncated) into the final encoding.
    [[nodiscard]] Encoding post_process(std::vector<Encoding>& sequences, bool add_special_tokens) const;
    [[nodiscard]] std::size_t added_special_tokens(bool pair) const {
        return post_processor_ ? post_processor_->added_tokens(pair) : 0;
    }
    [[nodiscard]] std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const;

    [[nodiscard]] std::optional<std::int32_t> token_to_id(std::string_view token) const;
    [[nodiscard]] const std::string* id_to_token(std::int32_t id) const;
    [[nodiscard]] std::size_t vocab_size() const;

private:
    std::unique_ptr<Normalizer> normalizer_;
    std::unique_ptr<PreTokenizer> pre_tokenizer_;
    std::unique_ptr<Model> model_;
    std::unique_ptr<PostProcessor> post_processor_;
    std::unique_ptr<Decoder> decoder_;
    AddedVocabulary added_;
};

}  // namespace tessera::tokenizers
