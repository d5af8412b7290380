// The simplest possible reference encoders, in double precision and plain loops, for checking
// the engine on architectures the golden set does not cover (RoBERTa-style positions, NomicBERT).
// Written straight from the formulas in ../shared/docs/model-formats.md section 3.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"

namespace tessera::test {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>;  // rows

class ReferenceEncoder {
public:
    ReferenceEncoder(const formats::WeightStore& store, formats::EncoderConfig config)
        : store_(store), config_(std::move(config)) {}

    // Last hidden states [len][hidden] of one sequence.
    Mat forward(const std::vector<std::int32_t>& ids, const std::vector<std::int32_t>& type_ids) const {
        return config_.model_type == "nomic_bert" ? nomic(ids, type_ids) : bert(ids, type_ids);
    }

private:
    Vec vec(const std::string& name, std::size_t size) const {
        const auto values = store_.floats(name, {size});
        return Vec(values.begin(), values.end());
    }
    Mat mat(const std::string& name, std::size_t rows, std::size_t cols) const {
        const auto values = store_.floats(name, {rows, cols});
        Mat result(rows, Vec(cols));
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c) result[r][c] = values[r * cols + c];
        return result;
    }
    // y = W x + b
    static Vec affine(const Mat& w, const Vec* b, const Vec& x) {
        Vec y(w.size());
        for (std::size_t r = 0; r < w.size(); ++r) {
            double sum = b != nullptr ? (*b)[r] : 0.0;
            for (std::size_t c = 0; c < x.size(); ++c) sum += w[r][c] * x[c];
            y[r] = sum;
        }
        return y;
    }
    Vec linear(const std::string& name, std::size_t out_dim, std::size_t in_dim, const Vec& x) const {
        const Mat w = mat(name + ".weight", out_dim, in_dim);
        if (!store_.contains(name + ".bias")) return affine(w, nullptr, x);
        const Vec b = vec(name + ".bias", out_dim);
        return affine(w, &b, x);
    }
    Vec layer_norm(const std::string& name, const Vec& x) const {
        const Vec gamma = vec(name + ".weight", x.size());
        const Vec beta = vec(name + ".bias", x.size());
        double mean = 0, var = 0;
        for (double v : x) mean += v;
        mean /= static_cast<double>(x.size());
        for (double v : x) var += (v - mean) * (v - mean);
        var /= static_cast<double>(x.size());
        Vec y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            y[i] = (x[i] - mean) / std::sqrt(var + config_.layer_norm_eps) * gamma[i] + beta[i];
        }
        return y;
    }
    static Vec add(const Vec& a, const Vec& b) {
        Vec y(a.size());
        for (std::size_t i = 0; i < a.size(); ++i) y[i] = a[i] + b[i];
        return y;
    }
    double act(double x) const {
        const auto& name = config_.hidden_act;
        if (name == "gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        if (name == "gelu_new" || name == "gelu_pytorch_tanh") {
            return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        }
        if (name == "relu") return x > 0 ? x : 0;
        throw std::runtime_error("reference: activation " + name);
    }
    // Multi-head attention of one sequence, q/k/v rows [len][hidden].
    Mat attention(const Mat& q, const Mat& k, const Mat& v) const {
        const std::size_t len = q.size();
        const std::size_t hidden = config_.hidden_dim;
        const std::size_t heads = config_.head_count;
        const std::size_t head_dim = hidden / heads;
        Mat out(len, Vec(hidden, 0.0));
        for (std::size_t h = 0; h < heads; ++h) {
            for (std::size_t i = 0; i < len; ++i) {
                Vec scores(len);
                double max_score = -1e300;
                for (std::size_t j = 0; j < len; ++j) {
                    double dot = 0;
                    for (std::size_t d = 0; d < head_dim; ++d) dot += q[i][h * head_dim + d] * k[j][h * head_dim + d];
                    scores[j] = dot / std::sqrt(static_cast<double>(head_dim));
                    max_score = std::max(max_score, scores[j]);
                }
                double total = 0;
                for (double& s : scores) total += (s = std::exp(s - max_score));
                for (std::size_t j = 0; j < len; ++j)
                    for (std::size_t d = 0; d < head_dim; ++d) out[i][h * head_dim + d] += scores[j] / total * v[j][h * head_dim + d];
            }
        }
        return out;
    }

    Mat bert(const std::vector<std::int32_t>& ids, const std::vector<std::int32_t>& type_ids) const {
        const std::size_t hidden = config_.hidden_dim;
        const std::size_t len = ids.size();
        const Mat word = mat("embeddings.word_embeddings.weight", config_.vocab_size, hidden);
        const Mat pos = mat("embeddings.position_embeddings.weight", config_.max_position_embeddings, hidden);
        const Mat type = mat("embeddings.token_type_embeddings.weight", config_.type_vocab_size, hidden);
        Mat x(len);
        for (std::size_t t = 0; t < len; ++t) {
            // RoBERTa: positions start at pad_token_id + 1 (no pad tokens in these inputs).
            const std::size_t p = config_.position_offset + t;
            x[t] = layer_norm("embeddings.LayerNorm", add(add(word[ids[t]], pos[p]), type[type_ids[t]]));
        }
        for (std::size_t l = 0; l < config_.layer_count; ++l) {
            const std::string n = "encoder.layer." + std::to_string(l) + ".";
            Mat q(len), k(len), v(len);
            for (std::size_t t = 0; t < len; ++t) {
                q[t] = linear(n + "attention.self.query", hidden, hidden, x[t]);
                k[t] = linear(n + "attention.self.key", hidden, hidden, x[t]);
                v[t] = linear(n + "attention.self.value", hidden, hidden, x[t]);
            }
            const Mat ctx = attention(q, k, v);
            for (std::size_t t = 0; t < len; ++t) {
                const Vec a = layer_norm(n + "attention.output.LayerNorm",
                                         add(x[t], linear(n + "attention.output.dense", hidden, hidden, ctx[t])));
                Vec inner = linear(n + "intermediate.dense", config_.ffn_dim, hidden, a);
                for (double& value : inner) value = act(value);
                x[t] = layer_norm(n + "output.LayerNorm", add(a, linear(n + "output.dense", hidden, config_.ffn_dim, inner)));
            }
        }
        return x;
    }

    Mat nomic(const std::vector<std::int32_t>& ids, const std::vector<std::int32_t>& type_ids) const {
        const std::size_t hidden = config_.hidden_dim;
        const std::size_t len = ids.size();
        const std::size_t head_dim = hidden / config_.head_count;
        const Mat word = mat("embeddings.word_embeddings.weight", config_.vocab_size, hidden);
        const Mat type = mat("embeddings.token_type_embeddings.weight", config_.type_vocab_size, hidden);
        Mat x(len);
        for (std::size_t t = 0; t < len; ++t) x[t] = layer_norm("emb_ln", add(word[ids[t]], type[type_ids[t]]));
        // Rotary on one head vector at position t: pairs (i, i + d/2), angle t * base^(-2i/d).
        auto rotate = [&](Vec& row, std::size_t head, std::size_t t) {
            const std::size_t half = head_dim / 2;
            for (std::size_t i = 0; i < half; ++i) {
                const double angle = static_cast<double>(t) * std::pow(config_.rotary_base, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
                const double x1 = row[head * head_dim + i];
                const double x2 = row[head * head_dim + i + half];
                row[head * head_dim + i] = x1 * std::cos(angle) - x2 * std::sin(angle);
                row[head * head_dim + i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
            }
        };
        for (std::size_t l = 0; l < config_.layer_count; ++l) {
            const std::string n = "encoder.layers." + std::to_string(l) + ".";
            Mat q(len), k(len), v(len);
            for (std::size_t t = 0; t < len; ++t) {
                const Vec qkv = linear(n + "attn.Wqkv", 3 * hidden, hidden, x[t]);
                q[t] = Vec(qkv.begin(), qkv.begin() + static_cast<std::ptrdiff_t>(hidden));
                k[t] = Vec(qkv.begin() + static_cast<std::ptrdiff_t>(hidden), qkv.begin() + static_cast<std::ptrdiff_t>(2 * hidden));
                v[t] = Vec(qkv.begin() + static_cast<std::ptrdiff_t>(2 * hidden), qkv.end());
                for (std::size_t h = 0; h < config_.head_count; ++h) {
                    rotate(q[t], h, t);
                    rotate(k[t], h, t);
                }
            }
            const Mat ctx = attention(q, k, v);
            for (std::size_t t = 0; t < len; ++t) {
                const Vec h1 = layer_norm(n + "norm1", add(x[t], linear(n + "attn.out_proj", hidden, hidden, ctx[t])));
                const Vec up = linear(n + "mlp.fc11", config_.ffn_dim, hidden, h1);
                const Vec gate = linear(n + "mlp.fc12", config_.ffn_dim, hidden, h1);
                Vec gated(config_.ffn_dim);
                for (std::size_t i = 0; i < gated.size(); ++i) gated[i] = up[i] * (gate[i] / (1 + std::exp(-gate[i])));
                x[t] = layer_norm(n + "norm2", add(h1, linear(n + "mlp.fc2", hidden, config_.ffn_dim, gated)));
            }
        }
        return x;
    }

    const formats::WeightStore& store_;
    formats::EncoderConfig config_;
};

}  // namespace tessera::test
