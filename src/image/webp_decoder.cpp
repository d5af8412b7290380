// WebP (lossy, lossless, alpha, extended VP8X) through libwebp; alpha is dropped without
// compositing, as Pillow's convert("RGB"). Orientation comes from the EXIF chunk, via libwebpdemux.
// Animated files: the first frame, which libwebp's simple API decodes.
#include <webp/decode.h>
#include <webp/demux.h>

#include "image/decoders.hpp"

namespace tessera::image {
namespace {

constexpr std::string_view kFormat = "webp";

int webp_orientation(Bytes bytes) {
    WebPData data{bytes.data(), bytes.size()};
    WebPDemuxer* demux = WebPDemux(&data);
    if (!demux) return 1;
    int orientation = 1;
    WebPChunkIterator chunk;
    if (WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
        Bytes exif{chunk.chunk.bytes, chunk.chunk.size};
        // Some writers keep JPEG's "Exif\0\0" prefix inside the chunk.
        if (exif.size() > 6 && exif[0] == 'E' && exif[1] == 'x' && exif[4] == 0 && exif[5] == 0) exif = exif.subspan(6);
        orientation = exif_orientation(exif);
        WebPDemuxReleaseChunkIterator(&chunk);
    }
    WebPDemuxDelete(demux);
    return orientation;
}

}  // namespace

DecodedImage decode_webp(Bytes bytes, const DecodeOptions& options, std::string_view name) {
    WebPBitstreamFeatures features;
    VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &features);
    if (status == VP8_STATUS_NOT_ENOUGH_DATA) {
        fail(ErrorCode::corrupt, name, kFormat, "data ends before the header is complete (truncated file)");
    }
    if (status != VP8_STATUS_OK) {
        fail(ErrorCode::corrupt, name, kFormat, "invalid bitstream header (libwebp status " + std::to_string(status) + ")");
    }
    check_dimensions(static_cast<std::uint64_t>(features.width), static_cast<std::uint64_t>(features.height),
                     options, name, kFormat);
    RgbImage image = make_rgb(static_cast<std::size_t>(features.width), static_cast<std::size_t>(features.height));
    const int stride = features.width * 3;
    if (!WebPDecodeRGBInto(bytes.data(), bytes.size(), image.pixels.data(), image.pixels.size(), stride)) {
        fail(ErrorCode::corrupt, name, kFormat, "the bitstream is damaged or truncated");
    }
    return {std::move(image), webp_orientation(bytes)};
}

}  // namespace tessera::image
