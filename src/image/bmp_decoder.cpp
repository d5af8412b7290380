// BMP, read by hand (the format is small): core (OS/2) and Windows headers v3-v5, 1/4/8-bit
// palettes, 16/24/32-bit direct colour with or without bit fields, RLE8 and RLE4, bottom-up and
// top-down rows. Bit-field channels scale as Pillow's unpackers do (v * 255 / max, truncated);
// RLE streams are expanded as Pillow 9's BmpRleDecoder does (one linear stream, end-of-line pads
// with index 0, a stream that ends early is an error).
#include <bit>
#include <cstring>

#include "image/decoders.hpp"

namespace tessera::image {
namespace {

constexpr std::string_view kFormat = "bmp";

struct Channel {
    std::uint32_t mask = 0;
    int shift = 0;
    std::uint32_t max = 0;
    [[nodiscard]] std::uint8_t get(std::uint32_t pixel) const {
        if (!mask) return 0;
        return static_cast<std::uint8_t>(((pixel & mask) >> shift) * 255 / max);
    }
};

Channel make_channel(std::uint32_t mask) {
    Channel channel;
    channel.mask = mask;
    if (mask) {
        channel.shift = std::countr_zero(mask);
        channel.max = mask >> channel.shift;
    }
    return channel;
}

}  // namespace

DecodedImage decode_bmp(Bytes bytes, const DecodeOptions& options, std::string_view name) {
    auto need = [&](std::size_t end, const char* what) {
        if (end > bytes.size()) fail(ErrorCode::corrupt, name, kFormat, std::string("data ends inside the ") + what + " (truncated file)");
    };
    auto u16 = [&](std::size_t at) -> std::uint32_t { return bytes[at] | (bytes[at + 1] << 8); };
    auto u32 = [&](std::size_t at) -> std::uint32_t { return u16(at) | (u16(at + 2) << 16); };

    need(18, "file header");
    const std::uint32_t data_offset = u32(10);
    const std::uint32_t header_size = u32(14);
    need(14 + static_cast<std::size_t>(header_size), "bitmap header");
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::uint32_t bit_count = 0;
    std::uint32_t compression = 0;
    std::uint32_t colors_used = 0;
    std::size_t palette_entry_bytes = 4;
    std::uint32_t masks[4] = {0, 0, 0, 0};
    std::size_t after_header = 14 + header_size;
    if (header_size == 12) {
        width = u16(18);
        height = static_cast<std::int16_t>(u16(20));
        bit_count = u16(24);
        palette_entry_bytes = 3;
    } else if (header_size >= 40) {
        width = static_cast<std::int32_t>(u32(18));
        height = static_cast<std::int32_t>(u32(22));
        bit_count = u16(28);
        compression = u32(30);
        colors_used = u32(46);
        if (header_size >= 52) {
            masks[0] = u32(54);
            masks[1] = u32(58);
            masks[2] = u32(62);
        }
        if (header_size >= 56) masks[3] = u32(66);
        if (header_size == 40 && (compression == 3 || compression == 6)) {
            const std::size_t mask_count = compression == 6 ? 4 : 3;
            need(after_header + mask_count * 4, "colour masks");
            for (std::size_t idx = 0; idx < mask_count; ++idx) masks[idx] = u32(after_header + idx * 4);
            after_header += mask_count * 4;
        }
    } else {
        fail(ErrorCode::unsupported, name, kFormat, "unknown bitmap header size " + std::to_string(header_size));
    }
    const bool top_down = height < 0;
    if (top_down) height = -height;
    if (width < 0) fail(ErrorCode::corrupt, name, kFormat, "negative width " + std::to_string(width));
    check_dimensions(static_cast<std::uint64_t>(width), static_cast<std::uint64_t>(height), options, name, kFormat);
    const std::size_t w = static_cast<std::size_t>(width);
    const std::size_t h = static_cast<std::size_t>(height);

    const bool rle = compression == 1 || compression == 2;
    if (compression == 1 && bit_count != 8) fail(ErrorCode::corrupt, name, kFormat, "RLE8 with " + std::to_string(bit_count) + " bits per pixel");
    if (compression == 2 && bit_count != 4) fail(ErrorCode::corrupt, name, kFormat, "RLE4 with " + std::to_string(bit_count) + " bits per pixel");
    if (compression != 0 && !rle && compression != 3 && compression != 6) {
        fail(ErrorCode::unsupported, name, kFormat, "compression " + std::to_string(compression) + " (JPEG/PNG inside BMP) is not supported");
    }
    if (bit_count != 1 && bit_count != 4 && bit_count != 8 && bit_count != 16 && bit_count != 24 && bit_count != 32) {
        fail(ErrorCode::unsupported, name, kFormat, "bits per pixel " + std::to_string(bit_count));
    }

    // Palette: explicit entries, then Pillow's default grey ramp for indices past its end.
    std::uint8_t palette[256][3];
    for (int idx = 0; idx < 256; ++idx) palette[idx][0] = palette[idx][1] = palette[idx][2] = static_cast<std::uint8_t>(idx);
    if (bit_count <= 8) {
        std::size_t count = colors_used ? std::min<std::uint32_t>(colors_used, 1u << bit_count) : (1u << bit_count);
        need(after_header + count * palette_entry_bytes, "palette");
        for (std::size_t idx = 0; idx < count; ++idx) {
            const std::uint8_t* entry = bytes.data() + after_header + idx * palette_entry_bytes;
            palette[idx][0] = entry[2];
            palette[idx][1] = entry[1];
            palette[idx][2] = entry[0];
        }
    }
    if (data_offset >= bytes.size()) fail(ErrorCode::corrupt, name, kFormat, "pixel data offset " + std::to_string(data_offset) + " is past the end of the file");

    RgbImage image = make_rgb(w, h);
    auto put_index = [&](std::size_t x, std::size_t file_row, std::uint32_t index) {
        const std::size_t y = top_down ? file_row : h - 1 - file_row;
        std::memcpy(image.pixels.data() + (y * w + x) * 3, palette[index & 255], 3);
    };

    if (rle) {
        std::vector<std::uint8_t> stream;
        const std::size_t wanted = w * h;
        stream.reserve(wanted);
        std::size_t pos = data_offset;
        std::size_t x = 0;
        const bool rle4 = compression == 2;
        while (stream.size() < wanted) {
            if (pos + 2 > bytes.size()) break;
            std::size_t count = bytes[pos];
            const std::uint8_t value = bytes[pos + 1];
            pos += 2;
            if (count) {
                if (x + count > w) count = x < w ? w - x : 0;
                for (std::size_t idx = 0; idx < count; ++idx) {
                    stream.push_back(rle4 ? ((idx % 2 == 0) ? value >> 4 : value & 15) : value);
                }
                x += count;
            } else if (value == 0) {
                while (stream.size() % w != 0) stream.push_back(0);
                x = 0;
            } else if (value == 1) {
                break;
            } else if (value == 2) {
                if (pos + 2 > bytes.size()) break;
                const std::size_t right = bytes[pos];
                const std::size_t up = bytes[pos + 1];
                pos += 2;
                stream.insert(stream.end(), std::min(right + up * w, wanted), 0);
                x = stream.size() % w;
            } else {
                const std::size_t byte_count = rle4 ? value / 2 : value;
                const std::size_t available = std::min(byte_count, bytes.size() - pos);
                for (std::size_t idx = 0; idx < available; ++idx) {
                    if (rle4) {
                        stream.push_back(bytes[pos + idx] >> 4);
                        stream.push_back(bytes[pos + idx] & 15);
                    } else {
                        stream.push_back(bytes[pos + idx]);
                    }
                }
                pos += available;
                if (available < byte_count) break;
                x += value;
                if (pos % 2 != 0) ++pos;
            }
        }
        if (stream.size() < wanted) fail(ErrorCode::corrupt, name, kFormat, "RLE data ends before the image is complete (truncated file)");
        for (std::size_t row = 0; row < h; ++row) {
            for (std::size_t col = 0; col < w; ++col) put_index(col, row, stream[row * w + col]);
        }
        return {std::move(image), 1};
    }

    const std::size_t stride = ((w * bit_count + 31) / 32) * 4;
    if ((bytes.size() - data_offset) / stride < h) {
        fail(ErrorCode::corrupt, name, kFormat, "pixel data ends before the image is complete (truncated file)");
    }
    const bool bitfields = compression == 3 || compression == 6;
    if (!bitfields && bit_count == 16) {
        masks[0] = 0x7C00; masks[1] = 0x03E0; masks[2] = 0x001F;
    } else if (!bitfields && bit_count == 32) {
        masks[0] = 0xFF0000; masks[1] = 0xFF00; masks[2] = 0xFF;
    }
    const Channel red = make_channel(masks[0]);
    const Channel green = make_channel(masks[1]);
    const Channel blue = make_channel(masks[2]);
    for (std::size_t row = 0; row < h; ++row) {
        const std::uint8_t* src = bytes.data() + data_offset + row * stride;
        const std::size_t y = top_down ? row : h - 1 - row;
        std::uint8_t* dst = image.pixels.data() + y * w * 3;
        for (std::size_t col = 0; col < w; ++col, dst += 3) {
            switch (bit_count) {
                case 1: put_index(col, row, (src[col / 8] >> (7 - col % 8)) & 1); break;
                case 4: put_index(col, row, (src[col / 2] >> (col % 2 ? 0 : 4)) & 15); break;
                case 8: put_index(col, row, src[col]); break;
                case 24: dst[0] = src[col * 3 + 2]; dst[1] = src[col * 3 + 1]; dst[2] = src[col * 3]; break;
                default: {
                    std::uint32_t pixel = bit_count == 16 ? (src[col * 2] | (src[col * 2 + 1] << 8))
                                                          : (src[col * 4] | (src[col * 4 + 1] << 8) |
                                                             (src[col * 4 + 2] << 16) | (static_cast<std::uint32_t>(src[col * 4 + 3]) << 24));
                    dst[0] = red.get(pixel);
                    dst[1] = green.get(pixel);
                    dst[2] = blue.get(pixel);
                }
            }
        }
    }
    return {std::move(image), 1};
}

}  // namespace tessera::image
