// preprocessor_config.json and the CLIPImageProcessor pipeline after decoding: resize (shortest
// edge, long edge TRUNCATED as transformers' get_resize_output_image_size does, or a fixed size),
// centre crop (floor offsets), then rescale + normalise in transformers' float32 arithmetic:
// r = float(double(u8) * rescale_factor); out = (r - float(mean)) / float(std), via a lookup table.
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tessera/image.hpp"

namespace tessera {
namespace {

using Json = nlohmann::json;

[[noreturn]] void bad_field(std::string_view name, std::string_view field, const std::string& what) {
    throw Error(ErrorCode::invalid_argument, std::string(name) + ": " + std::string(field) + ": " + what);
}

std::size_t positive_size(const Json& value, std::string_view name, std::string_view field) {
    if (!value.is_number_integer() || value.get<long long>() <= 0 || value.get<long long>() > 65536) {
        bad_field(name, field, "expected a positive pixel count, got '" + value.dump() + "'");
    }
    return value.get<std::size_t>();
}

bool flag(const Json& json, const char* key, bool fallback, std::string_view name) {
    if (!json.contains(key) || json[key].is_null()) return fallback;
    if (!json[key].is_boolean()) bad_field(name, key, "expected true or false, got '" + json[key].dump() + "'");
    return json[key].get<bool>();
}

void read_triplet(const Json& json, const char* key, float (&out)[3], std::string_view name, bool nonzero) {
    if (!json.contains(key) || json[key].is_null()) return;
    const Json& value = json[key];
    if (value.is_number()) {
        out[0] = out[1] = out[2] = value.get<float>();
    } else if (value.is_array() && value.size() == 3) {
        for (std::size_t idx = 0; idx < 3; ++idx) {
            if (!value[idx].is_number()) bad_field(name, key, "expected numbers, got '" + value.dump() + "'");
            out[idx] = value[idx].get<float>();
        }
    } else {
        bad_field(name, key, "expected 3 numbers (one per RGB channel), got '" + value.dump() + "'");
    }
    if (nonzero) {
        for (std::size_t idx = 0; idx < 3; ++idx) {
            if (out[idx] == 0.0F || !std::isfinite(out[idx])) {
                bad_field(name, key, "value " + std::to_string(out[idx]) + " at index " + std::to_string(idx) + " cannot divide");
            }
        }
    }
}

}  // namespace

std::size_t PreprocessConfig::output_height() const {
    if (do_center_crop) return crop_height;
    return resize_height ? resize_height : shortest_edge;
}

std::size_t PreprocessConfig::output_width() const {
    if (do_center_crop) return crop_width;
    return resize_width ? resize_width : shortest_edge;
}

PreprocessConfig parse_preprocess_config(std::string_view json_text, std::string_view name) {
    Json json = Json::parse(json_text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        throw Error(ErrorCode::corrupt, std::string(name) + ": not a JSON object");
    }
    PreprocessConfig config;
    config.do_resize = flag(json, "do_resize", true, name);
    bool fixed_size = false;
    if (json.contains("size") && !json["size"].is_null()) {
        const Json& size = json["size"];
        if (size.is_number()) {
            config.shortest_edge = positive_size(size, name, "size");
        } else if (size.is_object() && size.contains("shortest_edge")) {
            config.shortest_edge = positive_size(size["shortest_edge"], name, "size.shortest_edge");
        } else if (size.is_object() && size.contains("height") && size.contains("width")) {
            config.shortest_edge = 0;
            config.resize_height = positive_size(size["height"], name, "size.height");
            config.resize_width = positive_size(size["width"], name, "size.width");
            fixed_size = true;
        } else {
            bad_field(name, "size", "expected {\"shortest_edge\": N} or {\"height\": H, \"width\": W}, got '" + size.dump() + "'");
        }
    }
    if (json.contains("resample") && !json["resample"].is_null()) {
        const Json& resample = json["resample"];
        if (!resample.is_number_integer() || resample.get<int>() < 0 || resample.get<int>() > 5) {
            bad_field(name, "resample", "expected a PIL filter number 0..5, got '" + resample.dump() + "'");
        }
        config.resample = static_cast<ResampleFilter>(resample.get<int>());
    }
    // CLIP crops by default; processors that resize to a fixed square (ViT, SigLIP) do not.
    config.do_center_crop = flag(json, "do_center_crop", !fixed_size, name);
    if (json.contains("crop_size") && !json["crop_size"].is_null()) {
        const Json& crop = json["crop_size"];
        if (crop.is_number()) {
            config.crop_height = config.crop_width = positive_size(crop, name, "crop_size");
        } else if (crop.is_object() && crop.contains("height") && crop.contains("width")) {
            config.crop_height = positive_size(crop["height"], name, "crop_size.height");
            config.crop_width = positive_size(crop["width"], name, "crop_size.width");
        } else {
            bad_field(name, "crop_size", "expected N or {\"height\": H, \"width\": W}, got '" + crop.dump() + "'");
        }
    }
    config.do_rescale = flag(json, "do_rescale", true, name);
    if (json.contains("rescale_factor") && !json["rescale_factor"].is_null()) {
        if (!json["rescale_factor"].is_number()) bad_field(name, "rescale_factor", "expected a number, got '" + json["rescale_factor"].dump() + "'");
        config.rescale_factor = json["rescale_factor"].get<double>();
    }
    config.do_normalize = flag(json, "do_normalize", true, name);
    read_triplet(json, "image_mean", config.image_mean, name, false);
    read_triplet(json, "image_std", config.image_std, name, true);
    return config;
}

PreprocessConfig load_preprocess_config(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw Error(ErrorCode::not_found, path.string() + ": cannot open the preprocessor config");
    std::stringstream text;
    text << file.rdbuf();
    return parse_preprocess_config(text.str(), path.string());
}

RgbImage resize_and_crop(const RgbImage& image, const PreprocessConfig& config) {
    std::size_t width = image.width;
    std::size_t height = image.height;
    if (config.do_resize) {
        width = config.resize_width;
        height = config.resize_height;
        if (config.shortest_edge) {
            const bool width_is_short = image.width <= image.height;
            const std::size_t short_edge = width_is_short ? image.width : image.height;
            const std::size_t long_edge = width_is_short ? image.height : image.width;
            // Python: int(size * long / short) -- a float64 quotient truncated, not rounded.
            const auto new_long = static_cast<std::size_t>(
                static_cast<double>(config.shortest_edge * long_edge) / static_cast<double>(short_edge));
            width = width_is_short ? config.shortest_edge : new_long;
            height = width_is_short ? new_long : config.shortest_edge;
        }
    }
    if (!config.do_center_crop) {
        return config.do_resize ? resize_image(image, width, height, config.resample) : image;
    }
    // Only the crop window of the resized image is computed (exact: Pillow's output pixels are
    // independent), so a 1 x 5000 strip never becomes a 224 x 1,120,000 intermediate.
    const bool crop_x = config.crop_width <= width;
    const bool crop_y = config.crop_height <= height;
    const std::size_t left = crop_x ? (width - config.crop_width) / 2 : 0;
    const std::size_t top = crop_y ? (height - config.crop_height) / 2 : 0;
    const std::size_t window_width = crop_x ? config.crop_width : width;
    const std::size_t window_height = crop_y ? config.crop_height : height;
    RgbImage window = config.do_resize
                          ? resize_image_window(image, width, height, left, top, window_width, window_height, config.resample)
                          : crop_image(image, left, top, window_width, window_height);
    if (crop_x && crop_y) return window;
    return center_crop(window, config.crop_width, config.crop_height);  // pads with zeros
}

void image_to_chw(const RgbImage& image, const PreprocessConfig& config, std::span<float> out) {
    const std::size_t plane = image.width * image.height;
    if (out.size() != plane * 3) {
        throw Error(ErrorCode::invalid_argument, "image_to_chw: output holds " + std::to_string(out.size()) +
                                                     " floats, the image needs " + std::to_string(plane * 3));
    }
    float table[3][256];
    for (int channel = 0; channel < 3; ++channel) {
        for (int value = 0; value < 256; ++value) {
            float rescaled = config.do_rescale ? static_cast<float>(static_cast<double>(value) * config.rescale_factor)
                                               : static_cast<float>(value);
            if (config.do_normalize) rescaled = (rescaled - config.image_mean[channel]) / config.image_std[channel];
            table[channel][value] = rescaled;
        }
    }
    for (std::size_t idx = 0; idx < plane; ++idx) {
        const std::uint8_t* pixel = image.pixels.data() + idx * 3;
        out[idx] = table[0][pixel[0]];
        out[plane + idx] = table[1][pixel[1]];
        out[2 * plane + idx] = table[2][pixel[2]];
    }
}

std::vector<float> preprocess_image(const RgbImage& image, const PreprocessConfig& config) {
    RgbImage ready = resize_and_crop(image, config);
    std::vector<float> out(ready.width * ready.height * 3);
    image_to_chw(ready, config, out);
    return out;
}

}  // namespace tessera
