// Images in, model-ready tensors out: decoding (JPEG, PNG, WebP, TIFF, GIF, BMP, chosen by magic
// bytes), EXIF orientation, RGB conversion with Pillow's `convert("RGB")` semantics, and the
// Hugging Face `CLIPImageProcessor` preprocessing (Pillow-exact bicubic resize, centre crop,
// rescale, normalise) to a CHW float tensor.
//
//   tessera::RgbImage image = tessera::load_image(tessera::ImageSource::from_path("cat.jpg"));
//   auto config = tessera::load_preprocess_config("models/clip/preprocessor_config.json");
//   std::vector<float> chw = tessera::preprocess_image(image, config);   // 3 x 224 x 224
//   // the same steps, one at a time:
//   tessera::RgbImage crop = tessera::resize_and_crop(image, config);     // uint8, 224 x 224
//
// Every function that can fail throws tessera::Error naming the source and what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/embedder.hpp"  // ImageSource
#include "tessera/error.hpp"

namespace tessera {

// An 8-bit RGB image, rows top to bottom, pixels R,G,B interleaved (HWC).
struct RgbImage {
    std::size_t width = 0;
    std::size_t height = 0;
    std::vector<std::uint8_t> pixels;  // width * height * 3 bytes

    [[nodiscard]] const std::uint8_t* at(std::size_t x, std::size_t y) const {
        return pixels.data() + (y * width + x) * 3;
    }
};

enum class ImageFormat { unknown, jpeg, png, webp, tiff, gif, bmp };

// "jpeg", "png", ... ("unknown" for unknown).
[[nodiscard]] std::string_view image_format_name(ImageFormat format) noexcept;

// The format the leading bytes announce (file names are never consulted).
[[nodiscard]] ImageFormat detect_image_format(std::span<const std::uint8_t> bytes) noexcept;

struct DecodeOptions {
    // Images whose header claims more pixels are refused before any pixel buffer is allocated.
    std::uint64_t max_pixels = 100'000'000;
    bool apply_exif_orientation = true;  // as PIL.ImageOps.exif_transpose
};

struct FetchOptions {
    std::size_t max_bytes = 50u << 20;  // larger downloads are cancelled (resource_exhausted)
    long timeout_ms = 30'000;           // whole transfer, connection included (cancelled)
};

// Decodes an image held in memory: the first frame, EXIF-transposed, converted to RGB as Pillow's
// `convert("RGB")` does (alpha dropped without compositing, palette looked up, 16-bit grey
// clipped). `name` is used in error messages only. Errors: invalid_argument (empty input, not
// an image), corrupt (damaged or truncated data), unsupported (e.g. 12-bit JPEG),
// resource_exhausted (more than max_pixels).
[[nodiscard]] RgbImage decode_image(std::span<const std::uint8_t> bytes,
                                    const DecodeOptions& options = {},
                                    std::string_view name = "<bytes>");

// Reads a file and decodes it. Errors: not_found, io, plus those of decode_image.
[[nodiscard]] RgbImage decode_image_file(const std::filesystem::path& path,
                                         const DecodeOptions& options = {});

// Downloads an http(s) URL with libcurl. Errors: invalid_argument (not http/https),
// unavailable (unreachable host, HTTP status >= 400), not_found (HTTP 404),
// resource_exhausted (larger than max_bytes), cancelled (timeout).
[[nodiscard]] std::vector<std::uint8_t> fetch_url(const std::string& url,
                                                  const FetchOptions& options = {});

// Path, bytes or URL -> RGB image. Errors: those of decode_image_file / fetch_url / decode_image,
// prefixed with the source's location.
[[nodiscard]] RgbImage load_image(const ImageSource& source, const DecodeOptions& options = {},
                                  const FetchOptions& fetch = {});

// Pillow's resampling filters (PIL.Image.Resampling values).
enum class ResampleFilter { nearest = 0, lanczos = 1, bilinear = 2, bicubic = 3, box = 4, hamming = 5 };

// Resizes to width x height exactly as Pillow 9's `Image.resize` (Resample.c: separable,
// horizontal pass first into 8-bit, 22-bit fixed-point coefficients, antialiased when shrinking).
// Same size returns a copy. Errors: invalid_argument for a zero target size.
[[nodiscard]] RgbImage resize_image(const RgbImage& image, std::size_t width, std::size_t height,
                                    ResampleFilter filter = ResampleFilter::bicubic);

// Only the window [left, left+window_width) x [top, top+window_height) of that resize, computed
// without the rest (same bytes as resize_image then crop_image). Errors: invalid_argument.
[[nodiscard]] RgbImage resize_image_window(const RgbImage& image, std::size_t width, std::size_t height,
                                           std::size_t left, std::size_t top, std::size_t window_width,
                                           std::size_t window_height,
                                           ResampleFilter filter = ResampleFilter::bicubic);

// The window [left, left+width) x [top, top+height), which must lie inside the image
// (invalid_argument otherwise). center_crop pads with zeros when the image is smaller, as
// transformers' center_crop does.
[[nodiscard]] RgbImage crop_image(const RgbImage& image, std::size_t left, std::size_t top,
                                  std::size_t width, std::size_t height);
[[nodiscard]] RgbImage center_crop(const RgbImage& image, std::size_t width, std::size_t height);

// What preprocessor_config.json says (CLIPImageProcessor and the plain "resize to a square"
// processors such as ViTImageProcessor / SiglipImageProcessor).
struct PreprocessConfig {
    bool do_resize = true;
    // size {"shortest_edge": N} (or a bare integer, as old CLIP configs write it) -> shortest edge
    // N keeping the aspect ratio; size {"height": H, "width": W} -> exactly H x W.
    std::size_t shortest_edge = 224;  // 0 when resizing to a fixed size
    std::size_t resize_height = 0;
    std::size_t resize_width = 0;
    ResampleFilter resample = ResampleFilter::bicubic;
    bool do_center_crop = true;
    std::size_t crop_height = 224;
    std::size_t crop_width = 224;
    bool do_rescale = true;
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    float image_mean[3] = {0.48145466F, 0.4578275F, 0.40821073F};
    float image_std[3] = {0.26862954F, 0.26130258F, 0.27577711F};

    // Height and width of the tensor preprocess_image produces.
    [[nodiscard]] std::size_t output_height() const;
    [[nodiscard]] std::size_t output_width() const;
};

// Parses preprocessor_config.json; missing keys keep CLIP's defaults. Errors: not_found,
// corrupt (not JSON), invalid_argument (e.g. "preprocessor_config.json: image_std: 0 at index 1").
[[nodiscard]] PreprocessConfig load_preprocess_config(const std::filesystem::path& path);
[[nodiscard]] PreprocessConfig parse_preprocess_config(std::string_view json_text,
                                                       std::string_view name = "preprocessor_config.json");

// Steps 3-4 of the processor on uint8 pixels: resize (shortest edge or square) and centre crop.
[[nodiscard]] RgbImage resize_and_crop(const RgbImage& image, const PreprocessConfig& config);

// Step 5: rescale and normalise a uint8 image into `out` (3 x height x width floats, CHW),
// bit-exact with transformers' float32 arithmetic.
void image_to_chw(const RgbImage& image, const PreprocessConfig& config, std::span<float> out);

// All steps: resize_and_crop then image_to_chw. Returns 3 x output_height x output_width floats.
[[nodiscard]] std::vector<float> preprocess_image(const RgbImage& image, const PreprocessConfig& config);

}  // namespace tessera
