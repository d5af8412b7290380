// Batcher — packs tokenized inputs from many concurrent requests into engine batches.
//
//   Batcher batcher(*embedder, {.max_batch_tokens = 16384});
//   auto tokens = embedder->tokenize(texts, options);          // on the caller's (HTTP) thread
//   Matrix vectors = batcher.embed(std::move(tokens), options, deadline);
//
// One engine thread per model takes the queued inputs in arrival order up to the token budget
// (inputs whose options give a different result — normalize, dimensions — wait for their own
// batch), sorts them by length, runs TextEmbedder::embed_tokenized once and scatters the rows
// back to their requests. While a batch runs, new requests queue, so batches grow with load
// without an artificial wait. The engine's packed attention makes a vector independent of its
// batch-mates, which the tests check.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tessera/embedder.hpp"

namespace tessera::server {

struct BatchStats {
    std::size_t item_count = 0;
    std::size_t token_count = 0;
    double seconds = 0;
};

struct BatcherOptions {
    std::size_t max_batch_tokens = 16384;
    // Called after each engine batch (metrics); runs on the engine thread.
    std::function<void(const BatchStats&)> on_batch;
};

class Batcher {
public:
    using Clock = std::chrono::steady_clock;

    Batcher(TextEmbedder& embedder, BatcherOptions options);
    ~Batcher();  // finishes the queued work, then joins the engine thread
    Batcher(const Batcher&) = delete;
    Batcher& operator=(const Batcher&) = delete;

    // Embeds pre-tokenized inputs; blocks until done. Errors: the engine's (for this request's
    // inputs only), cancelled when `deadline` passes first, unavailable after shutdown().
    [[nodiscard]] Matrix embed(std::vector<TokenizedText> inputs, const EmbedOptions& options,
                               Clock::time_point deadline);

    // Stops accepting work, finishes what is queued and joins the engine thread.
    void shutdown();

    [[nodiscard]] std::size_t queued_items() const;

private:
    struct Job;
    struct Item {
        std::shared_ptr<Job> job;
        std::size_t input_idx = 0;
        std::size_t token_count = 0;
    };

    void engine_loop();
    std::vector<Item> take_batch();  // called with mutex_ held
    void run_batch(std::vector<Item>& batch);
    static void run_alone(TextEmbedder& embedder, std::vector<Item>& items);

    TextEmbedder& embedder_;
    BatcherOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    std::thread engine_thread_;
};

}  // namespace tessera::server
