#include "hub/pull_plan.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace tessera::hub {

bool is_needed_file(const std::string& file) {
    static constexpr std::array<std::string_view, 16> kRootFiles = {
        "config.json",          "tokenizer.json",       "tokenizer_config.json",
        "special_tokens_map.json", "added_tokens.json", "vocab.txt",
        "vocab.json",           "merges.txt",           "modules.json",
        "sentence_bert_config.json", "config_sentence_transformers.json",
        "preprocessor_config.json", "model.safetensors.index.json",
        "sentence_roberta_config.json", "sentence_xlm-roberta_config.json", "generation_config.json"};
    auto slash = file.find('/');
    if (slash == std::string::npos) {
        if (std::find(kRootFiles.begin(), kRootFiles.end(), file) != kRootFiles.end()) return true;
        return file.ends_with(".safetensors");
    }
    // sentence-transformers module folders: 1_Pooling/config.json, 2_Dense/model.safetensors, ...
    std::string_view folder(file.data(), slash);
    std::string_view rest(file.data() + slash + 1, file.size() - slash - 1);
    const bool module_folder = !folder.empty() && std::isdigit(static_cast<unsigned char>(folder[0])) &&
                               folder.find('_') != std::string_view::npos;
    if (!module_folder || rest.find('/') != std::string_view::npos) return false;
    return rest == "config.json" || rest == "model.safetensors";
}

std::vector<std::string> files_to_download(const std::vector<std::string>& files) {
    std::vector<std::string> needed;
    for (const auto& file : files) {
        if (is_needed_file(file)) needed.push_back(file);
    }
    return needed;
}

}  // namespace tessera::hub
