// PNG through libpng, converted as Pillow 9 converts its PNG modes to RGB: palette looked up with
// tRNS ignored, grey (1/2/4/8-bit) replicated, alpha dropped without compositing, 16-bit RGB(A)
// reduced to the most significant byte, and 16-bit grey (Pillow mode "I") CLIPPED to 0..255 rather
// than scaled. Any CRC error fails the file, as Pillow's ChunkStream does. gAMA/iCCP are ignored.
#include <csetjmp>
#include <cstring>

#include <png.h>

#include "image/decoders.hpp"

namespace tessera::image {
namespace {

constexpr std::string_view kFormat = "png";

struct Reader {
    Bytes bytes;
    std::size_t offset = 0;
    char message[256] = {0};
};

void read_bytes(png_structp png, png_bytep out, png_size_t length) {
    auto* reader = static_cast<Reader*>(png_get_io_ptr(png));
    if (reader->bytes.size() - reader->offset < length) {
        png_error(png, "data ends before the image is complete (truncated file)");
    }
    std::memcpy(out, reader->bytes.data() + reader->offset, length);
    reader->offset += length;
}

void on_error(png_structp png, png_const_charp message) {
    auto* reader = static_cast<Reader*>(png_get_error_ptr(png));
    std::snprintf(reader->message, sizeof reader->message, "%s", message);
    png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

struct PngState {
    png_structp png = nullptr;
    png_infop info = nullptr;
    Reader reader;
    std::vector<std::uint8_t> raw;          // decoded rows after libpng's transforms
    std::vector<png_bytep> rows;
    int orientation = 1;
    std::string refusal;
    ErrorCode refusal_code = ErrorCode::corrupt;
};

bool run_decode(PngState& state, const DecodeOptions& options, RgbImage& out) {
    png_structp png = state.png;
    png_infop info = state.info;
    if (setjmp(png_jmpbuf(png))) return false;
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_set_read_fn(png, &state.reader, read_bytes);
    png_read_info(png, info);
    const std::uint64_t width = png_get_image_width(png, info);
    const std::uint64_t height = png_get_image_height(png, info);
    if (width * height > options.max_pixels) {
        state.refusal_code = ErrorCode::resource_exhausted;
        state.refusal = "image size " + std::to_string(width) + "x" + std::to_string(height) +
                        " exceeds the limit of " + std::to_string(options.max_pixels) + " pixels";
        return false;
    }
    const int color_type = png_get_color_type(png, info);
    const int bit_depth = png_get_bit_depth(png, info);
#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 exif_size = 0;
    png_bytep exif = nullptr;
    if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif) {
        state.orientation = exif_orientation({exif, exif_size});
    }
#endif
    const bool gray16 = color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16;
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);  // tRNS deliberately not expanded
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16 && !gray16) png_set_strip_16(png);  // keeps the high byte, like Pillow's ;16B unpackers
    if (gray16) png_set_swap(png);                           // host-order 16-bit samples for clipping
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const std::size_t row_bytes = png_get_rowbytes(png, info);
    const std::size_t channels = png_get_channels(png, info);
    state.raw.assign(row_bytes * height, 0);
    state.rows.resize(height);
    for (std::size_t y = 0; y < height; ++y) state.rows[y] = state.raw.data() + y * row_bytes;
    png_read_image(png, state.rows.data());
    png_read_end(png, nullptr);

    out.width = width;
    out.height = height;
    out.pixels.assign(width * height * 3, 0);
    for (std::size_t y = 0; y < height; ++y) {
        const std::uint8_t* src = state.rows[y];
        std::uint8_t* dst = out.pixels.data() + y * width * 3;
        for (std::size_t x = 0; x < width; ++x, dst += 3) {
            if (gray16) {
                std::uint16_t value;
                std::memcpy(&value, src + x * 2, 2);
                dst[0] = dst[1] = dst[2] = static_cast<std::uint8_t>(value > 255 ? 255 : value);
            } else if (channels >= 3) {
                std::memcpy(dst, src + x * channels, 3);
            } else {
                dst[0] = dst[1] = dst[2] = src[x * channels];
            }
        }
    }
    return true;
}

}  // namespace

DecodedImage decode_png(Bytes bytes, const DecodeOptions& options, std::string_view name) {
    PngState state;
    state.reader.bytes = bytes;
    state.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state.reader, on_error, on_warning);
    if (!state.png) fail(ErrorCode::resource_exhausted, name, kFormat, "libpng could not allocate a decoder");
    state.info = png_create_info_struct(state.png);
    if (!state.info) {
        png_destroy_read_struct(&state.png, nullptr, nullptr);
        fail(ErrorCode::resource_exhausted, name, kFormat, "libpng could not allocate a decoder");
    }
    // libpng's own default cap (1e6 x 1e6) is far above ours; ours is checked after the header.
    RgbImage image;
    const bool ok = run_decode(state, options, image);
    png_destroy_read_struct(&state.png, &state.info, nullptr);
    if (!ok) {
        if (!state.refusal.empty()) fail(state.refusal_code, name, kFormat, state.refusal);
        fail(ErrorCode::corrupt, name, kFormat, state.reader.message);
    }
    return {std::move(image), state.orientation};
}

}  // namespace tessera::image
