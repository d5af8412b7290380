// Picks the kernel table for an ISA level. The bf16 and int8 GEMMs need more than the level says
// (AVX512_BF16, AVX512_VNNI), so they are resolved here from the detected features; without them
// the level's table keeps the portable variants.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "kernels/isa_kernels.hpp"

namespace tessera::kernels::detail {

namespace {

std::atomic<Bf16Kernel> bf16_override{Bf16Kernel::automatic};

// Best of 3 rounds of a register-only loop, in operations per second (~0.1-0.5 ms a round).
double measured_rate(double (*loop)(std::size_t)) {
    double best = 0;
    for (int round = 0; round < 3; ++round) {
        const auto start = std::chrono::steady_clock::now();
        const double operations = loop(20'000);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, operations / std::max(seconds, 1e-9));
    }
    return best;
}

Bf16Kernel measured_bf16_kernel() {
    if (!core::detected_cpu_features().avx512_bf16) return Bf16Kernel::widen;
    if (const char* env = std::getenv("TESSERA_BF16_KERNEL")) {
        if (std::strcmp(env, "dot") == 0) return Bf16Kernel::dot;
        if (std::strcmp(env, "widen") == 0) return Bf16Kernel::widen;
    }
    return measured_rate(&dot_bf16_loop_avx512) >= 1.2 * measured_rate(&fma_f32_loop_avx512)
               ? Bf16Kernel::dot
               : Bf16Kernel::widen;
}

IsaKernels resolve_avx512(Bf16Kernel bf16) {
    IsaKernels table = avx512_kernels();
    const auto& features = core::detected_cpu_features();
    table.gemm_bf16 = bf16 == Bf16Kernel::dot ? avx512_bf16_gemm() : avx512_bf16_widen_gemm();
    if (features.avx512_vnni) table.gemm_int8 = avx512_vnni_gemm();
    return table;
}

}  // namespace

void set_bf16_kernel_override(Bf16Kernel kernel) { bf16_override.store(kernel); }

Bf16Kernel chosen_bf16_kernel() {
    const Bf16Kernel forced = bf16_override.load();
    if (forced == Bf16Kernel::widen || (forced == Bf16Kernel::dot && core::detected_cpu_features().avx512_bf16)) {
        return forced;
    }
    static const Bf16Kernel measured = measured_bf16_kernel();
    return measured;
}

const IsaKernels& isa_kernels(core::IsaLevel level) {
    switch (level) {
        case core::IsaLevel::avx512: {
            static const IsaKernels with_dot = resolve_avx512(Bf16Kernel::dot);
            static const IsaKernels with_widen = resolve_avx512(Bf16Kernel::widen);
            return chosen_bf16_kernel() == Bf16Kernel::dot ? with_dot : with_widen;
        }
        case core::IsaLevel::avx2: return avx2_kernels();
        case core::IsaLevel::portable: break;
    }
    return generic_kernels();
}

}  // namespace tessera::kernels::detail
