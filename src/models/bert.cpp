// The BERT encoder family: BERT, MiniLM, BGE, E5, GTE (model_type "bert") and RoBERTa,
// XLM-RoBERTa, CamemBERT (same weights and math, positions offset by pad_token_id + 1).
//
// Post-norm transformer as in transformers' BertModel:
//   x = LN(word[id] + position[p] + type[t])
//   per layer: a = LN(x + O(MHA(x))),  x = LN(a + W2 act(W1 a))
// q, k and v are fused into one [3H, H] GEMM; attention runs on the packed batch, so padding is
// never computed and a sequence's result does not depend on its batch-mates.
#include <array>
#include <cstring>

#include "kernels/feed_forward.hpp"
#include "kernels/ops.hpp"
#include "models/registry.hpp"
#include "tessera/error.hpp"

namespace tessera::models {

namespace {

kernels::Activation activation_for(const std::string& hidden_act) {
    if (hidden_act == "gelu") return kernels::Activation::gelu_erf;
    if (hidden_act == "gelu_new" || hidden_act == "gelu_pytorch_tanh" || hidden_act == "gelu_fast") {
        return kernels::Activation::gelu_tanh;
    }
    if (hidden_act == "relu") return kernels::Activation::relu;
    if (hidden_act == "quick_gelu") return kernels::Activation::quick_gelu;
    if (hidden_act == "silu") return kernels::Activation::silu;
    if (hidden_act == "tanh") return kernels::Activation::tanh;
    throw Error(ErrorCode::unsupported, "hidden_act: '" + hidden_act + "' is not supported");
}

// Concatenates q, k, v weights (each [H, H]) and biases into one [3H, H] projection.
kernels::Linear fused_qkv(const WeightReader& weights, const std::string& layer, std::size_t hidden_dim,
                          Precision precision) {
    std::vector<float> weight(3 * hidden_dim * hidden_dim);
    std::vector<float> bias(3 * hidden_dim, 0.0f);
    const char* parts[] = {"query", "key", "value"};
    for (std::size_t part_idx = 0; part_idx < 3; ++part_idx) {
        const std::string base = layer + "attention.self." + parts[part_idx];
        const auto w = weights.floats(base + ".weight", {hidden_dim, hidden_dim});
        std::memcpy(weight.data() + part_idx * hidden_dim * hidden_dim, w.data(), w.size() * sizeof(float));
        weights.release(base + ".weight");
        if (const float* b = weights.optional(base + ".bias", {hidden_dim})) {
            std::memcpy(bias.data() + part_idx * hidden_dim, b, hidden_dim * sizeof(float));
        }
    }
    return kernels::Linear::create(weight.data(), bias.data(), 3 * hidden_dim, hidden_dim, precision);
}

kernels::Linear linear(const WeightReader& weights, const std::string& name, std::size_t out_dim,
                       std::size_t in_dim, Precision precision) {
    const auto w = weights.floats(name + ".weight", {out_dim, in_dim});
    const float* b = weights.optional(name + ".bias", {out_dim});
    auto packed = kernels::Linear::create(w.data(), b, out_dim, in_dim, precision);
    weights.release(name + ".weight");
    return packed;
}

struct LayerNormParams {
    const float* gamma = nullptr;
    const float* beta = nullptr;
};

// Very old BERT checkpoints call LayerNorm parameters gamma/beta.
LayerNormParams layer_norm_params(const WeightReader& weights, const std::string& name, std::size_t dim) {
    if (!weights.contains(name + ".weight") && weights.contains(name + ".gamma")) {
        return {weights.floats(name + ".gamma", {dim}).data(), weights.floats(name + ".beta", {dim}).data()};
    }
    return {weights.floats(name + ".weight", {dim}).data(), weights.floats(name + ".bias", {dim}).data()};
}

class BertEncoder final : public ConfiguredTextEncoder {
public:
    BertEncoder(const formats::ModelConfig& config, std::shared_ptr<const formats::WeightStore> store,
                const ModelLoadOptions& options)
        : ConfiguredTextEncoder(formats::parse_encoder_config(config)),
          weights_(std::move(store), "embeddings.word_embeddings.weight"),
          activation_(activation_for(config_.hidden_act)),
          precision_(options.precision) {
        const std::size_t hidden = config_.hidden_dim;
        const std::size_t ffn = config_.ffn_dim;
        word_embeddings_ = weights_.floats("embeddings.word_embeddings.weight", {config_.vocab_size, hidden}).data();
        position_embeddings_ =
            weights_.floats("embeddings.position_embeddings.weight", {config_.max_position_embeddings, hidden}).data();
        if (config_.type_vocab_size > 0) {
            type_embeddings_ =
                weights_.floats("embeddings.token_type_embeddings.weight", {config_.type_vocab_size, hidden}).data();
        }
        embedding_norm_ = layer_norm_params(weights_, "embeddings.LayerNorm", hidden);
        layers_ = build_layers<Layer>(config_.layer_count, options.pool, [&](std::size_t layer_idx) {
            const std::string name = "encoder.layer." + std::to_string(layer_idx) + ".";
            Layer layer;
            layer.qkv = fused_qkv(weights_, name, hidden, options.precision);
            layer.attention_out = linear(weights_, name + "attention.output.dense", hidden, hidden, options.precision);
            layer.attention_norm = layer_norm_params(weights_, name + "attention.output.LayerNorm", hidden);
            layer.ffn_up = linear(weights_, name + "intermediate.dense", ffn, hidden, options.precision);
            layer.ffn_down = linear(weights_, name + "output.dense", hidden, ffn, options.precision);
            layer.output_norm = layer_norm_params(weights_, name + "output.LayerNorm", hidden);
            return layer;
        });
    }

    std::string architecture() const override {
        return config_.position_offset > 0 ? "RoBERTa-style encoder" : "BERT encoder";
    }

    std::size_t layer_weight_bytes() const override {
        return sum_packed_bytes(layers_, [](const Layer& layer) {
            return std::array{&layer.qkv, &layer.attention_out, &layer.ffn_up, &layer.ffn_down};
        });
    }

    void encode(const TokenBatch& batch, std::span<const std::size_t> output_positions, std::vector<float>& hidden,
                core::ThreadPool* pool) const override {
        check_batch(batch, output_positions);
        const std::size_t hidden_dim = config_.hidden_dim;
        const std::size_t token_count = batch.token_count();
        hidden.assign(token_count * hidden_dim, 0.0f);
        embed(batch, hidden.data());
        layer_norm(hidden.data(), nullptr, token_count, embedding_norm_, hidden.data(), pool);

        std::vector<float> qkv(token_count * 3 * hidden_dim);
        std::vector<float> context(token_count * hidden_dim);
        std::vector<float> projected(token_count * hidden_dim);
        const kernels::AttentionShape shape{.head_count = config_.head_count,
                                            .head_dim = hidden_dim / config_.head_count,
                                            .precision = precision_};
        std::size_t rows = token_count;
        for (std::size_t layer_idx = 0; layer_idx < layers_.size(); ++layer_idx) {
            const Layer& layer = layers_[layer_idx];
            const auto queries = last_layer_queries(layer_idx, layers_.size(), output_positions);
            layer.qkv.forward(hidden.data(), rows, qkv.data(), kernels::Activation::none, pool);
            kernels::attention(qkv.data(), qkv.data() + hidden_dim, qkv.data() + 2 * hidden_dim, 3 * hidden_dim,
                               batch.sequences, shape, context.data(), hidden_dim, pool, queries);
            if (!queries.empty()) hidden = rows_at_positions(hidden.data(), hidden_dim, batch.sequences, queries);
            rows = hidden.size() / hidden_dim;
            layer.attention_out.forward(context.data(), rows, projected.data(), kernels::Activation::none, pool);
            layer_norm(projected.data(), hidden.data(), rows, layer.attention_norm, hidden.data(), pool);
            kernels::feed_forward(layer.ffn_up, activation_, layer.ffn_down, hidden.data(), rows, projected.data(), pool);
            layer_norm(projected.data(), hidden.data(), rows, layer.output_norm, hidden.data(), pool);
        }
    }

private:
    struct Layer {
        kernels::Linear qkv;
        kernels::Linear attention_out;
        LayerNormParams attention_norm;
        kernels::Linear ffn_up;
        kernels::Linear ffn_down;
        LayerNormParams output_norm;
    };

    void layer_norm(const float* x, const float* residual, std::size_t rows, const LayerNormParams& params,
                    float* out, core::ThreadPool* pool) const {
        kernels::layer_norm(x, residual, rows, config_.hidden_dim, params.gamma, params.beta,
                            static_cast<float>(config_.layer_norm_eps), out, pool);
    }

    void embed(const TokenBatch& batch, float* out) const {
        const std::size_t hidden_dim = config_.hidden_dim;
        const auto pad_id = static_cast<std::int32_t>(config_.pad_token_id);
        for (const auto& sequence : batch.sequences) {
            // RoBERTa's create_position_ids_from_input_ids: pad tokens keep position pad_id, the
            // others count up from pad_id + 1. BERT: 0, 1, 2, ...
            std::size_t counted = 0;
            for (std::size_t offset = 0; offset < sequence.length; ++offset) {
                const std::size_t row = sequence.first_row + offset;
                const auto id = batch.ids[row];
                std::size_t position = offset;
                if (config_.position_offset > 0) {
                    position = id == pad_id ? static_cast<std::size_t>(pad_id) : config_.position_offset + counted++;
                }
                const float* word = word_embeddings_ + static_cast<std::size_t>(id) * hidden_dim;
                const float* pos = position_embeddings_ + position * hidden_dim;
                float* dst = out + row * hidden_dim;
                for (std::size_t dim = 0; dim < hidden_dim; ++dim) dst[dim] = word[dim] + pos[dim];
                if (type_embeddings_ != nullptr) {
                    const float* type = type_embeddings_ + static_cast<std::size_t>(batch.type_ids[row]) * hidden_dim;
                    for (std::size_t dim = 0; dim < hidden_dim; ++dim) dst[dim] += type[dim];
                }
            }
        }
    }

    WeightReader weights_;
    kernels::Activation activation_;
    Precision precision_;
    const float* word_embeddings_ = nullptr;
    const float* position_embeddings_ = nullptr;
    const float* type_embeddings_ = nullptr;
    LayerNormParams embedding_norm_;
    std::vector<Layer> layers_;
};

}  // namespace

std::unique_ptr<Model> build_bert(const formats::ModelConfig& config, std::shared_ptr<const formats::WeightStore> weights,
                                  const ModelLoadOptions& options) {
    return std::make_unique<BertEncoder>(config, std::move(weights), options);
}

}  // namespace tessera::models
