// tessera::Tokenizer — a Hugging Face tokenizer.json, run natively with the reference's ids.
//
//   auto tok = tessera::Tokenizer::from_file("models/minilm/tokenizer.json");
//   tok.set_truncation(tessera::TruncationParams{.max_length = 256});
//   tok.set_padding(std::nullopt);
//   tessera::Encoding e = tok.encode("Hello, world!");   // ids 101 7592 1010 2088 999 102
//   std::string text = tok.decode(e.ids);                  // "hello, world!"
//
// Supported: WordPiece, BPE (byte-level, CLIP's `</w>` form, byte fallback) and Unigram models;
// the normalizers, pre-tokenizers, post-processors and decoders of the format; added tokens;
// truncation and padding. Offsets are Unicode code point indices into the input, as the
// reference library reports them. Input must be valid UTF-8: invalid input is rejected with
// ErrorCode::invalid_argument and the byte offset of the first bad sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera {

// One tokenized input: all vectors have the same length.
struct Encoding {
    std::vector<std::int32_t> ids, type_ids;
    std::vector<std::string> tokens;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> offsets;  // code points into the input
    std::vector<std::uint8_t> attention_mask, special_tokens_mask;
    // The windows cut off by truncation (with `stride` tokens of overlap), each post-processed
    // like the main encoding. Empty unless truncation removed tokens.
    std::vector<Encoding> overflowing;

    [[nodiscard]] std::size_t size() const { return ids.size(); }
};

enum class TruncationStrategy { longest_first, only_first, only_second };

struct TruncationParams {
    std::size_t max_length = 512;  // counts the special tokens the post-processor adds
    TruncationStrategy strategy = TruncationStrategy::longest_first;
    std::size_t stride = 0;
    bool left = false;  // drop tokens from the start instead of the end
};

struct PaddingParams {
    std::optional<std::size_t> fixed_length;  // nullopt: pad to the longest of the batch
    std::size_t pad_to_multiple_of = 0;
    bool left = false;
    std::int32_t pad_id = 0;
    std::int32_t pad_type_id = 0;
    std::string pad_token = "[PAD]";
};

namespace tokenizers {
class Pipeline;  // internal
}

class Tokenizer {  // cheap to copy (shared immutable model); truncation/padding are per copy
public:
    // Throws Error not_found / io for an unreadable file, corrupt naming the JSON path for a
    // malformed one ("tokenizer.json: model.vocab: ..."), unsupported for unknown component types.
    static Tokenizer from_file(const std::filesystem::path& tokenizer_json);
    // Same as from_file; `origin_for_errors` prefixes every error message.
    static Tokenizer from_json(std::string_view json, std::string_view origin_for_errors);

    // Throws Error invalid_argument "invalid UTF-8 at byte N" for invalid input, invalid_argument
    // when truncation cannot be applied (e.g. only_second without a pair).
    [[nodiscard]] Encoding encode(std::string_view text, bool add_special_tokens = true) const;
    [[nodiscard]] Encoding encode_pair(std::string_view text, std::string_view pair,
                                       bool add_special_tokens = true) const;
    // Encodes in parallel; results in input order. Padding (if set) is applied across the batch.
    [[nodiscard]] std::vector<Encoding> encode_batch(std::span<const std::string> texts,
                                                     bool add_special_tokens = true,
                                                     std::size_t thread_count = 0) const;  // 0: all cores
    // Pairs: `pairs[i]` is the second sequence of `texts[i]`; the spans must have equal sizes.
    [[nodiscard]] std::vector<Encoding> encode_pair_batch(std::span<const std::string> texts,
                                                          std::span<const std::string> pairs,
                                                          bool add_special_tokens = true,
                                                          std::size_t thread_count = 0) const;
    // Unknown ids are skipped, as the reference does.
    [[nodiscard]] std::string decode(std::span<const std::int32_t> ids,
                                     bool skip_special_tokens = true) const;

    void set_truncation(std::optional<TruncationParams> params);  // max_length counts the special tokens, as HF
    [[nodiscard]] const std::optional<TruncationParams>& truncation() const { return truncation_; }
    void set_padding(std::optional<PaddingParams> params);
    [[nodiscard]] const std::optional<PaddingParams>& padding() const { return padding_; }

    [[nodiscard]] std::size_t vocab_size() const;  // including added tokens
    [[nodiscard]] std::optional<std::int32_t> token_to_id(std::string_view token) const;
    [[nodiscard]] std::optional<std::string> id_to_token(std::int32_t id) const;
    [[nodiscard]] std::size_t added_special_token_count(bool pair) const;  // what the post-processor adds

private:
    Encoding encode_impl(std::string_view text, const std::string_view* pair,
                         bool add_special_tokens) const;

    std::shared_ptr<const tokenizers::Pipeline> pipeline_;
    std::optional<TruncationParams> truncation_;
    std::optional<PaddingParams> padding_;
};

}  // namespace tessera
