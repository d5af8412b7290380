// Image inputs for the CLI: `--image PATH...` arguments (files, directories searched
// recursively, http(s) URLs) and `tessera embed --image` itself.
//
//   std::vector<tessera::ImageSource> sources = tessera::cli::expand_image_arguments({"photos/", "https://x/y.jpg"});
//   tessera::cli::run_image_embed(options, *model);   // JSON Lines / .npy, errors per image on stderr
#pragma once

#include <string>
#include <vector>

#include "cli/model_option.hpp"
#include "tessera/embedder.hpp"

namespace tessera::cli {

// Files as given (their bytes decide the format), directories expanded recursively to the files
// with an image extension (.jpg .jpeg .png .webp .tif .tiff .gif .bmp, any case) in sorted
// order, URLs (http:// or https://) as they are. Errors: not_found for a path that does not
// exist, invalid_argument for an empty list or an empty directory.
[[nodiscard]] std::vector<ImageSource> expand_image_arguments(const std::vector<std::string>& arguments);

struct ImageEmbedOptions {
    std::vector<std::string> images;  // --image arguments
    std::string output;               // .npy path; empty: JSON Lines on stdout
    std::size_t threads = 0;
    std::string precision = "fp32";
    std::uint64_t max_pixels = 100'000'000;
    long url_timeout_ms = 30'000;
    bool no_urls = false;
};

// Precision from its CLI name. Errors: invalid_argument.
[[nodiscard]] Precision parse_image_precision(const std::string& name);

// ImageEmbedderOptions from the CLI flags.
[[nodiscard]] ImageEmbedderOptions image_embedder_options(const ImageEmbedOptions& options);

// Embeds every image: one JSON line {"index","image","embedding"} per image that worked (index =
// position in the expanded list), or a .npy with zero rows for the failures. Each failure is
// printed to stderr with its index and reason, and the exit code becomes the first failure's.
void run_image_embed(const ImageEmbedOptions& options, const ModelOption& model);

}  // namespace tessera::cli
