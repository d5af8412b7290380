#include "server/http_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>

namespace tessera::server {
namespace {

using namespace std::chrono_literals;

TEST(ElasticTaskQueue, GrowsSoBlockedTasksDoNotStarveNewOnes) {
    ElasticTaskQueue pool(2, 64, 200ms);
    constexpr int kTasks = 40;  // far more than the 2 starting threads, all blocking at once
    std::latch all_running(kTasks);
    std::atomic<int> done{0};
    for (int task = 0; task < kTasks; ++task) {
        pool.enqueue([&] {
            all_running.count_down();
            all_running.wait();  // deadlocks unless every task has its own thread
            ++done;
        });
    }
    pool.shutdown();
    EXPECT_EQ(done.load(), kTasks);
}

TEST(ElasticTaskQueue, ShrinksBackWhenIdleAndRespectsMax) {
    ElasticTaskQueue pool(1, 4, 50ms);
    std::atomic<int> concurrent{0}, peak{0}, done{0};
    for (int task = 0; task < 12; ++task) {
        pool.enqueue([&] {
            const int now = ++concurrent;
            int seen = peak.load();
            while (now > seen && !peak.compare_exchange_weak(seen, now)) {}
            std::this_thread::sleep_for(20ms);
            --concurrent;
            ++done;
        });
    }
    while (done.load() < 12) std::this_thread::sleep_for(5ms);
    EXPECT_LE(peak.load(), 4);
    EXPECT_GE(peak.load(), 2);
    std::this_thread::sleep_for(300ms);
    pool.enqueue([] {});  // reaps the retired threads
    std::this_thread::sleep_for(20ms);
    EXPECT_LE(pool.thread_count(), 2u);
}

}  // namespace
}  // namespace tessera::server
