#include "core/thread_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace tessera::core {

namespace {

thread_local bool t_inside_pool_job = false;

// How long a waiting thread spins before it sleeps. A forward pass is dozens of parallel_for
// calls a few tens of microseconds apart; waking a sleeping worker through the kernel costs
// 10-50 us each time, which for one short query was a third of its latency. Spinning this long
// hides that and costs nothing on a machine the pool has to itself; TESSERA_POOL_SPIN_US=0 turns
// it off where cores are shared (the equivalent of OMP_WAIT_POLICY=passive).
std::chrono::microseconds spin_budget() {
    static const std::chrono::microseconds budget = [] {
        const char* value = std::getenv("TESSERA_POOL_SPIN_US");
        if (value == nullptr || *value == '\0') return std::chrono::microseconds(200);
        char* end = nullptr;
        const long micros = std::strtol(value, &end, 10);
        return std::chrono::microseconds(end != value && micros >= 0 ? micros : 200);
    }();
    return budget;
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

// Spins until `done()` or the spin budget runs out; returns whether `done()` became true.
// After the first ~2 us of `pause` it yields between checks: where other threads are runnable
// (an HTTP server's connection threads beside the embedding pool, or a build on the same cores)
// a pure busy-wait starved them (1,000 concurrent requests took 80-125 s instead of 12 and
// connections were reset); with nothing else to run, yield returns at once.
template <typename Predicate>
bool spin_until(Predicate done) {
    const auto budget = spin_budget();
    if (budget.count() == 0) return done();
    for (int iteration = 0; iteration < 64; ++iteration) {
        if (done()) return true;
        cpu_relax();
    }
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (;;) {
        if (done()) return true;
        std::this_thread::yield();
        if (std::chrono::steady_clock::now() >= deadline) return done();
    }
}

}  // namespace

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
        stopping_.store(true);
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

// Wake-up protocol (no lost wake-ups): a worker about to sleep increments sleeping_workers_ and
// re-checks generation_ under mutex_; parallel_for bumps generation_ and then reads
// sleeping_workers_, both sequentially consistent, so at least one of them sees the other, and
// the notify (taken under mutex_) cannot fall between the worker's check and its wait.
void ThreadPool::worker_loop(std::size_t worker_idx) {
    std::uint64_t seen_generation = 0;
    auto has_work = [&] { return stopping_.load() || generation_.load() != seen_generation; };
    for (;;) {
        if (!spin_until(has_work)) {
            std::unique_lock lock(mutex_);
            sleeping_workers_.fetch_add(1);
            work_ready_.wait(lock, has_work);
            sleeping_workers_.fetch_sub(1);
        }
        if (stopping_.load()) return;
        seen_generation = generation_.load();
        if (worker_idx < chunk_count_) run_chunk(worker_idx);
        if (pending_.fetch_sub(1) == 1) {
            std::lock_guard lock(mutex_);  // the caller may be between its check and its wait
            work_done_.notify_one();
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
    body_ = &body;
    count_ = count;
    chunk_count_ = chunks;
    first_error_ = nullptr;
    pending_.store(workers_.size());
    generation_.fetch_add(1);  // publishes the job above to the workers
    if (sleeping_workers_.load() > 0) {
        std::lock_guard lock(mutex_);
        work_ready_.notify_all();
    }
    run_chunk(0);
    auto all_done = [&] { return pending_.load() == 0; };
    if (!spin_until(all_done)) {
        std::unique_lock lock(mutex_);
        work_done_.wait(lock, all_done);
    }
    const std::exception_ptr error = first_error_;
    body_ = nullptr;
    if (error) std::rethrow_exception(error);
}

}  // namespace tessera::core
