// config.json of a Hugging Face model: model_type plus the encoder hyper-parameters.
//
//   formats::ModelConfig config = formats::read_model_config("models/bge-small/config.json");
//   if (config.model_type == "bert") {
//       formats::EncoderConfig encoder = formats::parse_encoder_config(config);
//       // encoder.hidden_dim, encoder.layer_count, encoder.position_offset, ...
//   }
//
// read_model_config checks only what every architecture shares (a JSON object with a model_type,
// or architectures[0] to infer it from); parse_encoder_config reads the fields of the BERT family
// and NomicBERT, with each architecture's defaults, and names the field it rejects.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <string>

namespace tessera::formats {

struct ModelConfig {
    std::filesystem::path path;  // for error messages
    std::string model_type;      // "bert", "roberta", "xlm-roberta", "nomic_bert", "clip", ...
    nlohmann::json raw;          // the whole file, for architecture-specific fields
};

// Errors: not_found (missing file), corrupt (malformed JSON, no model_type).
[[nodiscard]] ModelConfig read_model_config(const std::filesystem::path& config_path);

struct EncoderConfig {
    std::string model_type;
    std::size_t vocab_size = 0;
    std::size_t hidden_dim = 0;
    std::size_t layer_count = 0;
    std::size_t head_count = 0;
    std::size_t ffn_dim = 0;
    std::size_t max_position_embeddings = 0;  // 0 for rotary models without a position table
    std::size_t type_vocab_size = 0;
    double layer_norm_eps = 1e-12;
    std::string hidden_act = "gelu";
    int pad_token_id = 0;
    // RoBERTa-style models number positions from pad_token_id + 1.
    std::size_t position_offset = 0;
    // The longest sequence the weights allow (special tokens included).
    std::size_t max_tokens = 0;
    // NomicBERT.
    double rotary_base = 10000.0;
    double rotary_fraction = 1.0;
    bool rotary_interleaved = false;
    bool qkv_bias = true;
    bool mlp_fc1_bias = true;
    bool mlp_fc2_bias = true;
    bool prenorm = false;
};

// Errors: corrupt naming the file and field ("config.json: hidden_size: expected a positive
// integer, got '-3'"), unsupported (hidden_act we cannot run, rotary_emb_interleaved, prenorm).
[[nodiscard]] EncoderConfig parse_encoder_config(const ModelConfig& config);

// Helpers for architecture parsers: a required / optional positive integer field.
[[nodiscard]] std::size_t require_size(const nlohmann::json& object, const std::string& field,
                                       const std::filesystem::path& path, const std::string& prefix = "");
[[nodiscard]] std::size_t optional_size(const nlohmann::json& object, const std::string& field,
                                        std::size_t fallback, const std::filesystem::path& path,
                                        const std::string& prefix = "");

// Reads and parses a JSON file. Errors: not_found, corrupt ("<path>: malformed JSON: ...").
[[nodiscard]] nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace tessera::formats
