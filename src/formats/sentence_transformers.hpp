// The sentence-transformers files of a model directory: modules.json, 1_Pooling/config.json,
// Normalize, sentence_bert_config.json and config_sentence_transformers.json (prompts).
//
//   formats::SentenceTransformersConfig st = formats::read_sentence_transformers_config(dir);
//   // st.pooling_modes == {PoolingMode::mean}, st.normalize, st.max_seq_length, st.prompts
//   for (const auto& note : st.defaults_used) std::cerr << note << "\n";
//
// Missing files are not errors: the defaults assumed (mean pooling, normalise, the model's own
// limit) are listed in `defaults_used` so `tessera info` can say so.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tessera::formats {

enum class PoolingMode { cls, mean, max, mean_sqrt_len, weighted_mean, last_token };

[[nodiscard]] std::string pooling_mode_name(PoolingMode mode);  // "cls", "mean", ...

struct SentenceTransformersConfig {
    bool has_modules_json = false;
    std::vector<PoolingMode> pooling_modes = {PoolingMode::mean};  // concatenated in this order
    bool include_prompt = true;
    bool normalize = true;
    std::optional<std::size_t> max_seq_length;  // sentence_bert_config.json, specials included
    bool do_lower_case = false;
    std::map<std::string, std::string> prompts;
    std::string default_prompt_name;
    std::string similarity_fn_name = "cosine";
    std::vector<std::string> defaults_used;  // human-readable notes about missing files
};

// Errors: corrupt naming the file and field (malformed JSON, wrong types, no pooling mode set),
// unsupported (a Dense module or other module type we cannot run).
[[nodiscard]] SentenceTransformersConfig read_sentence_transformers_config(
    const std::filesystem::path& model_dir);

}  // namespace tessera::formats
