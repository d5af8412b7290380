// CLIP's two towers as transformers' modeling_clip.py defines them (pre-norm encoder layers):
//   x += out_proj(MHA(ln1(x)));  x += fc2(act(fc1(ln2(x))))       act = quick_gelu (or gelu)
// Text: token + position embeddings, causal attention, final_layer_norm, pooled at the
// end-of-text token (argmax(ids) for configs with eos_token_id 2, else the first eos id),
// text_projection. Vision: patch convolution (stride = kernel = patch, no bias) computed as one
// GEMM over flattened [C, P, P] patches, class token prepended, + positions, pre_layrnorm,
// encoder, post_layernorm of the class token, visual_projection. logit_scale is read from its
// tensor: config.json keeps only the *initial* value (2.6592), the trained one is ln(100).
#include "models/clip.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "kernels/attention.hpp"
#include "kernels/feed_forward.hpp"
#include "kernels/ops.hpp"
#include "models/registry.hpp"
#include "models/sequence_chunks.hpp"
#include "tessera/error.hpp"

namespace tessera::models {

namespace {

using Json = nlohmann::json;

kernels::Activation clip_activation(const std::string& hidden_act, const std::filesystem::path& path) {
    if (hidden_act == "quick_gelu") return kernels::Activation::quick_gelu;
    if (hidden_act == "gelu") return kernels::Activation::gelu_erf;
    if (hidden_act == "gelu_new" || hidden_act == "gelu_pytorch_tanh") return kernels::Activation::gelu_tanh;
    if (hidden_act == "relu") return kernels::Activation::relu;
    throw Error(ErrorCode::unsupported, path.string() + ": hidden_act: '" + hidden_act + "' is not supported");
}

void read_tower(const Json& raw, const std::filesystem::path& path, const std::string& prefix, ClipTowerConfig& tower,
                std::size_t hidden, std::size_t ffn, std::size_t layers, std::size_t heads) {
    tower.hidden_dim = formats::optional_size(raw, "hidden_size", hidden, path, prefix);
    tower.ffn_dim = formats::optional_size(raw, "intermediate_size", ffn, path, prefix);
    tower.layer_count = formats::optional_size(raw, "num_hidden_layers", layers, path, prefix);
    tower.head_count = formats::optional_size(raw, "num_attention_heads", heads, path, prefix);
    if (raw.contains("layer_norm_eps") && raw["layer_norm_eps"].is_number()) tower.layer_norm_eps = raw["layer_norm_eps"].get<double>();
    if (raw.contains("hidden_act") && raw["hidden_act"].is_string()) tower.hidden_act = raw["hidden_act"].get<std::string>();
    if (tower.hidden_dim == 0 || tower.ffn_dim == 0 || tower.head_count == 0 || tower.layer_count == 0) {
        throw Error(ErrorCode::corrupt, path.string() + ": " + prefix +
                                            "hidden_size/intermediate_size/num_attention_heads/num_hidden_layers must be positive");
    }
    if (tower.hidden_dim % tower.head_count != 0) {
        throw Error(ErrorCode::corrupt, path.string() + ": " + prefix + "num_attention_heads: " + std::to_string(tower.head_count) +
                                            " heads do not divide hidden size " + std::to_string(tower.hidden_dim));
    }
}

ClipTextConfig parse_text(const Json& raw, const std::filesystem::path& path, const std::string& prefix) {
    ClipTextConfig text;
    read_tower(raw, path, prefix, text, 512, 2048, 12, 8);
    text.vocab_size = formats::optional_size(raw, "vocab_size", 49408, path, prefix);
    text.max_positions = formats::optional_size(raw, "max_position_embeddings", 77, path, prefix);
    if (raw.contains("eos_token_id") && raw["eos_token_id"].is_number_integer()) text.eos_token_id = raw["eos_token_id"].get<std::int64_t>();
    return text;
}

ClipVisionConfig parse_vision(const Json& raw, const std::filesystem::path& path, const std::string& prefix) {
    ClipVisionConfig vision;
    read_tower(raw, path, prefix, vision, 768, 3072, 12, 12);
    vision.image_size = formats::optional_size(raw, "image_size", 224, path, prefix);
    vision.patch_size = formats::optional_size(raw, "patch_size", 32, path, prefix);
    vision.channel_count = formats::optional_size(raw, "num_channels", 3, path, prefix);
    if (vision.patch_size == 0 || vision.image_size % vision.patch_size != 0) {
        throw Error(ErrorCode::corrupt, path.string() + ": " + prefix + "patch_size: " + std::to_string(vision.patch_size) +
                                            " does not divide image_size " + std::to_string(vision.image_size));
    }
    return vision;
}

struct Norm {
    const float* gamma = nullptr;
    const float* beta = nullptr;
};

Norm read_norm(const WeightReader& weights, const std::string& name, std::size_t dim) {
    return {weights.floats(name + ".weight", {dim}).data(), weights.floats(name + ".bias", {dim}).data()};
}

kernels::Linear read_linear(const WeightReader& weights, const std::string& name, std::size_t out_dim, std::size_t in_dim,
                            Precision precision) {
    const auto w = weights.floats(name + ".weight", {out_dim, in_dim});
    const float* b = weights.optional(name + ".bias", {out_dim});
    auto packed = kernels::Linear::create(w.data(), b, out_dim, in_dim, precision);
    weights.release(name + ".weight");
    return packed;
}

}  // namespace

// The encoder shared by both towers.
struct ClipModel::Tower {
    struct Layer {
        Norm norm1;
        kernels::Linear qkv;
        kernels::Linear out_proj;
        Norm norm2;
        kernels::Linear fc1;
        kernels::Linear fc2;
    };

    ClipTowerConfig config;
    kernels::Activation activation = kernels::Activation::quick_gelu;
    Precision precision = Precision::fp32;
    std::vector<Layer> layers;

    Tower(const WeightReader& weights, const std::string& prefix, const ClipTowerConfig& tower_config,
          const std::filesystem::path& config_path, const ModelLoadOptions& options)
        : config(tower_config),
          activation(clip_activation(tower_config.hidden_act, config_path)),
          precision(options.precision) {
        const std::size_t hidden = config.hidden_dim;
        layers = build_layers<Layer>(config.layer_count, options.pool, [&](std::size_t layer_idx) {
            const std::string name = prefix + "encoder.layers." + std::to_string(layer_idx) + ".";
            Layer layer;
            layer.norm1 = read_norm(weights, name + "layer_norm1", hidden);
            std::vector<float> qkv_weight(3 * hidden * hidden);
            std::vector<float> qkv_bias(3 * hidden, 0.0F);
            const char* parts[] = {"q_proj", "k_proj", "v_proj"};
            for (std::size_t part_idx = 0; part_idx < 3; ++part_idx) {
                const std::string base = name + "self_attn." + parts[part_idx];
                const auto w = weights.floats(base + ".weight", {hidden, hidden});
                std::memcpy(qkv_weight.data() + part_idx * hidden * hidden, w.data(), w.size() * sizeof(float));
                weights.release(base + ".weight");
                if (const float* b = weights.optional(base + ".bias", {hidden})) {
                    std::memcpy(qkv_bias.data() + part_idx * hidden, b, hidden * sizeof(float));
                }
            }
            layer.qkv = kernels::Linear::create(qkv_weight.data(), qkv_bias.data(), 3 * hidden, hidden, precision);
            layer.out_proj = read_linear(weights, name + "self_attn.out_proj", hidden, hidden, precision);
            layer.norm2 = read_norm(weights, name + "layer_norm2", hidden);
            layer.fc1 = read_linear(weights, name + "mlp.fc1", config.ffn_dim, hidden, precision);
            layer.fc2 = read_linear(weights, name + "mlp.fc2", hidden, config.ffn_dim, precision);
            return layer;
        });
    }

    void layer_norm(const float* x, std::size_t rows, const Norm& norm, float* out, core::ThreadPool* pool) const {
        kernels::layer_norm(x, nullptr, rows, config.hidden_dim, norm.gamma, norm.beta,
                            static_cast<float>(config.layer_norm_eps), out, pool);
    }

    // Runs the layers over `hidden` (rows x H) in place: whole with every kernel split over the pool's
    // threads, or, for enough sequences (a batch of images), in chunks of whole sequences, one
    // per core (models/sequence_chunks.hpp). `sequences` are back to back in row order.
    // With `output_positions` (one per sequence) hidden ends as those rows only, sequence_count x H
    // (TextEncoder::encode's output_positions).
    void run(std::vector<float>& hidden, std::span<const kernels::SequenceSpan> sequences, bool causal,
             core::ThreadPool* pool, std::span<const std::size_t> output_positions = {}) const {
        const std::size_t dim = config.hidden_dim;
        std::vector<float> picked(output_positions.size() * dim);
        const auto ends = pool != nullptr ? plan_sequence_chunks(sequences, pool->thread_count(), weight_bytes())
                                          : std::vector<std::size_t>{};
        if (ends.empty()) {
            run_rows(hidden.data(), hidden.size() / dim, sequences, causal, pool, output_positions, picked.data());
        } else {
            run_chunks(ends, *pool, [&](std::size_t, std::size_t begin, std::size_t end) {
                const std::size_t first_row = sequences[begin].first_row;
                std::vector<kernels::SequenceSpan> chunk(sequences.begin() + begin, sequences.begin() + end);
                for (auto& sequence : chunk) sequence.first_row -= first_row;
                const std::size_t rows = chunk.back().first_row + chunk.back().length;
                const auto chunk_positions =
                    output_positions.empty() ? output_positions : output_positions.subspan(begin, end - begin);
                run_rows(hidden.data() + first_row * dim, rows, chunk, causal, nullptr, chunk_positions,
                         output_positions.empty() ? nullptr : picked.data() + begin * dim);
            });
        }
        if (!output_positions.empty()) hidden.swap(picked);
    }

    [[nodiscard]] std::size_t weight_bytes() const {
        return sum_packed_bytes(layers, [](const Layer& layer) {
            return std::array{&layer.qkv, &layer.out_proj, &layer.fc1, &layer.fc2};
        });
    }

    // With output_positions, the last layer continues past its attention on those rows only, in
    // `picked` (sequence_count x H).
    void run_rows(float* hidden, std::size_t rows, std::span<const kernels::SequenceSpan> sequences, bool causal,
                  core::ThreadPool* pool, std::span<const std::size_t> output_positions, float* picked) const {
        const std::size_t dim = config.hidden_dim;
        std::vector<float> normed(rows * dim);
        std::vector<float> qkv(rows * 3 * dim);
        std::vector<float> context(rows * dim);
        std::vector<float> projected(rows * dim);
        const kernels::AttentionShape shape{.head_count = config.head_count, .head_dim = dim / config.head_count, .causal = causal,
                                            .precision = precision};
        for (std::size_t layer_idx = 0; layer_idx < layers.size(); ++layer_idx) {
            const Layer& layer = layers[layer_idx];
            const auto queries = last_layer_queries(layer_idx, layers.size(), output_positions);
            layer_norm(hidden, rows, layer.norm1, normed.data(), pool);
            layer.qkv.forward(normed.data(), rows, qkv.data(), kernels::Activation::none, pool);
            kernels::attention(qkv.data(), qkv.data() + dim, qkv.data() + 2 * dim, 3 * dim, sequences, shape,
                               context.data(), dim, pool, queries);
            if (!queries.empty()) {
                std::ranges::copy(rows_at_positions(hidden, dim, sequences, queries), picked);
                hidden = picked;
                rows = queries.size();
            }
            layer.out_proj.forward(context.data(), rows, projected.data(), kernels::Activation::none, pool);
            kernels::add_inplace(hidden, projected.data(), rows * dim);
            layer_norm(hidden, rows, layer.norm2, normed.data(), pool);
            kernels::feed_forward(layer.fc1, activation, layer.fc2, normed.data(), rows, projected.data(), pool);
            kernels::add_inplace(hidden, projected.data(), rows * dim);
        }
    }
};

struct ClipModel::TextTower {
    Tower encoder;
    const float* token_embedding = nullptr;
    const float* position_embedding = nullptr;
    Norm final_norm;
    bool has_projection = false;
    kernels::Linear projection;

    TextTower(const WeightReader& weights, const ClipTextConfig& config, std::size_t projection_dim,
              const std::filesystem::path& path, const ModelLoadOptions& options)
        : encoder(weights, "text_model.", config, path, options) {
        const Precision precision = options.precision;
        const std::size_t hidden = config.hidden_dim;
        token_embedding = weights.floats("text_model.embeddings.token_embedding.weight", {config.vocab_size, hidden}).data();
        position_embedding =
            weights.floats("text_model.embeddings.position_embedding.weight", {config.max_positions, hidden}).data();
        final_norm = read_norm(weights, "text_model.final_layer_norm", hidden);
        if (projection_dim > 0 && weights.contains("text_projection.weight")) {
            has_projection = true;
            projection = read_linear(weights, "text_projection", projection_dim, hidden, precision);
        }
    }
};

struct ClipModel::VisionTower {
    Tower encoder;
    kernels::Linear patch_embedding;  // [H, C*P*P], a conv with stride = kernel as a GEMM
    const float* class_embedding = nullptr;
    const float* position_embedding = nullptr;
    Norm pre_norm;
    Norm post_norm;
    bool has_projection = false;
    kernels::Linear projection;

    VisionTower(const WeightReader& weights, const ClipVisionConfig& config, std::size_t projection_dim,
                const std::filesystem::path& path, const ModelLoadOptions& options)
        : encoder(weights, "vision_model.", config, path, options) {
        const Precision precision = options.precision;
        const std::size_t hidden = config.hidden_dim;
        const std::size_t patch = config.patch_size;
        const auto conv = weights.floats("vision_model.embeddings.patch_embedding.weight",
                                         {hidden, config.channel_count, patch, patch});
        // The conv weight [H, C, P, P] flattened per output channel is already [H, C*P*P].
        patch_embedding = kernels::Linear::create(conv.data(), nullptr, hidden, config.channel_count * patch * patch, precision);
        weights.release("vision_model.embeddings.patch_embedding.weight");
        class_embedding = weights.floats("vision_model.embeddings.class_embedding", {hidden}).data();
        position_embedding =
            weights.floats("vision_model.embeddings.position_embedding.weight", {config.token_count(), hidden}).data();
        // "pre_layrnorm" is the (misspelt) name in every CLIP checkpoint.
        pre_norm = read_norm(weights, "vision_model.pre_layrnorm", hidden);
        post_norm = read_norm(weights, "vision_model.post_layernorm", hidden);
        if (projection_dim > 0 && weights.contains("visual_projection.weight")) {
            has_projection = true;
            projection = read_linear(weights, "visual_projection", projection_dim, hidden, precision);
        }
    }
};

ClipModel::ClipModel(const formats::ModelConfig& config, std::shared_ptr<const formats::WeightStore> store,
                     const ModelLoadOptions& options)
    : store_(store), model_type_(config.model_type) {
    const Json& raw = config.raw;
    const WeightReader weights(store, config.model_type == "clip_vision_model"
                                          ? "vision_model.embeddings.class_embedding"
                                          : "text_model.embeddings.token_embedding.weight");
    std::size_t projection_dim = formats::optional_size(raw, "projection_dim", 512, config.path);
    bool want_text = false;
    bool want_vision = false;
    if (config.model_type == "clip") {
        want_text = true;
        want_vision = true;
        const Json empty = Json::object();
        text_config_ = parse_text(raw.contains("text_config") && raw["text_config"].is_object() ? raw["text_config"] : empty,
                                  config.path, "text_config.");
        vision_config_ = parse_vision(
            raw.contains("vision_config") && raw["vision_config"].is_object() ? raw["vision_config"] : empty, config.path,
            "vision_config.");
    } else if (config.model_type == "clip_text_model") {
        want_text = true;
        text_config_ = parse_text(raw, config.path, "");
    } else if (config.model_type == "clip_vision_model") {
        want_vision = true;
        vision_config_ = parse_vision(raw, config.path, "");
    } else {
        throw Error(ErrorCode::unsupported, config.path.string() + ": model_type: '" + config.model_type + "' is not a CLIP model");
    }
    try {
        if (want_text) text_ = std::make_unique<TextTower>(weights, text_config_, projection_dim, config.path, options);
        if (want_vision) {
            vision_ = std::make_unique<VisionTower>(weights, vision_config_, projection_dim, config.path, options);
        }
    } catch (const Error& err) {
        throw err.with_context("loading CLIP weights from " + store->source());
    }
    const bool projected = (text_ && text_->has_projection) || (vision_ && vision_->has_projection);
    if (text_ && vision_ && text_->has_projection != vision_->has_projection) {
        throw Error(ErrorCode::corrupt, store->source() + ": only one of text_projection / visual_projection is present");
    }
    output_dim_ = projected ? projection_dim : (text_ ? text_config_.hidden_dim : vision_config_.hidden_dim);
    if (text_ && vision_ && !projected && text_config_.hidden_dim != vision_config_.hidden_dim) {
        throw Error(ErrorCode::corrupt, store->source() + ": towers of different widths need projections");
    }
    double scale = 2.6592;
    if (raw.contains("logit_scale_init_value") && raw["logit_scale_init_value"].is_number()) {
        scale = raw["logit_scale_init_value"].get<double>();
    }
    if (weights.contains("logit_scale")) {
        // A scalar: shape [] in HF files (some readers report it as [1]); accept either.
        const auto& view = weights.store().tensor(weights.prefix() + "logit_scale");
        if (view.element_count() != 1) {
            throw Error(ErrorCode::corrupt, store->source() + ": logit_scale: expected a scalar, got shape " + view.shape_string());
        }
        scale = weights.floats("logit_scale", view.shape)[0];
    }
    logit_scale_ = static_cast<float>(std::exp(scale));
}

ClipModel::~ClipModel() = default;

namespace {

// The token each text pools at, as transformers picks it: the highest id (original OpenAI
// configs, pool_at_argmax), else (ids == eos_token_id).int().argmax() -- the first match, 0 if none.
std::vector<std::size_t> end_of_text_positions(const TokenBatch& batch, const ClipTextConfig& config) {
    std::vector<std::size_t> positions(batch.sequences.size(), 0);
    for (std::size_t seq_idx = 0; seq_idx < batch.sequences.size(); ++seq_idx) {
        const auto& sequence = batch.sequences[seq_idx];
        const std::int32_t* ids = batch.ids.data() + sequence.first_row;
        std::size_t& eos = positions[seq_idx];
        if (config.pool_at_argmax()) {
            for (std::size_t pos = 1; pos < sequence.length; ++pos) {
                if (ids[pos] > ids[eos]) eos = pos;
            }
        } else {
            for (std::size_t pos = 0; pos < sequence.length; ++pos) {
                if (ids[pos] == config.eos_token_id) {
                    eos = pos;
                    break;
                }
            }
        }
    }
    return positions;
}

}  // namespace

std::string ClipModel::architecture() const {
    if (text_ && vision_) return "CLIP (text and vision towers)";
    return text_ ? "CLIP text tower" : "CLIP vision tower";
}

ClipOutputs ClipModel::run_text(const TokenBatch& batch, core::ThreadPool* pool, ClipStates states) const {
    if (!text_) throw Error(ErrorCode::unsupported, "this CLIP model has no text tower (model_type '" + model_type_ + "')");
    const ClipTextConfig& config = text_config_;
    const std::size_t dim = config.hidden_dim;
    std::size_t covered = 0;
    for (std::size_t seq_idx = 0; seq_idx < batch.sequences.size(); ++seq_idx) {
        const auto& sequence = batch.sequences[seq_idx];
        if (sequence.length == 0 || sequence.length > config.max_positions || sequence.first_row != covered) {
            throw Error(ErrorCode::invalid_argument, "text " + std::to_string(seq_idx) + ": " + std::to_string(sequence.length) +
                                                         " tokens (CLIP takes 1 to " + std::to_string(config.max_positions) + ")");
        }
        covered += sequence.length;
    }
    if (covered != batch.ids.size()) throw Error(ErrorCode::invalid_argument, "token batch: sequences do not cover the ids");
    for (std::size_t row = 0; row < batch.ids.size(); ++row) {
        if (batch.ids[row] < 0 || static_cast<std::size_t>(batch.ids[row]) >= config.vocab_size) {
            throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(batch.ids[row]) + " at position " +
                                                         std::to_string(row) + " is outside the vocabulary of " +
                                                         std::to_string(config.vocab_size));
        }
    }
    ClipOutputs out;
    out.last_hidden.resize(batch.ids.size() * dim);
    for (const auto& sequence : batch.sequences) {
        for (std::size_t pos = 0; pos < sequence.length; ++pos) {
            const std::size_t row = sequence.first_row + pos;
            const float* token = text_->token_embedding + static_cast<std::size_t>(batch.ids[row]) * dim;
            const float* position = text_->position_embedding + pos * dim;
            float* dst = out.last_hidden.data() + row * dim;
            for (std::size_t d = 0; d < dim; ++d) dst[d] = token[d] + position[d];
        }
    }
    const std::size_t count = batch.sequences.size();
    const std::vector<std::size_t> eos_positions = end_of_text_positions(batch, config);
    const bool pooled_only = states == ClipStates::pooled_token;
    text_->encoder.run(out.last_hidden, batch.sequences, /*causal=*/true, pool,
                       pooled_only ? std::span<const std::size_t>(eos_positions) : std::span<const std::size_t>{});
    const std::size_t rows = out.last_hidden.size() / dim;
    text_->encoder.layer_norm(out.last_hidden.data(), rows, text_->final_norm, out.last_hidden.data(), pool);
    out.pooled = pooled_only ? out.last_hidden : rows_at_positions(out.last_hidden.data(), dim, batch.sequences, eos_positions);
    if (text_->has_projection) {
        out.features.resize(count * output_dim_);
        text_->projection.forward(out.pooled.data(), count, out.features.data(), kernels::Activation::none, pool);
    } else {
        out.features = out.pooled;
    }
    return out;
}

ClipOutputs ClipModel::run_vision(std::span<const float> pixels, std::size_t image_count, core::ThreadPool* pool,
                                  ClipStates states) const {
    if (!vision_) throw Error(ErrorCode::unsupported, "this CLIP model has no vision tower (model_type '" + model_type_ + "')");
    const ClipVisionConfig& config = vision_config_;
    const std::size_t side = config.image_size;
    const std::size_t patch = config.patch_size;
    const std::size_t channels = config.channel_count;
    const std::size_t per_side = config.patches_per_side();
    const std::size_t patch_count = per_side * per_side;
    const std::size_t tokens = config.token_count();
    const std::size_t dim = config.hidden_dim;
    const std::size_t image_floats = channels * side * side;
    if (pixels.size() != image_count * image_floats) {
        throw Error(ErrorCode::invalid_argument, "pixel tensor: " + std::to_string(pixels.size()) + " floats for " +
                                                     std::to_string(image_count) + " images of " + std::to_string(channels) +
                                                     "x" + std::to_string(side) + "x" + std::to_string(side));
    }
    // im2col: each patch as one row [C, P, P] in the conv weight's order.
    const std::size_t patch_floats = channels * patch * patch;
    std::vector<float> patches(image_count * patch_count * patch_floats);
    for (std::size_t image_idx = 0; image_idx < image_count; ++image_idx) {
        const float* image = pixels.data() + image_idx * image_floats;
        for (std::size_t py = 0; py < per_side; ++py) {
            for (std::size_t px = 0; px < per_side; ++px) {
                float* dst = patches.data() + ((image_idx * patch_count) + py * per_side + px) * patch_floats;
                for (std::size_t c = 0; c < channels; ++c) {
                    for (std::size_t y = 0; y < patch; ++y) {
                        std::memcpy(dst + (c * patch + y) * patch, image + (c * side + py * patch + y) * side + px * patch,
                                    patch * sizeof(float));
                    }
                }
            }
        }
    }
    std::vector<float> embedded(image_count * patch_count * dim);
    vision_->patch_embedding.forward(patches.data(), image_count * patch_count, embedded.data(), kernels::Activation::none, pool);

    ClipOutputs out;
    out.last_hidden.resize(image_count * tokens * dim);
    std::vector<kernels::SequenceSpan> sequences(image_count);
    for (std::size_t image_idx = 0; image_idx < image_count; ++image_idx) {
        sequences[image_idx] = {.first_row = image_idx * tokens, .length = tokens};
        for (std::size_t token = 0; token < tokens; ++token) {
            const float* source = token == 0 ? vision_->class_embedding
                                             : embedded.data() + (image_idx * patch_count + token - 1) * dim;
            const float* position = vision_->position_embedding + token * dim;
            float* dst = out.last_hidden.data() + (image_idx * tokens + token) * dim;
            for (std::size_t d = 0; d < dim; ++d) dst[d] = source[d] + position[d];
        }
    }
    vision_->encoder.layer_norm(out.last_hidden.data(), image_count * tokens, vision_->pre_norm, out.last_hidden.data(), pool);
    const auto class_tokens = first_token_positions(sequences);
    const bool pooled_only = states == ClipStates::pooled_token;
    vision_->encoder.run(out.last_hidden, sequences, /*causal=*/false, pool,
                         pooled_only ? std::span<const std::size_t>(class_tokens) : std::span<const std::size_t>{});
    out.pooled = pooled_only ? out.last_hidden : rows_at_positions(out.last_hidden.data(), dim, sequences, class_tokens);
    vision_->encoder.layer_norm(out.pooled.data(), image_count, vision_->post_norm, out.pooled.data(), pool);
    if (vision_->has_projection) {
        out.features.resize(image_count * output_dim_);
        vision_->projection.forward(out.pooled.data(), image_count, out.features.data(), kernels::Activation::none, pool);
    } else {
        out.features = out.pooled;
    }
    return out;
}

std::unique_ptr<Model> build_clip(const formats::ModelConfig& config, std::shared_ptr<const formats::WeightStore> weights,
                                  const ModelLoadOptions& options) {
    return std::make_unique<ClipModel>(config, std::move(weights), options);
}

}  // namespace tessera::models
