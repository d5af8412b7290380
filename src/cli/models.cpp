// `tessera models list|rm|path`: the registry of known models and what the cache holds.
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "tessera/hub.hpp"

namespace tessera::cli {

namespace {

struct ModelsArgs {
    std::string cache_dir;
    bool json = false;
    std::string name;
    bool offline = true;
};

HubOptions hub_options(const ModelsArgs& args) {
    HubOptions options;
    if (!args.cache_dir.empty()) options.cache_dir = args.cache_dir;
    options.offline = true;
    return options;
}

std::string size_text(double megabytes) {
    char buffer[32];
    if (megabytes >= 1000) {
        std::snprintf(buffer, sizeof buffer, "%.1f GB", megabytes / 1000.0);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.0f MB", megabytes);
    }
    return buffer;
}

std::string prefix_text(const KnownModel& model) {
    if (model.query_prefix.empty() && model.passage_prefix.empty()) return "-";
    auto quote = [](const std::string& text) {
        return text.size() > 18 ? "\"" + text.substr(0, 15) + "...\"" : "\"" + text + "\"";
    };
    std::string text = "q:" + quote(model.query_prefix);
    if (!model.passage_prefix.empty()) text += " p:" + quote(model.passage_prefix);
    return text;
}

void run_list(const ModelsArgs& args) {
    const HubOptions options = hub_options(args);
    std::map<std::string, CachedModel> cached;
    for (auto& model : list_cached_models(options)) cached[model.repo_id] = model;

    auto cached_state = [&](const std::string& repo_id) -> std::string {
        auto it = cached.find(repo_id);
        if (it == cached.end()) return "no";
        return it->second.complete ? "yes" : "partial";
    };
    if (args.json) {
        for (const auto& model : known_models()) {
            nlohmann::json line = {{"name", model.repo_id},
                                   {"aliases", model.aliases},
                                   {"architecture", model.architecture},
                                   {"modality", model.modality},
                                   {"dimensions", model.dimensions},
                                   {"max_tokens", model.max_tokens},
                                   {"pooling", model.pooling},
                                   {"query_prefix", model.query_prefix},
                                   {"passage_prefix", model.passage_prefix},
                                   {"size_mb", model.size_mb},
                                   {"license", model.license},
                                   {"cached", cached_state(model.repo_id)}};
            if (model.repo_id == default_text_model()) line["default"] = "text";
            if (model.repo_id == default_image_model()) line["default"] = "image";
            std::cout << line.dump() << "\n";
        }
        for (const auto& [repo_id, model] : cached) {
            if (find_known_model(repo_id) != nullptr) continue;
            std::cout << nlohmann::json{{"name", repo_id},
                                        {"registry", false},
                                        {"cached", model.complete ? "yes" : "partial"},
                                        {"size_bytes", model.size_bytes}}
                             .dump()
                      << "\n";
        }
        return;
    }
    std::printf("%-62s %-12s %5s %5s %-18s %-40s %8s %-10s %s\n", "NAME (aliases)", "ARCH", "DIMS", "MAX",
                "POOLING", "PREFIXES", "SIZE", "LICENSE", "CACHED");
    for (const auto& model : known_models()) {
        std::string name = model.repo_id;
        if (model.repo_id == default_text_model()) name += " [default text]";
        if (model.repo_id == default_image_model()) name += " [default image]";
        std::string aliases;
        for (const auto& alias : model.aliases) aliases += (aliases.empty() ? "" : ", ") + alias;
        std::printf("%-62s %-12s %5zu %5zu %-18s %-40s %8s %-10s %s\n", name.c_str(),
                    model.architecture.c_str(), model.dimensions, model.max_tokens,
                    model.pooling.c_str(), prefix_text(model).c_str(), size_text(model.size_mb).c_str(),
                    model.license.c_str(), cached_state(model.repo_id).c_str());
        if (!aliases.empty()) std::printf("    aliases: %s\n", aliases.c_str());
    }
    for (const auto& [repo_id, model] : cached) {
        if (find_known_model(repo_id) != nullptr) continue;
        std::printf("%-62s %-12s %5s %5s %-18s %-40s %8s %-10s %s\n", repo_id.c_str(), "?", "?", "?", "?",
                    "(not in registry)", size_text(static_cast<double>(model.size_bytes) / 1e6).c_str(), "?",
                    model.complete ? "yes" : "partial");
    }
    std::fprintf(stderr, "cache: %s\n", hub_cache_dir(options).string().c_str());
}

void run_rm(const ModelsArgs& args) {
    std::uint64_t freed = remove_cached_model(args.name, hub_options(args));
    std::cout << nlohmann::json{{"removed", args.name}, {"freed_bytes", freed}}.dump() << "\n";
    std::fprintf(stderr, "tessera: removed %s (%.1f MB freed)\n", args.name.c_str(),
                 static_cast<double>(freed) / 1e6);
}

void run_path(const ModelsArgs& args) {
    std::cout << resolve_model(args.name, hub_options(args)).string() << "\n";
}

const bool registered = register_command({
    .name = "models",
    .order = 61,
    .setup =
        [](CLI::App& app) {
            auto args = std::make_shared<ModelsArgs>();
            CLI::App* cmd = app.add_subcommand("models", "known models and the model cache");
            cmd->require_subcommand(1);
            CLI::App* list = cmd->add_subcommand(
                "list", "known models (name, architecture, dims, max tokens, pooling, prefixes, size, "
                        "licence) and whether each is cached");
            list->add_flag("--json", args->json, "one JSON object per line");
            list->add_option("--cache-dir", args->cache_dir, "cache directory to inspect");
            list->callback([args] { run_list(*args); });

            CLI::App* rm = cmd->add_subcommand("rm", "remove a model from the cache");
            rm->add_option("name", args->name, "name, alias or ORG/NAME")->required();
            rm->add_option("--cache-dir", args->cache_dir, "cache directory");
            rm->callback([args] { run_rm(*args); });

            CLI::App* path = cmd->add_subcommand(
                "path", "print the local directory of a cached model (never connects)");
            path->add_option("name", args->name, "name, alias, ORG/NAME[@REV] or directory")->required();
            path->add_option("--cache-dir", args->cache_dir, "cache directory");
            path->callback([args] { run_path(*args); });
        },
});

}  // namespace

}  // namespace tessera::cli
