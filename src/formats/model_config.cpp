#include "formats/model_config.hpp"

#include <fstream>
#include <sstream>

#include "tessera/error.hpp"

namespace tessera::formats {

namespace {

std::string quote_value(const nlohmann::json& value) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    return "'" + (text.size() > 80 ? text.substr(0, 80) + "..." : text) + "'";
}

Error field_error(const std::filesystem::path& path, const std::string& field, const std::string& what) {
    return Error(ErrorCode::corrupt, path.string() + ": " + field + ": " + what);
}

double optional_number(const nlohmann::json& object, const std::string& field, double fallback,
                       const std::filesystem::path& path) {
    const auto found = object.find(field);
    if (found == object.end() || found->is_null()) return fallback;
    if (!found->is_number()) {
        throw field_error(path, field, "expected a number, got " + quote_value(*found));
    }
    return found->get<double>();
}

bool optional_bool(const nlohmann::json& object, const std::string& field, bool fallback,
                   const std::filesystem::path& path) {
    const auto found = object.find(field);
    if (found == object.end() || found->is_null()) return fallback;
    if (!found->is_boolean()) throw field_error(path, field, "expected true or false, got " + quote_value(*found));
    return found->get<bool>();
}

// The first of several alternative names that is present (NomicBERT uses GPT-2 style names).
std::string pick(const nlohmann::json& object, std::initializer_list<const char*> names) {
    for (const char* name : names) {
        if (object.contains(name)) return name;
    }
    return *names.begin();
}

}  // namespace

nlohmann::json read_json_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(std::filesystem::exists(path) ? ErrorCode::io : ErrorCode::not_found,
                    path.string() + ": cannot open");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    try {
        return nlohmann::json::parse(buffer.str());
    } catch (const nlohmann::json::parse_error& err) {
        throw Error(ErrorCode::corrupt, path.string() + ": malformed JSON: " + err.what());
    }
}

std::size_t require_size(const nlohmann::json& object, const std::string& field,
                         const std::filesystem::path& path, const std::string& prefix) {
    const auto found = object.find(field);
    if (found == object.end() || found->is_null()) {
        throw field_error(path, prefix + field, "missing");
    }
    if (!found->is_number_integer() || found->get<long long>() <= 0) {
        throw field_error(path, prefix + field, "expected a positive integer, got " + quote_value(*found));
    }
    return found->get<std::size_t>();
}

std::size_t optional_size(const nlohmann::json& object, const std::string& field, std::size_t fallback,
                          const std::filesystem::path& path, const std::string& prefix) {
    const auto found = object.find(field);
    if (found == object.end() || found->is_null()) return fallback;
    if (!found->is_number_integer() || found->get<long long>() < 0) {
        throw field_error(path, prefix + field, "expected a non-negative integer, got " + quote_value(*found));
    }
    return found->get<std::size_t>();
}

ModelConfig read_model_config(const std::filesystem::path& config_path) {
    ModelConfig config;
    config.path = config_path;
    config.raw = read_json_file(config_path);
    if (!config.raw.is_object()) {
        throw Error(ErrorCode::corrupt, config_path.string() + ": expected a JSON object");
    }
    const auto model_type = config.raw.find("model_type");
    if (model_type != config.raw.end()) {
        if (!model_type->is_string() || model_type->get<std::string>().empty()) {
            throw field_error(config_path, "model_type", "expected a non-empty string, got " + quote_value(*model_type));
        }
        config.model_type = model_type->get<std::string>();
        return config;
    }
    // Old exports lack model_type; transformers then goes by the class name.
    const auto architectures = config.raw.find("architectures");
    if (architectures != config.raw.end() && architectures->is_array() && !architectures->empty() &&
        (*architectures)[0].is_string()) {
        const auto name = (*architectures)[0].get<std::string>();
        if (name.starts_with("XLMRoberta")) config.model_type = "xlm-roberta";
        else if (name.starts_with("Roberta")) config.model_type = "roberta";
        else if (name.starts_with("NomicBert")) config.model_type = "nomic_bert";
        else if (name.starts_with("Bert")) config.model_type = "bert";
        else if (name.starts_with("CLIP")) config.model_type = "clip";
        else throw field_error(config_path, "architectures[0]", "cannot infer model_type from " + quote_value(name));
        return config;
    }
    throw field_error(config_path, "model_type", "missing (and no architectures[0] to infer it from)");
}

EncoderConfig parse_encoder_config(const ModelConfig& config) {
    const auto& raw = config.raw;
    const auto& path = config.path;
    EncoderConfig encoder;
    encoder.model_type = config.model_type;
    const bool nomic = config.model_type == "nomic_bert";
    encoder.vocab_size = require_size(raw, "vocab_size", path);
    encoder.hidden_dim = require_size(raw, pick(raw, {"hidden_size", "n_embd"}), path);
    encoder.layer_count = require_size(raw, pick(raw, {"num_hidden_layers", "n_layer"}), path);
    encoder.head_count = require_size(raw, pick(raw, {"num_attention_heads", "n_head"}), path);
    const std::string ffn_field = pick(raw, {"intermediate_size", "n_inner"});
    encoder.ffn_dim = nomic ? optional_size(raw, ffn_field, 4 * encoder.hidden_dim, path)
                            : require_size(raw, ffn_field, path);
    if (encoder.hidden_dim % encoder.head_count != 0) {
        throw field_error(path, pick(raw, {"num_attention_heads", "n_head"}),
                          std::to_string(encoder.head_count) + " heads do not divide hidden size " +
                              std::to_string(encoder.hidden_dim));
    }
    const bool roberta_like = config.model_type == "roberta" || config.model_type == "xlm-roberta" ||
                              config.model_type == "camembert";
    encoder.type_vocab_size = optional_size(raw, "type_vocab_size", roberta_like ? 1 : 2, path);
    encoder.layer_norm_eps = optional_number(raw, pick(raw, {"layer_norm_eps", "layer_norm_epsilon"}),
                                             roberta_like ? 1e-5 : 1e-12, path);
    if (!(encoder.layer_norm_eps > 0)) {
        throw field_error(path, "layer_norm_eps", "must be positive, got " + quote_value(raw.value("layer_norm_eps", nlohmann::json())));
    }
    const auto pad = raw.find("pad_token_id");
    if (pad != raw.end() && !pad->is_null()) {
        if (!pad->is_number_integer()) throw field_error(path, "pad_token_id", "expected an integer, got " + quote_value(*pad));
        encoder.pad_token_id = pad->get<int>();
    } else {
        encoder.pad_token_id = roberta_like ? 1 : 0;
    }
    const std::string act_field = pick(raw, {"hidden_act", "activation_function"});
    if (raw.contains(act_field) && !raw[act_field].is_string()) {
        throw field_error(path, act_field, "expected a string, got " + quote_value(raw[act_field]));
    }
    encoder.hidden_act = raw.value(act_field, nomic ? std::string("swiglu") : std::string("gelu"));

    if (nomic) {
        encoder.max_position_embeddings = 0;
        encoder.max_tokens = optional_size(raw, pick(raw, {"n_positions", "max_position_embeddings"}), 2048, path);
        encoder.rotary_base = optional_number(raw, "rotary_emb_base", 10000.0, path);
        encoder.rotary_fraction = optional_number(raw, "rotary_emb_fraction", 1.0, path);
        encoder.rotary_interleaved = optional_bool(raw, "rotary_emb_interleaved", false, path);
        encoder.qkv_bias = optional_bool(raw, "qkv_proj_bias", true, path);
        encoder.mlp_fc1_bias = optional_bool(raw, "mlp_fc1_bias", true, path);
        encoder.mlp_fc2_bias = optional_bool(raw, "mlp_fc2_bias", true, path);
        encoder.prenorm = optional_bool(raw, "prenorm", false, path);
        if (encoder.rotary_interleaved) {
            throw Error(ErrorCode::unsupported, path.string() + ": rotary_emb_interleaved: true is not supported");
        }
        if (encoder.prenorm) throw Error(ErrorCode::unsupported, path.string() + ": prenorm: true is not supported");
        if (!(encoder.rotary_fraction > 0 && encoder.rotary_fraction <= 1)) {
            throw field_error(path, "rotary_emb_fraction", "must be in (0, 1]");
        }
        const std::size_t head_dim = encoder.hidden_dim / encoder.head_count;
        const auto rotary_dim = static_cast<std::size_t>(encoder.rotary_fraction * static_cast<double>(head_dim));
        if (rotary_dim % 2 != 0 || rotary_dim == 0) {
            throw field_error(path, "rotary_emb_fraction", "gives an odd or empty rotary dimension");
        }
        if (encoder.hidden_act != "swiglu" && encoder.hidden_act != "silu") {
            throw Error(ErrorCode::unsupported, path.string() + ": activation_function: '" +
                                                    encoder.hidden_act + "' is not supported (swiglu only)");
        }
        return encoder;
    }
    encoder.max_position_embeddings = require_size(raw, "max_position_embeddings", path);
    encoder.position_offset = roberta_like ? static_cast<std::size_t>(encoder.pad_token_id) + 1 : 0;
    if (encoder.position_offset >= encoder.max_position_embeddings) {
        throw field_error(path, "max_position_embeddings", "too small for position offset " +
                                                                std::to_string(encoder.position_offset));
    }
    encoder.max_tokens = encoder.max_position_embeddings - encoder.position_offset;
    const auto& act = encoder.hidden_act;
    if (act != "gelu" && act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "relu" &&
        act != "gelu_fast" && act != "quick_gelu" && act != "silu" && act != "tanh") {
        throw Error(ErrorCode::unsupported, path.string() + ": hidden_act: '" + act + "' is not supported");
    }
    if (raw.contains("position_embedding_type") && raw["position_embedding_type"] != "absolute") {
        throw Error(ErrorCode::unsupported, path.string() + ": position_embedding_type: " +
                                                quote_value(raw["position_embedding_type"]) + " is not supported (absolute only)");
    }
    return encoder;
}

}  // namespace tessera::formats
