#include "core/thread_pool.hpp"

#include <sched.h>

#include <algorithm>

namespace tessera::core {

namespace {
thread_local bool t_inside_pool_job = false;
}

std::size_t ThreadPool::available_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<std::size_t>(count);
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(std::size_t thread_count) {
    if (thread_count == 0) thread_count = available_cores();
    workers_.reserve(thread_count - 1);
    for (std::size_t worker_idx = 1; worker_idx < thread_count; ++worker_idx) {
        workers_.emplace_back([this, worker_idx] { worker_loop(worker_idx); });
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& worker : workers_) worker.join();
}

void ThreadPool::run_chunk(std::size_t chunk_idx) {
    const std::size_t begin = count_ * chunk_idx / chunk_count_;
    const std::size_t end = count_ * (chunk_idx + 1) / chunk_count_;
    if (begin >= end) return;
    try {
        t_inside_pool_job = true;
        (*body_)(begin, end);
        t_inside_pool_job = false;
    } catch (...) {
        t_inside_pool_job = false;
        std::lock_guard lock(mutex_);
        if (!first_error_) first_error_ = std::current_exception();
    }
}

void ThreadPool::worker_loop(std::size_t worker_idx) {
    std::size_t seen_generation = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
            if (stopping_) return;
            seen_generation = generation_;
        }
        if (worker_idx < chunk_count_) run_chunk(worker_idx);
        {
            std::lock_guard lock(mutex_);
            if (--pending_ == 0) work_done_.notify_one();
        }
    }
}

void ThreadPool::parallel_for(std::size_t count,
                              const std::function<void(std::size_t, std::size_t)>& body,
                              std::size_t min_chunk) {
    if (count == 0) return;
    min_chunk = std::max<std::size_t>(1, min_chunk);
    const std::size_t chunks = std::min(thread_count(), (count + min_chunk - 1) / min_chunk);
    if (chunks <= 1 || workers_.empty() || t_inside_pool_job) {
        body(0, count);
        return;
    }
    std::lock_guard call_lock(call_mutex_);
    {
        std::lock_guard lock(mutex_);
        body_ = &body;
        count_ = count;
        chunk_count_ = chunks;
        first_error_ = nullptr;
        pending_ = workers_.size();
        ++generation_;
    }
    work_ready_.notify_all();
    run_chunk(0);
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        work_done_.wait(lock, [&] { return pending_ == 0; });
        error = first_error_;
        body_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace tessera::core
