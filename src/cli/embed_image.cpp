// `tessera embed --image`: photos and screenshots to vectors, in chunks so output streams and
// memory stays bounded on large directories; a broken file fails only its own line.
#include "cli/embed_image.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/input.hpp"
#include "core/progress.hpp"

namespace tessera::cli {

namespace {

constexpr std::size_t kChunkImages = 64;
constexpr std::size_t kProgressThreshold = 256;

bool has_image_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* known : {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp"}) {
        if (ext == known) return true;
    }
    return false;
}

bool is_url(const std::string& text) { return text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0; }

}  // namespace

std::vector<ImageSource> expand_image_arguments(const std::vector<std::string>& arguments) {
    if (arguments.empty()) throw Error(ErrorCode::invalid_argument, "--image: no images given");
    std::vector<ImageSource> sources;
    for (const std::string& argument : arguments) {
        if (is_url(argument)) {
            sources.push_back(ImageSource::from_url(argument));
            continue;
        }
        std::error_code ec;
        const std::filesystem::path path(argument);
        if (std::filesystem::is_directory(path, ec)) {
            std::vector<std::string> found;
            for (auto it = std::filesystem::recursive_directory_iterator(
                     path, std::filesystem::directory_options::skip_permission_denied, ec);
                 !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
                if (it->is_regular_file(ec) && has_image_extension(it->path())) found.push_back(it->path().string());
            }
            if (ec) throw Error(ErrorCode::io, argument + ": cannot list the directory: " + ec.message());
            if (found.empty()) {
                throw Error(ErrorCode::invalid_argument,
                            argument + ": directory holds no image files (.jpg .jpeg .png .webp .tif .tiff .gif .bmp)");
            }
            std::sort(found.begin(), found.end());
            for (auto& file : found) sources.push_back(ImageSource::from_path(std::move(file)));
        } else if (std::filesystem::exists(path, ec)) {
            sources.push_back(ImageSource::from_path(argument));
        } else {
            throw Error(ErrorCode::not_found, argument + ": no such file or directory");
        }
    }
    return sources;
}

Precision parse_image_precision(const std::string& name) {
    if (name == "fp32") return Precision::fp32;
    if (name == "bf16") return Precision::bf16;
    if (name == "int8") return Precision::int8;
    throw Error(ErrorCode::invalid_argument, "--precision: expected fp32, bf16 or int8, got '" + name + "'");
}

ImageEmbedderOptions image_embedder_options(const ImageEmbedOptions& options) {
    return ImageEmbedderOptions{.thread_count = options.threads,
                                .precision = parse_image_precision(options.precision),
                                .max_pixels = options.max_pixels,
                                .allow_urls = !options.no_urls,
                                .url_timeout_ms = options.url_timeout_ms};
}

void run_image_embed(const ImageEmbedOptions& options, const ModelOption& model) {
    const std::vector<ImageSource> sources = expand_image_arguments(options.images);
    auto embedder = ImageEmbedder::open(model.resolve(), image_embedder_options(options));
    const std::size_t dim = embedder->info().output_dim;
    Matrix all;
    if (!options.output.empty()) all = Matrix(sources.size(), dim);
    std::size_t failures = 0;
    std::optional<ErrorCode> first_failure;
    core::ProgressBar progress("embed", sources.size(), "images",
                               core::ProgressOptions{.enabled = sources.size() >= kProgressThreshold});
    for (std::size_t first = 0; first < sources.size(); first += kChunkImages) {
        const std::size_t count = std::min(kChunkImages, sources.size() - first);
        const ImageBatchResult result = embedder->embed_images(std::span<const ImageSource>(sources).subspan(first, count));
        for (std::size_t slot = 0; slot < count; ++slot) {
            const std::size_t index = first + slot;
            if (result.errors[slot]) {
                ++failures;
                if (!first_failure) first_failure = result.errors[slot]->code();
                // The embedder numbers items within the chunk; report the position in the whole list.
                std::string reason = result.errors[slot]->what();
                const std::string chunk_prefix = "image " + std::to_string(slot) + ": ";
                if (reason.rfind(chunk_prefix, 0) == 0) reason.erase(0, chunk_prefix.size());
                std::cerr << "tessera: error: image " << index << ": " << reason << "\n";
                continue;
            }
            const auto row = result.embeddings.row(slot);
            if (options.output.empty()) {
                std::ostringstream line;
                Matrix single(1, dim);
                std::copy(row.begin(), row.end(), single.row(0).begin());
                write_embeddings_jsonl(line, single, index);
                // {"index":N,"embedding":[...]} -> {"index":N,"image":"...","embedding":[...]}
                std::string text = line.str();
                const std::size_t at = text.find(",\"embedding\"");
                if (at != std::string::npos) {
                    text.insert(at, ",\"image\":" + nlohmann::json(sources[index].location).dump());
                }
                std::cout << text;
            } else {
                std::copy(row.begin(), row.end(), all.row(index).begin());
            }
        }
        std::cout.flush();
        progress.advance(count);
    }
    progress.finish();
    if (!options.output.empty()) {
        write_npy(options.output, all);
        std::cerr << "wrote " << all.rows() << " x " << all.cols() << " float32 to " << options.output
                  << (failures ? " (rows of failed images are zero)" : "") << "\n";
    }
    if (failures) {
        std::cerr << "tessera: " << failures << " of " << sources.size() << " images failed\n";
        set_exit_code(exit_code(*first_failure));
    }
}

}  // namespace tessera::cli
