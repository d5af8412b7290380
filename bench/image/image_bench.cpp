// tessera-image-bench: images/s of a CLIP ViT-B/32-sized vision tower at batch 16 with the
// JPEG decode and CLIPImageProcessor preprocessing of 640x480 photos included, and how that time
// splits between the pipeline outside the model and the model itself.
//
//   tessera-image-bench [--model DIR] [--batch 16] [--rounds 5] [--threads 2] [--jpeg FILE]
//
// Without --model a random-weight clip_vision_model with ViT-B/32's real dimensions (768 wide,
// 12 layers, 12 heads, FFN 3072, patch 32, projection 512) is written to a temporary directory.
// Without --jpeg a 640x480 test photo (smooth gradients + noise, quality 90) is encoded in
// memory. Prints one JSON object: medians over rounds of the end-to-end, pre-processing-only and
// model-only times per batch.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include <jpeglib.h>
#include <nlohmann/json.hpp>

#include "core/thread_pool.hpp"
#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"
#include "models/clip.hpp"
#include "models/registry.hpp"
#include "tessera/embedder.hpp"
#include "tessera/image.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::vector<std::uint8_t> make_test_jpeg(std::size_t width, std::size_t height) {
    std::vector<std::uint8_t> rgb(width * height * 3);
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> noise(-12, 12);
    for (std::size_t y = 0; y < height; ++y) {
        for (std::size_t x = 0; x < width; ++x) {
            for (std::size_t c = 0; c < 3; ++c) {
                const double wave = 127.5 + 100.0 * std::sin(0.02 * static_cast<double>(x) * (c + 1) + 0.015 * static_cast<double>(y));
                rgb[(y * width + x) * 3 + c] = static_cast<std::uint8_t>(std::clamp(static_cast<int>(wave) + noise(rng), 0, 255));
            }
        }
    }
    jpeg_compress_struct cinfo;
    jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = static_cast<JDIMENSION>(width);
    cinfo.image_height = static_cast<JDIMENSION>(height);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = rgb.data() + cinfo.next_scanline * width * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    std::vector<std::uint8_t> out(buffer, buffer + size);
    jpeg_destroy_compress(&cinfo);
    std::free(buffer);
    return out;
}

// A clip_vision_model directory with ViT-B/32 dimensions and N(0, 1/fan_in) weights.
std::filesystem::path write_random_vit_b32(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    const std::size_t hidden = 768, ffn = 3072, layers = 12, heads = 12, patch = 32, image = 224, projection = 512;
    Json config = {{"model_type", "clip_vision_model"}, {"architectures", {"CLIPVisionModelWithProjection"}},
                   {"hidden_size", hidden}, {"intermediate_size", ffn}, {"num_hidden_layers", layers},
                   {"num_attention_heads", heads}, {"patch_size", patch}, {"image_size", image}, {"num_channels", 3},
                   {"hidden_act", "quick_gelu"}, {"layer_norm_eps", 1e-5}, {"projection_dim", projection}};
    std::ofstream(dir / "config.json") << config.dump(2);
    std::ofstream(dir / "preprocessor_config.json")
        << R"({"crop_size": {"height": 224, "width": 224}, "do_center_crop": true, "do_convert_rgb": true,
  "do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073],
  "image_processor_type": "CLIPImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3,
  "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 224}})";
    std::mt19937 rng(20261122);
    std::vector<tessera::formats::TensorToWrite> tensors;
    auto add = [&](const std::string& name, std::vector<std::size_t> shape, double std_dev, double mean = 0.0) {
        std::size_t count = 1;
        for (auto d : shape) count *= d;
        std::normal_distribution<float> normal(static_cast<float>(mean), static_cast<float>(std_dev));
        tessera::formats::TensorToWrite tensor;
        tensor.name = name;
        tensor.shape = shape;
        tensor.values.resize(count);
        for (auto& v : tensor.values) v = normal(rng);
        tensors.push_back(std::move(tensor));
    };
    const std::size_t tokens = (image / patch) * (image / patch) + 1;
    add("vision_model.embeddings.class_embedding", {hidden}, 1.0 / std::sqrt(static_cast<double>(hidden)));
    add("vision_model.embeddings.patch_embedding.weight", {hidden, 3, patch, patch}, 0.02);
    add("vision_model.embeddings.position_embedding.weight", {tokens, hidden}, 0.02);
    for (const char* norm : {"vision_model.pre_layrnorm", "vision_model.post_layernorm"}) {
        add(std::string(norm) + ".weight", {hidden}, 0.05, 1.0);
        add(std::string(norm) + ".bias", {hidden}, 0.02);
    }
    for (std::size_t layer = 0; layer < layers; ++layer) {
        const std::string base = "vision_model.encoder.layers." + std::to_string(layer) + ".";
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
            add(base + "self_attn." + proj + ".weight", {hidden, hidden}, 1.0 / std::sqrt(static_cast<double>(hidden)));
            add(base + "self_attn." + proj + ".bias", {hidden}, 0.02);
        }
        for (const char* norm : {"layer_norm1", "layer_norm2"}) {
            add(base + norm + ".weight", {hidden}, 0.05, 1.0);
            add(base + norm + ".bias", {hidden}, 0.02);
        }
        add(base + "mlp.fc1.weight", {ffn, hidden}, 1.0 / std::sqrt(static_cast<double>(hidden)));
        add(base + "mlp.fc1.bias", {ffn}, 0.02);
        add(base + "mlp.fc2.weight", {hidden, ffn}, 1.0 / std::sqrt(static_cast<double>(ffn)));
        add(base + "mlp.fc2.bias", {hidden}, 0.02);
    }
    add("visual_projection.weight", {projection, hidden}, 1.0 / std::sqrt(static_cast<double>(hidden)));
    tessera::formats::write_safetensors(dir / "model.safetensors", tensors);
    return dir;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_arg;
    std::string jpeg_path;
    std::size_t batch = 16;
    std::size_t rounds = 5;
    std::size_t threads = 0;
    for (int idx = 1; idx < argc; ++idx) {
        const std::string arg = argv[idx];
        auto next = [&]() -> std::string {
            if (idx + 1 >= argc) {
                std::cerr << arg << ": missing value\n";
                std::exit(2);
            }
            return argv[++idx];
        };
        if (arg == "--model") model_arg = next();
        else if (arg == "--jpeg") jpeg_path = next();
        else if (arg == "--batch") batch = std::stoul(next());
        else if (arg == "--rounds") rounds = std::stoul(next());
        else if (arg == "--threads") threads = std::stoul(next());
        else {
            std::cerr << "usage: tessera-image-bench [--model DIR] [--batch 16] [--rounds 5] [--threads N] [--jpeg FILE]\n";
            return 2;
        }
    }
    try {
        std::filesystem::path model_dir = model_arg;
        if (model_dir.empty()) {
            model_dir = std::filesystem::temp_directory_path() / ("tessera-vit-b32-random-" + std::to_string(::getpid()));
            const auto start = Clock::now();
            write_random_vit_b32(model_dir);
            std::cerr << "wrote random ViT-B/32 vision weights to " << model_dir << " in " << seconds_since(start) << " s\n";
        }
        std::vector<std::uint8_t> jpeg;
        if (jpeg_path.empty()) {
            jpeg = make_test_jpeg(640, 480);
        } else {
            std::ifstream file(jpeg_path, std::ios::binary);
            jpeg.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
        }
        const tessera::RgbImage probe = tessera::decode_image(jpeg);

        const auto load_start = Clock::now();
        auto embedder = tessera::ImageEmbedder::open(model_dir, {.thread_count = threads});
        const double load_s = seconds_since(load_start);
        std::vector<tessera::ImageSource> sources(batch, tessera::ImageSource::from_bytes(jpeg));

        // The model alone, on the same pixels (the bench may use internal headers).
        auto config = tessera::formats::read_model_config(model_dir / "config.json");
        auto model = tessera::models::build_model(config, tessera::formats::WeightStore::open_model_dir(model_dir), {});
        const auto* clip = dynamic_cast<const tessera::models::ClipModel*>(model.get());
        tessera::core::ThreadPool pool(threads);
        const auto preprocess = std::filesystem::exists(model_dir / "preprocessor_config.json")
                                    ? tessera::load_preprocess_config(model_dir / "preprocessor_config.json")
                                    : tessera::PreprocessConfig{};
        const std::size_t image_floats = 3 * 224 * 224;
        std::vector<float> pixels(batch * image_floats);

        (void)embedder->embed_images(sources);  // warm-up
        std::vector<double> e2e, pre, model_only;
        for (std::size_t round = 0; round < rounds; ++round) {
            auto start = Clock::now();
            const auto result = embedder->embed_images(sources);
            e2e.push_back(seconds_since(start));
            for (const auto& error : result.errors) {
                if (error) throw *error;
            }
            start = Clock::now();
            pool.parallel_for(batch, [&](std::size_t begin, std::size_t end) {
                for (std::size_t idx = begin; idx < end; ++idx) {
                    const auto image = tessera::decode_image(jpeg);
                    tessera::image_to_chw(tessera::resize_and_crop(image, preprocess), preprocess,
                                          std::span<float>(pixels.data() + idx * image_floats, image_floats));
                }
            });
            pre.push_back(seconds_since(start));
            start = Clock::now();
            (void)clip->run_vision(pixels, batch, &pool);
            model_only.push_back(seconds_since(start));
        }
        const double e2e_s = median(e2e);
        const double pre_s = median(pre);
        const double model_s = median(model_only);
        Json report = {
            {"benchmark", "clip-vision-e2e"},
            {"model", model_arg.empty() ? "random ViT-B/32 (768/12/12/3072, patch 32, proj 512)" : model_arg},
            {"image", {{"format", "jpeg"}, {"width", probe.width}, {"height", probe.height}, {"bytes", jpeg.size()}}},
            {"batch", batch},
            {"rounds", rounds},
            {"threads", pool.thread_count()},
            {"hardware_threads", std::thread::hardware_concurrency()},
            {"load_s", load_s},
            {"batch_s_median", {{"end_to_end", e2e_s}, {"decode_preprocess", pre_s}, {"model", model_s}}},
            {"images_per_s", {{"end_to_end", batch / e2e_s}, {"decode_preprocess_only", batch / pre_s}, {"model_only", batch / model_s}}},
            {"share_outside_model", std::max(0.0, 1.0 - model_s / e2e_s)},
            {"share_decode_preprocess_of_sum", pre_s / (pre_s + model_s)},
            {"batch_s_all", {{"end_to_end", e2e}, {"decode_preprocess", pre}, {"model", model_only}}},
        };
        std::cout << report.dump(2) << "\n";
        if (model_arg.empty()) std::filesystem::remove_all(model_dir);
    } catch (const tessera::Error& err) {
        std::cerr << "tessera-image-bench: " << err.what() << "\n";
        return 1;
    }
    return 0;
}
