// `tessera similarity`: zero-shot classification and text-to-image matching with a CLIP model.
// For each image, the cosine similarity with each text and the softmax over the texts of
// logit_scale * cosine (CLIP's zero-shot probabilities), as a table or as JSON.
//
//   tessera similarity --model openai/clip-vit-base-patch32 --image cat.jpg dog.png \
//       --text "a photo of a cat" --text "a photo of a dog"
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/embed_image.hpp"
#include "cli/model_option.hpp"
#include "tessera/embedder.hpp"

namespace tessera::cli {

namespace {

struct SimilarityOptions {
    ImageEmbedOptions images;
    std::vector<std::string> texts;
    bool json = false;
};

std::string shorten(const std::string& text, std::size_t width) {
    if (text.size() <= width) return text;
    return "..." + text.substr(text.size() - (width - 3));
}

void run_similarity(const SimilarityOptions& options, const ModelOption& model) {
    if (options.texts.empty()) throw Error(ErrorCode::invalid_argument, "--text: give at least one text to compare with");
    const std::vector<ImageSource> sources = expand_image_arguments(options.images.images);
    auto embedder = ImageEmbedder::open(model.resolve(), image_embedder_options(options.images));
    const Matrix text_vectors = embedder->embed_texts(options.texts);
    const ImageBatchResult images = embedder->embed_images(sources);
    const float scale = embedder->logit_scale();

    nlohmann::json out;
    out["model"] = embedder->info().model_dir.string();
    out["logit_scale"] = scale;
    out["texts"] = options.texts;
    out["results"] = nlohmann::json::array();
    std::optional<ErrorCode> first_failure;
    for (std::size_t image_idx = 0; image_idx < sources.size(); ++image_idx) {
        nlohmann::json row;
        row["index"] = image_idx;
        row["image"] = sources[image_idx].location;
        if (images.errors[image_idx]) {
            if (!first_failure) first_failure = images.errors[image_idx]->code();
            row["error"] = images.errors[image_idx]->what();
            std::cerr << "tessera: error: " << images.errors[image_idx]->what() << "\n";
            out["results"].push_back(row);
            continue;
        }
        std::vector<double> cosine(options.texts.size());
        std::vector<double> probability(options.texts.size());
        double max_logit = -INFINITY;
        for (std::size_t text_idx = 0; text_idx < options.texts.size(); ++text_idx) {
            double dot = 0;
            const auto a = images.embeddings.row(image_idx);
            const auto b = text_vectors.row(text_idx);
            for (std::size_t d = 0; d < a.size(); ++d) dot += static_cast<double>(a[d]) * b[d];
            cosine[text_idx] = dot;
            max_logit = std::max(max_logit, scale * dot);
        }
        double total = 0;
        for (std::size_t text_idx = 0; text_idx < cosine.size(); ++text_idx) {
            probability[text_idx] = std::exp(scale * cosine[text_idx] - max_logit);
            total += probability[text_idx];
        }
        for (double& p : probability) p /= total;
        row["cosine"] = cosine;
        row["probability"] = probability;
        row["best"] = options.texts[static_cast<std::size_t>(
            std::max_element(probability.begin(), probability.end()) - probability.begin())];
        out["results"].push_back(row);
    }

    if (options.json) {
        std::cout << out.dump(2) << "\n";
    } else {
        // One row per image; per text "cosine (probability)".
        constexpr std::size_t kImageWidth = 32;
        std::size_t column = 18;
        for (const auto& text : options.texts) column = std::max(column, std::min<std::size_t>(text.size() + 2, 40));
        std::printf("%-*s", static_cast<int>(kImageWidth), "image");
        for (const auto& text : options.texts) std::printf("  %-*s", static_cast<int>(column), shorten(text, column).c_str());
        std::printf("\n");
        for (const auto& row : out["results"]) {
            std::printf("%-*s", static_cast<int>(kImageWidth), shorten(row["image"].get<std::string>(), kImageWidth).c_str());
            if (row.contains("error")) {
                std::printf("  error (see above)\n");
                continue;
            }
            for (std::size_t text_idx = 0; text_idx < options.texts.size(); ++text_idx) {
                char cell[64];
                std::snprintf(cell, sizeof cell, "%.4f (%5.1f%%)", row["cosine"][text_idx].get<double>(),
                              100.0 * row["probability"][text_idx].get<double>());
                std::printf("  %-*s", static_cast<int>(column), cell);
            }
            std::printf("\n");
        }
        std::printf("cosine similarity (softmax over the texts of %.1f x cosine)\n", scale);
        std::fflush(stdout);
    }
    if (first_failure) set_exit_code(exit_code(*first_failure));
}

const bool registered = register_command({
    .name = "similarity",
    .order = 15,
    .setup =
        [](CLI::App& app) {
            auto* cmd = app.add_subcommand(
                "similarity", "CLIP: cosine similarity and zero-shot probabilities of images against texts");
            auto options = std::make_shared<SimilarityOptions>();
            auto model = add_model_options(cmd, ModelKind::image);
            cmd->add_option("--image,-i", options->images.images, "Image files, directories (recursive) or http(s) URLs")
                ->required();
            cmd->add_option("--text,-t", options->texts, "Texts (labels) to compare with, e.g. \"a photo of a cat\"")->required();
            cmd->add_flag("--json", options->json, "Print JSON instead of a table");
            cmd->add_option("--threads", options->images.threads, "Worker threads (default: all cores)");
            cmd->add_option("--precision", options->images.precision, "fp32 | bf16 | int8")->capture_default_str();
            cmd->add_option("--max-pixels", options->images.max_pixels, "Refuse larger images before decoding")
                ->capture_default_str();
            cmd->add_option("--url-timeout-ms", options->images.url_timeout_ms, "Timeout of each image download")
                ->capture_default_str();
            cmd->add_flag("--no-urls", options->images.no_urls, "Refuse http(s) image sources");
            cmd->callback([options, model] { run_similarity(*options, *model); });
        },
});

}  // namespace

}  // namespace tessera::cli
