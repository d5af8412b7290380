// bf16 GEMM micro-kernel for AVX512_BF16 (vdpbf16ps: two bf16 products per fp32 lane per op,
// twice the fp32 FMA rate on Zen 4 and Cooper Lake+).
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

GemmVariant avx512_bf16_gemm() { return portable_table("avx512").gemm_bf16; }

}  // namespace tessera::kernels::detail
