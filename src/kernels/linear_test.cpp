#include "kernels/linear.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/isa_kernels.hpp"
#include "kernels/kernel_test_util.hpp"

namespace tessera::kernels {
namespace {

using testing::available_isa_levels;
using testing::Bf16KernelScope;
using testing::isa_variants;
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

// y = act(x W^T + b) in double, optionally on bf16-rounded weights and activations.
std::vector<double> reference(const std::vector<float>& x, std::size_t rows, std::size_t x_stride,
                              const std::vector<float>& w, const float* bias, std::size_t out_dim,
                              std::size_t in_dim, Activation activation, bool bf16_weights,
                              bool bf16_activations) {
    std::vector<double> y(rows * out_dim);
    for (std::size_t row = 0; row < rows; ++row) {
        for (std::size_t col = 0; col < out_dim; ++col) {
            double acc = bias != nullptr ? bias[col] : 0.0;
            for (std::size_t k_idx = 0; k_idx < in_dim; ++k_idx) {
                float a = x[row * x_stride + k_idx];
                float b = w[col * in_dim + k_idx];
                if (bf16_activations) a = round_bf16(a);
                if (bf16_weights) b = round_bf16(b);
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
    {130, 384, 1536, true, Activation::gelu_erf}, {20, 64, 64, false, Activation::none},
    {14, 48, 64, true, Activation::relu},
};

void check_precision(Precision precision, double tolerance_scale) {
    for (const auto& [level, bf16_kernel] : isa_variants(precision)) {
        IsaScope scope(level);
        Bf16KernelScope bf16_scope(bf16_kernel);
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
            // bf16 variants round the weights; those that read bf16 activations round them too
            // (AVX2's bf16 kernel keeps them fp32).
            const bool bf16 = precision == Precision::bf16;
            const bool bf16_activations = bf16 && detail::active_kernels().gemm_bf16.input == detail::GemmInput::bf16;
            const auto expected = reference(x, c.rows, x_stride, w, bias, c.out_dim, c.in_dim,
                                            c.activation, bf16, bf16_activations);
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
            // int8 rounding error grows with the weight quantisation step (1/weight_max).
            const double tolerance = precision == Precision::int8
                                         ? tolerance_scale * 127.0 / detail::active_kernels().gemm_int8.weight_max
                                         : tolerance_scale;
            EXPECT_LT(max_err, tolerance)
                << "isa " << testing::isa_name(level) << " kernel " << detail::active_kernels().gemm_bf16.name << " shape " << c.rows << "x" << c.in_dim
                << "->" << c.out_dim;
        }
    }
}

TEST(LinearTest, Fp32MatchesDoubleReferenceOnEveryIsa) { check_precision(Precision::fp32, 2e-5); }

// bf16 inputs, fp32 accumulation: against a reference on the same bf16-rounded inputs only the
// summation order differs.
TEST(LinearTest, Bf16MatchesReferenceOnRoundedInputs) { check_precision(Precision::bf16, 1e-4); }

// int8: u8 activations (range/255 per row) x s8 weights (max/127 per channel; /63 on AVX2). With
// O(1) inputs and 1/sqrt(K) weights the error stays under 0.08 (0.16 with 7-bit weights); a wrong
// scale or zero point is O(1).
TEST(LinearTest, Int8StaysCloseToFp32) { check_precision(Precision::int8, 0.08); }

// The int8 scheme, emulated in double: u8 activations (asymmetric per row, integer zero point,
// round half to even) and symmetric per-channel weights in [-weight_max, weight_max].
std::vector<double> int8_scheme(const std::vector<float>& x, std::size_t rows, const std::vector<float>& w,
                                const std::vector<float>& bias, std::size_t out_dim, std::size_t in_dim,
                                int weight_max) {
    std::vector<double> w_scale(out_dim);
    std::vector<std::int32_t> w_code(out_dim * in_dim);
    for (std::size_t col = 0; col < out_dim; ++col) {
        float max_abs = 0.0f;
        for (std::size_t k = 0; k < in_dim; ++k) max_abs = std::max(max_abs, std::abs(w[col * in_dim + k]));
        const float scale = max_abs / static_cast<float>(weight_max);
        w_scale[col] = scale;
        for (std::size_t k = 0; k < in_dim; ++k) {
            w_code[col * in_dim + k] = static_cast<std::int32_t>(std::nearbyint(w[col * in_dim + k] / scale));
        }
    }
    std::vector<double> y(rows * out_dim);
    for (std::size_t row = 0; row < rows; ++row) {
        const float* x_row = x.data() + row * in_dim;
        float lo = 0.0f, hi = 0.0f;
        for (std::size_t k = 0; k < in_dim; ++k) lo = std::min(lo, x_row[k]), hi = std::max(hi, x_row[k]);
        const float scale = (hi - lo) / 255.0f;
        const float inv_scale = 1.0f / scale;
        const float zero = std::nearbyint(-lo * inv_scale);
        std::vector<std::int32_t> x_code(in_dim);
        for (std::size_t k = 0; k < in_dim; ++k) {
            x_code[k] = static_cast<std::int32_t>(std::min(255.0f, std::max(0.0f, std::nearbyint(x_row[k] * inv_scale) + zero)));
        }
        for (std::size_t col = 0; col < out_dim; ++col) {
            std::int64_t dot = 0, w_sum = 0;
            for (std::size_t k = 0; k < in_dim; ++k) {
                dot += std::int64_t{x_code[k]} * w_code[col * in_dim + k];
                w_sum += w_code[col * in_dim + k];
            }
            y[row * out_dim + col] = double(scale) * w_scale[col] * (double(dot) - double(zero) * double(w_sum)) + bias[col];
        }
    }
    return y;
}

// Each int8 variant implements exactly its quantisation scheme: only the float epilogue rounds.
TEST(LinearTest, Int8VariantsComputeTheirSchemeExactly) {
    const std::size_t rows = 45, in_dim = 300, out_dim = 70;
    auto w = random_floats(out_dim * in_dim, 7, 0.05f);
    auto b = random_floats(out_dim, 8);
    auto x = random_floats(rows * in_dim, 9);
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        const int weight_max = detail::active_kernels().gemm_int8.weight_max;
        const auto expected = int8_scheme(x, rows, w, b, out_dim, in_dim, weight_max);
        std::vector<float> y(rows * out_dim);
        Linear::create(w.data(), b.data(), out_dim, in_dim, Precision::int8)
            .forward(x.data(), rows, y.data(), Activation::none, nullptr);
        for (std::size_t idx = 0; idx < y.size(); ++idx) {
            ASSERT_NEAR(y[idx], expected[idx], 1e-4 * (1.0 + std::abs(expected[idx])))
                << testing::isa_name(level) << " (weights to " << weight_max << ") at " << idx;
        }
    }
}

// The u8 activation codes are the same on every ISA (AVX-512 reduces the ranges of 16 rows at
// once): row counts around multiples of 16, short and ragged rows, zero and one-signed rows.
TEST(LinearTest, QuantizeU8RowsIsTheSameOnEveryIsa) {
    for (const std::size_t k : {std::size_t{5}, std::size_t{32}, std::size_t{37}, std::size_t{384}}) {
        for (const std::size_t rows : {std::size_t{1}, std::size_t{16}, std::size_t{33}}) {
            const std::size_t stride = k + 3, padded = (k + 3) / 4 * 4;
            auto x = random_floats(rows * stride, static_cast<std::uint32_t>(k * 100 + rows), 2.0f);
            for (std::size_t col = 0; col < k; ++col) x[col] = 0.0f;  // row 0: all zero
            if (rows > 2) {
                for (std::size_t col = 0; col < k; ++col) x[2 * stride + col] = -std::abs(x[2 * stride + col]) - 0.5f;
            }
            std::vector<std::uint8_t> expected_codes(rows * padded), codes(rows * padded);
            std::vector<float> expected_scale(rows), expected_zero(rows), scale(rows), zero(rows);
            detail::isa_kernels(core::IsaLevel::portable)
                .quantize_u8_rows(x.data(), stride, rows, k, padded, expected_codes.data(), expected_scale.data(),
                                  expected_zero.data());
            EXPECT_EQ(expected_scale[0], 1.0f) << "an all-zero row keeps a usable scale";
            for (const auto level : available_isa_levels()) {
                IsaScope scope(level);
                std::fill(codes.begin(), codes.end(), std::uint8_t{7});
                detail::active_kernels().quantize_u8_rows(x.data(), stride, rows, k, padded, codes.data(),
                                                          scale.data(), zero.data());
                const std::string where = std::string(testing::isa_name(level)) + " k " + std::to_string(k) +
                                          " rows " + std::to_string(rows);
                EXPECT_EQ(codes, expected_codes) << where;
                EXPECT_EQ(scale, expected_scale) << where;
                EXPECT_EQ(zero, expected_zero) << where;
            }
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
