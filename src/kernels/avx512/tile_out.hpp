// TileOut: where an AVX-512 12x32 micro-kernel tile's rows go (kernels_avx512.cpp, gemm_int8.cpp).
#pragma once

#include <immintrin.h>

#include <cstddef>

#include "kernels/isa_kernels.hpp"

namespace tessera::kernels::detail {

// Where a 12x32 tile's rows go: the tile (row stride 32), or, when the caller set epilogue.y
// (stores_output), the output rows themselves with the bias added (attention's score rows and
// head outputs, Linear's outputs without an activation: no second pass over a tile).
struct TileOut {
    float* rows;
    std::size_t stride;
    __m512 bias0, bias1;

    TileOut(float* tile, const TileEpilogue* epilogue)
        : rows(epilogue != nullptr && epilogue->y != nullptr ? epilogue->y : tile),
          stride(epilogue != nullptr && epilogue->y != nullptr ? epilogue->y_stride : 32) {
        const bool add_bias = epilogue != nullptr && epilogue->y != nullptr && epilogue->bias != nullptr;
        bias0 = add_bias ? _mm512_loadu_ps(epilogue->bias) : _mm512_setzero_ps();
        bias1 = add_bias ? _mm512_loadu_ps(epilogue->bias + 16) : _mm512_setzero_ps();
    }
    void store(int row, __m512 lo, __m512 hi) const {
        _mm512_storeu_ps(rows + row * stride, _mm512_add_ps(lo, bias0));
        _mm512_storeu_ps(rows + row * stride + 16, _mm512_add_ps(hi, bias1));
    }
};

}  // namespace tessera::kernels::detail
