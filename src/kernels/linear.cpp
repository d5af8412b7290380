// Linear: weight packing at create() and the GEMM driver that tiles x W^T over the thread pool.
//
// Why our own micro-kernels and not oneDNN or OpenBLAS (measured with tessera-gemm-bench, see
// the README's Performance section): the shapes here have K = 384..3072 and M from 1 to ~16k rows, and are
// called ~40-70 times per batch. A weight packed once at load, bias + activation fused into the
// tile epilogue while it is in L1, and one pool shared with attention were ahead of both libraries
// on the MiniLM shapes and far ahead on 16-row (single query) calls, where oneDNN's per-call
// overhead dominates and OpenBLAS repacks B every call; oneDNN was ahead on BGE's large-K fp32
// FFN shapes with our earlier 128 KB row blocks (see row_block_budget_bytes). bf16 (vdpbf16ps)
// and int8 (vpdpbusd with per-row activation / per-channel weight scales) have no equivalent in
// either library's sgemm API, and linking neither keeps one thread pool (no oversubscription).
// Those measurements were on AMD machines (Zen 4, Zen 3). On the Intel Xeon of 2026-12-04 oneDNN's
// fp32 matmul was 9-35% ahead on every shape, including 16 rows (README, 2026-12-04 GEMM table),
// while our micro-kernel itself runs at 91-97% of peak with its data in cache: the gap is in this
// driver (A read in place from 12 rows, whole-K panels). Not switched yet: oneDNN brings its own
// OpenMP threads next to this pool, and its win has to be measured end to end first.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/isa_kernels.hpp"
#include "kernels/linear.hpp"
#include "kernels/work_buffer.hpp"

namespace tessera::kernels {

using detail::GemmVariant;
using detail::IsaKernels;

namespace {

struct FreeDeleter {
    void operator()(void* ptr) const { std::free(ptr); }
};

// Zeroed, because the padding of the last panel and of K must read as zero weights.
std::unique_ptr<std::byte, FreeDeleter> aligned_bytes(std::size_t size) {
    const std::size_t rounded = (size + 63) / 64 * 64;
    void* ptr = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (ptr == nullptr) throw Error(ErrorCode::resource_exhausted, "Linear: cannot allocate packed weights");
    std::memset(ptr, 0, rounded == 0 ? 64 : rounded);
    return std::unique_ptr<std::byte, FreeDeleter>(static_cast<std::byte*>(ptr));
}

std::size_t element_bytes(Precision precision) {
    switch (precision) {
        case Precision::fp32: return 4;
        case Precision::bf16: return 2;
        case Precision::int8: return 1;
    }
    return 4;
}

std::size_t input_bytes(detail::GemmInput input) {
    switch (input) {
        case detail::GemmInput::f32: return 4;
        case detail::GemmInput::bf16: return 2;
        case detail::GemmInput::u8: return 1;
    }
    return 4;
}

std::uint16_t to_bf16(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    return static_cast<std::uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// Bytes of A rows one task keeps hot while it walks a weight panel. TESSERA_GEMM_ROW_BLOCK_KB
// overrides it for tuning runs (tessera-gemm-bench). 384 KB (of Zen 4's 1 MB L2) keeps 36 rows of
// K = 3072 hot, so a 393 KB fp32 weight panel is streamed once per 36 rows instead of per 12
// (at 128 KB, bge-base's FFN-down ran at a third of the other shapes' share of peak).
std::size_t row_block_budget_bytes() {
    static const std::size_t budget = [] {
        const char* env = std::getenv("TESSERA_GEMM_ROW_BLOCK_KB");
        const long value = env != nullptr ? std::atol(env) : 0;
        return value > 0 ? static_cast<std::size_t>(value) << 10 : std::size_t{384} << 10;
    }();
    return budget;
}

}  // namespace

struct Linear::Impl {
    std::size_t out_dim = 0;
    std::size_t in_dim = 0;
    Precision precision = Precision::fp32;
    const IsaKernels* isa = nullptr;
    GemmVariant gemm;
    std::size_t k_groups = 0;     // in_dim padded to k_group, divided by k_group
    std::size_t panel_count = 0;  // out_dim padded to nr, divided by nr
    std::size_t panel_bytes = 0;
    std::size_t packed_size = 0;
    std::unique_ptr<std::byte, FreeDeleter> packed;
    std::vector<float> bias;       // empty: none
    std::vector<float> col_scale;  // int8 only, panel_count * nr entries
    std::vector<float> col_sum;    // int8 only

    [[nodiscard]] const std::byte* panel(std::size_t panel_idx) const {
        return packed.get() + panel_idx * panel_bytes;
    }
};

Linear Linear::create(const float* weight, const float* bias, std::size_t out_dim,
                      std::size_t in_dim, Precision precision) {
    if (weight == nullptr || out_dim == 0 || in_dim == 0) {
        throw Error(ErrorCode::invalid_argument,
                    "Linear::create: empty weight (" + std::to_string(out_dim) + " x " +
                        std::to_string(in_dim) + ")");
    }
    auto impl = std::make_unique<Impl>();
    impl->out_dim = out_dim;
    impl->in_dim = in_dim;
    impl->precision = precision;
    impl->isa = &detail::active_kernels();
    switch (precision) {
        case Precision::fp32: impl->gemm = impl->isa->gemm_f32; break;
        case Precision::bf16: impl->gemm = impl->isa->gemm_bf16; break;
        case Precision::int8: impl->gemm = impl->isa->gemm_int8; break;
    }
    const std::size_t nr = impl->gemm.nr;
    const std::size_t k_group = impl->gemm.k_group;
    impl->k_groups = (in_dim + k_group - 1) / k_group;
    impl->panel_count = (out_dim + nr - 1) / nr;
    impl->panel_bytes = impl->k_groups * k_group * nr * element_bytes(precision);
    impl->packed_size = impl->panel_bytes * impl->panel_count;
    impl->packed = aligned_bytes(impl->packed_size);
    if (bias != nullptr) impl->bias.assign(bias, bias + out_dim);

    // Panel layout: for each group of k_group K values, nr columns x k_group values, so that
    // one vector load gives every column of the panel its next k_group weights:
    // element (k, col) of panel p sits at (k / k_group) * nr * k_group + col * k_group + k % k_group.
    // K runs outermost here so the packed panel is written sequentially while nr weight rows are
    // read in step (this loop is most of Linear::create's share of model load time).
    const auto packed_index = [&](std::size_t k_idx, std::size_t col) {
        return (k_idx / k_group) * nr * k_group + col * k_group + k_idx % k_group;
    };
    if (precision != Precision::int8) {
        for (std::size_t panel_idx = 0; panel_idx < impl->panel_count; ++panel_idx) {
            std::byte* panel = impl->packed.get() + panel_idx * impl->panel_bytes;
            const std::size_t cols = std::min(nr, out_dim - panel_idx * nr);
            const float* w_panel = weight + panel_idx * nr * in_dim;
            for (std::size_t k_idx = 0; k_idx < in_dim; ++k_idx) {
                for (std::size_t col = 0; col < cols; ++col) {
                    const float value = w_panel[col * in_dim + k_idx];
                    if (precision == Precision::fp32) reinterpret_cast<float*>(panel)[packed_index(k_idx, col)] = value;
                    else reinterpret_cast<std::uint16_t*>(panel)[packed_index(k_idx, col)] = to_bf16(value);
                }
            }
        }
    } else {
        // Symmetric per-output-channel weights: scale = max|w| / weight_max, so w = scale * q
        // up to rounding, and no weight zero point enters the integer sums.
        const auto weight_max = static_cast<float>(impl->gemm.weight_max);
        impl->col_scale.assign(impl->panel_count * nr, 0.0f);
        impl->col_sum.assign(impl->panel_count * nr, 0.0f);
        for (std::size_t out_idx = 0; out_idx < out_dim; ++out_idx) {
            const float* w_row = weight + out_idx * in_dim;
            float max_abs = 0.0f;
            for (std::size_t k_idx = 0; k_idx < in_dim; ++k_idx) max_abs = std::max(max_abs, std::abs(w_row[k_idx]));
            const float scale = max_abs > 0.0f ? max_abs / weight_max : 1.0f;
            const std::size_t col = out_idx % nr;
            auto* dst = reinterpret_cast<std::int8_t*>(impl->packed.get() + (out_idx / nr) * impl->panel_bytes);
            std::int32_t sum = 0;
            for (std::size_t k_idx = 0; k_idx < in_dim; ++k_idx) {
                const float code = std::nearbyint(w_row[k_idx] / scale);
                const auto q = static_cast<std::int8_t>(std::min(weight_max, std::max(-weight_max, code)));
                dst[packed_index(k_idx, col)] = q;
                sum += q;
            }
            impl->col_scale[out_idx] = scale;
            impl->col_sum[out_idx] = static_cast<float>(sum);
        }
    }
    Linear linear;
    linear.impl_ = std::move(impl);
    return linear;
}

Linear::Linear() = default;
Linear::Linear(Linear&&) noexcept = default;
Linear& Linear::operator=(Linear&&) noexcept = default;
Linear::~Linear() = default;

std::size_t Linear::out_dim() const { return impl_ ? impl_->out_dim : 0; }
std::size_t Linear::in_dim() const { return impl_ ? impl_->in_dim : 0; }
std::size_t Linear::packed_bytes() const { return impl_ ? impl_->packed_size : 0; }

void Linear::forward(const float* x, std::size_t row_count, float* y, Activation activation,
                     core::ThreadPool* pool, std::size_t x_stride, std::size_t y_stride) const {
    if (!impl_) throw Error(ErrorCode::internal, "Linear::forward: called on an empty Linear");
    if (row_count == 0) return;
    const Impl& impl = *impl_;
    if (x_stride == 0) x_stride = impl.in_dim;
    if (y_stride == 0) y_stride = impl.out_dim;
    const IsaKernels& isa = *impl.isa;
    const GemmVariant& gemm = impl.gemm;
    const std::size_t k_padded = impl.k_groups * gemm.k_group;

    // Activations in the kernel's input type (GemmInput): f32 is used in place; bf16 and u8 are
    // converted once per call into per-thread work buffers reused across calls (no allocation
    // after the first batch of a given size).
    const void* a = x;
    std::size_t a_stride_bytes = x_stride * sizeof(float);
    const float* row_scale = nullptr;
    const float* row_zero = nullptr;
    auto run_rows = [&](const std::function<void(std::size_t, std::size_t)>& body) {
        if (pool != nullptr) pool->parallel_for(row_count, body, 16);
        else body(0, row_count);
    };
    // The converted activations are padded (zeroed) to a whole number of mr-row tiles: valgrind
    // caught the vectorised portable bf16 kernel reading one element past a ragged last tile.
    const std::size_t padded_rows = (row_count + gemm.mr - 1) / gemm.mr * gemm.mr;
    if (gemm.input == detail::GemmInput::bf16) {
        auto* buffer = static_cast<std::uint16_t*>(
            work_buffer(WorkSlot::linear_input, padded_rows * k_padded * sizeof(std::uint16_t) + 64));
        std::memset(buffer + row_count * k_padded, 0, (padded_rows - row_count) * k_padded * sizeof(std::uint16_t) + 64);
        run_rows([&](std::size_t begin, std::size_t end) {
            isa.to_bf16_rows(x + begin * x_stride, x_stride, end - begin, impl.in_dim, k_padded,
                             buffer + begin * k_padded);
        });
        a = buffer;
        a_stride_bytes = k_padded * sizeof(std::uint16_t);
    } else if (gemm.input == detail::GemmInput::f32 && k_padded != impl.in_dim) {
        // A kernel that reads fp32 activations in K pairs (AVX-512 bf16 "widen") must not read
        // past a row of odd K: copy the rows with a zero column (no real model has an odd K).
        auto* buffer = static_cast<float*>(work_buffer(WorkSlot::linear_input, padded_rows * k_padded * sizeof(float) + 64));
        std::memset(buffer, 0, padded_rows * k_padded * sizeof(float) + 64);
        for (std::size_t row = 0; row < row_count; ++row) {
            std::memcpy(buffer + row * k_padded, x + row * x_stride, impl.in_dim * sizeof(float));
        }
        a = buffer;
        a_stride_bytes = k_padded * sizeof(float);
    } else if (gemm.input == detail::GemmInput::u8) {
        const std::size_t quantized_bytes = (padded_rows * k_padded + 64 + 63) / 64 * 64;
        auto* buffer = static_cast<std::uint8_t*>(
            work_buffer(WorkSlot::linear_input, quantized_bytes + 2 * row_count * sizeof(float) + 64));
        std::memset(buffer + row_count * k_padded, 0, quantized_bytes - row_count * k_padded);
        auto* scales = reinterpret_cast<float*>(buffer + quantized_bytes);
        float* zeros = scales + row_count;
        run_rows([&](std::size_t begin, std::size_t end) {
            isa.quantize_u8_rows(x + begin * x_stride, x_stride, end - begin, impl.in_dim,
                                 k_padded, buffer + begin * k_padded, scales + begin, zeros + begin);
        });
        a = buffer;
        a_stride_bytes = k_padded;
        row_scale = scales;
        row_zero = zeros;
    }

    // Tiles: a block of rows x one weight panel. The row block is sized so its A rows stay in
    // L2 (~128 KB) while the task walks the panel; consecutive tasks share the row block.
    const std::size_t mr = gemm.mr;
    const std::size_t nr = gemm.nr;
    const std::size_t a_row_bytes = k_padded * input_bytes(gemm.input);
    std::size_t row_block = row_block_budget_bytes() / a_row_bytes / mr * mr;
    row_block = std::min(std::max(row_block, mr), 16 * mr);
    const std::size_t row_blocks = (row_count + row_block - 1) / row_block;
    const std::size_t task_count = row_blocks * impl.panel_count;
    const auto* a_bytes = static_cast<const std::byte*>(a);

    auto body = [&](std::size_t task_begin, std::size_t task_end) {
        alignas(64) float tile[16 * 64];
        for (std::size_t task = task_begin; task < task_end; ++task) {
            const std::size_t block_idx = task / impl.panel_count;
            const std::size_t panel_idx = task % impl.panel_count;
            const std::size_t row_end = std::min(row_count, (block_idx + 1) * row_block);
            const std::size_t col_begin = panel_idx * nr;
            const std::size_t cols = std::min(nr, impl.out_dim - col_begin);
            const float* bias = impl.bias.empty() ? nullptr : impl.bias.data() + col_begin;
            for (std::size_t row = block_idx * row_block; row < row_end; row += mr) {
                const std::size_t rows = std::min(mr, row_end - row);
                // The output rows are usually not in cache (a 4096 x 1152 fp32 output is 19 MB):
                // fetch them while the micro-kernel runs, so the epilogue's stores do not wait
                // for their lines (they were 20% of a MiniLM QKV GEMM on the Xeon of 2026-12-04).
                for (std::size_t r = 0; r < rows; ++r) {
                    const float* y_row = y + (row + r) * y_stride + col_begin;
                    for (std::size_t col = 0; col < cols; col += 16) __builtin_prefetch(y_row + col, 1);
                }
                detail::TileEpilogue epilogue;
                if (row_scale != nullptr) {
                    epilogue = {row_scale + row, row_zero + row, impl.col_scale.data() + col_begin,
                                impl.col_sum.data() + col_begin};
                }
                // Kernels that store their own tiles (AVX-512's) do so for whole panels, activation
                // included; the rest go through the tile and finish_tile.
                const bool kernel_stores = gemm.stores_output && cols == nr;
                if (kernel_stores) {
                    epilogue.bias = bias;
                    epilogue.y = y + row * y_stride + col_begin;
                    epilogue.y_stride = y_stride;
                    epilogue.activation = activation;
                }
                gemm.kernel(a_bytes + row * a_stride_bytes, a_stride_bytes, rows,
                            impl.panel(panel_idx), impl.k_groups, tile, &epilogue);
                if (!kernel_stores) {
                    isa.finish_tile(tile, nr, rows, cols, bias, activation, y + row * y_stride + col_begin,
                                    y_stride);
                }
            }
        }
    };
    if (pool != nullptr) pool->parallel_for(task_count, body, 1);
    else body(0, task_count);
}

}  // namespace tessera::kernels
