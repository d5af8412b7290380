// NomicBERT (model_type "nomic_bert", nomic-embed-text-v1/v1.5): a post-norm BERT with rotary
// positions instead of a position table, a fused Wqkv projection and a SwiGLU feed-forward.
//
//   x = emb_ln(word[id] + type[t])
//   per layer: q,k,v = Wqkv x; rotate q,k (RoPE, non-interleaved "rotate half", base
//   rotary_emb_base); h = norm1(x + out_proj(MHA(q,k,v))); x = norm2(h + fc2(fc11(h) * silu(fc12(h))))
// as in nomic-ai's modeling_hf_nomic_bert.py. fc11 and fc12 share one [2I, H] GEMM.
#include <cmath>
#include <array>
#include <cstring>

#include "kernels/ops.hpp"
#include "models/registry.hpp"
#include "tessera/error.hpp"

namespace tessera::models {

namespace {

struct NormParams {
    const float* gamma = nullptr;
    const float* beta = nullptr;
};

class NomicBertEncoder final : public ConfiguredTextEncoder {
public:
    NomicBertEncoder(const formats::ModelConfig& config, std::shared_ptr<const formats::WeightStore> store,
                     const ModelLoadOptions& options)
        : ConfiguredTextEncoder(formats::parse_encoder_config(config)),
          weights_(std::move(store), "embeddings.word_embeddings.weight"),
          precision_(options.precision) {
        const std::size_t hidden = config_.hidden_dim;
        const std::size_t ffn = config_.ffn_dim;
        head_dim_ = hidden / config_.head_count;
        rotary_dim_ = static_cast<std::size_t>(config_.rotary_fraction * static_cast<double>(head_dim_));
        word_embeddings_ = weights_.floats("embeddings.word_embeddings.weight", {config_.vocab_size, hidden}).data();
        if (config_.type_vocab_size > 0) {
            type_embeddings_ =
                weights_.floats("embeddings.token_type_embeddings.weight", {config_.type_vocab_size, hidden}).data();
        }
        embedding_norm_ = norm("emb_ln", hidden);
        layers_ = build_layers<Layer>(config_.layer_count, options.pool, [&](std::size_t layer_idx) {
            const std::string name = "encoder.layers." + std::to_string(layer_idx) + ".";
            Layer layer;
            layer.qkv = linear(name + "attn.Wqkv", 3 * hidden, hidden, options.precision);
            layer.out_proj = linear(name + "attn.out_proj", hidden, hidden, options.precision);
            layer.norm1 = norm(name + "norm1", hidden);
            // fc11 (value) and fc12 (gate) stacked into one [2I, H] projection.
            std::vector<float> up_gate(2 * ffn * hidden);
            std::vector<float> up_gate_bias(2 * ffn, 0.0f);
            const auto fc11 = weights_.floats(name + "mlp.fc11.weight", {ffn, hidden});
            const auto fc12 = weights_.floats(name + "mlp.fc12.weight", {ffn, hidden});
            std::memcpy(up_gate.data(), fc11.data(), fc11.size() * sizeof(float));
            std::memcpy(up_gate.data() + ffn * hidden, fc12.data(), fc12.size() * sizeof(float));
            weights_.release(name + "mlp.fc11.weight");
            weights_.release(name + "mlp.fc12.weight");
            if (const float* bias = weights_.optional(name + "mlp.fc11.bias", {ffn})) {
                std::memcpy(up_gate_bias.data(), bias, ffn * sizeof(float));
            }
            if (const float* bias = weights_.optional(name + "mlp.fc12.bias", {ffn})) {
                std::memcpy(up_gate_bias.data() + ffn, bias, ffn * sizeof(float));
            }
            layer.up_gate = kernels::Linear::create(up_gate.data(), up_gate_bias.data(), 2 * ffn, hidden, options.precision);
            layer.fc2 = linear(name + "mlp.fc2", hidden, ffn, options.precision);
            layer.norm2 = norm(name + "norm2", hidden);
            return layer;
        });
        inverse_frequencies_.resize(rotary_dim_ / 2);
        for (std::size_t freq_idx = 0; freq_idx < rotary_dim_ / 2; ++freq_idx) {
            inverse_frequencies_[freq_idx] =
                1.0 / std::pow(config_.rotary_base, static_cast<double>(2 * freq_idx) / static_cast<double>(rotary_dim_));
        }
    }

    std::string architecture() const override { return "NomicBERT encoder (rotary, SwiGLU)"; }

    std::size_t layer_weight_bytes() const override {
        return sum_packed_bytes(layers_, [](const Layer& layer) {
            return std::array{&layer.qkv, &layer.out_proj, &layer.up_gate, &layer.fc2};
        });
    }

    void encode(const TokenBatch& batch, std::span<const std::size_t> output_positions, std::vector<float>& hidden,
                core::ThreadPool* pool) const override {
        check_batch(batch, output_positions);
        const std::size_t hidden_dim = config_.hidden_dim;
        const std::size_t ffn = config_.ffn_dim;
        const std::size_t token_count = batch.token_count();
        hidden.assign(token_count * hidden_dim, 0.0f);
        for (std::size_t row = 0; row < token_count; ++row) {
            const float* word = word_embeddings_ + static_cast<std::size_t>(batch.ids[row]) * hidden_dim;
            float* dst = hidden.data() + row * hidden_dim;
            std::memcpy(dst, word, hidden_dim * sizeof(float));
            if (type_embeddings_ != nullptr) {
                const float* type = type_embeddings_ + static_cast<std::size_t>(batch.type_ids[row]) * hidden_dim;
                for (std::size_t dim = 0; dim < hidden_dim; ++dim) dst[dim] += type[dim];
            }
        }
        layer_norm(hidden.data(), nullptr, token_count, embedding_norm_, hidden.data(), pool);

        std::size_t longest = 0;
        for (const auto& sequence : batch.sequences) longest = std::max(longest, sequence.length);
        const auto [cos_table, sin_table] = rotary_tables(longest);

        std::vector<float> qkv(token_count * 3 * hidden_dim);
        std::vector<float> context(token_count * hidden_dim);
        std::vector<float> projected(token_count * hidden_dim);
        std::vector<float> up_gate(token_count * 2 * ffn);
        std::vector<float> gated(token_count * ffn);
        const kernels::AttentionShape shape{.head_count = config_.head_count, .head_dim = head_dim_, .precision = precision_};
        std::size_t rows = token_count;
        for (std::size_t layer_idx = 0; layer_idx < layers_.size(); ++layer_idx) {
            const Layer& layer = layers_[layer_idx];
            const auto queries = last_layer_queries(layer_idx, layers_.size(), output_positions);
            layer.qkv.forward(hidden.data(), rows, qkv.data(), kernels::Activation::none, pool);
            apply_rotary(batch, cos_table, sin_table, qkv.data());
            kernels::attention(qkv.data(), qkv.data() + hidden_dim, qkv.data() + 2 * hidden_dim, 3 * hidden_dim,
                               batch.sequences, shape, context.data(), hidden_dim, pool, queries);
            if (!queries.empty()) hidden = rows_at_positions(hidden.data(), hidden_dim, batch.sequences, queries);
            rows = hidden.size() / hidden_dim;
            layer.out_proj.forward(context.data(), rows, projected.data(), kernels::Activation::none, pool);
            layer_norm(projected.data(), hidden.data(), rows, layer.norm1, hidden.data(), pool);
            layer.up_gate.forward(hidden.data(), rows, up_gate.data(), kernels::Activation::none, pool);
            kernels::swiglu(up_gate.data(), 2 * ffn, up_gate.data() + ffn, 2 * ffn, rows, ffn, gated.data(), ffn);
            layer.fc2.forward(gated.data(), rows, projected.data(), kernels::Activation::none, pool);
            layer_norm(projected.data(), hidden.data(), rows, layer.norm2, hidden.data(), pool);
        }
    }

private:
    struct Layer {
        kernels::Linear qkv;
        kernels::Linear out_proj;
        NormParams norm1;
        kernels::Linear up_gate;
        kernels::Linear fc2;
        NormParams norm2;
    };

    kernels::Linear linear(const std::string& name, std::size_t out_dim, std::size_t in_dim, Precision precision) const {
        const auto w = weights_.floats(name + ".weight", {out_dim, in_dim});
        const float* b = weights_.optional(name + ".bias", {out_dim});
        auto packed = kernels::Linear::create(w.data(), b, out_dim, in_dim, precision);
        weights_.release(name + ".weight");
        return packed;
    }

    NormParams norm(const std::string& name, std::size_t dim) const {
        return {weights_.floats(name + ".weight", {dim}).data(), weights_.floats(name + ".bias", {dim}).data()};
    }

    void layer_norm(const float* x, const float* residual, std::size_t rows, const NormParams& params, float* out,
                    core::ThreadPool* pool) const {
        kernels::layer_norm(x, residual, rows, config_.hidden_dim, params.gamma, params.beta,
                            static_cast<float>(config_.layer_norm_eps), out, pool);
    }

    // cos/sin of position * inv_freq for positions [0, length), [length x rotary_dim/2].
    std::pair<std::vector<float>, std::vector<float>> rotary_tables(std::size_t length) const {
        const std::size_t half = rotary_dim_ / 2;
        std::vector<float> cos_table(length * half);
        std::vector<float> sin_table(length * half);
        for (std::size_t position = 0; position < length; ++position) {
            for (std::size_t freq_idx = 0; freq_idx < half; ++freq_idx) {
                const double angle = static_cast<double>(position) * inverse_frequencies_[freq_idx];
                cos_table[position * half + freq_idx] = static_cast<float>(std::cos(angle));
                sin_table[position * half + freq_idx] = static_cast<float>(std::sin(angle));
            }
        }
        return {std::move(cos_table), std::move(sin_table)};
    }

    // Rotates the first rotary_dim values of every q and k head in place (positions restart at
    // 0 in each sequence): [x1, x2] -> [x1 cos - x2 sin, x2 cos + x1 sin].
    void apply_rotary(const TokenBatch& batch, const std::vector<float>& cos_table, const std::vector<float>& sin_table,
                      float* qkv) const {
        const std::size_t hidden_dim = config_.hidden_dim;
        const std::size_t half = rotary_dim_ / 2;
        for (const auto& sequence : batch.sequences) {
            for (std::size_t position = 0; position < sequence.length; ++position) {
                float* row = qkv + (sequence.first_row + position) * 3 * hidden_dim;
                const float* cos_row = cos_table.data() + position * half;
                const float* sin_row = sin_table.data() + position * half;
                for (std::size_t head_idx = 0; head_idx < 2 * config_.head_count; ++head_idx) {
                    float* head = row + head_idx * head_dim_;  // q heads, then k heads
                    for (std::size_t freq_idx = 0; freq_idx < half; ++freq_idx) {
                        const float x1 = head[freq_idx];
                        const float x2 = head[freq_idx + half];
                        head[freq_idx] = x1 * cos_row[freq_idx] - x2 * sin_row[freq_idx];
                        head[freq_idx + half] = x2 * cos_row[freq_idx] + x1 * sin_row[freq_idx];
                    }
                }
            }
        }
    }

    WeightReader weights_;
    Precision precision_;
    std::size_t head_dim_ = 0;
    std::size_t rotary_dim_ = 0;
    std::vector<double> inverse_frequencies_;
    const float* word_embeddings_ = nullptr;
    const float* type_embeddings_ = nullptr;
    NormParams embedding_norm_;
    std::vector<Layer> layers_;
};

}  // namespace

std::unique_ptr<Model> build_nomic_bert(const formats::ModelConfig& config,
                                        std::shared_ptr<const formats::WeightStore> weights,
                                        const ModelLoadOptions& options) {
    return std::make_unique<NomicBertEncoder>(config, std::move(weights), options);
}

}  // namespace tessera::models
