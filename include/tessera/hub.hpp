// Models by name: the known-model registry, the Hugging Face Hub client and its cache.
//
//   // Offline-first: a directory is used as is; a name is looked up in the cache.
//   std::filesystem::path dir = tessera::resolve_model("BAAI/bge-small-en-v1.5");
//   auto embedder = tessera::TextEmbedder::open(dir);
//
//   tessera::PullOptions options;                 // HF_ENDPOINT, HF_TOKEN, HF_HOME honoured
//   tessera::PullResult pulled = tessera::pull_model("sentence-transformers/all-MiniLM-L6-v2", options);
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/error.hpp"

namespace tessera {

struct HubOptions {
    std::optional<std::filesystem::path> cache_dir;  // default: HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub
    std::optional<bool> offline;                     // default: HF_HUB_OFFLINE=1 means offline
    std::optional<std::string> endpoint;             // default: HF_ENDPOINT or https://huggingface.co
    std::optional<std::string> token;                // default: HF_TOKEN
    std::optional<std::filesystem::path> ca_bundle;  // custom CA file; TLS verification stays on
    bool show_progress = true;                       // per-file progress bars on stderr
};

// What the user typed after --model -> a local model directory, never touching the network.
// An existing directory is used as is. Otherwise `name_or_path` is a registry name or alias
// ("bge-small-en-v1.5", "all-minilm", "Qdrant/clip-ViT-B-32-vision") or a Hub repo id
// ("ORG/NAME[@REVISION]") resolved in the cache. Errors: not_found, with the list of missing
// files and the `tessera pull ...` command that fetches them.
[[nodiscard]] std::filesystem::path resolve_model(std::string_view name_or_path,
                                                  const HubOptions& options = {});

// The models used when a command gets no --model.
[[nodiscard]] std::string default_text_model();   // "BAAI/bge-small-en-v1.5"
[[nodiscard]] std::string default_image_model();  // "openai/clip-vit-base-patch32"

struct PullResult {
    std::string repo_id;
    std::string revision;      // the commit hash
    std::filesystem::path snapshot_dir;
    std::vector<std::string> files;
    std::uint64_t downloaded_bytes = 0;
};

// Downloads what the engine needs into the cache (resume, SHA-256 check, atomic install, file lock).
// Errors: unavailable (network, offline), not_found (model/revision), unauthenticated (401/403),
// corrupt (checksum mismatch), invalid_argument (hostile file names).
PullResult pull_model(std::string_view name, const HubOptions& options = {});

// One entry of the known-model registry (`tessera models list`).
struct KnownModel {
    std::string repo_id;                // "BAAI/bge-small-en-v1.5"
    std::vector<std::string> aliases;   // FastEmbed and Ollama names
    std::string architecture;           // model_type
    std::string modality;               // "text" or "image+text"
    std::size_t dimensions = 0;
    std::size_t max_tokens = 0;
    std::string pooling;
    std::string query_prefix;
    std::string passage_prefix;
    double size_mb = 0;
    std::string license;
};

[[nodiscard]] const std::vector<KnownModel>& known_models();
// The registry entry for a name or alias, if any.
[[nodiscard]] const KnownModel* find_known_model(std::string_view name_or_alias);

// A model present in the cache (`tessera models list`, `tessera models rm`).
struct CachedModel {
    std::string repo_id;
    std::vector<std::string> refs;       // "main", tags and branches pointing at a snapshot
    std::vector<std::string> commits;    // snapshots present
    std::uint64_t size_bytes = 0;        // blobs on disk
    bool complete = false;               // the refs/main (or only) snapshot has every needed file
};

// Every model in the cache, sorted by repo id. Never touches the network.
[[nodiscard]] std::vector<CachedModel> list_cached_models(const HubOptions& options = {});

// Removes a model (name, alias or ORG/NAME) from the cache and returns the bytes freed.
// Errors: not_found if it is not cached, invalid_argument for a malformed name.
std::uint64_t remove_cached_model(std::string_view name, const HubOptions& options = {});

// Copies a model directory into `destination` as plain files (symlinks dereferenced), for copying
// onto an air-gapped device and using it as `--model DIR`. Errors: not_found, io.
void export_model_directory(const std::filesystem::path& model_dir,
                            const std::filesystem::path& destination);

// Writes the model's cache entry (refs, snapshot symlinks, blobs) as one POSIX tar, to be
// unpacked with `tar -xf FILE -C <cache dir>` on the target so names resolve offline there.
// Errors: not_found (not cached), io.
void export_model_archive(std::string_view name, const std::filesystem::path& archive_path,
                          const HubOptions& options = {});

// The cache directory these options mean (cache_dir, else HF_HUB_CACHE, HF_HOME/hub, ...).
[[nodiscard]] std::filesystem::path hub_cache_dir(const HubOptions& options = {});

}  // namespace tessera
