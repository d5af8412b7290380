#include "server/model_pool.hpp"

#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "server/api_error.hpp"
#include "server/metrics.hpp"

namespace tessera::server {

namespace {

// CLIP checkpoints are the only ones with a vision tower; config.json says which family it is.
bool is_clip_model(const std::filesystem::path& model_dir) {
    std::ifstream in(model_dir / "config.json");
    if (!in) return false;  // TextEmbedder::open reports the missing file properly
    const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!config.is_object()) return false;
    const auto type = config.find("model_type");
    if (type != config.end() && type->is_string() && *type == "clip") return true;
    return config.contains("vision_config") && config.contains("text_config");
}

std::string strip_latest_tag(std::string_view name) {
    if (name.ends_with(":latest")) name.remove_suffix(7);
    return std::string(name);
}

}  // namespace

Matrix truncate_dimensions(const Matrix& vectors, std::size_t dimensions) {
    if (dimensions == 0 || dimensions >= vectors.cols()) return vectors;
    Matrix out(vectors.rows(), dimensions);
    for (std::size_t row_idx = 0; row_idx < vectors.rows(); ++row_idx) {
        const auto source = vectors.row(row_idx);
        auto target = out.row(row_idx);
        double norm_sq = 0;
        for (std::size_t dim = 0; dim < dimensions; ++dim) norm_sq += double(source[dim]) * source[dim];
        const double scale = norm_sq > 0 ? 1.0 / std::sqrt(norm_sq) : 1.0;
        for (std::size_t dim = 0; dim < dimensions; ++dim) target[dim] = float(source[dim] * scale);
    }
    return out;
}

ServedEntry::ServedEntry(const ServedModel& model, const PoolOptions& options, Metrics* metrics)
    : name_(model.name), model_dir_(model.model_dir) {
    const auto started = std::chrono::steady_clock::now();
    if (is_clip_model(model.model_dir)) {
        image_ = ImageEmbedder::open(model.model_dir,
                                     ImageEmbedderOptions{.thread_count = options.engine_threads,
                                                          .allow_urls = options.allow_image_urls});
    } else {
        text_ = TextEmbedder::open(model.model_dir,
                                   EmbedderOptions{.thread_count = options.engine_threads,
                                                   .max_batch_tokens = options.max_batch_tokens});
        BatcherOptions batcher_options{.max_batch_tokens = options.max_batch_tokens};
        if (metrics) {
            batcher_options.on_batch = [metrics, name = name_](const BatchStats& stats) {
                metrics->observe_batch(name, stats);
            };
        }
        batcher_ = std::make_unique<Batcher>(*text_, std::move(batcher_options));
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    load_seconds_ = elapsed.count();
}

ServedEntry::~ServedEntry() { shutdown(); }

void ServedEntry::shutdown() {
    if (batcher_) batcher_->shutdown();
}

const ModelInfo& ServedEntry::info() const { return text_ ? text_->info() : image_->info(); }
const Tokenizer& ServedEntry::tokenizer() const { return text_ ? text_->tokenizer() : image_->tokenizer(); }
std::size_t ServedEntry::queued_items() const { return batcher_ ? batcher_->queued_items() : 0; }

void ServedEntry::check_dimensions(std::size_t dimensions) const {
    const std::size_t output_dim = info().output_dim;
    if (dimensions > output_dim) {
        throw RequestError(ErrorCode::invalid_argument,
                           "dimensions: " + std::to_string(dimensions) + " is more than model '" + name_ +
                               "' has (" + std::to_string(output_dim) + ")")
            .with_param("dimensions");
    }
}

EmbedResult ServedEntry::embed_texts(std::span<const std::string> texts, const EmbedOptions& options,
                                     Batcher::Clock::time_point deadline) {
    check_dimensions(options.dimensions);
    EmbedResult result;
    if (text_) {
        auto tokens = text_->tokenize(texts, options);
        for (const auto& tokenized : tokens) result.token_count += tokenized.ids.size();
        result.vectors = batcher_->embed(std::move(tokens), options, deadline);
        return result;
    }
    for (const auto& text : texts) result.token_count += image_->tokenizer().encode(text).size();
    {
        std::lock_guard lock(image_mutex_);
        result.vectors = image_->embed_texts(texts);
    }
    result.vectors = truncate_dimensions(result.vectors, options.dimensions);
    return result;
}

EmbedResult ServedEntry::embed_token_ids(std::vector<TokenizedText> inputs, const EmbedOptions& options,
                                         Batcher::Clock::time_point deadline) {
    if (!text_) {
        throw RequestError(ErrorCode::unsupported,
                           "model '" + name_ + "' (CLIP) takes texts and images, not token ids")
            .with_param("input");
    }
    check_dimensions(options.dimensions);
    const std::size_t vocab_size = info().vocab_size;
    const std::size_t max_length = info().max_seq_length;
    EmbedResult result;
    for (std::size_t input_idx = 0; input_idx < inputs.size(); ++input_idx) {
        const auto& ids = inputs[input_idx].ids;
        const std::string where = "input[" + std::to_string(input_idx) + "]";
        if (ids.empty()) {
            throw RequestError(ErrorCode::invalid_argument, where + ": empty token list").with_param("input");
        }
        if (max_length > 0 && ids.size() > max_length) {
            throw RequestError(ErrorCode::invalid_argument,
                               where + ": " + std::to_string(ids.size()) + " tokens, more than model '" +
                                   name_ + "' takes (" + std::to_string(max_length) + ")")
                .with_param("input");
        }
        for (std::size_t token_idx = 0; token_idx < ids.size(); ++token_idx) {
            const auto id = ids[token_idx];
            if (id < 0 || std::size_t(id) >= vocab_size) {
                throw RequestError(ErrorCode::invalid_argument,
                                   where + "[" + std::to_string(token_idx) + "]: token id " +
                                       std::to_string(id) + " is outside the vocabulary (0.." +
                                       std::to_string(vocab_size - 1) + ")")
                    .with_param("input");
            }
        }
        result.token_count += ids.size();
    }
    result.vectors = batcher_->embed(std::move(inputs), options, deadline);
    return result;
}

ImageBatchResult ServedEntry::embed_images(std::span<const ImageSource> images) {
    if (!image_) {
        throw RequestError(ErrorCode::unsupported,
                           "model '" + name_ + "' has no vision tower: image inputs need a CLIP model")
            .with_param("input");
    }
    std::lock_guard lock(image_mutex_);
    return image_->embed_images(images);
}

ModelPool::ModelPool(const std::vector<ServedModel>& models, const PoolOptions& options, Metrics* metrics) {
    if (models.empty()) throw Error(ErrorCode::invalid_argument, "serve: no model to serve (give --model)");
    std::set<std::string> names;
    for (const auto& model : models) {
        if (model.name.empty()) throw Error(ErrorCode::invalid_argument, "serve: a model needs a name");
        if (!names.insert(strip_latest_tag(model.name)).second) {
            throw Error(ErrorCode::invalid_argument, "serve: model name '" + model.name + "' given twice");
        }
        try {
            entries_.push_back(std::make_unique<ServedEntry>(model, options, metrics));
        } catch (const Error& err) {
            throw err.with_context("loading model '" + model.name + "' from " + model.model_dir.string());
        }
    }
}

ServedEntry& ModelPool::find(std::optional<std::string_view> name) const {
    if (!name || name->empty()) return *entries_.front();
    const std::string wanted = strip_latest_tag(*name);
    for (const auto& entry : entries_) {
        if (strip_latest_tag(entry->name()) == wanted) return *entry;
    }
    std::string served;
    for (const auto& entry : entries_) served += (served.empty() ? "'" : ", '") + entry->name() + "'";
    throw RequestError(ErrorCode::not_found,
                       "model '" + std::string(*name) + "' is not served here (served: " + served + ")")
        .with_param("model")
        .with_api_code("model_not_found");
}

void ModelPool::shutdown() {
    for (auto& entry : entries_) entry->shutdown();
}

}  // namespace tessera::server
