// decode_image(): magic-byte dispatch to the per-format decoders, the pixel limit, EXIF
// orientation (parsing and PIL's exif_transpose) and the path/bytes/URL entry points.
#include <algorithm>
#include <cstring>
#include <string>

#include "core/mapped_file.hpp"
#include "image/decoders.hpp"

namespace tessera {

std::string_view image_format_name(ImageFormat format) noexcept {
    switch (format) {
        case ImageFormat::jpeg: return "jpeg";
        case ImageFormat::png: return "png";
        case ImageFormat::webp: return "webp";
        case ImageFormat::tiff: return "tiff";
        case ImageFormat::gif: return "gif";
        case ImageFormat::bmp: return "bmp";
        case ImageFormat::unknown: break;
    }
    return "unknown";
}

ImageFormat detect_image_format(std::span<const std::uint8_t> bytes) noexcept {
    auto starts_with = [&](std::string_view magic, std::size_t offset = 0) {
        return bytes.size() >= offset + magic.size() &&
               std::memcmp(bytes.data() + offset, magic.data(), magic.size()) == 0;
    };
    if (starts_with("\xFF\xD8\xFF")) return ImageFormat::jpeg;
    if (starts_with("\x89PNG\r\n\x1A\n")) return ImageFormat::png;
    if (starts_with("RIFF") && starts_with("WEBP", 8)) return ImageFormat::webp;
    if (starts_with(std::string_view("II*\0", 4)) || starts_with(std::string_view("MM\0*", 4)) ||
        starts_with(std::string_view("II+\0", 4)) || starts_with(std::string_view("MM\0+", 4)))
        return ImageFormat::tiff;
    if (starts_with("GIF87a") || starts_with("GIF89a")) return ImageFormat::gif;
    if (starts_with("BM")) return ImageFormat::bmp;
    return ImageFormat::unknown;
}

namespace {

std::string describe_leading_bytes(std::span<const std::uint8_t> bytes) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (std::size_t idx = 0; idx < std::min<std::size_t>(bytes.size(), 8); ++idx) {
        if (idx) out += ' ';
        out += hex[bytes[idx] >> 4];
        out += hex[bytes[idx] & 15];
    }
    return out;
}

}  // namespace

RgbImage decode_image(std::span<const std::uint8_t> bytes, const DecodeOptions& options,
                      std::string_view name) {
    if (bytes.empty()) {
        throw Error(ErrorCode::invalid_argument, std::string(name) + ": empty input (0 bytes), not an image");
    }
    image::DecodedImage decoded;
    switch (detect_image_format(bytes)) {
        case ImageFormat::jpeg: decoded = image::decode_jpeg(bytes, options, name); break;
        case ImageFormat::png: decoded = image::decode_png(bytes, options, name); break;
        case ImageFormat::webp: decoded = image::decode_webp(bytes, options, name); break;
        case ImageFormat::tiff: decoded = image::decode_tiff(bytes, options, name); break;
        case ImageFormat::gif: decoded = image::decode_gif(bytes, options, name); break;
        case ImageFormat::bmp: decoded = image::decode_bmp(bytes, options, name); break;
        case ImageFormat::unknown:
            throw Error(ErrorCode::invalid_argument,
                        std::string(name) + ": not a supported image (JPEG, PNG, WebP, TIFF, GIF, BMP): leading bytes '" +
                            describe_leading_bytes(bytes) + "'");
    }
    if (options.apply_exif_orientation && decoded.orientation != 1) {
        return image::apply_orientation(std::move(decoded.image), decoded.orientation);
    }
    return std::move(decoded.image);
}

RgbImage decode_image_file(const std::filesystem::path& path, const DecodeOptions& options) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw Error(ErrorCode::invalid_argument, path.string() + ": is a directory, not an image file");
    }
    auto file = core::MappedFile::open(path);
    const auto* data = reinterpret_cast<const std::uint8_t*>(file.data());
    return decode_image({data, file.size()}, options, path.string());
}

RgbImage load_image(const ImageSource& source, const DecodeOptions& options, const FetchOptions& fetch) {
    switch (source.kind) {
        case ImageSource::Kind::path: return decode_image_file(source.location, options);
        case ImageSource::Kind::bytes: return decode_image(source.bytes, options, source.location);
        case ImageSource::Kind::url: {
            std::vector<std::uint8_t> bytes = fetch_url(source.location, fetch);
            return decode_image(bytes, options, source.location);
        }
    }
    throw Error(ErrorCode::internal, "load_image: unknown source kind");
}

}  // namespace tessera

namespace tessera::image {

void fail(ErrorCode code, std::string_view name, std::string_view format, const std::string& what) {
    throw Error(code, std::string(name) + ": " + std::string(format) + ": " + what);
}

void check_dimensions(std::uint64_t width, std::uint64_t height, const DecodeOptions& options,
                      std::string_view name, std::string_view format) {
    if (width == 0 || height == 0) {
        fail(ErrorCode::corrupt, name, format,
             "image size " + std::to_string(width) + "x" + std::to_string(height) + " has no pixels");
    }
    // Both factors fit in 32 bits in every format we read, so the product cannot overflow.
    if (width > 0xFFFFFFFFULL || height > 0xFFFFFFFFULL || width * height > options.max_pixels) {
        fail(ErrorCode::resource_exhausted, name, format,
             "image size " + std::to_string(width) + "x" + std::to_string(height) + " exceeds the limit of " +
                 std::to_string(options.max_pixels) + " pixels");
    }
}

RgbImage make_rgb(std::size_t width, std::size_t height) {
    RgbImage image;
    image.width = width;
    image.height = height;
    image.pixels.assign(width * height * 3, 0);
    return image;
}

int exif_orientation(Bytes tiff) {
    if (tiff.size() < 8) return 1;
    bool little;
    if (tiff[0] == 'I' && tiff[1] == 'I') {
        little = true;
    } else if (tiff[0] == 'M' && tiff[1] == 'M') {
        little = false;
    } else {
        return 1;
    }
    auto u16 = [&](std::size_t at) -> std::uint32_t {
        return little ? (tiff[at] | (tiff[at + 1] << 8)) : ((tiff[at] << 8) | tiff[at + 1]);
    };
    auto u32 = [&](std::size_t at) -> std::uint32_t {
        return little ? (u16(at) | (u16(at + 2) << 16)) : ((u16(at) << 16) | u16(at + 2));
    };
    if (u16(2) != 42) return 1;
    std::size_t ifd = u32(4);
    if (ifd + 2 > tiff.size()) return 1;
    std::size_t entry_count = u16(ifd);
    for (std::size_t entry_idx = 0; entry_idx < entry_count; ++entry_idx) {
        std::size_t entry = ifd + 2 + entry_idx * 12;
        if (entry + 12 > tiff.size()) return 1;
        if (u16(entry) != 0x0112) continue;
        std::uint32_t type = u16(entry + 2);
        if (type == 3) return static_cast<int>(u16(entry + 8));        // SHORT
        if (type == 4 || type == 9) return static_cast<int>(u32(entry + 8));  // LONG / SLONG
        return 1;
    }
    return 1;
}

RgbImage apply_orientation(RgbImage in, int orientation) {
    if (orientation < 2 || orientation > 8) return in;
    const std::size_t in_w = in.width;
    const std::size_t in_h = in.height;
    const bool swaps = orientation >= 5;
    RgbImage out = make_rgb(swaps ? in_h : in_w, swaps ? in_w : in_h);
    for (std::size_t y = 0; y < out.height; ++y) {
        for (std::size_t x = 0; x < out.width; ++x) {
            std::size_t src_x = 0;
            std::size_t src_y = 0;
            switch (orientation) {
                case 2: src_x = in_w - 1 - x; src_y = y; break;              // FLIP_LEFT_RIGHT
                case 3: src_x = in_w - 1 - x; src_y = in_h - 1 - y; break;   // ROTATE_180
                case 4: src_x = x; src_y = in_h - 1 - y; break;              // FLIP_TOP_BOTTOM
                case 5: src_x = y; src_y = x; break;                         // TRANSPOSE
                case 6: src_x = y; src_y = in_h - 1 - x; break;              // ROTATE_270 (clockwise)
                case 7: src_x = in_w - 1 - y; src_y = in_h - 1 - x; break;   // TRANSVERSE
                default: src_x = in_w - 1 - y; src_y = x; break;             // 8: ROTATE_90
            }
            std::memcpy(out.pixels.data() + (y * out.width + x) * 3, in.at(src_x, src_y), 3);
        }
    }
    return out;
}

}  // namespace tessera::image
