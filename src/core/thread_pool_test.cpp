#include "core/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <stdexcept>
#include <vector>

#include "core/cpu_features.hpp"
#include "tessera/error.hpp"

namespace tessera::core {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
    ThreadPool pool(3);
    std::vector<std::atomic<int>> hits(1000);
    for (int round = 0; round < 50; ++round) {
        pool.parallel_for(hits.size(), [&](std::size_t begin, std::size_t end) {
            for (std::size_t idx = begin; idx < end; ++idx) hits[idx]++;
        });
    }
    for (auto& hit : hits) EXPECT_EQ(hit.load(), 50);
}

TEST(ThreadPool, RethrowsExceptionsFromChunks) {
    ThreadPool pool(2);
    EXPECT_THROW(pool.parallel_for(10, [](std::size_t begin, std::size_t) {
        if (begin > 0) throw std::runtime_error("boom");
    }), std::runtime_error);
    // Still usable afterwards.
    std::atomic<int> total{0};
    pool.parallel_for(10, [&](std::size_t begin, std::size_t end) { total += int(end - begin); });
    EXPECT_EQ(total.load(), 10);
}

// Back-to-back calls (workers still spinning) and calls after a pause longer than the spin
// budget (workers asleep) must both wake every worker: a lost wake-up would hang here.
TEST(ThreadPool, WakesWorkersWhetherSpinningOrAsleep) {
    ThreadPool pool(3);
    std::atomic<int> total{0};
    for (int round = 0; round < 200; ++round) {
        if (round % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        pool.parallel_for(3, [&](std::size_t begin, std::size_t end) { total += int(end - begin); });
    }
    EXPECT_EQ(total.load(), 600);
}

TEST(CpuFeatures, OverrideCapsLevel) {
    set_isa_level_override(IsaLevel::portable);
    EXPECT_EQ(active_isa_level(), IsaLevel::portable);
    clear_isa_level_override();
}

TEST(Error, CodesMapToStatusAndExit) {
    EXPECT_EQ(http_status(ErrorCode::not_found), 404);
    EXPECT_EQ(exit_code(ErrorCode::invalid_argument), 2);
    Error err(ErrorCode::corrupt, "x.bin: bad");
    EXPECT_STREQ(err.with_context("loading").what(), "loading: x.bin: bad");
}

}  // namespace
}  // namespace tessera::core
