#include "hub/snapshot_check.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "hub/cache_layout.hpp"
#include "tessera/error.hpp"

namespace tessera::hub {

namespace fs = std::filesystem;

namespace {

std::optional<nlohmann::json> read_json(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& err) {
        throw Error(ErrorCode::corrupt, path.string() + ": invalid JSON: " + err.what());
    }
}

}  // namespace

void check_no_escaping_symlink(const fs::path& snapshot_dir, const fs::path& relative_file,
                               const fs::path& containment_root) {
    fs::path current = snapshot_dir;
    std::error_code ec;
    for (const auto& part : relative_file) {
        current /= part;
        if (fs::is_symlink(fs::symlink_status(current, ec)) && !is_inside(current, containment_root)) {
            throw Error(ErrorCode::corrupt,
                        current.string() + ": refusing symlink that leads outside the cache (" +
                            containment_root.string() + ")");
        }
    }
}

std::vector<std::string> missing_model_files(const fs::path& snapshot_dir,
                                             const fs::path& containment_root) {
    std::vector<std::string> missing;
    std::set<std::string> seen;
    auto require = [&](const std::string& file) {
        if (!seen.insert(file).second) return;
        check_relative_file_name(file, (snapshot_dir / "modules.json").string());
        check_no_escaping_symlink(snapshot_dir, file, containment_root);
        std::error_code ec;
        if (!fs::is_regular_file(snapshot_dir / file, ec)) missing.push_back(file);
    };
    require("config.json");
    require("tokenizer.json");

    std::error_code ec;
    const fs::path index_path = snapshot_dir / "model.safetensors.index.json";
    if (fs::is_regular_file(snapshot_dir / "model.safetensors", ec) ||
        !fs::exists(index_path, ec)) {
        require("model.safetensors");
    } else {
        check_no_escaping_symlink(snapshot_dir, "model.safetensors.index.json", containment_root);
        auto index = read_json(index_path);
        std::set<std::string> shards;
        if (index && index->contains("weight_map") && (*index)["weight_map"].is_object()) {
            for (const auto& [tensor, shard] : (*index)["weight_map"].items()) {
                if (shard.is_string()) shards.insert(shard.get<std::string>());
            }
        }
        if (shards.empty()) {
            throw Error(ErrorCode::corrupt,
                        index_path.string() + ": weight_map: no shard file names");
        }
        for (const auto& shard : shards) require(shard);
    }

    const fs::path modules_path = snapshot_dir / "modules.json";
    if (fs::exists(modules_path, ec)) {
        check_no_escaping_symlink(snapshot_dir, "modules.json", containment_root);
        auto modules = read_json(modules_path);
        if (modules && modules->is_array()) {
            for (const auto& module : *modules) {
                if (!module.is_object()) continue;
                std::string path = module.value("path", "");
                std::string type = module.value("type", "");
                if (path.empty()) continue;
                auto last_dot = type.rfind('.');
                std::string kind = last_dot == std::string::npos ? type : type.substr(last_dot + 1);
                if (kind == "Pooling") require(path + "/config.json");
                if (kind == "Dense") {
                    require(path + "/config.json");
                    require(path + "/model.safetensors");
                }
            }
        }
    }
    return missing;
}

}  // namespace tessera::hub
