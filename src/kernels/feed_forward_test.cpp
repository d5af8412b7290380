#include "kernels/feed_forward.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "kernels/kernel_test_util.hpp"
#include "tessera/error.hpp"

namespace tessera::kernels {
namespace {

using testing::available_isa_levels;
using testing::IsaScope;
using testing::random_floats;

// feed_forward is the two GEMMs with the activation between them, computed in row blocks: every
// row must come out exactly as the two whole-batch forwards give it (rows are independent), for
// batches that take the blocked path (>= 2 blocks per thread) and the whole path, at every
// precision and ISA.
TEST(FeedForwardTest, BlocksEqualTheTwoWholeGemms) {
    const std::size_t in_dim = 64, ffn_dim = 256, out_dim = 48;
    const auto w_up = random_floats(ffn_dim * in_dim, 11, 0.1f), b_up = random_floats(ffn_dim, 12);
    const auto w_down = random_floats(out_dim * ffn_dim, 13, 0.05f),
               b_down = random_floats(out_dim, 14);
    core::ThreadPool pool(2);
    ASSERT_GE(feed_forward_block_rows(), 1u)
        << "blocking is off (TESSERA_FFN_BLOCK_ROWS=0?): the blocked path is untested";
    const std::size_t blocked_rows =
        4 * feed_forward_block_rows() + 7;  // 2 blocks per thread, a ragged last one
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        for (const Precision precision : {Precision::fp32, Precision::bf16, Precision::int8}) {
            const auto up = Linear::create(w_up.data(), b_up.data(), ffn_dim, in_dim, precision);
            const auto down =
                Linear::create(w_down.data(), b_down.data(), out_dim, ffn_dim, precision);
            for (const std::size_t rows : {std::size_t{1}, std::size_t{30}, blocked_rows}) {
                for (core::ThreadPool* threads : {&pool, static_cast<core::ThreadPool*>(nullptr)}) {
                    const auto x = random_floats(rows * in_dim, static_cast<std::uint32_t>(rows));
                    std::vector<float> intermediate(rows * ffn_dim), expected(rows * out_dim),
                        y(rows * out_dim, -1.0f);
                    up.forward(x.data(), rows, intermediate.data(), Activation::gelu_erf, &pool);
                    down.forward(intermediate.data(), rows, expected.data(), Activation::none,
                                 &pool);
                    feed_forward(up, Activation::gelu_erf, down, x.data(), rows, y.data(), threads);
                    ASSERT_EQ(y, expected)
                        << testing::isa_name(level) << ", " << rows << " rows, precision "
                        << static_cast<int>(precision) << (threads ? ", pool" : ", no pool");
                }
            }
        }
    }
}

TEST(FeedForwardTest, MismatchedLinearsAreRejected) {
    const auto w = random_floats(16 * 8, 1);
    const auto up = Linear::create(w.data(), nullptr, 16, 8);
    const auto down = Linear::create(w.data(), nullptr, 8, 16);
    const auto wrong_down = Linear::create(w.data(), nullptr, 16, 8);
    std::vector<float> x(8, 1.0f), y(16);
    EXPECT_THROW(feed_forward(up, Activation::none, wrong_down, x.data(), 1, y.data(), nullptr),
                 Error);
    EXPECT_NO_THROW(feed_forward(up, Activation::none, down, x.data(), 1, y.data(), nullptr));
}

}  // namespace
}  // namespace tessera::kernels
