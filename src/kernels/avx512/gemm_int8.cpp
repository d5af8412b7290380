// int8 GEMM micro-kernel for AVX512_VNNI (vpdpbusd: u8 activations x s8 weights, four products
// per int32 lane per op).
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

GemmVariant avx512_vnni_gemm() { return portable_table("avx512").gemm_int8; }

}  // namespace tessera::kernels::detail
