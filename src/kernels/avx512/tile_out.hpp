// What the AVX-512 12x32 micro-kernels share (kernels_avx512.cpp, gemm_int8.cpp, gemm_bf16.cpp):
// the weight panel prefetch (panel_prefetch.hpp) and TileOut, where a tile's rows go.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/isa_kernels.hpp"
#include "kernels/panel_prefetch.hpp"
#include "kernels/vec_math.hpp"

namespace tessera::kernels::detail {

// Where a 12x32 tile's rows go: the tile (row stride 32), or, when the caller set epilogue.y
// (stores_output), the output rows themselves with the bias and the activation applied while they
// are in L1 (attention's score rows and head outputs, Linear's outputs: no second pass over a
// tile; the bias + GELU pass over int8 FFN tiles was 6% of MiniLM-L6 int8, the quick-GELU one 7.5%
// of CLIP ViT-B/32 fp32).
struct TileOut {
    float* rows;
    std::size_t stride;
    Activation activation;
    __m512 bias0, bias1;

    TileOut(float* tile, const TileEpilogue* epilogue)
        : rows(epilogue != nullptr && epilogue->y != nullptr ? epilogue->y : tile),
          stride(epilogue != nullptr && epilogue->y != nullptr ? epilogue->y_stride : 32),
          activation(epilogue != nullptr && epilogue->y != nullptr ? epilogue->activation : Activation::none) {
        const bool add_bias = epilogue != nullptr && epilogue->y != nullptr && epilogue->bias != nullptr;
        bias0 = add_bias ? _mm512_loadu_ps(epilogue->bias) : _mm512_setzero_ps();
        bias1 = add_bias ? _mm512_loadu_ps(epilogue->bias + 16) : _mm512_setzero_ps();
    }
    void store(int row, __m512 lo, __m512 hi) const {
        _mm512_storeu_ps(rows + row * stride, _mm512_add_ps(lo, bias0));
        _mm512_storeu_ps(rows + row * stride + 16, _mm512_add_ps(hi, bias1));
    }
    // After the tile's `row_count` rows are stored: the activation, over the rows while they are
    // in L1. A loop rather than a step of each (unrolled) store: GELU in every store made the
    // kernels ~10 KB longer per row count and single queries 7-12% slower (bf16, int8).
    void finish(std::size_t row_count) const {
        switch (activation) {
            case Activation::none: return;
            case Activation::gelu_erf: return apply<Activation::gelu_erf>(row_count);
            case Activation::gelu_tanh: return apply<Activation::gelu_tanh>(row_count);
            case Activation::quick_gelu: return apply<Activation::quick_gelu>(row_count);
            case Activation::relu: return apply<Activation::relu>(row_count);
            case Activation::tanh: return apply<Activation::tanh>(row_count);
            case Activation::silu: return apply<Activation::silu>(row_count);
        }
    }

    template <Activation kActivation>
    void apply(std::size_t row_count) const {
        for (std::size_t row = 0; row < row_count; ++row) {
            for (std::size_t half = 0; half < 32; half += 16) {
                float* dst = rows + row * stride + half;
                const auto value = (vec_math::Vec16)_mm512_loadu_ps(dst);
                _mm512_storeu_ps(dst, (__m512)vec_math::activate(value, kActivation));
            }
        }
    }
};

}  // namespace tessera::kernels::detail
