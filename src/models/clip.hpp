// CLIP (model_type "clip", and the single-tower "clip_text_model" / "clip_vision_model" forms):
// a causal text transformer pooled at the end-of-text token and a ViT pooled at the class token,
// each followed by a projection into one shared space, as transformers' CLIPModel defines them.
//
//   auto model = models::build_model(config, weights, {});            // model_type "clip"
//   auto* clip = dynamic_cast<models::ClipModel*>(model.get());
//   models::TokenBatch batch;  batch.add(ids);                          // 49406 ... 49407
//   models::ClipOutputs text = clip->run_text(batch, &pool);            // text.features: n x 512
//   models::ClipOutputs image = clip->run_vision(pixels, 1, &pool);     // pixels: n x 3 x 224 x 224
//   // cosine(normalised text.features, normalised image.features) * clip->logit_scale()
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "kernels/linear.hpp"
#include "models/model.hpp"

namespace tessera::models {

struct ClipTowerConfig {
    std::size_t hidden_dim = 0;
    std::size_t ffn_dim = 0;
    std::size_t layer_count = 0;
    std::size_t head_count = 0;
    double layer_norm_eps = 1e-5;
    std::string hidden_act = "quick_gelu";
};

struct ClipTextConfig : ClipTowerConfig {
    std::size_t vocab_size = 49408;
    std::size_t max_positions = 77;
    std::int64_t eos_token_id = 49407;
    // Original OpenAI configs say eos_token_id 2; transformers then pools at argmax(ids) (49407
    // is the largest id). Newer configs pool at the first eos_token_id.
    [[nodiscard]] bool pool_at_argmax() const { return eos_token_id == 2; }
};

struct ClipVisionConfig : ClipTowerConfig {
    std::size_t image_size = 224;
    std::size_t patch_size = 32;
    std::size_t channel_count = 3;
    [[nodiscard]] std::size_t patches_per_side() const { return image_size / patch_size; }
    [[nodiscard]] std::size_t token_count() const { return patches_per_side() * patches_per_side() + 1; }
};

// Which last hidden states a tower keeps: every token's, or only the pooled token's (the end of
// text / the class token; its last layer then runs only that row past its attention).
enum class ClipStates { every_token, pooled_token };

// What one tower computes for a batch (row-major).
struct ClipOutputs {
    std::vector<float> last_hidden;  // text: after final_layer_norm, token_count x H;
                                     // vision: encoder output (no post_layernorm), n x tokens x H;
                                     // ClipStates::pooled_token: n x H, the pooled token's row
    std::vector<float> pooled;       // n x H: eos row (text) / post_layernorm(class token) (vision)
    std::vector<float> features;     // n x output_dim: projection(pooled), or pooled without one
};

class ClipModel final : public Model {
public:
    ClipModel(const formats::ModelConfig& config, std::shared_ptr<const formats::WeightStore> weights,
              const ModelLoadOptions& options);
    ~ClipModel() override;

    [[nodiscard]] std::string model_type() const override { return model_type_; }
    [[nodiscard]] std::string architecture() const override;

    [[nodiscard]] bool has_text() const { return text_ != nullptr; }
    [[nodiscard]] bool has_vision() const { return vision_ != nullptr; }
    [[nodiscard]] const ClipTextConfig& text_config() const { return text_config_; }
    [[nodiscard]] const ClipVisionConfig& vision_config() const { return vision_config_; }
    // Size of `features`: projection_dim, or the tower's hidden size when it has no projection.
    [[nodiscard]] std::size_t output_dim() const { return output_dim_; }
    // exp(logit_scale) from the tensor (the config's init value is only a fallback).
    [[nodiscard]] float logit_scale() const { return logit_scale_; }

    // Errors: unsupported (no text tower), invalid_argument (id outside the vocabulary, empty or
    // longer than max_positions sequence).
    [[nodiscard]] ClipOutputs run_text(const TokenBatch& batch, core::ThreadPool* pool,
                                       ClipStates states = ClipStates::every_token) const;
    // pixels: image_count x channels x image_size x image_size floats (CHW per image).
    // Errors: unsupported (no vision tower), invalid_argument (wrong pixel count).
    [[nodiscard]] ClipOutputs run_vision(std::span<const float> pixels, std::size_t image_count, core::ThreadPool* pool,
                                         ClipStates states = ClipStates::every_token) const;

    struct Tower;
    struct TextTower;
    struct VisionTower;

private:
    std::shared_ptr<const formats::WeightStore> store_;  // the towers point into its memory map
    std::string model_type_;
    ClipTextConfig text_config_;
    ClipVisionConfig vision_config_;
    std::size_t output_dim_ = 0;
    float logit_scale_ = 100.0F;
    std::unique_ptr<TextTower> text_;
    std::unique_ptr<VisionTower> vision_;
};

}  // namespace tessera::models
