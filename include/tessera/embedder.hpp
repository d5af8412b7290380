// TextEmbedder and ImageEmbedder — the library's entry points: text or images in, vectors out.
//
//   auto embedder = tessera::TextEmbedder::open("models/bge-small-en-v1.5");
//   tessera::Matrix vectors = embedder->embed(
//       std::vector<std::string>{"what is a tessera?"},
//       tessera::EmbedOptions{.kind = tessera::InputKind::query});
//   std::span<const float> first = vectors.row(0);   // L2-normalised by default
//
// A model is a Hugging Face model directory (config.json, model.safetensors, tokenizer.json and
// the sentence-transformers module configs). Every call that can fail throws tessera::Error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/error.hpp"

namespace tessera {

class Tokenizer;

// A dense row-major float matrix: rows() vectors of cols() floats each.
class Matrix {
public:
    Matrix() = default;
    Matrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols), data_(rows * cols) {}

    [[nodiscard]] std::size_t rows() const { return rows_; }
    [[nodiscard]] std::size_t cols() const { return cols_; }
    [[nodiscard]] std::span<float> row(std::size_t idx) { return {data_.data() + idx * cols_, cols_}; }
    [[nodiscard]] std::span<const float> row(std::size_t idx) const {
        return {data_.data() + idx * cols_, cols_};
    }
    [[nodiscard]] std::vector<float>& data() { return data_; }
    [[nodiscard]] const std::vector<float>& data() const { return data_; }

private:
    std::size_t rows_ = 0;
    std::size_t cols_ = 0;
    std::vector<float> data_;
};

// Which prompt prefix to put before each text.
enum class InputKind { none, query, passage };

// Numeric precision of the model's matrix multiplications, chosen at load.
enum class Precision { fp32, bf16, int8 };

enum class TruncationSide { right, left };

struct EmbedderOptions {
    std::size_t thread_count = 0;               // 0: one per available core
    Precision precision = Precision::fp32;
    std::size_t max_batch_tokens = 16384;       // token budget of one packed batch
    std::optional<std::size_t> max_seq_length;  // overrides the model's limit (never above it)
};

struct EmbedOptions {
    InputKind kind = InputKind::none;
    bool normalize = true;                // L2-normalise the pooled vector
    std::size_t dimensions = 0;           // Matryoshka: keep the first N dims, then renormalise; 0 = all
    std::size_t batch_size = 0;           // 0: pack by the token budget only
    std::optional<std::string> prefix;    // overrides the model's prompt for `kind`
    std::optional<std::string> prompt_name;  // a named prompt of config_sentence_transformers.json
    bool truncate = true;                 // false: an over-long input is an invalid_argument error
    TruncationSide truncation_side = TruncationSide::right;
};

// What `tessera info` prints about a loaded model.
struct ModelInfo {
    std::string model_type;        // config.json model_type: "bert", "xlm-roberta", "nomic_bert", "clip"
    std::string architecture;      // human-readable family, e.g. "BERT encoder"
    std::size_t hidden_dim = 0;
    std::size_t output_dim = 0;    // size of the embedding vectors
    std::size_t layer_count = 0;
    std::size_t head_count = 0;
    std::size_t ffn_dim = 0;
    std::size_t vocab_size = 0;
    std::size_t max_seq_length = 0;  // tokens, special tokens included
    std::string pooling;           // "cls", "mean", "max", "last_token", "eos" (CLIP)
    bool normalize = true;
    std::map<std::string, std::string> prompts;  // name -> prefix text ("query", "passage", ...)
    std::string query_prompt_name;    // which entry of `prompts` InputKind::query uses ("" = none)
    std::string passage_prompt_name;  // which entry InputKind::passage uses ("" = none)
    std::vector<std::string> defaults_used;  // config files that were missing and what was assumed
    std::filesystem::path model_dir;
    std::string precision;         // "fp32", "bf16", "int8"
    std::size_t weight_bytes = 0;
};

// Token ids ready for the model (after prefixing, tokenizing and truncation).
struct TokenizedText {
    std::vector<std::int32_t> ids;
    std::vector<std::int32_t> type_ids;  // empty: all zero
    // Leading tokens that belong to the prompt prefix; pooling skips them when the model's
    // 1_Pooling/config.json says include_prompt: false (0 otherwise).
    std::size_t prompt_token_count = 0;
};

// Per-token outputs of the encoder for one input (the last hidden layer, valid tokens only).
struct TokenStates {
    std::vector<std::int32_t> ids;
    Matrix hidden;  // ids.size() x hidden_dim
};

class TextEmbedder {
public:
    // Loads the model directory. Errors: not_found (missing files), corrupt (damaged files),
    // unsupported (unknown model_type), invalid_argument (bad options).
    static std::unique_ptr<TextEmbedder> open(const std::filesystem::path& model_dir,
                                              const EmbedderOptions& options = {});
    virtual ~TextEmbedder() = default;

    // One vector per text, in input order. Errors: invalid_argument (e.g. too long with
    // truncate=false, invalid UTF-8 in a text, naming its index).
    [[nodiscard]] virtual Matrix embed(std::span<const std::string> texts,
                                       const EmbedOptions& options = {}) = 0;

    // Prefix + tokenize + truncate, without running the model (the server tokenizes on its own
    // threads, then batches across requests with embed_tokenized).
    [[nodiscard]] virtual std::vector<TokenizedText> tokenize(std::span<const std::string> texts,
                                                              const EmbedOptions& options = {}) const = 0;
    // Runs pre-tokenized inputs. Errors: invalid_argument for an id outside the vocabulary or a
    // sequence longer than the model maximum.
    [[nodiscard]] virtual Matrix embed_tokenized(std::span<const TokenizedText> inputs,
                                                 const EmbedOptions& options = {}) = 0;

    // Last-layer hidden states per token (no pooling).
    [[nodiscard]] virtual std::vector<TokenStates> token_states(std::span<const std::string> texts,
                                                                const EmbedOptions& options = {}) = 0;

    [[nodiscard]] virtual const ModelInfo& info() const = 0;
    [[nodiscard]] virtual const Tokenizer& tokenizer() const = 0;
};

// Where an image comes from: a file path, bytes in memory, or an http(s) URL.
struct ImageSource {
    enum class Kind { path, bytes, url };
    Kind kind = Kind::path;
    std::string location;            // path or URL
    std::vector<std::uint8_t> bytes; // for Kind::bytes

    static ImageSource from_path(std::string path) { return {Kind::path, std::move(path), {}}; }
    static ImageSource from_url(std::string url) { return {Kind::url, std::move(url), {}}; }
    static ImageSource from_bytes(std::vector<std::uint8_t> data) {
        return {Kind::bytes, "<bytes>", std::move(data)};
    }
};

struct ImageEmbedderOptions {
    std::size_t thread_count = 0;
    Precision precision = Precision::fp32;
    std::uint64_t max_pixels = 100'000'000;   // refuse larger images before decoding them
    bool allow_urls = true;
    std::size_t max_url_bytes = 50u << 20;
    long url_timeout_ms = 30'000;
};

// The result of embedding a batch of images: vectors for the ones that worked, errors for the rest.
struct ImageBatchResult {
    Matrix embeddings;                         // one row per input; rows of failed items are zero
    std::vector<std::optional<Error>> errors;  // errors[i] set when input i failed
};

// A CLIP-style model: images and texts into one space.
class ImageEmbedder {
public:
    // Errors as TextEmbedder::open; unsupported for a model without a vision tower.
    static std::unique_ptr<ImageEmbedder> open(const std::filesystem::path& model_dir,
                                               const ImageEmbedderOptions& options = {});
    virtual ~ImageEmbedder() = default;

    // Normalised image vectors; a failing image is reported in `errors` with its reason.
    [[nodiscard]] virtual ImageBatchResult embed_images(std::span<const ImageSource> images) = 0;
    // Normalised text vectors in the same space (CLIP text tower).
    [[nodiscard]] virtual Matrix embed_texts(std::span<const std::string> texts) = 0;
    // exp(logit_scale), for zero-shot softmax probabilities.
    [[nodiscard]] virtual float logit_scale() const = 0;
    [[nodiscard]] virtual const ModelInfo& info() const = 0;
    [[nodiscard]] virtual const Tokenizer& tokenizer() const = 0;
};

}  // namespace tessera
