// Public element-wise and row-wise kernels: thin dispatch onto the active ISA table, with the
// row loops split over the pool where a call is big enough to pay for the hand-off.
#include "kernels/ops.hpp"

#include <cmath>

#include "kernels/isa_kernels.hpp"

namespace tessera::kernels {

void layer_norm(const float* x, const float* residual, std::size_t row_count, std::size_t dim,
                const float* gamma, const float* beta, float eps, float* out,
                core::ThreadPool* pool) {
    const auto& isa = detail::active_kernels();
    auto body = [&](std::size_t begin, std::size_t end) {
        isa.layer_norm(x + begin * dim, residual == nullptr ? nullptr : residual + begin * dim,
                       end - begin, dim, gamma, beta, eps, out + begin * dim);
    };
    // A row of 384 floats normalises in ~100 ns; below ~64 rows the pool hand-off costs more.
    if (pool != nullptr && row_count >= 64) pool->parallel_for(row_count, body, 32);
    else body(0, row_count);
}

void apply_activation(float* x, std::size_t count, Activation activation) {
    detail::active_kernels().activation(x, count, activation);
}

void swiglu(const float* up, std::size_t up_stride, const float* gate, std::size_t gate_stride,
            std::size_t row_count, std::size_t dim, float* out, std::size_t out_stride) {
    detail::active_kernels().swiglu(up, up_stride, gate, gate_stride, row_count, dim, out, out_stride);
}

void softmax_rows(float* x, std::size_t row_count, std::size_t dim) {
    detail::active_kernels().softmax_rows(x, row_count, dim);
}

void l2_normalize(float* x, std::size_t dim) {
    double sum_sq = 0.0;  // once per output vector: precision over speed
    for (std::size_t idx = 0; idx < dim; ++idx) sum_sq += static_cast<double>(x[idx]) * x[idx];
    const double norm = std::max(std::sqrt(sum_sq), 1e-12);
    const auto inv_norm = static_cast<float>(1.0 / norm);
    for (std::size_t idx = 0; idx < dim; ++idx) x[idx] *= inv_norm;
}

void add_inplace(float* out, const float* x, std::size_t count) {
    for (std::size_t idx = 0; idx < count; ++idx) out[idx] += x[idx];
}

}  // namespace tessera::kernels
