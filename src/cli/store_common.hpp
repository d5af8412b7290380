// What the store commands (collection, upsert, search, points, snapshot) share: the --store
// option, opening the store, and embedding texts/images with a collection's model.
//
//   StoreOption store_option;  add_store_option(cmd, store_option);
//   auto store = open_store(store_option);                       // --store or Store::default_dir()
//   CollectionEmbedder embedder(collection->config());
//   std::string vector = embedder.vector_for(Modality::text, "");  // which named vector texts go to
//   tessera::Matrix rows = embedder.embed_texts(vector, texts, tessera::InputKind::query);
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tessera/embedder.hpp"
#include "tessera/store.hpp"

namespace tessera::cli {

struct StoreOption {
    std::string dir;              // --store; empty: Store::default_dir()
    std::string fsync = "always"; // --fsync always|interval|never
};

void add_store_option(CLI::App* command, StoreOption& option);
// Errors: as Store::open (unavailable when another process writes to it).
[[nodiscard]] std::unique_ptr<Store> open_store(const StoreOption& option, bool read_only = false);

enum class Modality { text, image };

// Embeds inputs with the models recorded in a collection's vector configs, loading each model once.
class CollectionEmbedder {
public:
    explicit CollectionEmbedder(const CollectionConfig& config) : config_(config) {}

    // The named vector inputs of this modality go to: `requested` if given (it must exist and
    // have a model), else the first vector whose model handles the modality.
    // Errors: invalid_argument (no such vector, or no vector with a suitable model).
    [[nodiscard]] std::string vector_for(Modality modality, const std::string& requested);

    [[nodiscard]] Matrix embed_texts(const std::string& vector, const std::vector<std::string>& texts, InputKind kind);
    // Errors: invalid_argument naming the first image that failed and why.
    [[nodiscard]] Matrix embed_images(const std::string& vector, const std::vector<std::string>& paths);

private:
    [[nodiscard]] bool is_clip(const std::string& model);

    CollectionConfig config_;
    std::map<std::string, std::unique_ptr<TextEmbedder>> text_models_;
    std::map<std::string, std::unique_ptr<ImageEmbedder>> image_models_;
    std::map<std::string, bool> clip_cache_;
};

// A stable UUID from text (FNV-1a based): the same file or text always gets the same id, so
// upserting a folder twice replaces points instead of duplicating them.
[[nodiscard]] PointId content_id(const std::string& text);

// One JSON object per line on stdout.
void print_json_line(const nlohmann::json& value);

}  // namespace tessera::cli
