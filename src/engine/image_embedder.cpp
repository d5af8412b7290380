// ImageEmbedder: decode -> CLIP preprocessing -> vision tower -> projection -> L2, and the text
// tower for queries in the same space. Decoding and preprocessing run in parallel per image and
// a failing image only fails its own row (errors[i]); the rest of the batch still runs through
// the model together.
#include <cmath>
#include <mutex>

#include "core/thread_pool.hpp"
#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"
#include "kernels/ops.hpp"
#include "models/clip.hpp"
#include "models/registry.hpp"
#include "tessera/embedder.hpp"
#include "tessera/image.hpp"
#include "tessera/tokenizer.hpp"

namespace tessera {
namespace {

// Images per forward pass: large enough to fill GEMMs (16 x 50 rows for ViT-B/32), small enough
// to bound activation memory.
constexpr std::size_t kVisionBatch = 16;

const char* precision_label(Precision precision) {
    switch (precision) {
        case Precision::fp32: return "fp32";
        case Precision::bf16: return "bf16";
        case Precision::int8: return "int8";
    }
    return "fp32";
}

class ImageEmbedderImpl final : public ImageEmbedder {
public:
    ImageEmbedderImpl(const std::filesystem::path& model_dir, const ImageEmbedderOptions& options)
        : options_(options), pool_(options.thread_count) {
        if (!std::filesystem::is_directory(model_dir)) {
            throw Error(ErrorCode::not_found, model_dir.string() + ": not a model directory");
        }
        const auto config = formats::read_model_config(model_dir / "config.json");
        if (config.model_type != "clip" && config.model_type != "clip_vision_model") {
            throw Error(ErrorCode::unsupported, (model_dir / "config.json").string() + ": model_type: '" + config.model_type +
                                                    "' has no vision tower (image models: clip, clip_vision_model)");
        }
        weights_ = formats::WeightStore::open_model_dir(model_dir);
        model_ = models::build_model(config, weights_, {.precision = options.precision, .pool = &pool_});
        clip_ = dynamic_cast<const models::ClipModel*>(model_.get());
        if (clip_ == nullptr) throw Error(ErrorCode::internal, "model_type 'clip' did not build a ClipModel");

        const auto& vision = clip_->vision_config();
        const auto preprocessor_path = model_dir / "preprocessor_config.json";
        if (std::filesystem::exists(preprocessor_path)) {
            preprocess_ = load_preprocess_config(preprocessor_path);
        } else {
            preprocess_.shortest_edge = vision.image_size;
            preprocess_.crop_height = preprocess_.crop_width = vision.image_size;
            info_.defaults_used.push_back("preprocessor_config.json missing: CLIP defaults (shortest edge " +
                                          std::to_string(vision.image_size) + ", bicubic, centre crop, CLIP mean/std)");
        }
        if (preprocess_.output_height() != vision.image_size || preprocess_.output_width() != vision.image_size) {
            throw Error(ErrorCode::unsupported,
                        preprocessor_path.string() + ": produces " + std::to_string(preprocess_.output_width()) + "x" +
                            std::to_string(preprocess_.output_height()) + " images, the vision tower takes " +
                            std::to_string(vision.image_size) + "x" + std::to_string(vision.image_size));
        }
        if (vision.channel_count != 3) {
            throw Error(ErrorCode::unsupported, (model_dir / "config.json").string() + ": num_channels: " +
                                                    std::to_string(vision.channel_count) + " (only RGB models are supported)");
        }
        if (clip_->has_text()) {
            const auto tokenizer_path = model_dir / "tokenizer.json";
            if (std::filesystem::exists(tokenizer_path)) {
                tokenizer_ = Tokenizer::from_file(tokenizer_path);
                tokenizer_->set_padding(std::nullopt);
                // 77 positions including <|startoftext|> and <|endoftext|>: the BPE tokens are cut
                // to 75 before the post-processor adds them, as CLIPTokenizerFast(truncation=True).
                tokenizer_->set_truncation(TruncationParams{.max_length = clip_->text_config().max_positions});
            } else {
                info_.defaults_used.push_back("tokenizer.json missing: text queries are unavailable");
            }
        }

        info_.model_type = config.model_type;
        info_.architecture = clip_->architecture();
        info_.hidden_dim = vision.hidden_dim;
        info_.output_dim = clip_->output_dim();
        info_.layer_count = vision.layer_count;
        info_.head_count = vision.head_count;
        info_.ffn_dim = vision.ffn_dim;
        if (clip_->has_text()) {
            info_.vocab_size = clip_->text_config().vocab_size;
            info_.max_seq_length = clip_->text_config().max_positions;
        }
        info_.pooling = "cls";  // images: class token; texts: the end-of-text token
        info_.normalize = true;
        info_.model_dir = model_dir;
        info_.precision = precision_label(options.precision);
        info_.weight_bytes = weights_->data_bytes();
    }

    ImageBatchResult embed_images(std::span<const ImageSource> images) override {
        const std::size_t count = images.size();
        const std::size_t dim = clip_->output_dim();
        const std::size_t image_floats = 3 * preprocess_.output_height() * preprocess_.output_width();
        ImageBatchResult result;
        result.embeddings = Matrix(count, dim);
        result.errors.assign(count, std::nullopt);
        std::vector<float> pixels(count * image_floats);
        const DecodeOptions decode{.max_pixels = options_.max_pixels, .apply_exif_orientation = true};
        const FetchOptions fetch{.max_bytes = options_.max_url_bytes, .timeout_ms = options_.url_timeout_ms};
        pool_.parallel_for(count, [&](std::size_t begin, std::size_t end) {
            for (std::size_t idx = begin; idx < end; ++idx) {
                try {
                    if (images[idx].kind == ImageSource::Kind::url && !options_.allow_urls) {
                        throw Error(ErrorCode::invalid_argument, images[idx].location + ": URLs are disabled (allow_urls = false)");
                    }
                    const RgbImage image = load_image(images[idx], decode, fetch);
                    const RgbImage ready = resize_and_crop(image, preprocess_);
                    image_to_chw(ready, preprocess_, std::span<float>(pixels.data() + idx * image_floats, image_floats));
                } catch (const Error& err) {
                    result.errors[idx] = err.with_context("image " + std::to_string(idx));
                } catch (const std::bad_alloc&) {
                    result.errors[idx] = Error(ErrorCode::resource_exhausted, "image " + std::to_string(idx) + ": out of memory");
                }
            }
        });
        // Pack the images that decoded and run them through the vision tower together.
        std::vector<std::size_t> good;
        for (std::size_t idx = 0; idx < count; ++idx) {
            if (!result.errors[idx]) good.push_back(idx);
        }
        std::vector<float> batch;
        for (std::size_t first = 0; first < good.size(); first += kVisionBatch) {
            const std::size_t batch_count = std::min(kVisionBatch, good.size() - first);
            batch.resize(batch_count * image_floats);
            for (std::size_t slot = 0; slot < batch_count; ++slot) {
                std::copy_n(pixels.data() + good[first + slot] * image_floats, image_floats, batch.data() + slot * image_floats);
            }
            const models::ClipOutputs out = clip_->run_vision(batch, batch_count, &pool_, models::ClipStates::pooled_token);
            for (std::size_t slot = 0; slot < batch_count; ++slot) {
                auto row = result.embeddings.row(good[first + slot]);
                std::copy_n(out.features.data() + slot * dim, dim, row.data());
                kernels::l2_normalize(row.data(), dim);
            }
        }
        return result;
    }

    Matrix embed_texts(std::span<const std::string> texts) override {
        if (!clip_->has_text()) {
            throw Error(ErrorCode::unsupported, "model_type '" + info_.model_type + "' has no text tower: text queries need a full CLIP model");
        }
        if (!tokenizer_) throw Error(ErrorCode::not_found, (info_.model_dir / "tokenizer.json").string() + ": missing, cannot embed texts");
        const std::vector<Encoding> encodings = tokenizer_->encode_batch(texts, true, pool_.thread_count());
        models::TokenBatch batch;
        for (const Encoding& encoding : encodings) batch.add(encoding.ids);
        const models::ClipOutputs out = clip_->run_text(batch, &pool_, models::ClipStates::pooled_token);
        const std::size_t dim = clip_->output_dim();
        Matrix vectors(texts.size(), dim);
        for (std::size_t idx = 0; idx < texts.size(); ++idx) {
            auto row = vectors.row(idx);
            std::copy_n(out.features.data() + idx * dim, dim, row.data());
            kernels::l2_normalize(row.data(), dim);
        }
        return vectors;
    }

    float logit_scale() const override { return clip_->logit_scale(); }
    const ModelInfo& info() const override { return info_; }
    const Tokenizer& tokenizer() const override {
        if (!tokenizer_) throw Error(ErrorCode::unsupported, "this image model has no tokenizer (no text tower or no tokenizer.json)");
        return *tokenizer_;
    }

private:
    ImageEmbedderOptions options_;
    core::ThreadPool pool_;
    std::shared_ptr<formats::WeightStore> weights_;
    std::unique_ptr<models::Model> model_;
    const models::ClipModel* clip_ = nullptr;
    PreprocessConfig preprocess_;
    std::optional<Tokenizer> tokenizer_;
    ModelInfo info_;
};

}  // namespace

std::unique_ptr<ImageEmbedder> ImageEmbedder::open(const std::filesystem::path& model_dir, const ImageEmbedderOptions& options) {
    try {
        return std::make_unique<ImageEmbedderImpl>(model_dir, options);
    } catch (const Error& err) {
        throw err.with_context("loading image model '" + model_dir.string() + "'");
    }
}

}  // namespace tessera
