// tessera-gemm-bench: the GEMM shapes of MiniLM-L6 and BGE-base, run by tessera's Linear
// (fp32, bf16, int8), OpenBLAS (cblas_sgemm + a bias/GELU pass) and oneDNN (matmul primitive with
// weights reordered once and bias + erf-GELU as post-ops), with the measured machine peak.
//
//   tessera-gemm-bench [--threads 2] [--seconds 0.3] [--rounds 5]
//
// Prints one JSON object per line: shape, engine, GFLOP/s (median over rounds), share of measured
// peak. The engines of a shape take turns round by round (A B C A B C ...), each timed for
// seconds / rounds per turn: on a shared VM a burst of foreign load then slows every engine of
// that round instead of one engine's whole measurement (two back-to-back runs without turns
// disagreed by up to 2x per shape).
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/isa_kernels.hpp"
#include "kernels/linear.hpp"
#include "kernels/ops.hpp"
#include "peak_probe.hpp"

extern "C" void openblas_set_num_threads(int);

namespace {

using tessera::Precision;
using tessera::kernels::Activation;
using tessera::kernels::Linear;

struct Shape {
    const char* name;
    std::size_t rows, in_dim, out_dim;
    bool gelu;
};

// Median seconds per call over ~`budget_s` of repeated calls, in 5 slices.
double time_call(const std::function<void()>& call, double budget_s) {
    call();
    std::vector<double> slices;
    for (int slice = 0; slice < 5; ++slice) {
        std::size_t calls = 0;
        const auto start = std::chrono::steady_clock::now();
        double elapsed = 0;
        do {
            call();
            ++calls;
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        } while (elapsed < budget_s / 5);
        slices.push_back(elapsed / calls);
    }
    std::sort(slices.begin(), slices.end());
    return slices[2];
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t threads = 2;
    double budget_s = 0.3;
    int rounds = 5;
    std::string shape_filter, engine_filter;  // substrings; empty: all
    std::size_t rows_override = 0;            // --rows: every shape with this many rows
    for (int idx = 1; idx + 1 < argc; idx += 2) {
        if (std::strcmp(argv[idx], "--shape") == 0) shape_filter = argv[idx + 1];
        if (std::strcmp(argv[idx], "--engine") == 0) engine_filter = argv[idx + 1];
        if (std::strcmp(argv[idx], "--threads") == 0) threads = std::stoul(argv[idx + 1]);
        if (std::strcmp(argv[idx], "--seconds") == 0) budget_s = std::stod(argv[idx + 1]);
        if (std::strcmp(argv[idx], "--rounds") == 0) rounds = std::max(1, std::stoi(argv[idx + 1]));
        if (std::strcmp(argv[idx], "--rows") == 0) rows_override = std::stoul(argv[idx + 1]);
    }
    // Both libraries get exactly our thread count (no oversubscription next to our pool).
    setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
    openblas_set_num_threads(static_cast<int>(threads));
    tessera::core::ThreadPool pool(threads);

    const auto peak = tessera::bench::measure_peak(threads);
    std::printf("{\"peak\": {\"isa\": \"%s\", \"threads\": %zu, \"fp32_gflops\": %.1f, \"bf16_gflops\": %.1f, \"int8_gops\": %.1f}}\n",
                peak.isa, threads, peak.fp32_gflops, peak.bf16_gflops, peak.int8_gops);

    const Shape shapes[] = {
        {"minilm.qkv 4096x384->1152", 4096, 384, 1152, false},
        {"minilm.out 4096x384->384", 4096, 384, 384, false},
        {"minilm.ffn_up 4096x384->1536+gelu", 4096, 384, 1536, true},
        {"minilm.ffn_down 4096x1536->384", 4096, 1536, 384, false},
        {"minilm.qkv 16x384->1152", 16, 384, 1152, false},
        {"minilm.ffn_up 16x384->1536+gelu", 16, 384, 1536, true},
        {"bge.qkv 4096x768->2304", 4096, 768, 2304, false},
        {"bge.ffn_up 4096x768->3072+gelu", 4096, 768, 3072, true},
        {"bge.ffn_down 4096x3072->768", 4096, 3072, 768, false},
    };
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<std::string> renamed;  // keeps the names of --rows shapes alive
    for (Shape shape : shapes) {
        if (std::string_view(shape.name).find(shape_filter) == std::string_view::npos) continue;
        if (rows_override > 0) {
            std::string name = shape.name;
            const std::size_t rows_at = name.find(' ') + 1;  // "<model>.<gemm> <rows>x<in>-><out>"
            name.replace(rows_at, name.find('x', rows_at) - rows_at, std::to_string(rows_override));
            renamed.push_back(name);
            shape.name = renamed.back().c_str();
            shape.rows = rows_override;
        }
        std::vector<float> x(shape.rows * shape.in_dim), w(shape.out_dim * shape.in_dim), bias(shape.out_dim);
        for (float& value : x) value = dist(rng);
        for (float& value : w) value = dist(rng) * 0.05f;
        for (float& value : bias) value = dist(rng);
        std::vector<float> y(shape.rows * shape.out_dim);
        const double flop = 2.0 * shape.rows * shape.in_dim * shape.out_dim;
        const Activation activation = shape.gelu ? Activation::gelu_erf : Activation::none;
        struct Contender {
            const char* name;
            double peak_gflops;
            std::function<void()> call;
            std::vector<double> seconds;  // one per round
        };
        std::vector<Contender> contenders;
        std::vector<Linear> linears;  // kept alive for their contenders
        linears.reserve(3);
        for (Precision precision : {Precision::fp32, Precision::bf16, Precision::int8}) {
            const Linear& linear = linears.emplace_back(
                Linear::create(w.data(), bias.data(), shape.out_dim, shape.in_dim, precision));
            const char* name = precision == Precision::fp32 ? "tessera-fp32"
                               : precision == Precision::bf16 ? "tessera-bf16" : "tessera-int8";
            // bf16 on the "widen" kernel runs on fp32 FMAs, so its share is of the fp32 peak.
            const bool bf16_on_fma = tessera::kernels::detail::chosen_bf16_kernel() == tessera::kernels::detail::Bf16Kernel::widen;
            const double peak_gflops = precision == Precision::fp32 ? peak.fp32_gflops
                                       : precision == Precision::bf16 ? (bf16_on_fma ? peak.fp32_gflops : peak.bf16_gflops)
                                                                      : peak.int8_gops;
            contenders.push_back({name, peak_gflops,
                                  [&, &linear = linear] { linear.forward(x.data(), shape.rows, y.data(), activation, &pool); }, {}});
        }
        {
            contenders.push_back({"openblas+epilogue", peak.fp32_gflops, [&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(shape.rows),
                            static_cast<int>(shape.out_dim), static_cast<int>(shape.in_dim), 1.0f, x.data(),
                            static_cast<int>(shape.in_dim), w.data(), static_cast<int>(shape.in_dim), 0.0f,
                            y.data(), static_cast<int>(shape.out_dim));
                pool.parallel_for(shape.rows, [&](std::size_t begin, std::size_t end) {
                    for (std::size_t row = begin; row < end; ++row) {
                        float* y_row = y.data() + row * shape.out_dim;
                        for (std::size_t col = 0; col < shape.out_dim; ++col) y_row[col] += bias[col];
                        tessera::kernels::apply_activation(y_row, shape.out_dim, activation);
                    }
                }, 16);
            }, {}});
        }
        // oneDNN's objects live in this scope, so the timing rounds run inside it.
        {
            using tag = dnnl::memory::format_tag;
            using dt = dnnl::memory::data_type;
            const dnnl::memory::dims src_dims = {static_cast<long>(shape.rows), static_cast<long>(shape.in_dim)};
            const dnnl::memory::dims wei_dims = {static_cast<long>(shape.in_dim), static_cast<long>(shape.out_dim)};
            const dnnl::memory::dims dst_dims = {static_cast<long>(shape.rows), static_cast<long>(shape.out_dim)};
            dnnl::memory::desc src_md(src_dims, dt::f32, tag::ab);
            dnnl::memory::desc wei_any(wei_dims, dt::f32, tag::any);
            dnnl::memory::desc wei_user(wei_dims, dt::f32, tag::ba);  // PyTorch [out, in] = KxN transposed
            dnnl::memory::desc bias_md({1, static_cast<long>(shape.out_dim)}, dt::f32, tag::ab);
            dnnl::memory::desc dst_md(dst_dims, dt::f32, tag::ab);
            dnnl::post_ops post_ops;
            if (shape.gelu) post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
            dnnl::primitive_attr attr;
            attr.set_post_ops(post_ops);
            dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_any, bias_md, dst_md), attr, engine);
            dnnl::memory src_mem(src_md, engine, x.data());
            dnnl::memory wei_user_mem(wei_user, engine, w.data());
            dnnl::memory wei_mem(pd.weights_desc(), engine);
            dnnl::reorder(wei_user_mem, wei_mem).execute(stream, wei_user_mem, wei_mem);
            dnnl::memory bias_mem(bias_md, engine, bias.data());
            dnnl::memory dst_mem(dst_md, engine, y.data());
            dnnl::matmul matmul(pd);
            contenders.push_back({"onednn-matmul+postops", peak.fp32_gflops, [&] {
                matmul.execute(stream, {{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, wei_mem},
                                        {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, dst_mem}});
                stream.wait();
            }, {}});

            std::erase_if(contenders, [&](const Contender& contender) {
                return std::string_view(contender.name).find(engine_filter) == std::string_view::npos;
            });
            for (int round = 0; round < rounds; ++round) {
                for (Contender& contender : contenders) contender.seconds.push_back(time_call(contender.call, budget_s / rounds));
            }
            for (Contender& contender : contenders) {
                std::sort(contender.seconds.begin(), contender.seconds.end());
                const double seconds = contender.seconds[contender.seconds.size() / 2];
                const double gflops = flop / seconds / 1e9;
                std::printf("{\"shape\": \"%s\", \"engine\": \"%s\", \"ms\": %.3f, \"gflops\": %.1f, \"peak_share\": %.3f, \"rounds\": %d}\n",
                            shape.name, contender.name, seconds * 1e3, gflops, gflops / contender.peak_gflops, rounds);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
