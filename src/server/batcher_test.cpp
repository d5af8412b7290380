// The batcher's queueing logic, against a deterministic stand-in engine (the end-to-end tests in
// tests/server/ run the real engine): batches respect the token budget, requests get their own
// rows back whatever they were batched with, one request's bad input fails only that request,
// deadlines and shutdown behave.
#include "server/batcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <future>
#include <mutex>
#include <random>
#include <thread>

namespace tessera::server {
namespace {

using namespace std::chrono_literals;

// Vectors are a pure function of the ids (like a padding-free encoder), so any mix-up of rows
// between requests shows as a wrong vector. Records each batch it is given.
class RecordingEngine final : public TextEmbedder {
public:
    static constexpr std::size_t kDim = 4;
    std::mutex mutex;
    std::vector<std::vector<std::size_t>> batch_lengths;  // token counts per batch, in order
    std::chrono::milliseconds delay{0};
    std::atomic<int> calls{0};

    static std::vector<float> expected(const std::vector<std::int32_t>& ids, std::size_t dimensions = 0) {
        std::vector<float> out(kDim);
        for (std::size_t idx = 0; idx < ids.size(); ++idx) {
            out[idx % kDim] += float(ids[idx]) * float(idx + 1);
        }
        out[kDim - 1] += float(ids.size());
        if (dimensions) out.resize(dimensions);
        return out;
    }

    Matrix embed(std::span<const std::string>, const EmbedOptions&) override { return {}; }
    std::vector<TokenizedText> tokenize(std::span<const std::string>, const EmbedOptions&) const override {
        return {};
    }
    Matrix embed_tokenized(std::span<const TokenizedText> inputs, const EmbedOptions& options) override {
        ++calls;
        if (delay.count()) std::this_thread::sleep_for(delay);
        {
            std::lock_guard lock(mutex);
            std::vector<std::size_t> lengths;
            for (const auto& input : inputs) lengths.push_back(input.ids.size());
            batch_lengths.push_back(lengths);
        }
        const std::size_t dim = options.dimensions ? options.dimensions : kDim;
        Matrix out(inputs.size(), dim);
        for (std::size_t row = 0; row < inputs.size(); ++row) {
            for (auto id : inputs[row].ids) {
                if (id < 0) throw Error(ErrorCode::invalid_argument, "token id " + std::to_string(id) + " out of range");
            }
            const auto vector = expected(inputs[row].ids, options.dimensions);
            std::copy(vector.begin(), vector.end(), out.row(row).begin());
        }
        return out;
    }
    std::vector<TokenStates> token_states(std::span<const std::string>, const EmbedOptions&) override { return {}; }
    const ModelInfo& info() const override { return info_; }
    const Tokenizer& tokenizer() const override { throw Error(ErrorCode::unsupported, "no tokenizer"); }

private:
    ModelInfo info_;
};

TokenizedText tokens(std::size_t length, std::int32_t seed) {
    TokenizedText text;
    for (std::size_t idx = 0; idx < length; ++idx) text.ids.push_back(seed + std::int32_t(idx % 7));
    return text;
}

Batcher::Clock::time_point far_deadline() { return Batcher::Clock::now() + 60s; }

void expect_rows(const Matrix& vectors, const std::vector<TokenizedText>& inputs, std::size_t dimensions = 0) {
    ASSERT_EQ(vectors.rows(), inputs.size());
    for (std::size_t row = 0; row < inputs.size(); ++row) {
        const auto expected = RecordingEngine::expected(inputs[row].ids, dimensions);
        ASSERT_EQ(vectors.cols(), expected.size());
        for (std::size_t dim = 0; dim < expected.size(); ++dim) {
            ASSERT_EQ(vectors.row(row)[dim], expected[dim]) << "row " << row << " dim " << dim;
        }
    }
}

TEST(Batcher, SingleRequestGetsItsRowsInOrder) {
    RecordingEngine engine;
    Batcher batcher(engine, {.max_batch_tokens = 1000});
    std::vector<TokenizedText> inputs = {tokens(5, 1), tokens(9, 2), tokens(2, 3)};
    expect_rows(batcher.embed(inputs, {}, far_deadline()), inputs);
    // One engine call, longest input first.
    ASSERT_EQ(engine.batch_lengths.size(), 1u);
    EXPECT_EQ(engine.batch_lengths[0], (std::vector<std::size_t>{9, 5, 2}));
}

TEST(Batcher, ConcurrentRequestsAreBatchedWithinBudgetAndScatteredBack) {
    RecordingEngine engine;
    engine.delay = 2ms;  // lets requests pile up while a batch runs
    constexpr std::size_t kBudget = 64;
    Batcher batcher(engine, {.max_batch_tokens = kBudget});
    constexpr int kClients = 32;
    std::vector<std::future<void>> clients;
    for (int client = 0; client < kClients; ++client) {
        clients.push_back(std::async(std::launch::async, [&, client] {
            std::mt19937 rng(client);
            for (int round = 0; round < 5; ++round) {
                std::vector<TokenizedText> inputs;
                const int count = 1 + int(rng() % 4);
                for (int idx = 0; idx < count; ++idx) inputs.push_back(tokens(1 + rng() % 20, client * 100 + idx));
                expect_rows(batcher.embed(inputs, {}, far_deadline()), inputs);
            }
        }));
    }
    for (auto& client : clients) client.get();
    std::size_t multi_request_batches = 0;
    for (const auto& lengths : engine.batch_lengths) {
        std::size_t total = 0;
        for (auto length : lengths) total += length;
        EXPECT_LE(total, kBudget);
        EXPECT_TRUE(std::is_sorted(lengths.rbegin(), lengths.rend())) << "batch not sorted by length";
        if (lengths.size() > 4) ++multi_request_batches;  // more inputs than one request has
    }
    EXPECT_GT(multi_request_batches, 0u) << "no batch combined requests";
    EXPECT_LT(engine.batch_lengths.size(), std::size_t(kClients * 5));
}

TEST(Batcher, OverBudgetInputRunsAlone) {
    RecordingEngine engine;
    Batcher batcher(engine, {.max_batch_tokens = 8});
    std::vector<TokenizedText> inputs = {tokens(20, 1), tokens(3, 2)};
    expect_rows(batcher.embed(inputs, {}, far_deadline()), inputs);
    ASSERT_EQ(engine.batch_lengths.size(), 2u);
    EXPECT_EQ(engine.batch_lengths[0], (std::vector<std::size_t>{20}));
}

TEST(Batcher, DifferentOptionsNeverShareABatch) {
    RecordingEngine engine;
    engine.delay = 5ms;
    Batcher batcher(engine, {.max_batch_tokens = 1000});
    std::vector<std::future<void>> clients;
    for (int client = 0; client < 8; ++client) {
        clients.push_back(std::async(std::launch::async, [&, client] {
            const std::size_t dimensions = client % 2 ? 2 : 0;
            std::vector<TokenizedText> inputs = {tokens(3 + client, client)};
            expect_rows(batcher.embed(inputs, EmbedOptions{.dimensions = dimensions}, far_deadline()), inputs,
                        dimensions);
        }));
    }
    for (auto& client : clients) client.get();
}

TEST(Batcher, BadInputFailsOnlyItsOwnRequest) {
    RecordingEngine engine;
    engine.delay = 20ms;
    Batcher batcher(engine, {.max_batch_tokens = 1000});
    // Occupy the engine so the next two requests queue up and share one batch.
    auto blocker = std::async(std::launch::async, [&] { return batcher.embed({tokens(2, 1)}, {}, far_deadline()); });
    std::this_thread::sleep_for(5ms);
    std::vector<TokenizedText> good_inputs = {tokens(4, 7)};
    TokenizedText bad = tokens(3, 1);
    bad.ids[1] = -5;
    auto bad_request = std::async(std::launch::async, [&] { return batcher.embed({bad}, {}, far_deadline()); });
    auto good_request = std::async(std::launch::async, [&] { return batcher.embed(good_inputs, {}, far_deadline()); });
    blocker.get();
    expect_rows(good_request.get(), good_inputs);
    try {
        (void)bad_request.get();
        FAIL() << "expected the bad request to fail";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::invalid_argument);
        EXPECT_NE(std::string(err.what()).find("-5"), std::string::npos) << err.what();
    }
}

TEST(Batcher, DeadlineGivesCancelledAndTheServerGoesOn) {
    RecordingEngine engine;
    engine.delay = 100ms;
    Batcher batcher(engine, {.max_batch_tokens = 1000});
    auto slow = std::async(std::launch::async, [&] { return batcher.embed({tokens(2, 1)}, {}, far_deadline()); });
    std::this_thread::sleep_for(10ms);
    try {
        (void)batcher.embed({tokens(2, 2)}, {}, Batcher::Clock::now() + 20ms);
        FAIL() << "expected a timeout";
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::cancelled);
        EXPECT_NE(std::string(err.what()).find("timed out"), std::string::npos);
    }
    (void)slow.get();
    std::vector<TokenizedText> inputs = {tokens(6, 3)};
    expect_rows(batcher.embed(inputs, {}, far_deadline()), inputs);
}

TEST(Batcher, ShutdownFinishesQueuedWorkThenRefusesNewWork) {
    RecordingEngine engine;
    engine.delay = 10ms;
    Batcher batcher(engine, {.max_batch_tokens = 4});  // one input per batch: a long queue
    std::vector<std::future<Matrix>> pending;
    std::vector<TokenizedText> inputs;
    for (int idx = 0; idx < 6; ++idx) inputs.push_back(tokens(4, idx));
    for (const auto& input : inputs) {
        pending.push_back(std::async(std::launch::async, [&, input] { return batcher.embed({input}, {}, far_deadline()); }));
    }
    std::this_thread::sleep_for(5ms);
    batcher.shutdown();
    // Every request that got in before shutdown completes; late ones see `unavailable`.
    std::size_t completed = 0;
    for (std::size_t idx = 0; idx < pending.size(); ++idx) {
        try {
            expect_rows(pending[idx].get(), {inputs[idx]});
            ++completed;
        } catch (const Error& err) {
            EXPECT_EQ(err.code(), ErrorCode::unavailable);
        }
    }
    EXPECT_GT(completed, 0u);
    EXPECT_THROW((void)batcher.embed({tokens(2, 1)}, {}, far_deadline()), Error);
}

TEST(Batcher, ReportsBatchStats) {
    RecordingEngine engine;
    std::vector<BatchStats> seen;
    Batcher batcher(engine, {.max_batch_tokens = 100, .on_batch = [&](const BatchStats& stats) { seen.push_back(stats); }});
    (void)batcher.embed({tokens(3, 1), tokens(5, 2)}, {}, far_deadline());
    batcher.shutdown();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].item_count, 2u);
    EXPECT_EQ(seen[0].token_count, 8u);
    EXPECT_GE(seen[0].seconds, 0.0);
}

}  // namespace
}  // namespace tessera::server
