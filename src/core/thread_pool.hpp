// ThreadPool — one fixed set of worker threads for data-parallel loops.
//
//   tessera::core::ThreadPool pool(2);
//   pool.parallel_for(rows, [&](std::size_t begin, std::size_t end) {
//       for (std::size_t row = begin; row < end; ++row) work(row);
//   });
//
// The calling thread takes part in the loop, so a pool of N threads uses N cores with N-1
// workers. parallel_for blocks until every chunk is done; it is not reentrant (a nested call
// from inside a chunk runs serially on the calling thread, which is what kernels want).
// Waiting threads spin briefly before they sleep (see thread_pool.cpp, TESSERA_POOL_SPIN_US).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::core {

class ThreadPool {
public:
    // thread_count 0 means "one per core the process may use".
    explicit ThreadPool(std::size_t thread_count = 0);
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool();

    [[nodiscard]] std::size_t thread_count() const { return workers_.size() + 1; }

    // Splits [0, count) into at most `thread_count()` contiguous chunks of at least `min_chunk`
    // items and runs `body(begin, end)` on each. Exceptions from `body` are rethrown here.
    void parallel_for(std::size_t count, const std::function<void(std::size_t, std::size_t)>& body,
                      std::size_t min_chunk = 1);

    // The number of cores this process may run on (sched_getaffinity), at least 1.
    [[nodiscard]] static std::size_t available_cores();

private:
    void worker_loop(std::size_t worker_idx);
    void run_chunk(std::size_t chunk_idx);

    std::vector<std::thread> workers_;
    std::mutex mutex_;  // guards first_error_ and the sleeps below
    std::condition_variable work_ready_;
    std::condition_variable work_done_;
    std::mutex call_mutex_;  // serialises parallel_for calls from different threads

    // The current job, written by parallel_for before it bumps generation_ (which publishes it).
    const std::function<void(std::size_t, std::size_t)>* body_ = nullptr;
    std::size_t count_ = 0;
    std::size_t chunk_count_ = 0;
    std::exception_ptr first_error_;

    std::atomic<std::uint64_t> generation_{0};  // one per parallel_for call
    std::atomic<std::size_t> pending_{0};       // workers still busy with the current job
    std::atomic<std::size_t> sleeping_workers_{0};
    std::atomic<bool> stopping_{false};
};

}  // namespace tessera::core
