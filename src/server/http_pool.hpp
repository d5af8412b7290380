// ElasticTaskQueue — cpp-httplib's connection thread pool, grown on demand and shrunk when idle.
//
//   http.new_task_queue = [] { return new ElasticTaskQueue(8, 1024, std::chrono::seconds(30)); };
//
// cpp-httplib serves a connection on one thread for its whole keep-alive life. Its fixed-size
// ThreadPool therefore lets idle keep-alive connections of one set of clients starve the
// connections of others (they wait in its queue, unanswered — not even a 429). This pool adds a
// thread whenever no idle one is there to take a new connection, up to `max_threads`, and lets
// threads idle for `idle_timeout` exit, so memory returns to the baseline after a burst.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::server {

class ElasticTaskQueue final : public httplib::TaskQueue {
public:
    ElasticTaskQueue(std::size_t min_threads, std::size_t max_threads, std::chrono::milliseconds idle_timeout);
    ~ElasticTaskQueue() override;

    void enqueue(std::function<void()> task) override;
    // Runs every queued task, then joins all threads.
    void shutdown() override;

    [[nodiscard]] std::size_t thread_count() const;

private:
    void spawn_locked();
    void worker_loop(std::uint64_t worker_id);

    const std::size_t min_threads_;
    const std::size_t max_threads_;
    const std::chrono::milliseconds idle_timeout_;
    mutable std::mutex mutex_;
    std::condition_variable task_ready_;
    std::deque<std::function<void()>> tasks_;
    std::map<std::uint64_t, std::thread> threads_;
    std::vector<std::thread> retired_;  // exited on idle timeout, waiting to be joined
    std::size_t idle_count_ = 0;
    std::uint64_t next_worker_id_ = 0;
    bool shutdown_ = false;
};

}  // namespace tessera::server
