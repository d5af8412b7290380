#include "engine/pooling.hpp"

#include <algorithm>
#include <cmath>

namespace tessera::engine {

void pool_sequence(const float* hidden, std::size_t token_count, std::size_t hidden_dim,
                   std::span<const formats::PoolingMode> modes, std::size_t skipped_tokens, float* out) {
    using formats::PoolingMode;
    const std::size_t first = std::min(skipped_tokens, token_count);
    std::vector<double> sum(hidden_dim);
    for (std::size_t mode_idx = 0; mode_idx < modes.size(); ++mode_idx) {
        float* dst = out + mode_idx * hidden_dim;
        const PoolingMode mode = modes[mode_idx];
        switch (mode) {
            case PoolingMode::cls:
                std::copy_n(hidden, hidden_dim, dst);
                break;
            case PoolingMode::last_token: {
                // The last token with attention mask 1; with no padding that is the last row.
                std::copy_n(hidden + (token_count - 1) * hidden_dim, hidden_dim, dst);
                break;
            }
            case PoolingMode::max: {
                // sentence-transformers sets masked rows to -1e9 before the max.
                std::fill_n(dst, hidden_dim, first < token_count ? -INFINITY : -1e9f);
                for (std::size_t token_idx = first; token_idx < token_count; ++token_idx) {
                    const float* row = hidden + token_idx * hidden_dim;
                    for (std::size_t dim = 0; dim < hidden_dim; ++dim) dst[dim] = std::max(dst[dim], row[dim]);
                }
                break;
            }
            case PoolingMode::mean:
            case PoolingMode::mean_sqrt_len:
            case PoolingMode::weighted_mean: {
                std::fill(sum.begin(), sum.end(), 0.0);
                double weight_total = 0;
                for (std::size_t token_idx = first; token_idx < token_count; ++token_idx) {
                    // weightedmean weights token t (0-based) by t + 1.
                    const double weight =
                        mode == PoolingMode::weighted_mean ? static_cast<double>(token_idx + 1) : 1.0;
                    const float* row = hidden + token_idx * hidden_dim;
                    for (std::size_t dim = 0; dim < hidden_dim; ++dim) sum[dim] += weight * row[dim];
                    weight_total += weight;
                }
                // ST clamps the divisor at 1e-9, so an all-masked sequence pools to zeros.
                const double divisor = mode == PoolingMode::mean_sqrt_len ? std::sqrt(weight_total)
                                                                          : std::max(weight_total, 1e-9);
                for (std::size_t dim = 0; dim < hidden_dim; ++dim) {
                    dst[dim] = divisor > 0 ? static_cast<float>(sum[dim] / divisor) : 0.0f;
                }
                break;
            }
        }
    }
}

PooledRows pooled_rows(std::span<const formats::PoolingMode> modes) {
    const auto only = [&](formats::PoolingMode mode) {
        return !modes.empty() && std::all_of(modes.begin(), modes.end(), [&](auto each) { return each == mode; });
    };
    if (only(formats::PoolingMode::cls)) return PooledRows::first_token;
    if (only(formats::PoolingMode::last_token)) return PooledRows::last_token;
    return PooledRows::every_token;
}

void finish_embedding(std::span<const float> pooled, std::size_t dimensions, bool normalize, std::span<float> out) {
    const std::size_t kept = dimensions == 0 ? pooled.size() : std::min(dimensions, pooled.size());
    std::copy_n(pooled.begin(), kept, out.begin());
    if (!normalize) return;
    double norm_squared = 0;
    for (std::size_t dim = 0; dim < kept; ++dim) norm_squared += static_cast<double>(out[dim]) * out[dim];
    // torch.nn.functional.normalize: x / max(||x||, 1e-12).
    const double scale = 1.0 / std::max(std::sqrt(norm_squared), 1e-12);
    for (std::size_t dim = 0; dim < kept; ++dim) out[dim] = static_cast<float>(out[dim] * scale);
}

}  // namespace tessera::engine
