#include "formats/sentence_transformers.hpp"

#include <algorithm>

#include "formats/model_config.hpp"
#include "tessera/error.hpp"

namespace tessera::formats {

namespace {

Error field_error(const std::filesystem::path& path, const std::string& field, const std::string& what) {
    return Error(ErrorCode::corrupt, path.string() + ": " + field + ": " + what);
}

std::string last_component(const std::string& type) {
    const auto dot = type.rfind('.');
    return dot == std::string::npos ? type : type.substr(dot + 1);
}

void read_pooling(const std::filesystem::path& path, SentenceTransformersConfig& config) {
    const nlohmann::json pooling = read_json_file(path);
    if (!pooling.is_object()) throw Error(ErrorCode::corrupt, path.string() + ": expected a JSON object");
    // sentence-transformers concatenates the enabled modes in this order.
    static const std::pair<const char*, PoolingMode> kFlags[] = {
        {"pooling_mode_cls_token", PoolingMode::cls},
        {"pooling_mode_max_tokens", PoolingMode::max},
        {"pooling_mode_mean_tokens", PoolingMode::mean},
        {"pooling_mode_mean_sqrt_len_tokens", PoolingMode::mean_sqrt_len},
        {"pooling_mode_weightedmean_tokens", PoolingMode::weighted_mean},
        {"pooling_mode_lasttoken", PoolingMode::last_token},
    };
    config.pooling_modes.clear();
    for (const auto& [flag, mode] : kFlags) {
        const auto found = pooling.find(flag);
        if (found == pooling.end() || found->is_null()) continue;
        if (!found->is_boolean()) throw field_error(path, flag, "expected true or false, got " + found->dump());
        if (found->get<bool>()) config.pooling_modes.push_back(mode);
    }
    // Newer files may carry `pooling_mode: "cls"` instead of (or besides) the flags.
    if (const auto mode = pooling.find("pooling_mode"); mode != pooling.end() && config.pooling_modes.empty()) {
        if (!mode->is_string()) throw field_error(path, "pooling_mode", "expected a string");
        const auto name = mode->get<std::string>();
        if (name == "cls") config.pooling_modes = {PoolingMode::cls};
        else if (name == "mean") config.pooling_modes = {PoolingMode::mean};
        else if (name == "max") config.pooling_modes = {PoolingMode::max};
        else if (name == "lasttoken" || name == "last_token") config.pooling_modes = {PoolingMode::last_token};
        else throw field_error(path, "pooling_mode", "unknown mode '" + name + "'");
    }
    if (config.pooling_modes.empty()) throw field_error(path, "pooling_mode_*", "no pooling mode is enabled");
    if (const auto include = pooling.find("include_prompt"); include != pooling.end() && !include->is_null()) {
        if (!include->is_boolean()) throw field_error(path, "include_prompt", "expected true or false");
        config.include_prompt = include->get<bool>();
    }
}

}  // namespace

std::string pooling_mode_name(PoolingMode mode) {
    switch (mode) {
        case PoolingMode::cls: return "cls";
        case PoolingMode::mean: return "mean";
        case PoolingMode::max: return "max";
        case PoolingMode::mean_sqrt_len: return "mean_sqrt_len";
        case PoolingMode::weighted_mean: return "weighted_mean";
        case PoolingMode::last_token: return "last_token";
    }
    return "mean";
}

SentenceTransformersConfig read_sentence_transformers_config(const std::filesystem::path& model_dir) {
    SentenceTransformersConfig config;
    const auto modules_path = model_dir / "modules.json";
    bool pooling_read = false;
    if (std::filesystem::exists(modules_path)) {
        config.has_modules_json = true;
        config.normalize = false;
        const nlohmann::json modules = read_json_file(modules_path);
        if (!modules.is_array()) throw Error(ErrorCode::corrupt, modules_path.string() + ": expected a JSON array");
        std::vector<std::pair<long long, nlohmann::json>> ordered;
        for (std::size_t idx = 0; idx < modules.size(); ++idx) {
            const auto& module = modules[idx];
            const std::string where = "[" + std::to_string(idx) + "]";
            if (!module.is_object() || !module.contains("type") || !module["type"].is_string()) {
                throw field_error(modules_path, where + ".type", "missing or not a string");
            }
            const long long order = module.contains("idx") && module["idx"].is_number_integer()
                                        ? module["idx"].get<long long>()
                                        : static_cast<long long>(idx);
            ordered.emplace_back(order, module);
        }
        std::stable_sort(ordered.begin(), ordered.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [order, module] : ordered) {
            const std::string type = last_component(module["type"].get<std::string>());
            const std::string sub_path = module.value("path", std::string());
            if (type == "Transformer") continue;
            if (type == "Pooling") {
                const auto pooling_path = model_dir / sub_path / "config.json";
                if (std::filesystem::exists(pooling_path)) {
                    read_pooling(pooling_path, config);
                    pooling_read = true;
                }
            } else if (type == "Normalize") {
                // Normalize saves nothing; its folder may be missing (all-MiniLM-L6-v2 has none).
                config.normalize = true;
            } else {
                throw Error(ErrorCode::unsupported, modules_path.string() + ": module '" + sub_path +
                                                        "' of type '" + module["type"].get<std::string>() +
                                                        "' is not supported (Transformer, Pooling, Normalize only)");
            }
        }
    } else {
        config.defaults_used.push_back("modules.json missing: assumed Transformer -> Pooling -> Normalize");
    }
    if (!pooling_read) {
        const auto pooling_path = model_dir / "1_Pooling" / "config.json";
        if (std::filesystem::exists(pooling_path)) {
            read_pooling(pooling_path, config);
        } else {
            config.defaults_used.push_back("1_Pooling/config.json missing: assumed mean pooling");
        }
    }

    const auto sbert_path = model_dir / "sentence_bert_config.json";
    if (std::filesystem::exists(sbert_path)) {
        const nlohmann::json sbert = read_json_file(sbert_path);
        if (!sbert.is_object()) throw Error(ErrorCode::corrupt, sbert_path.string() + ": expected a JSON object");
        if (sbert.contains("max_seq_length") && !sbert["max_seq_length"].is_null()) {
            config.max_seq_length = require_size(sbert, "max_seq_length", sbert_path);
        }
        if (const auto lower = sbert.find("do_lower_case"); lower != sbert.end() && !lower->is_null()) {
            if (!lower->is_boolean()) throw field_error(sbert_path, "do_lower_case", "expected true or false");
            config.do_lower_case = lower->get<bool>();
        }
    } else {
        config.defaults_used.push_back(
            "sentence_bert_config.json missing: max_seq_length = the model's position limit");
    }

    const auto st_path = model_dir / "config_sentence_transformers.json";
    if (std::filesystem::exists(st_path)) {
        const nlohmann::json st = read_json_file(st_path);
        if (!st.is_object()) throw Error(ErrorCode::corrupt, st_path.string() + ": expected a JSON object");
        if (const auto prompts = st.find("prompts"); prompts != st.end() && !prompts->is_null()) {
            if (!prompts->is_object()) throw field_error(st_path, "prompts", "expected an object");
            for (const auto& [name, text] : prompts->items()) {
                if (!text.is_string()) throw field_error(st_path, "prompts." + name, "expected a string");
                config.prompts[name] = text.get<std::string>();
            }
        }
        if (const auto name = st.find("default_prompt_name"); name != st.end() && !name->is_null()) {
            if (!name->is_string()) throw field_error(st_path, "default_prompt_name", "expected a string");
            config.default_prompt_name = name->get<std::string>();
            if (!config.prompts.contains(config.default_prompt_name)) {
                throw field_error(st_path, "default_prompt_name",
                                  "'" + config.default_prompt_name + "' is not in prompts");
            }
        }
        if (const auto fn = st.find("similarity_fn_name"); fn != st.end() && fn->is_string()) {
            config.similarity_fn_name = fn->get<std::string>();
        }
    }
    return config;
}

}  // namespace tessera::formats
