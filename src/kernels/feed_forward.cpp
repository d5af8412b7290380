#include "kernels/feed_forward.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "kernels/work_buffer.hpp"
#include "tessera/error.hpp"

namespace tessera::kernels {

std::size_t feed_forward_block_rows() {
    static const std::size_t rows = [] {
        const char* env = std::getenv("TESSERA_FFN_BLOCK_ROWS");
        return env != nullptr ? static_cast<std::size_t>(std::max(0L, std::atol(env)))
                              : std::size_t{48};
    }();
    return rows;
}

void feed_forward(const Linear& up, Activation activation, const Linear& down, const float* x,
                  std::size_t row_count, float* y, core::ThreadPool* pool) {
    if (up.out_dim() != down.in_dim()) {
        throw Error(ErrorCode::internal, "feed_forward: up gives " + std::to_string(up.out_dim()) +
                                             " values per row, down takes " +
                                             std::to_string(down.in_dim()));
    }
    if (row_count == 0) return;
    const std::size_t in_dim = up.in_dim();
    const std::size_t ffn_dim = up.out_dim();
    const std::size_t out_dim = down.out_dim();
    const std::size_t threads = pool != nullptr ? pool->thread_count() : 1;
    const std::size_t block_rows = feed_forward_block_rows();
    if (block_rows == 0 || row_count < 2 * threads * block_rows) {
        auto* intermediate = static_cast<float*>(
            work_buffer(WorkSlot::feed_forward, row_count * ffn_dim * sizeof(float)));
        up.forward(x, row_count, intermediate, activation, pool);
        down.forward(intermediate, row_count, y, Activation::none, pool);
        return;
    }
    auto run_blocks = [&](std::size_t begin, std::size_t end) {
        auto* intermediate = static_cast<float*>(
            work_buffer(WorkSlot::feed_forward, block_rows * ffn_dim * sizeof(float)));
        for (std::size_t row = begin; row < end; row += block_rows) {
            const std::size_t rows = std::min(block_rows, end - row);
            up.forward(x + row * in_dim, rows, intermediate, activation, nullptr);
            down.forward(intermediate, rows, y + row * out_dim, Activation::none, nullptr);
        }
    };
    if (pool != nullptr)
        pool->parallel_for(row_count, run_blocks, block_rows);
    else
        run_blocks(0, row_count);
}

}  // namespace tessera::kernels
