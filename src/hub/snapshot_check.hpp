// Which files a model snapshot needs before the engine can load it, and which of them are missing.
//
//   std::vector<std::string> missing = hub::missing_model_files(snapshot_dir, repo_dir);
//   if (!missing.empty()) ...   // e.g. {"model.safetensors", "1_Pooling/config.json"}
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tessera::hub {

// Required: config.json, tokenizer.json, the weights (model.safetensors, or the sharded index and
// every shard it names) and the config of every sentence-transformers module modules.json lists.
// A snapshot entry that is a symlink leading outside `containment_root` throws
// Error(corrupt) naming it: a hostile or broken cache is never followed.
[[nodiscard]] std::vector<std::string> missing_model_files(
    const std::filesystem::path& snapshot_dir, const std::filesystem::path& containment_root);

// Throws Error(corrupt) if `path` is a symlink (at any level below `snapshot_dir`) that resolves
// outside `containment_root`.
void check_no_escaping_symlink(const std::filesystem::path& snapshot_dir,
                               const std::filesystem::path& relative_file,
                               const std::filesystem::path& containment_root);

}  // namespace tessera::hub
