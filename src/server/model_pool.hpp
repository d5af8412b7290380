// ModelPool — the models a server serves, each loaded once, with one Batcher per text model.
//
//   ModelPool pool(options.models, {.engine_threads = 0, .max_batch_tokens = 16384}, &metrics);
//   ServedEntry& entry = pool.find("bge-small");            // RequestError 404 if unknown
//   EmbedResult result = entry.embed_texts(texts, EmbedOptions{}, deadline);
//
// Text models (BERT family) go through the cross-request batcher; CLIP models embed texts and
// images through ImageEmbedder, one call at a time per model.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/batcher.hpp"
#include "tessera/embedder.hpp"
#include "tessera/server.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera::server {

class Metrics;

struct EmbedResult {
    Matrix vectors;
    std::size_t token_count = 0;  // tokens the inputs were (after prefix and truncation)
};

struct PoolOptions {
    std::size_t engine_threads = 0;
    std::size_t max_batch_tokens = 16384;
    bool allow_image_urls = false;
};

// One served model.
class ServedEntry {
public:
    ServedEntry(const ServedModel& model, const PoolOptions& options, Metrics* metrics);
    ~ServedEntry();

    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] const std::filesystem::path& model_dir() const { return model_dir_; }
    [[nodiscard]] const ModelInfo& info() const;
    [[nodiscard]] const Tokenizer& tokenizer() const;
    [[nodiscard]] bool has_vision() const { return image_ != nullptr; }
    [[nodiscard]] double load_seconds() const { return load_seconds_; }
    [[nodiscard]] std::size_t queued_items() const;

    // Texts -> vectors. The tokenizing happens on the calling thread. Errors: invalid_argument
    // (bad text, too long with truncate=false, bad dimensions), cancelled (deadline).
    EmbedResult embed_texts(std::span<const std::string> texts, const EmbedOptions& options,
                            Batcher::Clock::time_point deadline);
    // Token ids -> vectors, fed to the model as they are. Errors: invalid_argument (id outside the
    // vocabulary, longer than the model maximum; unsupported on CLIP models).
    EmbedResult embed_token_ids(std::vector<TokenizedText> inputs, const EmbedOptions& options,
                                Batcher::Clock::time_point deadline);
    // Images -> vectors (CLIP only); a failing image is reported in `errors`, as the library does.
    // Errors: unsupported (no vision tower).
    ImageBatchResult embed_images(std::span<const ImageSource> images);

    void shutdown();  // finishes queued work

private:
    void check_dimensions(std::size_t dimensions) const;

    std::string name_;
    std::filesystem::path model_dir_;
    std::unique_ptr<TextEmbedder> text_;
    std::unique_ptr<ImageEmbedder> image_;
    std::unique_ptr<Batcher> batcher_;
    std::mutex image_mutex_;  // ImageEmbedder calls are not assumed thread-safe
    double load_seconds_ = 0;
};

class ModelPool {
public:
    // Errors: invalid_argument (no model, duplicate name), and those of loading a model, with
    // "loading model 'NAME'" as context.
    ModelPool(const std::vector<ServedModel>& models, const PoolOptions& options, Metrics* metrics);

    // nullopt or "": the default (first) model. Ollama's ":latest" tag is ignored.
    // Errors: RequestError not_found (404, api code "model_not_found") listing the served names.
    [[nodiscard]] ServedEntry& find(std::optional<std::string_view> name) const;
    [[nodiscard]] const std::vector<std::unique_ptr<ServedEntry>>& entries() const { return entries_; }
    void shutdown();

private:
    std::vector<std::unique_ptr<ServedEntry>> entries_;
};

// Keeps the first `dimensions` components of each row and L2-normalises them (Matryoshka).
[[nodiscard]] Matrix truncate_dimensions(const Matrix& vectors, std::size_t dimensions);

}  // namespace tessera::server
