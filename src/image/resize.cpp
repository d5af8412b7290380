// Pillow 9.4's resampler (libImaging/Resample.c) ported for 8-bit RGB, so that resized bytes are
// identical to what transformers' CLIPImageProcessor gets from Image.resize:
//  - coefficients in double from the filter (bicubic a = -0.5), support widened by the scale when
//    shrinking (antialiasing), normalised to sum 1, then 22-bit fixed point rounded half away
//    from zero;
//  - separable: horizontal pass first into an 8-bit image, then vertical; each pass only when
//    that dimension changes; accumulate from 1 << 21, shift right 22, clamp to 0..255.
#include <cmath>
#include <cstring>

#include "tessera/image.hpp"

namespace tessera {
namespace {

constexpr int kPrecisionBits = 22;

double bicubic_filter(double x) {
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}
double bilinear_filter(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}
double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
double hamming_filter(double x) {
    x = std::fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x *= M_PI;
    return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}
double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return std::sin(x) / x;
}
double lanczos_filter(double x) {
    return (-3.0 <= x && x < 3.0) ? sinc_filter(x) * sinc_filter(x / 3) : 0.0;
}

struct Filter {
    double (*function)(double);
    double support;
};

Filter filter_for(ResampleFilter filter) {
    switch (filter) {
        case ResampleFilter::bicubic: return {bicubic_filter, 2.0};
        case ResampleFilter::bilinear: return {bilinear_filter, 1.0};
        case ResampleFilter::box: return {box_filter, 0.5};
        case ResampleFilter::hamming: return {hamming_filter, 1.0};
        case ResampleFilter::lanczos: return {lanczos_filter, 3.0};
        case ResampleFilter::nearest: break;
    }
    return {bicubic_filter, 2.0};
}

// Per output pixel: first input index, tap count, and `kernel_size` fixed-point weights.
struct Coefficients {
    std::size_t kernel_size = 0;
    std::vector<int> bounds;   // 2 per output pixel: xmin, count
    std::vector<int> weights;  // kernel_size per output pixel
};

// Coefficients for output pixels [first_out, first_out + out_count) of an in_size -> out_size
// resize. Each output pixel's taps depend only on its own index, so a window is exact.
Coefficients precompute_coefficients(std::size_t in_size, std::size_t out_size, std::size_t first_out,
                                     std::size_t out_count, const Filter& filter) {
    const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
    const double filter_scale = scale < 1.0 ? 1.0 : scale;
    const double support = filter.support * filter_scale;
    Coefficients result;
    result.kernel_size = static_cast<std::size_t>(std::ceil(support)) * 2 + 1;
    result.bounds.resize(out_count * 2);
    result.weights.assign(out_count * result.kernel_size, 0);
    std::vector<double> taps(result.kernel_size);
    for (std::size_t slot = 0; slot < out_count; ++slot) {
        const double center = (static_cast<double>(first_out + slot) + 0.5) * scale;
        const double inverse_scale = 1.0 / filter_scale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > static_cast<int>(in_size)) xmax = static_cast<int>(in_size);
        xmax -= xmin;
        double total = 0.0;
        for (int tap = 0; tap < xmax; ++tap) {
            const double weight = filter.function((tap + xmin - center + 0.5) * inverse_scale);
            taps[tap] = weight;
            total += weight;
        }
        int* fixed = result.weights.data() + slot * result.kernel_size;
        for (int tap = 0; tap < xmax; ++tap) {
            const double weight = total != 0.0 ? taps[tap] / total : taps[tap];
            // (int) truncates toward zero after the +-0.5: round half away from zero.
            fixed[tap] = weight < 0 ? static_cast<int>(-0.5 + weight * (1 << kPrecisionBits))
                                    : static_cast<int>(0.5 + weight * (1 << kPrecisionBits));
        }
        result.bounds[slot * 2] = xmin;
        result.bounds[slot * 2 + 1] = xmax;
    }
    return result;
}

inline std::uint8_t clip8(int value) {
    value >>= kPrecisionBits;  // arithmetic shift, as in Pillow
    return static_cast<std::uint8_t>(value < 0 ? 0 : (value > 255 ? 255 : value));
}

// Columns [first_x, first_x + width) of the horizontally resized rows [first_row, end_row).
RgbImage resample_horizontal(const RgbImage& in, std::size_t out_width, std::size_t first_x, std::size_t width,
                             std::size_t first_row, std::size_t end_row, const Filter& filter) {
    const Coefficients coeffs = precompute_coefficients(in.width, out_width, first_x, width, filter);
    RgbImage out;
    out.width = width;
    out.height = end_row - first_row;
    out.pixels.resize(out.width * out.height * 3);
    for (std::size_t y = first_row; y < end_row; ++y) {
        const std::uint8_t* src = in.pixels.data() + y * in.width * 3;
        std::uint8_t* dst = out.pixels.data() + (y - first_row) * width * 3;
        for (std::size_t x = 0; x < width; ++x) {
            const int xmin = coeffs.bounds[x * 2];
            const int count = coeffs.bounds[x * 2 + 1];
            const int* k = coeffs.weights.data() + x * coeffs.kernel_size;
            int acc0 = 1 << (kPrecisionBits - 1);
            int acc1 = acc0;
            int acc2 = acc0;
            for (int tap = 0; tap < count; ++tap) {
                const std::uint8_t* pixel = src + (xmin + tap) * 3;
                acc0 += pixel[0] * k[tap];
                acc1 += pixel[1] * k[tap];
                acc2 += pixel[2] * k[tap];
            }
            dst[x * 3 + 0] = clip8(acc0);
            dst[x * 3 + 1] = clip8(acc1);
            dst[x * 3 + 2] = clip8(acc2);
        }
    }
    return out;
}

// `coeffs` index rows of `in`, whose row 0 is source row `row_origin`.
RgbImage resample_vertical(const RgbImage& in, const Coefficients& coeffs, std::size_t height, std::size_t row_origin) {
    RgbImage out;
    out.width = in.width;
    out.height = height;
    out.pixels.resize(in.width * height * 3);
    const std::size_t row_bytes = in.width * 3;
    for (std::size_t y = 0; y < height; ++y) {
        const std::size_t ymin = static_cast<std::size_t>(coeffs.bounds[y * 2]) - row_origin;
        const int count = coeffs.bounds[y * 2 + 1];
        const int* k = coeffs.weights.data() + y * coeffs.kernel_size;
        std::uint8_t* dst = out.pixels.data() + y * row_bytes;
        for (std::size_t value_idx = 0; value_idx < row_bytes; ++value_idx) {
            int acc = 1 << (kPrecisionBits - 1);
            for (int tap = 0; tap < count; ++tap) {
                acc += in.pixels[(ymin + tap) * row_bytes + value_idx] * k[tap];
            }
            dst[value_idx] = clip8(acc);
        }
    }
    return out;
}

// Pillow's NEAREST goes through an affine transform that samples at pixel centres.
RgbImage resize_nearest(const RgbImage& in, std::size_t width, std::size_t height) {
    RgbImage out;
    out.width = width;
    out.height = height;
    out.pixels.resize(width * height * 3);
    const double x_scale = static_cast<double>(in.width) / static_cast<double>(width);
    const double y_scale = static_cast<double>(in.height) / static_cast<double>(height);
    for (std::size_t y = 0; y < height; ++y) {
        std::size_t src_y = static_cast<std::size_t>((static_cast<double>(y) + 0.5) * y_scale);
        src_y = std::min(src_y, in.height - 1);
        for (std::size_t x = 0; x < width; ++x) {
            std::size_t src_x = static_cast<std::size_t>((static_cast<double>(x) + 0.5) * x_scale);
            src_x = std::min(src_x, in.width - 1);
            std::memcpy(out.pixels.data() + (y * width + x) * 3, in.at(src_x, src_y), 3);
        }
    }
    return out;
}

}  // namespace

RgbImage resize_image(const RgbImage& image, std::size_t width, std::size_t height, ResampleFilter filter) {
    return resize_image_window(image, width, height, 0, 0, width, height, filter);
}

RgbImage resize_image_window(const RgbImage& image, std::size_t width, std::size_t height, std::size_t left,
                             std::size_t top, std::size_t window_width, std::size_t window_height, ResampleFilter filter) {
    if (width == 0 || height == 0) {
        throw Error(ErrorCode::invalid_argument,
                    "resize_image: target size " + std::to_string(width) + "x" + std::to_string(height) + " has no pixels");
    }
    if (image.width == 0 || image.height == 0) {
        throw Error(ErrorCode::invalid_argument, "resize_image: the source image has no pixels");
    }
    if (window_width == 0 || window_height == 0 || left + window_width > width || top + window_height > height) {
        throw Error(ErrorCode::invalid_argument, "resize_image: window " + std::to_string(window_width) + "x" +
                                                     std::to_string(window_height) + " at (" + std::to_string(left) + ", " +
                                                     std::to_string(top) + ") is outside the " + std::to_string(width) + "x" +
                                                     std::to_string(height) + " result");
    }
    if (width == image.width && height == image.height) return crop_image(image, left, top, window_width, window_height);
    if (filter == ResampleFilter::nearest) {
        return crop_image(resize_nearest(image, width, height), left, top, window_width, window_height);
    }
    const Filter kernel = filter_for(filter);
    // Rows of the source the vertical pass reads (all of the window's rows when height is kept).
    Coefficients vertical;
    std::size_t first_row = top;
    std::size_t end_row = top + window_height;
    const bool resize_vertically = height != image.height;
    if (resize_vertically) {
        vertical = precompute_coefficients(image.height, height, top, window_height, kernel);
        first_row = image.height;
        end_row = 0;
        for (std::size_t y = 0; y < window_height; ++y) {
            const auto ymin = static_cast<std::size_t>(vertical.bounds[y * 2]);
            first_row = std::min(first_row, ymin);
            end_row = std::max(end_row, ymin + static_cast<std::size_t>(vertical.bounds[y * 2 + 1]));
        }
    }
    RgbImage rows;
    if (width != image.width) {
        rows = resample_horizontal(image, width, left, window_width, first_row, end_row, kernel);
    } else {
        rows = crop_image(image, left, first_row, window_width, end_row - first_row);
    }
    if (!resize_vertically) return rows;
    return resample_vertical(rows, vertical, window_height, first_row);
}

RgbImage crop_image(const RgbImage& image, std::size_t left, std::size_t top, std::size_t width, std::size_t height) {
    if (left + width > image.width || top + height > image.height) {
        throw Error(ErrorCode::invalid_argument,
                    "crop_image: window " + std::to_string(width) + "x" + std::to_string(height) + " at (" +
                        std::to_string(left) + ", " + std::to_string(top) + ") is outside the " +
                        std::to_string(image.width) + "x" + std::to_string(image.height) + " image");
    }
    RgbImage out;
    out.width = width;
    out.height = height;
    out.pixels.resize(width * height * 3);
    for (std::size_t y = 0; y < height; ++y) {
        std::memcpy(out.pixels.data() + y * width * 3, image.pixels.data() + ((top + y) * image.width + left) * 3, width * 3);
    }
    return out;
}

RgbImage center_crop(const RgbImage& image, std::size_t width, std::size_t height) {
    if (width <= image.width && height <= image.height) {
        // transformers floors the offsets: an odd margin leaves the extra pixel right/bottom.
        return crop_image(image, (image.width - width) / 2, (image.height - height) / 2, width, height);
    }
    // Smaller than the crop: transformers pads with zeros around the centred image.
    RgbImage out;
    out.width = width;
    out.height = height;
    out.pixels.assign(width * height * 3, 0);
    const std::ptrdiff_t top = (static_cast<std::ptrdiff_t>(height) - static_cast<std::ptrdiff_t>(image.height)) / 2;
    const std::ptrdiff_t left = (static_cast<std::ptrdiff_t>(width) - static_cast<std::ptrdiff_t>(image.width)) / 2;
    for (std::size_t y = 0; y < image.height; ++y) {
        const std::ptrdiff_t out_y = top + static_cast<std::ptrdiff_t>(y);
        if (out_y < 0 || out_y >= static_cast<std::ptrdiff_t>(height)) continue;
        for (std::size_t x = 0; x < image.width; ++x) {
            const std::ptrdiff_t out_x = left + static_cast<std::ptrdiff_t>(x);
            if (out_x < 0 || out_x >= static_cast<std::ptrdiff_t>(width)) continue;
            std::memcpy(out.pixels.data() + (out_y * width + out_x) * 3, image.at(x, y), 3);
        }
    }
    return out;
}

}  // namespace tessera
