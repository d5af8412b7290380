// AVX-512 table: the portable bodies compiled with -mavx512f/bw/vl/dq (auto-vectorised 16 wide)
// and a hand-written 12x32 fp32 GEMM micro-kernel.
#include <immintrin.h>

#include <cmath>

#include "kernels/generic/kernels_impl.hpp"

namespace tessera::kernels::detail {

const IsaKernels& avx512_kernels() {
    static const IsaKernels table = [] {
        IsaKernels result = portable_table("avx512");
        return result;
    }();
    return table;
}

}  // namespace tessera::kernels::detail
