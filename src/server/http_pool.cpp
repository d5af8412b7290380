#include "server/http_pool.hpp"

namespace tessera::server {

ElasticTaskQueue::ElasticTaskQueue(std::size_t min_threads, std::size_t max_threads,
                                   std::chrono::milliseconds idle_timeout)
    : min_threads_(min_threads), max_threads_(std::max<std::size_t>(max_threads, 1)), idle_timeout_(idle_timeout) {
    std::lock_guard lock(mutex_);
    while (threads_.size() < std::min(min_threads_, max_threads_)) spawn_locked();
}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::spawn_locked() {
    const std::uint64_t worker_id = next_worker_id_++;
    threads_.emplace(worker_id, std::thread([this, worker_id] { worker_loop(worker_id); }));
}

std::size_t ElasticTaskQueue::thread_count() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

void ElasticTaskQueue::enqueue(std::function<void()> task) {
    std::vector<std::thread> finished;
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
        // Idle threads take queued tasks one each; a task beyond them gets a new thread.
        if (tasks_.size() > idle_count_ && threads_.size() < max_threads_) spawn_locked();
        finished.swap(retired_);
    }
    task_ready_.notify_one();
    for (auto& thread : finished) thread.join();  // already past their last lock: joins at once
}

void ElasticTaskQueue::shutdown() {
    std::map<std::uint64_t, std::thread> running;
    std::vector<std::thread> finished;
    {
        std::lock_guard lock(mutex_);
        shutdown_ = true;
        running.swap(threads_);
        finished.swap(retired_);
    }
    task_ready_.notify_all();
    for (auto& [worker_id, thread] : running) thread.join();
    for (auto& thread : finished) thread.join();
}

void ElasticTaskQueue::worker_loop(std::uint64_t worker_id) {
    std::unique_lock lock(mutex_);
    while (true) {
        ++idle_count_;
        const bool woken =
            task_ready_.wait_for(lock, idle_timeout_, [&] { return !tasks_.empty() || shutdown_; });
        --idle_count_;
        if (tasks_.empty()) {
            if (shutdown_) return;  // shutdown() owns this thread's handle and joins it
            if (!woken && threads_.size() > min_threads_) {
                auto handle = threads_.extract(worker_id);
                retired_.push_back(std::move(handle.mapped()));
                return;
            }
            continue;
        }
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        lock.lock();
    }
}

}  // namespace tessera::server
