#include "models/registry.hpp"

#include "tessera/error.hpp"

namespace tessera::models {

namespace {

// One line per architecture (model_type, family, builder).
constexpr ModelEntry kModels[] = {
    {"bert", "BERT encoder", build_bert},
    {"roberta", "RoBERTa encoder", build_bert},
    {"xlm-roberta", "XLM-RoBERTa encoder", build_bert},
    {"camembert", "CamemBERT encoder", build_bert},
    {"nomic_bert", "NomicBERT encoder (rotary, SwiGLU)", build_nomic_bert},
    {"clip", "CLIP (text + vision)", build_clip}, {"clip_text_model", "CLIP text tower", build_clip}, {"clip_vision_model", "CLIP vision tower", build_clip},
};

}  // namespace

std::span<const ModelEntry> registered_models() { return kModels; }

const ModelEntry* find_model(std::string_view model_type) {
    for (const auto& entry : kModels) {
        if (entry.model_type == model_type) return &entry;
    }
    return nullptr;
}

std::unique_ptr<Model> build_model(const formats::ModelConfig& config,
                                   std::shared_ptr<const formats::WeightStore> weights,
                                   const ModelLoadOptions& options) {
    const ModelEntry* entry = find_model(config.model_type);
    if (entry == nullptr) {
        std::string supported;
        for (const auto& known : kModels) supported += (supported.empty() ? "" : ", ") + std::string(known.model_type);
        throw Error(ErrorCode::unsupported, config.path.string() + ": model_type: unknown '" + config.model_type +
                                                "' (supported: " + supported + ")");
    }
    return entry->build(config, std::move(weights), options);
}

}  // namespace tessera::models
