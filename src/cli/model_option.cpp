#include "cli/model_option.hpp"

#include <iostream>

namespace tessera::cli {

std::string ModelOption::name() const {
    if (!model.empty()) return model;
    return kind == ModelKind::image ? default_image_model() : default_text_model();
}

HubOptions ModelOption::hub_options() const {
    HubOptions options;
    if (!cache_dir.empty()) options.cache_dir = cache_dir;
    if (offline) options.offline = true;
    return options;
}

namespace {

bool offline_env() {
    for (const char* name : {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}) {
        const char* value = std::getenv(name);
        if (value == nullptr) continue;
        std::string lower;
        for (const char* c = value; *c; ++c) lower.push_back(static_cast<char>(std::tolower(*c)));
        if (lower == "1" || lower == "on" || lower == "yes" || lower == "true") return true;
    }
    return false;
}

}  // namespace

std::filesystem::path ModelOption::resolve() const {
    const std::string wanted = name();
    const HubOptions options = hub_options();
    try {
        return resolve_model(wanted, options);
    } catch (const Error& err) {
        // Only a name that is simply absent from the cache is worth a download; paths that do
        // not exist, malformed names and broken caches are reported as they are.
        const bool absent = err.code() == ErrorCode::not_found &&
                            std::string_view(err.what()).find("fetch it with") != std::string_view::npos;
        if (!absent || offline || offline_env()) throw;
        std::cerr << "tessera: " << wanted << " is not in the cache; downloading it (use --offline "
                  << "to never connect)\n";
        try {
            PullResult pulled = pull_model(wanted, options);
            return pulled.snapshot_dir;
        } catch (const Error& pull_err) {
            throw Error(pull_err.code(),
                        std::string(err.what()) + "; downloading it failed too: " + pull_err.what());
        }
    }
}

void add_model_options(CLI::App* command, ModelOption& option) {
    const std::string fallback =
        option.kind == ModelKind::image ? default_image_model() : default_text_model();
    command->add_option("-m,--model", option.model,
                        "model directory, known name (tessera models list) or Hub id "
                        "ORG/NAME[@REV]; default " + fallback);
    command->add_flag("--offline", option.offline,
                      "never open a connection: resolve --model from the cache only "
                      "(also HF_HUB_OFFLINE=1)");
    command->add_option("--cache-dir", option.cache_dir,
                        "model cache (default HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)");
}

std::shared_ptr<ModelOption> add_model_options(CLI::App* command, ModelKind kind) {
    auto option = std::make_shared<ModelOption>();
    option->kind = kind;
    add_model_options(command, *option);
    return option;
}

}  // namespace tessera::cli
