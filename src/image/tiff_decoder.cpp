// TIFF through libtiff: strips and tiles, every compression libtiff was built with (none, LZW,
// PackBits, Deflate, JPEG, ...), first directory only. Pixels come from libtiff's RGBA reader
// (which handles photometric interpretations, palettes and bit depths); its own orientation
// handling is switched off because orientation is applied afterwards, as PIL's exif_transpose.
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include <tiffio.h>

#include "image/decoders.hpp"

namespace tessera::image {
namespace {

constexpr std::string_view kFormat = "tiff";

struct MemoryStream {
    Bytes bytes;
    toff_t offset = 0;
    std::string first_error;
};

tmsize_t read_proc(thandle_t handle, void* out, tmsize_t size) {
    auto* stream = static_cast<MemoryStream*>(handle);
    if (size < 0 || stream->offset >= stream->bytes.size()) return 0;
    const toff_t available = stream->bytes.size() - stream->offset;
    const toff_t count = std::min<toff_t>(available, static_cast<toff_t>(size));
    std::memcpy(out, stream->bytes.data() + stream->offset, count);
    stream->offset += count;
    return static_cast<tmsize_t>(count);
}
tmsize_t write_proc(thandle_t, void*, tmsize_t) { return 0; }
toff_t seek_proc(thandle_t handle, toff_t offset, int whence) {
    auto* stream = static_cast<MemoryStream*>(handle);
    toff_t base = whence == SEEK_SET ? 0 : (whence == SEEK_CUR ? stream->offset : stream->bytes.size());
    stream->offset = base + offset;
    return stream->offset;
}
int close_proc(thandle_t) { return 0; }
toff_t size_proc(thandle_t handle) { return static_cast<MemoryStream*>(handle)->bytes.size(); }
int map_proc(thandle_t, void**, toff_t*) { return 0; }
void unmap_proc(thandle_t, void*, toff_t) {}

int on_error(TIFF*, void* user_data, const char* module, const char* fmt, va_list args) {
    auto* stream = static_cast<MemoryStream*>(user_data);
    if (stream->first_error.empty()) {
        char buffer[512];
        std::vsnprintf(buffer, sizeof buffer, fmt, args);
        stream->first_error = std::string(module ? module : "libtiff") + ": " + buffer;
    }
    return 1;
}
int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

}  // namespace

DecodedImage decode_tiff(Bytes bytes, const DecodeOptions& options, std::string_view name) {
    MemoryStream stream{bytes, 0, {}};
    TIFFOpenOptions* open_options = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(open_options, on_error, &stream);
    TIFFOpenOptionsSetWarningHandlerExtR(open_options, on_warning, &stream);
    // Bound libtiff's internal allocations (strip buffers etc.) by what the pixel limit allows.
    TIFFOpenOptionsSetMaxSingleMemAlloc(open_options,
                                        static_cast<tmsize_t>(std::min<std::uint64_t>(options.max_pixels * 8 + (64u << 20), 1ULL << 40)));
    TIFF* tif = TIFFClientOpenExt(std::string(name).c_str(), "rm", &stream, read_proc, write_proc, seek_proc,
                                  close_proc, size_proc, map_proc, unmap_proc, open_options);
    TIFFOpenOptionsFree(open_options);
    if (!tif) {
        fail(ErrorCode::corrupt, name, kFormat, stream.first_error.empty() ? "cannot read the header" : stream.first_error);
    }
    struct Closer {
        TIFF* tif;
        ~Closer() { TIFFClose(tif); }
    } closer{tif};

    std::uint32_t width = 0;
    std::uint32_t height = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
    check_dimensions(width, height, options, name, kFormat);
    std::uint16_t orientation = ORIENTATION_TOPLEFT;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);

    char message[1024] = {0};
    TIFFRGBAImage reader;
    if (!TIFFRGBAImageOK(tif, message) || !TIFFRGBAImageBegin(&reader, tif, 1, message)) {
        fail(ErrorCode::unsupported, name, kFormat, message);
    }
    reader.req_orientation = ORIENTATION_TOPLEFT;
    reader.orientation = ORIENTATION_TOPLEFT;  // stored order; exif_transpose does the rest
    std::vector<std::uint32_t> raster(static_cast<std::size_t>(width) * height);
    const int ok = TIFFRGBAImageGet(&reader, raster.data(), width, height);
    TIFFRGBAImageEnd(&reader);
    if (!ok || !stream.first_error.empty()) {
        fail(ErrorCode::corrupt, name, kFormat, stream.first_error.empty() ? "cannot decode the pixel data" : stream.first_error);
    }
    RgbImage image = make_rgb(width, height);
    for (std::size_t idx = 0; idx < raster.size(); ++idx) {
        image.pixels[idx * 3 + 0] = static_cast<std::uint8_t>(TIFFGetR(raster[idx]));
        image.pixels[idx * 3 + 1] = static_cast<std::uint8_t>(TIFFGetG(raster[idx]));
        image.pixels[idx * 3 + 2] = static_cast<std::uint8_t>(TIFFGetB(raster[idx]));
    }
    return {std::move(image), orientation};
}

}  // namespace tessera::image
