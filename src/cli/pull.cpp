// `tessera pull MODEL[@REV]`: download a model into the cache, optionally export it for
// an air-gapped device. One JSON line on stdout; progress and a summary on stderr.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "tessera/hub.hpp"

namespace tessera::cli {

namespace {

struct PullArgs {
    std::string model;
    std::string cache_dir;
    std::string token;
    std::string endpoint;
    std::string ca_bundle;
    std::string export_dir;
    std::string archive;
    bool offline = false;
    bool quiet = false;
};

std::string human_bytes(std::uint64_t bytes) {
    char buffer[32];
    if (bytes < 1024 * 1024) {
        std::snprintf(buffer, sizeof buffer, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    }
    return buffer;
}

void run_pull(const PullArgs& args) {
    HubOptions options;
    if (!args.cache_dir.empty()) options.cache_dir = args.cache_dir;
    if (args.offline) options.offline = true;
    if (!args.endpoint.empty()) options.endpoint = args.endpoint;
    if (!args.token.empty()) options.token = args.token;
    if (!args.ca_bundle.empty()) options.ca_bundle = args.ca_bundle;
    options.show_progress = !args.quiet;

    PullResult pulled = pull_model(args.model, options);
    nlohmann::json line = {{"model", pulled.repo_id},
                           {"revision", pulled.revision},
                           {"path", pulled.snapshot_dir.string()},
                           {"files", pulled.files},
                           {"downloaded_bytes", pulled.downloaded_bytes}};
    if (!args.quiet) {
        std::cerr << "tessera: " << pulled.repo_id << "@" << pulled.revision.substr(0, 12) << " is in "
                  << pulled.snapshot_dir.string() << " (" << pulled.files.size() << " files, "
                  << human_bytes(pulled.downloaded_bytes) << " downloaded)\n";
    }
    if (!args.export_dir.empty()) {
        export_model_directory(pulled.snapshot_dir, args.export_dir);
        line["export"] = args.export_dir;
        if (!args.quiet) std::cerr << "tessera: exported to " << args.export_dir << " (use --model " << args.export_dir << ")\n";
    }
    if (!args.archive.empty()) {
        HubOptions cached = options;
        cached.offline = true;
        export_model_archive(pulled.repo_id + "@" + pulled.revision, args.archive, cached);
        line["archive"] = args.archive;
        if (!args.quiet) {
            std::cerr << "tessera: wrote " << args.archive << "; on the target run: tar -xf "
                      << args.archive << " -C ~/.cache/huggingface/hub   (or your HF_HUB_CACHE)\n";
        }
    }
    std::cout << line.dump() << "\n";
}

const bool registered = register_command({
    .name = "pull",
    .order = 60,
    .setup =
        [](CLI::App& app) {
            auto args = std::make_shared<PullArgs>();
            CLI::App* cmd = app.add_subcommand(
                "pull", "download a model from the Hugging Face Hub (or HF_ENDPOINT) into the cache");
            cmd->add_option("model", args->model,
                            "Hub id ORG/NAME[@REVISION] or a known name (tessera models list)")
                ->required();
            cmd->add_option("--cache-dir", args->cache_dir,
                            "cache directory (default HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub)");
            cmd->add_option("--token", args->token,
                            "Hub access token for gated/private models (default HF_TOKEN, HF_HOME/token)");
            cmd->add_option("--endpoint", args->endpoint, "Hub URL or mirror (default HF_ENDPOINT, https://huggingface.co)");
            cmd->add_option("--ca-bundle", args->ca_bundle,
                            "PEM file of CA certificates to trust (verification is never disabled)")
                ->check(CLI::ExistingFile);
            auto* export_opt = cmd->add_option("--export", args->export_dir,
                                               "also copy the model as plain files into DIR");
            auto* archive_opt = cmd->add_option("--archive", args->archive,
                                                "also write the model's cache entry as one .tar");
            export_opt->excludes(archive_opt);
            cmd->add_flag("--offline", args->offline,
                          "never connect: only check the cache (and export from it)");
            cmd->add_flag("-q,--quiet", args->quiet, "no progress bars or summary");
            cmd->callback([args] { run_pull(*args); });
        },
});

}  // namespace

}  // namespace tessera::cli
