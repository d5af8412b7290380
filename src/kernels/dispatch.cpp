// Picks the kernel table for an ISA level. The bf16 and int8 GEMMs need more than the level says
// (AVX512_BF16, AVX512_VNNI), so they are resolved here from the detected features; without them
// the level's table keeps the portable variants.
#include "kernels/isa_kernels.hpp"

namespace tessera::kernels::detail {

namespace {

IsaKernels resolve_avx512() {
    IsaKernels table = avx512_kernels();
    const auto& features = core::detected_cpu_features();
    if (features.avx512_bf16) table.gemm_bf16 = avx512_bf16_gemm();
    if (features.avx512_vnni) table.gemm_int8 = avx512_vnni_gemm();
    return table;
}

}  // namespace

const IsaKernels& isa_kernels(core::IsaLevel level) {
    switch (level) {
        case core::IsaLevel::avx512: {
            static const IsaKernels table = resolve_avx512();
            return table;
        }
        case core::IsaLevel::avx2: return avx2_kernels();
        case core::IsaLevel::portable: break;
    }
    return generic_kernels();
}

}  // namespace tessera::kernels::detail
