// The model registry: config.json `model_type` -> the function that builds that architecture.
//
//   std::unique_ptr<models::Model> model = models::build_model(config, weights, options);
//   for (const auto& entry : models::registered_models()) std::cout << entry.model_type << "\n";
//
// Adding an architecture = its file in models/ plus one line in registry.cpp.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "models/model.hpp"

namespace tessera::models {

using ModelBuilder = std::unique_ptr<Model> (*)(const formats::ModelConfig& config,
                                                std::shared_ptr<const formats::WeightStore> weights,
                                                const ModelLoadOptions& options);

struct ModelEntry {
    std::string_view model_type;  // config.json model_type
    std::string_view family;      // human-readable, for `tessera info`
    ModelBuilder build;
};

[[nodiscard]] std::span<const ModelEntry> registered_models();
[[nodiscard]] const ModelEntry* find_model(std::string_view model_type);

// Errors: unsupported ("config.json: model_type: unknown 'gpt9' (supported: ...)"), and whatever
// the architecture's builder raises (missing tensors, shape mismatches).
[[nodiscard]] std::unique_ptr<Model> build_model(const formats::ModelConfig& config,
                                                 std::shared_ptr<const formats::WeightStore> weights,
                                                 const ModelLoadOptions& options = {});

// The builders (one per architecture file).
std::unique_ptr<Model> build_bert(const formats::ModelConfig&, std::shared_ptr<const formats::WeightStore>,
                                  const ModelLoadOptions&);
std::unique_ptr<Model> build_nomic_bert(const formats::ModelConfig&, std::shared_ptr<const formats::WeightStore>,
                                        const ModelLoadOptions&);
std::unique_ptr<Model> build_clip(const formats::ModelConfig&, std::shared_ptr<const formats::WeightStore>, const ModelLoadOptions&);

}  // namespace tessera::models
