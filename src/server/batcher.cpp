#include "server/batcher.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <iterator>
#include <map>
#include <string>

namespace tessera::server {

struct Batcher::Job {
    std::vector<TokenizedText> inputs;
    EmbedOptions options;
    std::mutex mutex;
    std::condition_variable done;
    Matrix result;
    std::size_t remaining = 0;
    std::exception_ptr error;
    // Set when the request gave up (timeout) or one of its inputs failed: its other queued
    // inputs are dropped instead of wasting engine time.
    std::atomic<bool> finished_early{false};

    void fail(std::exception_ptr failure) {
        {
            std::lock_guard lock(mutex);
            if (!error) error = std::move(failure);
        }
        finished_early = true;
        done.notify_all();
    }
};

namespace {

// Inputs may share an engine batch only if embed_tokenized treats them alike; everything else
// in EmbedOptions (prefix, truncation) was applied when they were tokenized.
bool same_batch_options(const EmbedOptions& lhs, const EmbedOptions& rhs) {
    return lhs.normalize == rhs.normalize && lhs.dimensions == rhs.dimensions;
}

}  // namespace

Batcher::Batcher(TextEmbedder& embedder, BatcherOptions options)
    : embedder_(embedder), options_(std::move(options)) {
    engine_thread_ = std::thread([this] { engine_loop(); });
}

Batcher::~Batcher() { shutdown(); }

void Batcher::shutdown() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    if (engine_thread_.joinable()) engine_thread_.join();
}

std::size_t Batcher::queued_items() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

Matrix Batcher::embed(std::vector<TokenizedText> inputs, const EmbedOptions& options,
                      Clock::time_point deadline) {
    if (inputs.empty()) return Matrix();
    auto job = std::make_shared<Job>();
    job->options = options;
    job->options.batch_size = 0;
    job->remaining = inputs.size();
    job->inputs = std::move(inputs);
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw Error(ErrorCode::unavailable, "server is shutting down");
        for (std::size_t input_idx = 0; input_idx < job->inputs.size(); ++input_idx) {
            queue_.push_back(Item{job, input_idx, job->inputs[input_idx].ids.size()});
        }
    }
    work_ready_.notify_one();

    std::unique_lock lock(job->mutex);
    const bool finished =
        job->done.wait_until(lock, deadline, [&] { return job->remaining == 0 || job->error; });
    if (!finished) {
        job->finished_early = true;
        throw Error(ErrorCode::cancelled,
                    "request timed out: " + std::to_string(job->remaining) + " of " +
                        std::to_string(job->inputs.size()) + " inputs were not embedded in time");
    }
    if (job->error) std::rethrow_exception(job->error);
    return std::move(job->result);
}

void Batcher::engine_loop() {
    while (true) {
        std::vector<Item> batch;
        {
            std::unique_lock lock(mutex_);
            work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to finish
            batch = take_batch();
        }
        if (!batch.empty()) run_batch(batch);
    }
}

std::vector<Batcher::Item> Batcher::take_batch() {
    std::vector<Item> batch;
    std::deque<Item> skipped;
    std::size_t token_total = 0;
    const EmbedOptions* batch_options = nullptr;
    while (!queue_.empty()) {
        Item& item = queue_.front();
        if (item.job->finished_early) {
            queue_.pop_front();
            continue;
        }
        if (batch_options && !same_batch_options(*batch_options, item.job->options)) {
            skipped.push_back(std::move(item));
            queue_.pop_front();
            continue;
        }
        // Arrival order within the budget keeps waiting times fair; one over-budget input
        // still runs, alone.
        if (!batch.empty() && token_total + item.token_count > options_.max_batch_tokens) break;
        token_total += item.token_count;
        batch_options = &item.job->options;
        batch.push_back(std::move(item));
        queue_.pop_front();
    }
    queue_.insert(queue_.begin(), std::make_move_iterator(skipped.begin()),
                  std::make_move_iterator(skipped.end()));
    return batch;
}

namespace {

void scatter_rows(const Matrix& vectors, std::size_t first_row, auto& items) {
    for (std::size_t item_idx = 0; item_idx < items.size(); ++item_idx) {
        auto& item = items[item_idx];
        auto& job = *item.job;
        bool complete = false;
        {
            std::lock_guard lock(job.mutex);
            if (job.result.rows() == 0) job.result = Matrix(job.inputs.size(), vectors.cols());
            const auto source = vectors.row(first_row + item_idx);
            std::copy(source.begin(), source.end(), job.result.row(item.input_idx).begin());
            complete = --job.remaining == 0;
        }
        if (complete) job.done.notify_all();
    }
}

}  // namespace

void Batcher::run_batch(std::vector<Item>& batch) {
    // Longest first: the engine packs sequences, and similar lengths side by side keep its
    // attention blocks even.
    std::stable_sort(batch.begin(), batch.end(),
                     [](const Item& lhs, const Item& rhs) { return lhs.token_count > rhs.token_count; });
    std::vector<TokenizedText> inputs;
    inputs.reserve(batch.size());
    std::size_t token_total = 0;
    for (const auto& item : batch) {
        inputs.push_back(item.job->inputs[item.input_idx]);
        token_total += item.token_count;
    }
    const auto started = Clock::now();
    bool ran = false;
    Matrix vectors;
    try {
        vectors = embedder_.embed_tokenized(inputs, batch.front().job->options);
        ran = vectors.rows() == batch.size();
        if (!ran) {
            throw Error(ErrorCode::internal, "engine returned " + std::to_string(vectors.rows()) +
                                                 " vectors for " + std::to_string(batch.size()) +
                                                 " inputs");
        }
    } catch (...) {
        // One request's bad input (say, a token id outside the vocabulary) must not fail the
        // others that shared its batch: rerun request by request to pin the error on its owner.
        run_alone(embedder_, batch);
    }
    if (ran) scatter_rows(vectors, 0, batch);
    if (options_.on_batch) {
        const std::chrono::duration<double> elapsed = Clock::now() - started;
        options_.on_batch(BatchStats{batch.size(), token_total, elapsed.count()});
    }
}

void Batcher::run_alone(TextEmbedder& embedder, std::vector<Item>& items) {
    std::map<Job*, std::vector<Item>> by_job;
    for (auto& item : items) by_job[item.job.get()].push_back(std::move(item));
    for (auto& [job, job_items] : by_job) {
        if (job->finished_early) continue;
        std::vector<TokenizedText> inputs;
        for (const auto& item : job_items) inputs.push_back(job->inputs[item.input_idx]);
        try {
            Matrix vectors = embedder.embed_tokenized(inputs, job->options);
            if (vectors.rows() != inputs.size()) {
                throw Error(ErrorCode::internal, "engine returned " + std::to_string(vectors.rows()) +
                                                     " vectors for " + std::to_string(inputs.size()) +
                                                     " inputs");
            }
            scatter_rows(vectors, 0, job_items);
        } catch (...) {
            job->fail(std::current_exception());
        }
    }
}

}  // namespace tessera::server
