// Model — what every architecture built from a model directory is; TextEncoder — a transformer
// encoder that turns a packed batch of token ids into per-token hidden states.
//
//   auto weights = formats::WeightStore::open_model_dir(dir);
//   auto config = formats::read_model_config(dir / "config.json");
//   std::unique_ptr<models::Model> model = models::build_model(config, weights, {});
//   auto* encoder = dynamic_cast<models::TextEncoder*>(model.get());
//   models::TokenBatch batch;                 // sequences packed back to back, no padding
//   batch.add({101, 7592, 102});
//   std::vector<float> hidden;                // token_count x hidden_dim
//   encoder->encode(batch, {}, hidden, &pool);
//   encoder->encode(batch, first_tokens, hidden, &pool);  // CLS pooling: sequence_count x hidden_dim
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.hpp"
#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"
#include "kernels/attention.hpp"
#include "kernels/linear.hpp"
#include "tessera/embedder.hpp"  // Precision

namespace tessera::models {

struct ModelLoadOptions {
    Precision precision = Precision::fp32;
    // Packs the layers' weights in parallel when set (the embedder passes its own pool).
    core::ThreadPool* pool = nullptr;
};

// Builds layers [0, count) with make_layer(layer_idx), across the pool when there is one:
// repacking weights is most of a model's load time, and the layers are independent. A bad
// model reports the error of its first bad layer, as a serial build would, whichever thread
// found one first.
template <typename Layer, typename MakeLayer>
std::vector<Layer> build_layers(std::size_t count, core::ThreadPool* pool, const MakeLayer& make_layer) {
    std::vector<Layer> layers(count);
    std::vector<std::exception_ptr> errors(count);
    auto build = [&](std::size_t begin, std::size_t end) {
        for (std::size_t layer_idx = begin; layer_idx < end; ++layer_idx) {
            try {
                layers[layer_idx] = make_layer(layer_idx);
            } catch (...) {
                errors[layer_idx] = std::current_exception();
                return;  // the layers after it in this chunk cannot report an earlier error
            }
        }
    };
    if (pool != nullptr) pool->parallel_for(count, build);
    else build(0, count);
    for (const auto& error : errors) {
        if (error) std::rethrow_exception(error);
    }
    return layers;
}

// Sum of Linear::packed_bytes() over the layers' Linear members (`linears(layer)` lists them):
// what TextEncoder::layer_weight_bytes reports.
template <typename Layer, typename Linears>
std::size_t sum_packed_bytes(const std::vector<Layer>& layers, Linears linears) {
    std::size_t bytes = 0;
    for (const Layer& layer : layers) {
        for (const kernels::Linear* linear : linears(layer)) bytes += linear->packed_bytes();
    }
    return bytes;
}

class Model {
public:
    virtual ~Model() = default;
    [[nodiscard]] virtual std::string model_type() const = 0;    // config.json model_type
    [[nodiscard]] virtual std::string architecture() const = 0;  // "BERT encoder", ...
};

// Sequences packed back to back: sequence s owns rows [sequences[s].first_row, + length).
struct TokenBatch {
    std::vector<std::int32_t> ids;
    std::vector<std::int32_t> type_ids;  // same length as ids
    std::vector<kernels::SequenceSpan> sequences;

    void add(std::span<const std::int32_t> sequence_ids, std::span<const std::int32_t> sequence_type_ids = {});
    [[nodiscard]] std::size_t token_count() const { return ids.size(); }
};

// Row positions[s] of each sequence s of a packed [rows x dim] matrix, in sequence order: the
// residual rows of a last layer that runs only the rows its caller reads (kernels::attention's
// query_positions).
[[nodiscard]] std::vector<float> rows_at_positions(const float* rows, std::size_t dim,
                                                   std::span<const kernels::SequenceSpan> sequences,
                                                   std::span<const std::size_t> positions);

// The query positions layer `layer_idx` of `layer_count` computes attention for: every token
// (empty) before the last layer; the rows the caller reads in the last, because past its
// attention a layer is per row (TextEncoder::encode's output_positions).
[[nodiscard]] inline std::span<const std::size_t> last_layer_queries(std::size_t layer_idx, std::size_t layer_count,
                                                                     std::span<const std::size_t> output_positions) {
    return layer_idx + 1 == layer_count ? output_positions : std::span<const std::size_t>{};
}

// Each sequence's first token (CLS pooling, CLIP's class token) or last (last-token pooling).
[[nodiscard]] std::vector<std::size_t> first_token_positions(std::span<const kernels::SequenceSpan> sequences);
[[nodiscard]] std::vector<std::size_t> last_token_positions(std::span<const kernels::SequenceSpan> sequences);

class TextEncoder : public Model {
public:
    [[nodiscard]] virtual std::size_t hidden_dim() const = 0;
    [[nodiscard]] virtual std::size_t layer_count() const = 0;
    [[nodiscard]] virtual std::size_t head_count() const = 0;
    [[nodiscard]] virtual std::size_t ffn_dim() const = 0;
    [[nodiscard]] virtual std::size_t vocab_size() const = 0;
    [[nodiscard]] virtual std::size_t type_vocab_size() const = 0;
    // Longest sequence the weights can run (special tokens included).
    [[nodiscard]] virtual std::size_t max_tokens() const = 0;

    // Last-layer hidden states, row-major. `output_positions` empty: every token's,
    // [token_count x hidden_dim]. Otherwise one position per sequence (first_token_positions for
    // CLS pooling): only those rows, [sequence_count x hidden_dim] in sequence order, and the last
    // layer runs only them past its attention (the rest of a layer is per row), which skips ~3/4
    // of its work; the rows are the ones a full pass gives. Safe to call from several threads at
    // once. Errors: invalid_argument (id or type id out of range, a sequence longer than
    // max_tokens, an empty sequence, a position outside its sequence).
    virtual void encode(const TokenBatch& batch, std::span<const std::size_t> output_positions,
                        std::vector<float>& hidden, core::ThreadPool* pool) const = 0;
    // Bytes of packed layer weights one forward pass reads (sequence_chunks.hpp: whether a batch
    // may run as chunks, each of which reads them all again).
    [[nodiscard]] virtual std::size_t layer_weight_bytes() const = 0;

protected:
    void check_batch(const TokenBatch& batch, std::span<const std::size_t> output_positions) const;
};

// A TextEncoder whose shape comes from config.json (BERT family, NomicBERT): the accessors are
// answered from the parsed EncoderConfig once, here, instead of in every architecture.
class ConfiguredTextEncoder : public TextEncoder {
public:
    [[nodiscard]] std::string model_type() const override { return config_.model_type; }
    [[nodiscard]] std::size_t hidden_dim() const override { return config_.hidden_dim; }
    [[nodiscard]] std::size_t layer_count() const override { return config_.layer_count; }
    [[nodiscard]] std::size_t head_count() const override { return config_.head_count; }
    [[nodiscard]] std::size_t ffn_dim() const override { return config_.ffn_dim; }
    [[nodiscard]] std::size_t vocab_size() const override { return config_.vocab_size; }
    [[nodiscard]] std::size_t type_vocab_size() const override { return config_.type_vocab_size; }
    [[nodiscard]] std::size_t max_tokens() const override { return config_.max_tokens; }

protected:
    explicit ConfiguredTextEncoder(formats::EncoderConfig config) : config_(std::move(config)) {}

    formats::EncoderConfig config_;
};

// Looks up weights by their Hugging Face names, trying the bare name first and then the prefix
// of task-head checkpoints ("bert.", "roberta.", ...), as TEI does.
class WeightReader {
public:
    WeightReader(std::shared_ptr<const formats::WeightStore> store, std::string_view probe_name);

    [[nodiscard]] bool contains(const std::string& name) const;
    // Errors: not_found (missing tensor), corrupt (shape or dtype mismatch).
    [[nodiscard]] std::span<const float> floats(const std::string& name, std::vector<std::size_t> shape) const;
    // nullptr when the tensor is absent (optional biases); shape still checked when present.
    [[nodiscard]] const float* optional(const std::string& name, std::vector<std::size_t> shape) const;
    // The tensor has been packed (kernels::Linear copies its weights): drop its memory
    // (formats::WeightStore::release). Peak RSS is then the packed weights, not both copies.
    void release(const std::string& name) const;
    [[nodiscard]] const std::string& prefix() const { return prefix_; }
    [[nodiscard]] const formats::WeightStore& store() const { return *store_; }

private:
    std::shared_ptr<const formats::WeightStore> store_;
    std::string prefix_;
};

}  // namespace tessera::models
