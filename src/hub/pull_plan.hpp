// Which of a repository's files tessera downloads: weights as safetensors, configs and tokenizer
// files, sentence-transformers module configs — never ONNX, PyTorch pickles, TF/Flax weights.
//
//   std::vector<std::string> wanted = hub::files_to_download(model_info_siblings);
#pragma once

#include <string>
#include <vector>

namespace tessera::hub {

[[nodiscard]] bool is_needed_file(const std::string& file);
// The needed subset, in the given order.
[[nodiscard]] std::vector<std::string> files_to_download(const std::vector<std::string>& files);

}  // namespace tessera::hub
