#include "kernels/ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/kernel_test_util.hpp"

namespace tessera::kernels {
namespace {

using testing::available_isa_levels;
using testing::IsaScope;
using testing::random_floats;

TEST(OpsTest, GeluErfIsExactNotTanh) {
    // Golden models tell erf-GELU from tanh-GELU apart (they differ by up to ~5e-4 near |x| = 2),
    // so gelu_erf must match the exact formula to ~1e-6.
    std::vector<float> inputs;
    for (float value = -9.0f; value <= 9.0f; value += 0.01f) inputs.push_back(value);
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        auto values = inputs;
        apply_activation(values.data(), values.size(), Activation::gelu_erf);
        double max_err = 0.0;
        for (std::size_t idx = 0; idx < inputs.size(); ++idx) {
            const double x = inputs[idx];
            const double expected = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
            max_err = std::max(max_err, std::abs(values[idx] - expected) / (1.0 + std::abs(expected)));
        }
        EXPECT_LT(max_err, 1e-6) << testing::isa_name(level);
        auto tanh_values = inputs;
        apply_activation(tanh_values.data(), tanh_values.size(), Activation::gelu_tanh);
        double max_gap = 0.0;
        for (std::size_t idx = 0; idx < inputs.size(); ++idx) {
            max_gap = std::max(max_gap, double(std::abs(tanh_values[idx] - values[idx])));
        }
        EXPECT_GT(max_gap, 1e-4);
    }
}

TEST(OpsTest, ActivationsMatchDouble) {
    const auto inputs = random_floats(1000, 5, 4.0f);
    struct Named {
        Activation activation;
        double (*reference)(double);
    };
    const Named cases[] = {
        {Activation::gelu_tanh,
         [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }},
        {Activation::quick_gelu, [](double x) { return x / (1 + std::exp(-1.702 * x)); }},
        {Activation::silu, [](double x) { return x / (1 + std::exp(-x)); }},
        {Activation::tanh, [](double x) { return std::tanh(x); }},
        {Activation::relu, [](double x) { return x > 0 ? x : 0.0; }},
        {Activation::none, [](double x) { return x; }},
    };
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        for (const auto& c : cases) {
            auto values = inputs;
            apply_activation(values.data(), values.size(), c.activation);
            for (std::size_t idx = 0; idx < values.size(); ++idx) {
                const double expected = c.reference(inputs[idx]);
                ASSERT_NEAR(values[idx], expected, 1e-6 * (1 + std::abs(expected)))
                    << testing::isa_name(level) << " activation " << static_cast<int>(c.activation)
                    << " x=" << inputs[idx];
            }
        }
    }
}

TEST(OpsTest, ActivationsSaturateWithoutNan) {
    std::vector<float> values = {-200.0f, -90.0f, 90.0f, 200.0f, 0.0f};
    for (Activation activation : {Activation::gelu_erf, Activation::gelu_tanh, Activation::quick_gelu,
                                  Activation::silu, Activation::tanh}) {
        auto copy = values;
        apply_activation(copy.data(), copy.size(), activation);
        for (float value : copy) EXPECT_TRUE(std::isfinite(value)) << static_cast<int>(activation);
    }
}

TEST(OpsTest, LayerNormMatchesDoubleWithResidualAndAliasing) {
    const std::size_t rows = 70, dim = 384;
    auto x = random_floats(rows * dim, 1, 2.0f);
    auto residual = random_floats(rows * dim, 2, 3.0f);
    for (float& value : residual) value += 10.0f;  // a large mean: the two-pass variance matters
    auto gamma = random_floats(dim, 3);
    auto beta = random_floats(dim, 4);
    std::vector<double> expected(rows * dim);
    for (std::size_t row = 0; row < rows; ++row) {
        double mean = 0, var = 0;
        for (std::size_t col = 0; col < dim; ++col) mean += double(x[row * dim + col]) + residual[row * dim + col];
        mean /= dim;
        for (std::size_t col = 0; col < dim; ++col) {
            const double centred = double(x[row * dim + col]) + residual[row * dim + col] - mean;
            var += centred * centred;
        }
        var /= dim;
        for (std::size_t col = 0; col < dim; ++col) {
            const double value = double(x[row * dim + col]) + residual[row * dim + col];
            expected[row * dim + col] = (value - mean) / std::sqrt(var + 1e-12) * gamma[col] + beta[col];
        }
    }
    core::ThreadPool pool(2);
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        std::vector<float> out(rows * dim);
        layer_norm(x.data(), residual.data(), rows, dim, gamma.data(), beta.data(), 1e-12f, out.data(), &pool);
        auto in_place = x;  // out aliases x
        layer_norm(in_place.data(), residual.data(), rows, dim, gamma.data(), beta.data(), 1e-12f,
                   in_place.data(), nullptr);
        for (std::size_t idx = 0; idx < out.size(); ++idx) {
            ASSERT_NEAR(out[idx], expected[idx], 2e-5 * (1 + std::abs(expected[idx]))) << testing::isa_name(level);
            ASSERT_EQ(in_place[idx], out[idx]);
        }
    }
}

TEST(OpsTest, LayerNormWithoutResidual) {
    const std::size_t dim = 37;
    auto x = random_floats(dim, 9);
    std::vector<float> gamma(dim, 1.0f), beta(dim, 0.0f), out(dim);
    layer_norm(x.data(), nullptr, 1, dim, gamma.data(), beta.data(), 1e-5f, out.data());
    double mean = 0, sq = 0;
    for (float value : out) mean += value;
    for (float value : out) sq += double(value) * value;
    EXPECT_NEAR(mean / dim, 0.0, 1e-6);
    EXPECT_NEAR(sq / dim, 1.0, 1e-3);
}

TEST(OpsTest, SoftmaxRowsSumToOneAndMatchDouble) {
    const std::size_t rows = 5, dim = 77;
    auto x = random_floats(rows * dim, 11, 5.0f);
    x[3] = 80.0f;  // large values must not overflow
    for (const auto level : available_isa_levels()) {
        IsaScope scope(level);
        auto values = x;
        softmax_rows(values.data(), rows, dim);
        for (std::size_t row = 0; row < rows; ++row) {
            double max_value = -1e30, sum = 0;
            for (std::size_t col = 0; col < dim; ++col) max_value = std::max<double>(max_value, x[row * dim + col]);
            for (std::size_t col = 0; col < dim; ++col) sum += std::exp(x[row * dim + col] - max_value);
            for (std::size_t col = 0; col < dim; ++col) {
                const double expected = std::exp(x[row * dim + col] - max_value) / sum;
                ASSERT_NEAR(values[row * dim + col], expected, 1e-6 * (1 + expected));
            }
        }
    }
}

TEST(OpsTest, SwigluUsesGateThroughSilu) {
    const std::size_t rows = 3, dim = 20;
    auto up = random_floats(rows * 2 * dim, 21);  // up and gate interleaved as one fused buffer
    std::vector<float> out(rows * dim);
    swiglu(up.data(), 2 * dim, up.data() + dim, 2 * dim, rows, dim, out.data(), dim);
    for (std::size_t row = 0; row < rows; ++row) {
        for (std::size_t col = 0; col < dim; ++col) {
            const double gate = up[row * 2 * dim + dim + col];
            const double expected = gate / (1 + std::exp(-gate)) * up[row * 2 * dim + col];
            ASSERT_NEAR(out[row * dim + col], expected, 1e-6);
        }
    }
}

TEST(OpsTest, L2NormalizeAndAdd) {
    std::vector<float> x = {3.0f, 4.0f};
    l2_normalize(x.data(), 2);
    EXPECT_FLOAT_EQ(x[0], 0.6f);
    EXPECT_FLOAT_EQ(x[1], 0.8f);
    std::vector<float> zeros(3, 0.0f);
    l2_normalize(zeros.data(), 3);  // no division by zero
    EXPECT_EQ(zeros, std::vector<float>(3, 0.0f));
    std::vector<float> sum = {1, 2, 3};
    add_inplace(sum.data(), x.data(), 2);
    EXPECT_FLOAT_EQ(sum[0], 1.6f);
    EXPECT_FLOAT_EQ(sum[1], 2.8f);
    EXPECT_FLOAT_EQ(sum[2], 3.0f);
}

}  // namespace
}  // namespace tessera::kernels
