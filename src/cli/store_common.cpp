#include "cli/store_common.hpp"

#include <fstream>
#include <iostream>

#include "cli/model_option.hpp"
#include "tessera/hub.hpp"

namespace tessera::cli {

void add_store_option(CLI::App* command, StoreOption& option) {
    command->add_option("--store", option.dir,
                        "Store directory (default: $TESSERA_HOME/store or ~/.local/share/tessera/store)");
    command->add_option("--fsync", option.fsync, "When the log is forced to disk: always | interval | never")
        ->capture_default_str();
}

std::unique_ptr<Store> open_store(const StoreOption& option, bool read_only) {
    StoreOptions options;
    options.read_only = read_only;
    options.fsync = parse_fsync_policy(option.fsync);
    const std::filesystem::path dir = option.dir.empty() ? Store::default_dir() : std::filesystem::path(option.dir);
    return Store::open(dir, options);
}

bool CollectionEmbedder::is_clip(const std::string& model) {
    const auto cached = clip_cache_.find(model);
    if (cached != clip_cache_.end()) return cached->second;
    bool clip = false;
    if (const KnownModel* known = find_known_model(model)) {
        clip = known->modality == "image+text";
    } else {
        // Not in the registry: look at the model's config.json.
        ModelOption option;
        option.model = model;
        std::ifstream file(option.resolve() / "config.json");
        const auto config = nlohmann::json::parse(file, nullptr, false);
        clip = !config.is_discarded() && config.is_object() && config.value("model_type", "") == "clip";
    }
    clip_cache_[model] = clip;
    return clip;
}

std::string CollectionEmbedder::vector_for(Modality modality, const std::string& requested) {
    const char* what = modality == Modality::text ? "texts" : "images";
    if (!requested.empty() || (config_.vectors.size() == 1 && config_.vectors.count(requested))) {
        const auto found = config_.vectors.find(requested);
        if (found == config_.vectors.end()) {
            throw Error(ErrorCode::invalid_argument, "--using: the collection has no vector named '" + requested + "'");
        }
        if (found->second.model.empty()) {
            throw Error(ErrorCode::invalid_argument,
                        "vector '" + requested + "' has no model, so " + what +
                            " cannot be embedded for it; create the collection with --model, or pass vectors");
        }
        if (modality == Modality::image && !is_clip(found->second.model)) {
            throw Error(ErrorCode::invalid_argument, "vector '" + requested + "': model '" + found->second.model +
                                                         "' is a text model and cannot embed images");
        }
        return requested;
    }
    // Prefer a text model for texts and fall back to a CLIP model; images need CLIP.
    std::string fallback;
    bool have_fallback = false;
    for (const auto& [name, vector] : config_.vectors) {
        if (vector.model.empty()) continue;
        const bool clip = is_clip(vector.model);
        if (modality == Modality::image && clip) return name;
        if (modality == Modality::text) {
            if (!clip) return name;
            if (!have_fallback) {
                fallback = name;
                have_fallback = true;
            }
        }
    }
    if (have_fallback) return fallback;
    throw Error(ErrorCode::invalid_argument,
                std::string("the collection has no vector with a model that embeds ") + what +
                    " (create it with --model" + (modality == Modality::image ? " of a CLIP model" : "") + ")");
}

Matrix CollectionEmbedder::embed_texts(const std::string& vector, const std::vector<std::string>& texts, InputKind kind) {
    const std::string& model = config_.vectors.at(vector).model;
    ModelOption option;
    option.model = model;
    if (is_clip(model)) {
        option.kind = ModelKind::image;
        auto& embedder = image_models_[model];
        if (!embedder) embedder = ImageEmbedder::open(option.resolve());
        return embedder->embed_texts(texts);
    }
    auto& embedder = text_models_[model];
    if (!embedder) embedder = TextEmbedder::open(option.resolve());
    EmbedOptions options;
    options.kind = kind;
    return embedder->embed(texts, options);
}

Matrix CollectionEmbedder::embed_images(const std::string& vector, const std::vector<std::string>& paths) {
    const std::string& model = config_.vectors.at(vector).model;
    ModelOption option;
    option.kind = ModelKind::image;
    option.model = model;
    auto& embedder = image_models_[model];
    if (!embedder) embedder = ImageEmbedder::open(option.resolve());
    std::vector<ImageSource> sources;
    for (const auto& path : paths) sources.push_back(ImageSource::from_path(path));
    ImageBatchResult result = embedder->embed_images(sources);
    for (std::size_t idx = 0; idx < result.errors.size(); ++idx) {
        if (result.errors[idx]) throw result.errors[idx]->with_context("image '" + paths[idx] + "'");
    }
    return std::move(result.embeddings);
}

PointId content_id(const std::string& text) {
    auto fnv = [&](std::uint64_t seed) {
        std::uint64_t hash = seed;
        for (const unsigned char c : text) {
            hash ^= c;
            hash *= 0x100000001b3ull;
        }
        return hash;
    };
    const std::uint64_t high = fnv(0xcbf29ce484222325ull);
    const std::uint64_t low = fnv(0x84222325cbf29ce4ull ^ text.size());
    PointId::Uuid bytes;
    for (int idx = 0; idx < 8; ++idx) {
        bytes[std::size_t(idx)] = std::uint8_t(high >> (56 - 8 * idx));
        bytes[std::size_t(8 + idx)] = std::uint8_t(low >> (56 - 8 * idx));
    }
    bytes[6] = std::uint8_t((bytes[6] & 0x0f) | 0x50);  // version 5-style (name-based)
    bytes[8] = std::uint8_t((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return PointId::uuid(bytes);
}

void print_json_line(const nlohmann::json& value) {
    std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace tessera::cli
