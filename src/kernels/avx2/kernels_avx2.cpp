// AVX2+FMA table: the portable bodies compiled with -mavx2 -mfma (auto-vectorised 8 wide) and
// a hand-written 6x16 fp32 GEMM micro-kernel. bf16/int8 GEMMs stay portable on AVX2.
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

const IsaKernels& avx2_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx2");
        return result;
    }();
    return table;
}

}  // namespace tessera::kernels::detail
