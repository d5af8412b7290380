// Element-wise and row-wise kernels used by the models: norms, activations, softmax, pooling.
// Inputs are valid by contract (shapes checked with debug asserts only); each function picks the
// best ISA variant at run time.
#pragma once

#include <cstddef>

#include "core/thread_pool.hpp"
#include "kernels/linear.hpp"  // Activation

namespace tessera::kernels {

// out[r] = layer_norm(x[r] (+ residual[r] if non-null)) * gamma + beta, rows of `dim` floats.
// out may alias x or residual.
void layer_norm(const float* x, const float* residual, std::size_t row_count, std::size_t dim,
                const float* gamma, const float* beta, float eps, float* out,
                core::ThreadPool* pool = nullptr);

// In place: x[i] = act(x[i]) for `count` floats.
void apply_activation(float* x, std::size_t count, Activation activation);

// SwiGLU as NomicBERT uses it: out[r, j] = silu(gate[r, j]) * up[r, j] (each row `dim` floats,
// with independent row strides).
void swiglu(const float* up, std::size_t up_stride, const float* gate, std::size_t gate_stride,
            std::size_t row_count, std::size_t dim, float* out, std::size_t out_stride);

// In place softmax over each row of `dim` floats.
void softmax_rows(float* x, std::size_t row_count, std::size_t dim);

// In place: x /= max(||x||_2, 1e-12).
void l2_normalize(float* x, std::size_t dim);

// out += x (count floats).
void add_inplace(float* out, const float* x, std::size_t count);

}  // namespace tessera::kernels
