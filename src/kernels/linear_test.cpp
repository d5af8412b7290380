#include "kernels/linear.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/kernel_test_util.hpp"

namespace tessera::kernels {
namespace {

using testing::available_isa_levels;
using testing::IsaScope;
using testing::random_floats;

double activate(double value, Activation activation) {
    switch (activation) {
        case Activation::none: return value;
        case Activation::gelu_erf: return 0.5 * value * (1.0 + std::erf(value / std::sqrt(2.0)));
        case Activation::gelu_tanh:
            return 0.5 * value *
                   (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (value + 0.044715 * value * value * value)));
        case Activation::quick_gelu: return value / (1.0 + std::exp(-1.702 * value));
        case Activation::relu: return value > 0 ? value : 0.0;
        case Activation::tanh: return std::tanh(value);
        case Activation::silu: return value / (1.0 + std::exp(-value));
    }
    return value;
}

float round_bf16(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, 4);
    bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
    float out = 0;
    std::memcpy(&out, &bits, 4);
    return out;
}

// y = act(x W^T + b) in double, optionally on bf16-rounded inputs.
std::vector<double> reference(const std::vector<float>& x, std::size_t rows, std::size_t x_stride,
                              const std::vector<float>& w, const float* bias, std::size_t out_dim,
                              std::size_t in_dim, Activation activation, bool bf16_inputs) {
    std::vector<double> y(rows * out_dim);
    for (std::size_t row = 0; row < rows; ++row) {
        for (std::size_t col = 0; col < out_dim; ++col) {
            double acc = bias != nullptr ? bias[col] : 0.0;
            for (std::size_t k_idx = 0; k_idx < in_dim; ++k_idx) {
                float a = x[row * x_stride + k_idx];
                float b = w[col * in_dim + k_idx];
                if (bf16_inputs) {
                    a = round_bf16(a);
                    b = round_bf16(b);
                }
                acc += static_cast<double>(a) * b;
            }
            y[row * out_dim + col] = activate(acc, activation);
        }
    }
    return y;
}

struct Case {
    std::size_t rows, in_dim, out_dim;
    bool bias;
    Activation activation;
};

const Case kCases[] = {
    {1, 7, 5, true, Activation::none},          {3, 16, 16, false, Activation::relu},
    {13, 384, 100, true, Activation::gelu_erf}, {37, 65, 33, true, Activation::gelu_tanh},
    {16, 384, 384, true, Activation::none},     {29, 128, 512, true, Activation::quick_gelu},
    {50, 96, 70, false, Activation::silu},      {24, 33, 64, true, Activation::tanh},
    {130, 384, 1536, true, Activation::gelu_erf},
};

void check_precision(Precision precision, double tolerance_scale) {
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        core::ThreadPool pool(2);
        std::uint32_t seed = 1;
        for (const Case& c : kCases) {
            const std::size_t x_stride = c.in_dim + 3;  // exercise strides
            const std::size_t y_stride = c.out_dim + 5;
            auto w = random_floats(c.out_dim * c.in_dim, seed++, 1.0f / std::sqrt(float(c.in_dim)));
            auto b = random_floats(c.out_dim, seed++, 0.5f);
            auto x = random_floats(c.rows * x_stride, seed++);
            const float* bias = c.bias ? b.data() : nullptr;
            auto linear = Linear::create(w.data(), bias, c.out_dim, c.in_dim, precision);
            EXPECT_EQ(linear.out_dim(), c.out_dim);
            EXPECT_EQ(linear.in_dim(), c.in_dim);
            EXPECT_GE(linear.packed_bytes(), c.out_dim * c.in_dim * (precision == Precision::fp32 ? 4 : precision == Precision::bf16 ? 2 : 1));
            std::vector<float> y(c.rows * y_stride, -999.0f);
            linear.forward(x.data(), c.rows, y.data(), c.activation, &pool, x_stride, y_stride);
            const auto expected = reference(x, c.rows, x_stride, w, bias, c.out_dim, c.in_dim,
                                            c.activation, precision == Precision::bf16);
            double max_err = 0.0;
            for (std::size_t row = 0; row < c.rows; ++row) {
                for (std::size_t col = 0; col < c.out_dim; ++col) {
                    const double err = std::abs(y[row * y_stride + col] - expected[row * c.out_dim + col]);
                    max_err = std::max(max_err, err);
                }
                // The padding between rows must be untouched.
                for (std::size_t col = c.out_dim; col < y_stride; ++col) {
                    ASSERT_EQ(y[row * y_stride + col], -999.0f);
                }
            }
            EXPECT_LT(max_err, tolerance_scale)
                << "isa " << testing::isa_name(level) << " shape " << c.rows << "x" << c.in_dim
                << "->" << c.out_dim;
        }
    }
}

TEST(LinearTest, Fp32MatchesDoubleReferenceOnEveryIsa) { check_precision(Precision::fp32, 2e-5); }

// bf16 inputs, fp32 accumulation: against a reference on the same bf16-rounded inputs only the
// summation order differs.
TEST(LinearTest, Bf16MatchesReferenceOnRoundedInputs) { check_precision(Precision::bf16, 1e-4); }

// int8: u8 activations (range/255 per row) x s8 weights (max/127 per channel). With O(1) inputs
// and 1/sqrt(K) weights the error stays well under 0.1; a wrong scale or zero point is O(1).
TEST(LinearTest, Int8StaysCloseToFp32) { check_precision(Precision::int8, 0.08); }

TEST(LinearTest, Int8VariantsAgreeWithPortable) {
    const std::size_t rows = 45, in_dim = 300, out_dim = 70;
    auto w = random_floats(out_dim * in_dim, 7, 0.05f);
    auto b = random_floats(out_dim, 8);
    auto x = random_floats(rows * in_dim, 9);
    std::vector<float> portable(rows * out_dim);
    {
        IsaScope scope(core::IsaLevel::portable);
        Linear::create(w.data(), b.data(), out_dim, in_dim, Precision::int8)
            .forward(x.data(), rows, portable.data(), Activation::none, nullptr);
    }
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        std::vector<float> y(rows * out_dim);
        Linear::create(w.data(), b.data(), out_dim, in_dim, Precision::int8)
            .forward(x.data(), rows, y.data(), Activation::none, nullptr);
        for (std::size_t idx = 0; idx < y.size(); ++idx) {
            ASSERT_NEAR(y[idx], portable[idx], 1e-4 * (1.0 + std::abs(portable[idx])))
                << testing::isa_name(level) << " at " << idx;
        }
    }
}

TEST(LinearTest, RowsAreIndependentOfBatch) {
    // Batch equals single: a row gives the same result alone or among others.
    const std::size_t in_dim = 384, out_dim = 96, rows = 27;
    auto w = random_floats(out_dim * in_dim, 3, 0.05f);
    auto x = random_floats(rows * in_dim, 4);
    core::ThreadPool pool(2);
    for (Precision precision : {Precision::fp32, Precision::bf16, Precision::int8}) {
        auto linear = Linear::create(w.data(), nullptr, out_dim, in_dim, precision);
        std::vector<float> batch(rows * out_dim), single(out_dim);
        linear.forward(x.data(), rows, batch.data(), Activation::none, &pool);
        for (std::size_t row = 0; row < rows; row += 5) {
            linear.forward(x.data() + row * in_dim, 1, single.data(), Activation::none, &pool);
            for (std::size_t col = 0; col < out_dim; ++col) {
                ASSERT_EQ(single[col], batch[row * out_dim + col]) << "row " << row;
            }
        }
    }
}

TEST(LinearTest, ZeroRowsIsANoOp) {
    auto w = random_floats(4 * 4, 1);
    auto linear = Linear::create(w.data(), nullptr, 4, 4);
    std::vector<float> y(4, 7.0f);
    linear.forward(w.data(), 0, y.data(), Activation::none, nullptr);
    EXPECT_EQ(y, std::vector<float>(4, 7.0f));
}

TEST(LinearTest, EmptyWeightIsRejected) {
    try {
        (void)Linear::create(nullptr, nullptr, 4, 4);
        FAIL() << "expected an error";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(err.what()).find("4 x 4"), std::string::npos);
    }
    std::vector<float> w(4);
    EXPECT_THROW((void)Linear::create(w.data(), nullptr, 0, 4), Error);
}

TEST(LinearTest, ForwardOnEmptyLinearThrows) {
    Linear empty;
    float x = 0, y = 0;
    EXPECT_THROW(empty.forward(&x, 1, &y, Activation::none, nullptr), Error);
    EXPECT_EQ(empty.out_dim(), 0u);
}

}  // namespace
}  // namespace tessera::kernels
