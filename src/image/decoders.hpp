// Internal: one decoder per format behind decode_image(), plus the helpers they share.
// Each decoder returns RGB already converted with Pillow's convert("RGB") semantics for the
// modes that format produces, and the EXIF orientation it found (1 when none).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tessera/image.hpp"

namespace tessera::image {

struct DecodedImage {
    RgbImage image;
    int orientation = 1;  // EXIF tag 0x0112, 1..8
};

using Bytes = std::span<const std::uint8_t>;

DecodedImage decode_jpeg(Bytes bytes, const DecodeOptions& options, std::string_view name);
DecodedImage decode_png(Bytes bytes, const DecodeOptions& options, std::string_view name);
DecodedImage decode_webp(Bytes bytes, const DecodeOptions& options, std::string_view name);
DecodedImage decode_tiff(Bytes bytes, const DecodeOptions& options, std::string_view name);
DecodedImage decode_gif(Bytes bytes, const DecodeOptions& options, std::string_view name);
DecodedImage decode_bmp(Bytes bytes, const DecodeOptions& options, std::string_view name);

// Throws Error(code, "<name>: <format>: <what>").
[[noreturn]] void fail(ErrorCode code, std::string_view name, std::string_view format,
                       const std::string& what);

// Refuses zero-sized images and images above options.max_pixels, before any allocation.
void check_dimensions(std::uint64_t width, std::uint64_t height, const DecodeOptions& options,
                      std::string_view name, std::string_view format);

// The orientation tag (0x0112) of TIFF-structured EXIF data (what follows "Exif\0\0" in a JPEG
// APP1 segment, a WebP EXIF chunk or a PNG eXIf chunk); 1 when absent or unreadable.
int exif_orientation(Bytes tiff_bytes);

// PIL.ImageOps.exif_transpose for orientation 2..8; other values leave the image unchanged.
RgbImage apply_orientation(RgbImage image, int orientation);

// A blank RGB image of the given size (width/height already validated).
RgbImage make_rgb(std::size_t width, std::size_t height);

}  // namespace tessera::image
