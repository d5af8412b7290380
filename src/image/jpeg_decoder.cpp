// JPEG through libjpeg-turbo with the library defaults Pillow uses (ISLOW IDCT, fancy
// upsampling), so the decoded bytes are Pillow's. Adobe CMYK/YCCK files are converted the way
// Pillow does: read as inverted CMYK ("CMYK;I"), then cmyk2rgb from libImaging/Convert.c.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>

#include "image/decoders.hpp"

namespace tessera::image {
namespace {

constexpr std::string_view kFormat = "jpeg";

struct ErrorManager {
    jpeg_error_mgr base;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool truncated;
};

void on_error(j_common_ptr cinfo) {
    auto* manager = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, manager->message);
    std::longjmp(manager->jump, 1);
}

// Warnings are silent, except a premature end of data: Pillow refuses truncated files
// ("image file is truncated") rather than returning grey-filled rows, and so do we.
void on_message(j_common_ptr cinfo, int level) {
    auto* manager = reinterpret_cast<ErrorManager*>(cinfo->err);
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        manager->truncated = true;
        std::snprintf(manager->message, sizeof manager->message, "data ends before the image is complete (truncated file)");
        std::longjmp(manager->jump, 1);
    }
}

// MULDIV255 of libImaging/ImagingUtils.h.
inline int muldiv255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

inline std::uint8_t clip8(int value) { return static_cast<std::uint8_t>(value < 0 ? 0 : (value > 255 ? 255 : value)); }

// libjpeg's longjmp must not skip C++ destructors, so everything with one lives in the caller.
struct JpegState {
    jpeg_decompress_struct cinfo;
    ErrorManager errors;
    std::vector<std::uint8_t> row;
    int orientation = 1;
};

bool run_decode(JpegState& state, Bytes bytes, const DecodeOptions& options, std::string_view name,
                RgbImage& out, std::string& refusal, ErrorCode& refusal_code) {
    jpeg_decompress_struct& cinfo = state.cinfo;
    if (setjmp(state.errors.jump)) {
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    for (jpeg_saved_marker_ptr marker = cinfo.marker_list; marker; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1 && marker->data_length > 6 &&
            std::memcmp(marker->data, "Exif\0\0", 6) == 0) {
            state.orientation = exif_orientation({marker->data + 6, marker->data_length - 6});
            break;  // Pillow keeps the first Exif segment
        }
    }
    const std::uint64_t width = cinfo.image_width;
    const std::uint64_t height = cinfo.image_height;
    if (width == 0 || height == 0 || width * height > options.max_pixels) {
        refusal_code = width == 0 || height == 0 ? ErrorCode::corrupt : ErrorCode::resource_exhausted;
        refusal = "image size " + std::to_string(width) + "x" + std::to_string(height) +
                  (width == 0 || height == 0 ? " has no pixels"
                                             : " exceeds the limit of " + std::to_string(options.max_pixels) + " pixels");
        return false;
    }
    const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    const bool gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = cmyk ? JCS_CMYK : (gray ? JCS_GRAYSCALE : JCS_RGB);
    jpeg_start_decompress(&cinfo);
    const std::size_t components = static_cast<std::size_t>(cinfo.output_components);
    out.width = cinfo.output_width;
    out.height = cinfo.output_height;
    out.pixels.assign(out.width * out.height * 3, 0);
    state.row.assign(out.width * components, 0);
    while (cinfo.output_scanline < cinfo.output_height) {
        std::size_t y = cinfo.output_scanline;
        JSAMPROW row_ptr = state.row.data();
        jpeg_read_scanlines(&cinfo, &row_ptr, 1);
        std::uint8_t* dst = out.pixels.data() + y * out.width * 3;
        const std::uint8_t* src = state.row.data();
        for (std::size_t x = 0; x < out.width; ++x, dst += 3) {
            if (components == 3) {
                std::memcpy(dst, src + x * 3, 3);
            } else if (components == 1) {
                dst[0] = dst[1] = dst[2] = src[x];
            } else {
                // Adobe stores inverted CMYK; Pillow un-inverts ("CMYK;I") then applies cmyk2rgb:
                // X = clip(nk - MULDIV255(C, nk)) with nk = 255 - K.
                const std::uint8_t* p = src + x * 4;
                int nk = 255 - (255 - p[3]);
                for (int channel = 0; channel < 3; ++channel) {
                    dst[channel] = clip8(nk - muldiv255(255 - p[channel], nk));
                }
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    (void)name;
    return true;
}

}  // namespace

DecodedImage decode_jpeg(Bytes bytes, const DecodeOptions& options, std::string_view name) {
    JpegState state{};
    state.cinfo.err = jpeg_std_error(&state.errors.base);
    state.errors.base.error_exit = on_error;
    state.errors.base.emit_message = on_message;
    state.errors.message[0] = '\0';
    state.errors.truncated = false;
    RgbImage image;
    std::string refusal;
    ErrorCode refusal_code = ErrorCode::corrupt;
    const bool ok = run_decode(state, bytes, options, name, image, refusal, refusal_code);
    jpeg_destroy_decompress(&state.cinfo);
    if (!ok) {
        if (!refusal.empty()) fail(refusal_code, name, kFormat, refusal);
        std::string message = state.errors.message;
        // libjpeg-turbo is built for 8-bit samples; 12-bit files are valid JPEG we cannot read.
        ErrorCode code = message.find("precision") != std::string::npos ? ErrorCode::unsupported : ErrorCode::corrupt;
        fail(code, name, kFormat, message);
    }
    return {std::move(image), state.orientation};
}

}  // namespace tessera::image
