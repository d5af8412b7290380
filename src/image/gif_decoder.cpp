// GIF through giflib: the first frame only, composed as Pillow 9.4 composes frame 0 (a canvas of
// the logical screen size filled with the transparency index if the frame has one, else index 0,
// with the frame drawn at its offset), then the palette looked up as Pillow's p2rgb does
// (indices past the palette's end read Pillow's default grey ramp).
#include <cstring>

#include <gif_lib.h>

#include "image/decoders.hpp"

namespace tessera::image {
namespace {

constexpr std::string_view kFormat = "gif";

struct Reader {
    Bytes bytes;
    std::size_t offset = 0;
};

int read_proc(GifFileType* gif, GifByteType* out, int length) {
    auto* reader = static_cast<Reader*>(gif->UserData);
    const std::size_t available = reader->bytes.size() - reader->offset;
    const std::size_t count = std::min<std::size_t>(available, static_cast<std::size_t>(length));
    std::memcpy(out, reader->bytes.data() + reader->offset, count);
    reader->offset += count;
    return static_cast<int>(count);
}

std::string gif_error(int code) {
    const char* text = GifErrorString(code);
    return text ? text : ("giflib error " + std::to_string(code));
}

}  // namespace

DecodedImage decode_gif(Bytes bytes, const DecodeOptions& options, std::string_view name) {
    Reader reader{bytes, 0};
    int error_code = 0;
    GifFileType* gif = DGifOpen(&reader, read_proc, &error_code);
    if (!gif) fail(ErrorCode::corrupt, name, kFormat, gif_error(error_code));
    struct Closer {
        GifFileType* gif;
        ~Closer() {
            int ignored = 0;
            DGifCloseFile(gif, &ignored);
        }
    } closer{gif};

    check_dimensions(static_cast<std::uint64_t>(gif->SWidth), static_cast<std::uint64_t>(gif->SHeight), options,
                     name, kFormat);
    int transparent_index = -1;
    for (;;) {
        GifRecordType record;
        if (DGifGetRecordType(gif, &record) == GIF_ERROR) fail(ErrorCode::corrupt, name, kFormat, gif_error(gif->Error));
        if (record == TERMINATE_RECORD_TYPE) fail(ErrorCode::corrupt, name, kFormat, "the file contains no image");
        if (record == EXTENSION_RECORD_TYPE) {
            int code = 0;
            GifByteType* block = nullptr;
            if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) fail(ErrorCode::corrupt, name, kFormat, gif_error(gif->Error));
            if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4) {
                transparent_index = (block[1] & 1) ? block[4] : -1;
            }
            while (block) {
                if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) fail(ErrorCode::corrupt, name, kFormat, gif_error(gif->Error));
            }
            continue;
        }
        if (record != IMAGE_DESC_RECORD_TYPE) continue;
        if (DGifGetImageDesc(gif) == GIF_ERROR) fail(ErrorCode::corrupt, name, kFormat, gif_error(gif->Error));
        const GifImageDesc& desc = gif->Image;
        if (desc.Width <= 0 || desc.Height <= 0) fail(ErrorCode::corrupt, name, kFormat, "frame 0 has no pixels");
        check_dimensions(static_cast<std::uint64_t>(desc.Width), static_cast<std::uint64_t>(desc.Height), options, name,
                         kFormat);
        const std::size_t canvas_w = static_cast<std::size_t>(gif->SWidth);
        const std::size_t canvas_h = static_cast<std::size_t>(gif->SHeight);
        std::vector<std::uint8_t> indices(canvas_w * canvas_h,
                                          static_cast<std::uint8_t>(transparent_index >= 0 ? transparent_index : 0));
        std::vector<GifPixelType> line(static_cast<std::size_t>(desc.Width));
        auto store_row = [&](int row) {
            if (DGifGetLine(gif, line.data(), desc.Width) == GIF_ERROR) {
                fail(ErrorCode::corrupt, name, kFormat, gif_error(gif->Error));
            }
            const long y = desc.Top + row;
            if (y < 0 || static_cast<std::size_t>(y) >= canvas_h) return;
            for (int col = 0; col < desc.Width; ++col) {
                const long x = desc.Left + col;
                if (x >= 0 && static_cast<std::size_t>(x) < canvas_w) indices[y * canvas_w + x] = line[col];
            }
        };
        if (desc.Interlace) {
            static constexpr int kStart[4] = {0, 4, 2, 1};
            static constexpr int kStep[4] = {8, 8, 4, 2};
            for (int pass = 0; pass < 4; ++pass) {
                for (int row = kStart[pass]; row < desc.Height; row += kStep[pass]) store_row(row);
            }
        } else {
            for (int row = 0; row < desc.Height; ++row) store_row(row);
        }
        const ColorMapObject* map = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
        RgbImage image = make_rgb(canvas_w, canvas_h);
        for (std::size_t idx = 0; idx < indices.size(); ++idx) {
            const int index = indices[idx];
            std::uint8_t* dst = image.pixels.data() + idx * 3;
            if (map && index < map->ColorCount) {
                dst[0] = map->Colors[index].Red;
                dst[1] = map->Colors[index].Green;
                dst[2] = map->Colors[index].Blue;
            } else {
                dst[0] = dst[1] = dst[2] = static_cast<std::uint8_t>(index);
            }
        }
        return {std::move(image), 1};
    }
}

}  // namespace tessera::image
