// The golden BERT model from token ids: our encoder against the PyTorch float64 reference in
// ../shared/data/golden/bert-tiny-random/expected (README: last_hidden_state / pooler / pooled
// atol 1e-4, normalised embeddings atol 1e-5). All 8 mixed-length rows in one packed batch, and
// each row alone.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/thread_pool.hpp"
#include "engine/pooling.hpp"
#include "formats/model_config.hpp"
#include "formats/safetensors.hpp"
#include "models/registry.hpp"

namespace tessera {
namespace {

const std::filesystem::path kModelDir = std::filesystem::path(TESSERA_SHARED_DIR) / "data/golden/bert-tiny-random";

nlohmann::json load(const std::string& name) { return formats::read_json_file(kModelDir / "expected" / name); }

struct Golden {
    std::vector<std::vector<std::int32_t>> sequences;
    nlohmann::json outputs;
};

const Golden& golden() {
    static const Golden data = [] {
        Golden result;
        const auto inputs = load("inputs.json");
        const auto lengths = inputs.at("lengths").get<std::vector<std::size_t>>();
        for (std::size_t row = 0; row < lengths.size(); ++row) {
            const auto ids = inputs.at("input_ids")[row].get<std::vector<std::int32_t>>();
            const auto mask = inputs.at("attention_mask")[row].get<std::vector<int>>();
            std::size_t valid = 0;
            for (const int bit : mask) valid += bit;
            EXPECT_EQ(valid, lengths[row]);
            result.sequences.emplace_back(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(lengths[row]));
        }
        result.outputs = load("outputs.json");
        return result;
    }();
    return data;
}

class BertIdsGolden : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        weights_ = formats::WeightStore::open_model_dir(kModelDir);
        model_ = models::build_model(formats::read_model_config(kModelDir / "config.json"), weights_);
        encoder_ = dynamic_cast<const models::TextEncoder*>(model_.get());
    }
    static void TearDownTestSuite() {
        model_.reset();
        weights_.reset();
    }

    // Checks one sequence's outputs against row `row` of the reference.
    static void check_row(std::size_t row, const float* hidden, std::size_t token_count) {
        const auto& expected = golden().outputs;
        const std::size_t hidden_dim = encoder_->hidden_dim();
        const auto& states = expected.at("last_hidden_state")[row];
        ASSERT_EQ(states.size(), token_count);
        double worst = 0;
        for (std::size_t token_idx = 0; token_idx < token_count; ++token_idx) {
            for (std::size_t dim = 0; dim < hidden_dim; ++dim) {
                worst = std::max(worst, std::fabs(states[token_idx][dim].get<double>() - hidden[token_idx * hidden_dim + dim]));
            }
        }
        EXPECT_LT(worst, 1e-4) << "last_hidden_state row " << row;

        // pooler_output = tanh(pooler.dense(h[CLS])), computed here in double from our h[0].
        const auto pooler_w = weights_->floats("pooler.dense.weight", {hidden_dim, hidden_dim});
        const auto pooler_b = weights_->floats("pooler.dense.bias", {hidden_dim});
        worst = 0;
        for (std::size_t out = 0; out < hidden_dim; ++out) {
            double sum = pooler_b[out];
            for (std::size_t in = 0; in < hidden_dim; ++in) sum += static_cast<double>(pooler_w[out * hidden_dim + in]) * hidden[in];
            worst = std::max(worst, std::fabs(std::tanh(sum) - expected.at("pooler_output")[row][out].get<double>()));
        }
        EXPECT_LT(worst, 1e-4) << "pooler_output row " << row;

        const formats::PoolingMode mean[] = {formats::PoolingMode::mean};
        std::vector<float> pooled(hidden_dim);
        engine::pool_sequence(hidden, token_count, hidden_dim, mean, 0, pooled.data());
        std::vector<float> normalized(hidden_dim);
        engine::finish_embedding(pooled, 0, true, normalized);
        double worst_pooled = 0;
        double worst_embedding = 0;
        for (std::size_t dim = 0; dim < hidden_dim; ++dim) {
            worst_pooled = std::max(worst_pooled, std::fabs(expected.at("mean_pooled")[row][dim].get<double>() - pooled[dim]));
            worst_embedding = std::max(
                worst_embedding, std::fabs(expected.at("sentence_embedding")[row][dim].get<double>() - normalized[dim]));
        }
        EXPECT_LT(worst_pooled, 1e-4) << "mean_pooled row " << row;
        EXPECT_LT(worst_embedding, 1e-5) << "sentence_embedding row " << row;
    }

    static inline std::shared_ptr<formats::WeightStore> weights_;
    static inline std::unique_ptr<models::Model> model_;
    static inline const models::TextEncoder* encoder_ = nullptr;
};

TEST_F(BertIdsGolden, ModelShape) {
    ASSERT_NE(encoder_, nullptr);
    EXPECT_EQ(encoder_->hidden_dim(), 128u);
    EXPECT_EQ(encoder_->layer_count(), 2u);
    EXPECT_EQ(encoder_->max_tokens(), 512u);
    EXPECT_EQ(golden().sequences.size(), 8u);
}

TEST_F(BertIdsGolden, AllRowsInOnePackedBatch) {
    core::ThreadPool pool(2);
    models::TokenBatch batch;
    for (const auto& sequence : golden().sequences) batch.add(sequence);
    std::vector<float> hidden;
    encoder_->encode(batch, {}, hidden, &pool);
    ASSERT_EQ(hidden.size(), batch.token_count() * encoder_->hidden_dim());
    for (std::size_t row = 0; row < batch.sequences.size(); ++row) {
        const auto& sequence = batch.sequences[row];
        check_row(row, hidden.data() + sequence.first_row * encoder_->hidden_dim(), sequence.length);
    }
}

TEST_F(BertIdsGolden, EachRowAlone) {
    core::ThreadPool pool(1);
    for (std::size_t row = 0; row < golden().sequences.size(); ++row) {
        models::TokenBatch batch;
        batch.add(golden().sequences[row]);
        std::vector<float> hidden;
        encoder_->encode(batch, {}, hidden, &pool);
        check_row(row, hidden.data(), golden().sequences[row].size());
    }
}

TEST_F(BertIdsGolden, ReversedBatchOrderGivesTheSameRows) {
    core::ThreadPool pool(2);
    models::TokenBatch batch;
    const auto& sequences = golden().sequences;
    for (auto it = sequences.rbegin(); it != sequences.rend(); ++it) batch.add(*it);
    std::vector<float> hidden;
    encoder_->encode(batch, {}, hidden, nullptr);
    for (std::size_t idx = 0; idx < sequences.size(); ++idx) {
        const auto& sequence = batch.sequences[idx];
        check_row(sequences.size() - 1 - idx, hidden.data() + sequence.first_row * encoder_->hidden_dim(), sequence.length);
    }
}

TEST_F(BertIdsGolden, RejectsOutOfRangeIdsAndOverlongSequences) {
    models::TokenBatch bad_id;
    bad_id.add(std::vector<std::int32_t>{101, 30522, 102});
    std::vector<float> hidden;
    try {
        encoder_->encode(bad_id, {}, hidden, nullptr);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(err.what()).find("30522"), std::string::npos) << err.what();
    }
    models::TokenBatch too_long;
    too_long.add(std::vector<std::int32_t>(513, 101));
    EXPECT_THROW(encoder_->encode(too_long, {}, hidden, nullptr), Error);
    models::TokenBatch bad_type;
    bad_type.add(std::vector<std::int32_t>{101, 102}, std::vector<std::int32_t>{0, 2});
    EXPECT_THROW(encoder_->encode(bad_type, {}, hidden, nullptr), Error);
}

}  // namespace
}  // namespace tessera
