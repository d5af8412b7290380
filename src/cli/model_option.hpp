// The --model / --offline / --cache-dir options every model-using subcommand shares.
//
//   auto model = tessera::cli::add_model_options(cmd, tessera::cli::ModelKind::text);
//   cmd->callback([model] {
//       std::filesystem::path dir = model->resolve();   // a directory, a cached name, or pulled
//       auto embedder = tessera::TextEmbedder::open(dir);
//   });
//
// --model takes a directory, a registry name or alias (`tessera models list`) or a Hub id
// ORG/NAME[@REV]; without it the default text or image model is used. A name missing from the
// cache is pulled when online; with --offline or HF_HUB_OFFLINE=1 no connection is ever opened
// and the error lists the missing files and the `tessera pull` command that fetches them.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "tessera/hub.hpp"

namespace tessera::cli {

enum class ModelKind { text, image };

struct ModelOption {
    ModelKind kind = ModelKind::text;
    std::string model;      // empty: default_text_model() / default_image_model()
    bool offline = false;   // also true when HF_HUB_OFFLINE=1
    std::string cache_dir;  // empty: HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub

    // The name the user asked for, or the default of this kind.
    [[nodiscard]] std::string name() const;
    // The HubOptions these flags mean (offline, cache_dir; endpoint/token from the environment).
    [[nodiscard]] HubOptions hub_options() const;
    // A local model directory. Errors: not_found (not cached, offline), unavailable (download
    // failed), unauthenticated, invalid_argument (malformed name).
    [[nodiscard]] std::filesystem::path resolve() const;
};

// Adds --model (-m), --offline and --cache-dir to `command`, bound to `option`, which must outlive
// the parse (keep it in a shared_ptr captured by the callback, as the overload below does).
void add_model_options(CLI::App* command, ModelOption& option);
std::shared_ptr<ModelOption> add_model_options(CLI::App* command, ModelKind kind);

}  // namespace tessera::cli
