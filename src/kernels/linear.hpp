// Linear — y = act(x W^T + b) for PyTorch-layout weights W [out_dim, in_dim].
//
//   auto fc = kernels::Linear::create(weight_ptr, bias_ptr, out_dim, in_dim, Precision::fp32);
//   fc.forward(x, row_count, y, kernels::Activation::gelu_erf, &pool);   // x: rows x in, y: rows x out
//
// The weight is packed once at create() into whatever layout the chosen kernel (fp32, bf16 or
// int8 with per-channel scales and dynamic per-row activation quantisation) runs fastest on,
// so callers never see layouts or ISAs.
#pragma once

#include <cstddef>
#include <memory>

#include "core/thread_pool.hpp"
#include "tessera/embedder.hpp"  // tessera::Precision

namespace tessera::kernels {

enum class Activation { none, gelu_erf, gelu_tanh, quick_gelu, relu, tanh, silu };

class Linear {
public:
    // weight: out_dim x in_dim row-major floats (copied/packed; need not outlive the Linear).
    // bias: out_dim floats or nullptr.
    static Linear create(const float* weight, const float* bias, std::size_t out_dim,
                         std::size_t in_dim, Precision precision = Precision::fp32);

    Linear();
    Linear(Linear&&) noexcept;
    Linear& operator=(Linear&&) noexcept;
    ~Linear();

    // y[r, :] = act(x[r, :] W^T + b) for r < row_count. x has row stride in_dim (or x_stride),
    // y has row stride out_dim (or y_stride). x and y must not overlap.
    void forward(const float* x, std::size_t row_count, float* y, Activation activation,
                 core::ThreadPool* pool, std::size_t x_stride = 0, std::size_t y_stride = 0) const;

    [[nodiscard]] std::size_t out_dim() const;
    [[nodiscard]] std::size_t in_dim() const;
    [[nodiscard]] std::size_t packed_bytes() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::kernels
