// Random-weight test models in the real Hugging Face layout, for tests, benchmarks and the demo.
//
//   tessera::tools::ModelSpec spec = tessera::tools::spec_for_shape("minilm-l6", "bert");
//   spec.seed = 7;
//   tessera::tools::write_model("/tmp/random-minilm", spec);
//   // -> config.json, model.safetensors, modules.json, 1_Pooling/config.json,
//   //    sentence_bert_config.json, config_sentence_transformers.json, tokenizer.json (+ friends)
//
// Weights are deterministic in the seed (own PCG-style generator and Box-Muller, not the
// standard library's distributions, so every platform writes the same bytes). Linear weights
// are N(0, 1/fan_in) so activations stay O(1) and numeric bugs show (as in the golden models).
// Adding an architecture = one ArchitectureWriter entry in model_writer.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/safetensors.hpp"

namespace tessera::tools {

struct ModelSpec {
    std::string architecture = "bert";  // bert | roberta | xlm-roberta | nomic_bert
    std::size_t hidden_dim = 32;
    std::size_t layer_count = 2;
    std::size_t head_count = 2;
    std::size_t ffn_dim = 64;
    std::optional<std::size_t> vocab_size;  // default: the tokenizer's size
    std::size_t max_tokens = 512;           // usable positions (RoBERTa adds pad_id + 1)
    std::string hidden_act = "gelu";        // BERT family only
    std::string pooling = "mean";           // cls | mean | max | last_token | mean_sqrt_len | weighted_mean
    bool normalize = true;                  // write a Normalize module
    bool include_prompt = true;
    std::optional<std::size_t> max_seq_length;  // sentence_bert_config.json (default: max_tokens)
    std::map<std::string, std::string> prompts;  // config_sentence_transformers.json
    std::string default_prompt_name;
    formats::DType dtype = formats::DType::f32;  // f32 | f16 | bf16
    std::size_t shard_count = 1;                 // > 1: model-0000k-of-0000N + index.json
    bool sentence_transformers_files = true;     // false: config + weights + tokenizer only
    std::uint64_t seed = 1;
    std::filesystem::path tokenizer;  // tokenizer.json or its directory; empty: per-architecture default
};

// The preset shapes: "tiny" (32-d, 2 layers), "minilm-l6" (384-d, 6 layers, 12 heads),
// "bge-base" (768-d, 12 layers). Errors: invalid_argument for unknown names.
[[nodiscard]] ModelSpec spec_for_shape(std::string_view shape, std::string_view architecture);

[[nodiscard]] std::vector<std::string> supported_architectures();

// Where the default tokenizer of an architecture lives (under ../shared/data/tokenizers; the
// environment variable TESSERA_SHARED_DIR overrides the compiled-in path).
[[nodiscard]] std::filesystem::path default_tokenizer(std::string_view architecture);

// Writes the model directory (created if needed). Errors: invalid_argument (bad spec),
// not_found (tokenizer), io.
void write_model(const std::filesystem::path& model_dir, const ModelSpec& spec);

}  // namespace tessera::tools
