// tessera-bench: runs the workload files of ../shared/bench (workloads.py) through tessera and
// prints the JSON that ab.py compares with ort_bench.mjs (see ../shared/bench/README.md, "The
// tessera side").
//
//   tessera-bench --model DIR --workload W.json [--workload W2.json ...] --threads 2 --repeats 5
//                 [--precision fp32|bf16|int8] [--warmup 1] [--iters N] [--peak]
//
// Text workloads go through the public tessera::TextEmbedder (embed_tokenized, one call per
// stored batch, padding stripped by the attention mask: tessera never computes on padding).
// Image workloads (CLIP vision) feed the stored CLIP-normalised pixel_values to the CLIP model's
// vision tower, so decoding stays outside the timing on both sides, as the contract asks.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/cpu_features.hpp"
#include "core/thread_pool.hpp"
#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"
#include "kernels/ops.hpp"
#include "models/clip.hpp"
#include "models/registry.hpp"
#include "peak_probe.hpp"
#include "tessera/embedder.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
           usage.ru_stime.tv_usec * 1e-6;
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

double current_rss_mb() {
    std::ifstream statm("/proc/self/statm");
    long pages_total = 0, pages_resident = 0;
    statm >> pages_total >> pages_resident;
    return pages_resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// Busy CPU seconds of the whole machine (all processes) from /proc/stat.
double machine_busy_seconds() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return static_cast<double>(user + nice + system + irq + softirq + steal) / sysconf(_SC_CLK_TCK);
}

struct CpuWindow {
    double wall_start = 0;
    double own_start = 0;
    double busy_start = 0;
    Clock::time_point start;
    void begin() {
        start = Clock::now();
        own_start = own_cpu_seconds();
        busy_start = machine_busy_seconds();
    }
    json end() const {
        const double wall = seconds_since(start);
        const double own = own_cpu_seconds() - own_start;
        const double busy = machine_busy_seconds() - busy_start;
        const double cores = static_cast<double>(tessera::core::ThreadPool::available_cores());
        const double foreign = std::max(0.0, busy - own) / std::max(1e-9, wall * cores);
        return {{"own_cpu_s", own}, {"own_cores_busy", own / std::max(1e-9, wall)},
                {"foreign_cpu_fraction", std::min(1.0, foreign)}};
    }
};

json latency_summary(std::vector<double> seconds) {
    std::sort(seconds.begin(), seconds.end());
    auto pick = [&](double fraction) {
        const auto idx = static_cast<std::size_t>(std::ceil(fraction * seconds.size())) - 1;
        return seconds[std::min(idx, seconds.size() - 1)] * 1e3;
    };
    double sum = 0;
    for (double value : seconds) sum += value;
    return {{"p50", pick(0.5)}, {"p90", pick(0.9)}, {"p99", pick(0.99)}, {"min", seconds.front() * 1e3},
            {"max", seconds.back() * 1e3}, {"mean", sum / seconds.size() * 1e3}, {"n", seconds.size()}};
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// float32 .npy (C order) -> values.
std::vector<float> read_npy_f32(const std::string& path, std::size_t expected_count) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw tessera::Error(tessera::ErrorCode::not_found, path + ": cannot open");
    char magic[8];
    file.read(magic, 8);
    std::uint16_t header_len = 0;
    if (magic[6] == 1) {
        file.read(reinterpret_cast<char*>(&header_len), 2);
    } else {
        std::uint32_t long_len = 0;
        file.read(reinterpret_cast<char*>(&long_len), 4);
        header_len = static_cast<std::uint16_t>(long_len);
    }
    std::string header(header_len, '\0');
    file.read(header.data(), header_len);
    if (header.find("'<f4'") == std::string::npos) {
        throw tessera::Error(tessera::ErrorCode::unsupported, path + ": descr: expected '<f4'");
    }
    std::vector<float> values(expected_count);
    file.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(expected_count * sizeof(float)));
    if (!file) throw tessera::Error(tessera::ErrorCode::corrupt, path + ": fewer values than expected");
    return values;
}

struct Options {
    std::string model_dir;
    std::vector<std::string> workloads;
    std::size_t threads = 0;
    std::size_t repeats = 5;
    std::size_t warmup = 1;
    std::size_t iters = 0;
    std::string precision = "fp32";
    std::size_t max_batch_tokens = 0;  // 0: the embedder's default
    bool peak = false;
    bool accuracy = false;  // also embed at fp32 and report cosine of --precision to it
};

Options parse_args(int argc, char** argv) {
    Options options;
    for (int idx = 1; idx < argc; ++idx) {
        const std::string arg = argv[idx];
        auto value = [&]() -> std::string {
            if (idx + 1 >= argc) throw tessera::Error(tessera::ErrorCode::invalid_argument, arg + ": missing value");
            return argv[++idx];
        };
        if (arg == "--model") options.model_dir = value();
        else if (arg == "--workload") options.workloads.push_back(value());
        else if (arg == "--threads") options.threads = std::stoul(value());
        else if (arg == "--repeats") options.repeats = std::stoul(value());
        else if (arg == "--warmup") options.warmup = std::stoul(value());
        else if (arg == "--iters") options.iters = std::stoul(value());
        else if (arg == "--precision") options.precision = value();
        else if (arg == "--max-batch-tokens") options.max_batch_tokens = std::stoul(value());
        else if (arg == "--peak") options.peak = true;
        else if (arg == "--accuracy") options.accuracy = true;
        else throw tessera::Error(tessera::ErrorCode::invalid_argument, "unknown option '" + arg + "'");
    }
    if (options.model_dir.empty() || options.workloads.empty()) {
        throw tessera::Error(tessera::ErrorCode::invalid_argument,
                             "usage: tessera-bench --model DIR --workload W.json [--threads N] [--repeats N] "
                             "[--precision fp32|bf16|int8] [--warmup N] [--iters N] [--peak] [--accuracy]");
    }
    if (options.precision != "fp32" && options.precision != "bf16" && options.precision != "int8") {
        throw tessera::Error(tessera::ErrorCode::invalid_argument, "--precision: unknown '" + options.precision + "'");
    }
    if (options.threads == 0) options.threads = tessera::core::ThreadPool::available_cores();
    return options;
}

tessera::Precision to_precision(const std::string& name) {
    if (name == "bf16") return tessera::Precision::bf16;
    if (name == "int8") return tessera::Precision::int8;
    return tessera::Precision::fp32;
}

// Matrix-multiply FLOPs of a BERT-style encoder over one sequence of `length` tokens, as run:
// with `pooled_row_only` (CLS or last-token pooling, CLIP's class token) the last layer computes
// only that row past its QKV projection (models::TextEncoder::encode's output_positions).
double encoder_flop(std::size_t length, std::size_t hidden, std::size_t ffn, std::size_t layers, bool pooled_row_only) {
    const double h = static_cast<double>(hidden), tokens = static_cast<double>(length);
    const double qkv = 2.0 * 3.0 * h * h;                                // per token
    const double past_attention = 2.0 * (h * h + 2.0 * h * static_cast<double>(ffn));  // per token
    const double attention_per_query = 2.0 * 2.0 * tokens * h;
    const double layer = (qkv + past_attention + attention_per_query) * tokens;
    if (!pooled_row_only || layers == 0) return static_cast<double>(layers) * layer;
    return static_cast<double>(layers - 1) * layer + qkv * tokens + past_attention + attention_per_query;
}

// Mean and min cosine between this precision's embeddings and fp32's, item by item.
struct CosineStats {
    double sum = 0, min_cos = 1;
    std::size_t count = 0;

    void add(const float* reduced, const float* exact, std::size_t dim) {
        double dot = 0, lhs = 0, rhs = 0;
        for (std::size_t col = 0; col < dim; ++col) {
            dot += double(reduced[col]) * exact[col];
            lhs += double(reduced[col]) * reduced[col];
            rhs += double(exact[col]) * exact[col];
        }
        const double cos = dot / std::sqrt(lhs * rhs);
        sum += cos;
        min_cos = std::min(min_cos, cos);
        ++count;
    }
    [[nodiscard]] json to_json() const {
        return {{"mean_cosine", sum / static_cast<double>(count)}, {"min_cosine", min_cos}, {"items", count}};
    }
};

// On every item of a text workload (after the timed part, so it does not disturb the speed figures).
json accuracy_vs_fp32(tessera::TextEmbedder& embedder,
                      const std::vector<std::vector<tessera::TokenizedText>>& batches, const Options& options) {
    tessera::EmbedderOptions fp32_options;
    fp32_options.thread_count = options.threads;
    auto reference = tessera::TextEmbedder::open(options.model_dir, fp32_options);
    CosineStats stats;
    for (const auto& batch : batches) {
        const auto reduced = embedder.embed_tokenized(batch);
        const auto exact = reference->embed_tokenized(batch);
        for (std::size_t row = 0; row < batch.size(); ++row) stats.add(reduced.row(row).data(), exact.row(row).data(), exact.cols());
    }
    return stats.to_json();
}

// The model directory's CLIP model (the image workloads' tower) at `precision`.
std::unique_ptr<tessera::models::Model> load_clip(const Options& options, tessera::Precision precision) {
    const auto config = tessera::formats::read_model_config(std::filesystem::path(options.model_dir) / "config.json");
    return tessera::models::build_model(config, tessera::formats::WeightStore::open_model_dir(options.model_dir),
                                        {.precision = precision});
}

// The same for an image workload: the CLIP vision tower's features at this precision and at fp32.
json image_accuracy_vs_fp32(const tessera::models::ClipModel& clip, const std::vector<float>& pixels,
                            const std::vector<std::pair<std::size_t, std::size_t>>& batches, std::size_t image_floats,
                            const Options& options, tessera::core::ThreadPool* pool) {
    const auto reference_model = load_clip(options, tessera::Precision::fp32);
    const auto& reference = dynamic_cast<const tessera::models::ClipModel&>(*reference_model);
    CosineStats stats;
    for (const auto& [start, count] : batches) {
        const std::span<const float> batch(pixels.data() + start * image_floats, count * image_floats);
        const auto reduced = clip.run_vision(batch, count, pool, tessera::models::ClipStates::pooled_token);
        const auto exact = reference.run_vision(batch, count, pool, tessera::models::ClipStates::pooled_token);
        for (std::size_t row = 0; row < count; ++row) {
            stats.add(reduced.features.data() + row * clip.output_dim(), exact.features.data() + row * clip.output_dim(),
                      clip.output_dim());
        }
    }
    return stats.to_json();
}

struct Runner {
    // Runs batch `idx`; returns nothing, the timing is done by the caller.
    std::function<void(std::size_t)> run_batch;
    std::size_t batch_count = 0;
};

json run_workload(const json& workload, const Runner& runner, const Options& options, double flop_per_pass,
                  double peak_gflops) {
    json result;
    const bool latency = workload.value("mode", "throughput") == "latency";
    CpuWindow window;
    if (latency) {
        const std::size_t iterations = options.iters != 0 ? options.iters : workload.value("iterations", 200);
        for (int warm = 0; warm < 10; ++warm) runner.run_batch(0);
        std::vector<double> times;
        window.begin();
        for (std::size_t iter = 0; iter < iterations; ++iter) {
            const auto start = Clock::now();
            runner.run_batch(0);
            times.push_back(seconds_since(start));
        }
        result["cpu"] = window.end();
        const double p50 = median(times);
        result["items_per_s"] = workload.value("items", 1) / p50;
        result["tokens_per_s"] = workload.value("tokens", 0) / p50;
        result["latency_ms"] = latency_summary(times);
        result["iterations"] = iterations;
        if (flop_per_pass > 0) result["gflops"] = flop_per_pass / p50 / 1e9;
    } else {
        for (std::size_t pass = 0; pass < options.warmup; ++pass) {
            for (std::size_t batch = 0; batch < runner.batch_count; ++batch) runner.run_batch(batch);
        }
        std::vector<double> pass_times, batch_times;
        window.begin();
        for (std::size_t pass = 0; pass < options.repeats; ++pass) {
            const auto pass_start = Clock::now();
            for (std::size_t batch = 0; batch < runner.batch_count; ++batch) {
                const auto start = Clock::now();
                runner.run_batch(batch);
                batch_times.push_back(seconds_since(start));
            }
            pass_times.push_back(seconds_since(pass_start));
        }
        result["cpu"] = window.end();
        const double pass_s = median(pass_times);
        result["items_per_s"] = workload.value("items", 0) / pass_s;
        result["tokens_per_s"] = workload.value("tokens", 0) / pass_s;
        result["padded_tokens_per_s"] = workload.value("padded_tokens", 0) / pass_s;
        result["latency_ms"] = latency_summary(batch_times);
        result["median_pass_s"] = pass_s;
        result["pass_s"] = pass_times;
        result["repeats"] = options.repeats;
        result["warmup_passes"] = options.warmup;
        if (flop_per_pass > 0) result["gflops"] = flop_per_pass / pass_s / 1e9;
    }
    if (flop_per_pass > 0 && peak_gflops > 0) result["peak_share"] = result["gflops"].get<double>() / peak_gflops;
    for (const char* key : {"family", "items", "tokens", "padded_tokens", "mode"}) {
        if (workload.contains(key)) result[key] = workload[key];
    }
    result["batches"] = runner.batch_count;
    return result;
}

int run(int argc, char** argv) {
    const Options options = parse_args(argc, argv);
    const double rss_before = current_rss_mb();
    json output;
    output["engine"] = "tessera";
    output["model"] = options.model_dir;
    output["threads"] = options.threads;
    output["precision"] = options.precision;
    output["isa"] = std::string(tessera::core::isa_level_name(tessera::core::active_isa_level()));
    double peak_gflops = 0;
    if (options.peak) {
        const auto peak = tessera::bench::measure_peak(options.threads);
        output["peak"] = {{"isa", peak.isa}, {"fp32_gflops", peak.fp32_gflops}, {"bf16_gflops", peak.bf16_gflops},
                          {"int8_gops", peak.int8_gops}};
        peak_gflops = options.precision == "fp32" ? peak.fp32_gflops
                      : options.precision == "bf16" ? peak.bf16_gflops : peak.int8_gops;
    }

    // The workloads decide which tower is needed: text families -> TextEmbedder, images -> CLIP.
    std::vector<json> workloads;
    bool any_image = false, any_text = false;
    for (const auto& path : options.workloads) {
        std::ifstream file(path);
        if (!file) throw tessera::Error(tessera::ErrorCode::not_found, path + ": cannot open workload");
        json workload = json::parse(file);
        workload["__path"] = path;
        (workload.value("kind", "text") == "image" ? any_image : any_text) = true;
        workloads.push_back(std::move(workload));
    }

    const auto load_start = Clock::now();
    std::unique_ptr<tessera::TextEmbedder> text;
    std::unique_ptr<tessera::models::Model> clip_model;
    std::unique_ptr<tessera::core::ThreadPool> pool;
    if (any_text) {
        tessera::EmbedderOptions embedder_options;
        embedder_options.thread_count = options.threads;
        embedder_options.precision = to_precision(options.precision);
        if (options.max_batch_tokens > 0) embedder_options.max_batch_tokens = options.max_batch_tokens;
        text = tessera::TextEmbedder::open(options.model_dir, embedder_options);
    }
    if (any_image) {
        clip_model = load_clip(options, to_precision(options.precision));
        pool = std::make_unique<tessera::core::ThreadPool>(options.threads);
    }
    const double load_ms = seconds_since(load_start) * 1e3;
    output["session_create_ms"] = load_ms;
    output["load_ms"] = load_ms;
    const double rss_after_load = current_rss_mb();

    json results = json::object();
    for (const auto& workload : workloads) {
        const std::string name = workload.value("name", "workload");
        Runner runner;
        double flop_per_pass = 0;
        std::vector<std::vector<tessera::TokenizedText>> text_batches;
        std::vector<float> pixels;
        std::vector<std::pair<std::size_t, std::size_t>> image_batches;
        if (workload.value("kind", "text") == "image") {
            auto* clip = dynamic_cast<tessera::models::ClipModel*>(clip_model.get());
            if (clip == nullptr || !clip->has_vision()) {
                throw tessera::Error(tessera::ErrorCode::unsupported, options.model_dir + ": no CLIP vision tower");
            }
            const auto& vision = clip->vision_config();
            const std::size_t image_floats = vision.channel_count * vision.image_size * vision.image_size;
            const std::size_t image_count = workload.value("items", 0);
            const auto npy = std::filesystem::path(workload["__path"].get<std::string>()).parent_path() /
                             workload["pixel_values_npy"].get<std::string>();
            // The images workload stores all 16 images; image_single uses the first one.
            std::size_t stored = 0;
            for (const auto& batch : workload["batches"]) stored = std::max<std::size_t>(stored, batch["start"].get<std::size_t>() + batch["count"].get<std::size_t>());
            pixels = read_npy_f32(npy.string(), stored * image_floats);
            for (const auto& batch : workload["batches"]) image_batches.emplace_back(batch["start"], batch["count"]);
            runner.batch_count = image_batches.size();
            runner.run_batch = [&, clip, image_floats](std::size_t idx) {
                const auto [start, count] = image_batches[idx];
                // As ImageEmbedder runs it: the class token's states only (ClipStates::pooled_token).
                auto out = clip->run_vision(std::span<const float>(pixels.data() + start * image_floats, count * image_floats),
                                            count, pool.get(), tessera::models::ClipStates::pooled_token);
                for (std::size_t row = 0; row < count; ++row) {
                    tessera::kernels::l2_normalize(out.features.data() + row * clip->output_dim(), clip->output_dim());
                }
            };
            const std::size_t tokens = vision.token_count();
            const double per_image = encoder_flop(tokens, vision.hidden_dim, vision.ffn_dim, vision.layer_count, true) +
                                     2.0 * image_floats * vision.hidden_dim;  // patch embedding
            flop_per_pass = per_image * image_count;
        } else {
            const auto& info = text->info();
            // engine::pooled_rows' rule, from the public ModelInfo (modes joined with '+').
            const bool pooled_row_only = info.pooling == "cls" || info.pooling == "last_token";
            for (const auto& batch : workload["batches"]) {
                std::vector<tessera::TokenizedText> inputs;
                const auto& ids = batch["input_ids"];
                const auto& mask = batch["attention_mask"];
                for (std::size_t row = 0; row < ids.size(); ++row) {
                    tessera::TokenizedText input;
                    for (std::size_t pos = 0; pos < ids[row].size(); ++pos) {
                        if (mask[row][pos].get<int>() != 0) input.ids.push_back(ids[row][pos].get<std::int32_t>());
                    }
                    flop_per_pass += encoder_flop(input.ids.size(), info.hidden_dim, info.ffn_dim, info.layer_count,
                                                  pooled_row_only);
                    inputs.push_back(std::move(input));
                }
                text_batches.push_back(std::move(inputs));
            }
            runner.batch_count = text_batches.size();
            runner.run_batch = [&](std::size_t idx) {
                auto vectors = text->embed_tokenized(text_batches[idx]);
                if (vectors.rows() != text_batches[idx].size()) {
                    throw tessera::Error(tessera::ErrorCode::internal, "tessera-bench: wrong number of vectors");
                }
            };
            if (workload.value("mode", "throughput") == "latency") flop_per_pass /= std::max<std::size_t>(1, text_batches.size());
        }
        std::cerr << "tessera-bench: " << name << " (" << runner.batch_count << " batches)\n";
        json result = run_workload(workload, runner, options, flop_per_pass, peak_gflops);
        if (options.accuracy && text != nullptr && !text_batches.empty()) {
            result["accuracy_vs_fp32"] = accuracy_vs_fp32(*text, text_batches, options);
        }
        if (options.accuracy && !image_batches.empty()) {
            const auto& clip = dynamic_cast<const tessera::models::ClipModel&>(*clip_model);
            const auto& vision = clip.vision_config();
            result["accuracy_vs_fp32"] = image_accuracy_vs_fp32(
                clip, pixels, image_batches, vision.channel_count * vision.image_size * vision.image_size, options,
                pool.get());
        }
        result["file"] = workload["__path"];
        results[name] = std::move(result);
    }
    output["workloads"] = results;
    output["rss_mb"] = {{"before_load", rss_before}, {"after_load", rss_after_load}, {"peak", peak_rss_mb()}};
    output["peak_rss_mb"] = peak_rss_mb();
    std::cout << output.dump() << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const tessera::Error& err) {
        std::cerr << "tessera-bench: " << err.what() << "\n";
        return tessera::exit_code(err.code());
    } catch (const std::exception& err) {
        std::cerr << "tessera-bench: " << err.what() << "\n";
        return 1;
    }
}
