// Crash safety: a child process writes with fsync=always and reports each acknowledged batch
// through a pipe; the parent kills it with SIGKILL at a random moment, reopens the store and
// checks that every acknowledged point is there, intact, and that no batch is half applied.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "store/test_util.hpp"
#include "tessera/store.hpp"

namespace tessera {
namespace {

constexpr std::size_t kDim = 16;
constexpr std::uint64_t kBatch = 8;

std::vector<float> vector_for(std::uint64_t id) {
    std::vector<float> out(kDim);
    for (std::size_t idx = 0; idx < kDim; ++idx) out[idx] = std::sin(float(id) * 0.37f + float(idx));
    return out;
}

StoreOptions writer_options() {
    StoreOptions options;
    options.fsync = FsyncPolicy::always;
    options.checkpoint_wal_bytes = 24 << 10;  // checkpoints happen often, so kills land inside them
    options.thread_count = 1;
    return options;
}

[[noreturn]] void run_writer(const std::filesystem::path& dir, std::uint64_t first_id, int ack_fd) {
    try {
        auto store = Store::open(dir, writer_options());
        auto c = store->has_collection("c") ? store->collection("c")
                                            : store->create_collection("c", CollectionConfig{.vectors = {{"", VectorConfig{.size = kDim, .distance = Distance::euclid}}}});
        for (std::uint64_t start = first_id;; start += kBatch) {
            std::vector<Point> batch;
            for (std::uint64_t id = start; id < start + kBatch; ++id) {
                batch.push_back(Point{.id = id, .vectors = {{"", vector_for(id)}},
                                      .payload = {{"id", id}, {"text", std::string(40 + id % 50, 'x')}}});
            }
            c->upsert(batch);
            const std::uint64_t acked = start + kBatch - 1;
            if (::write(ack_fd, &acked, sizeof acked) != sizeof acked) ::_exit(3);
            if ((start / kBatch) % 40 == 39) c->checkpoint();
        }
    } catch (const std::exception& err) {
        std::fprintf(stderr, "writer: %s\n", err.what());
        ::_exit(2);
    }
}

TEST(StoreCrash, KilledWriterLosesNoAcknowledgedPoint) {
    store::testing::TempDir dir;
    std::mt19937 rng(20261122);
    std::uint64_t acknowledged = 0;  // ids [0, acknowledged) were acknowledged
    std::uint64_t next_id = 0;
    int rounds_with_progress = 0;
    for (int round = 0; round < 16; ++round) {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(fds[0]);
            run_writer(dir.path(), next_id, fds[1]);
        }
        ::close(fds[1]);
        // Most rounds wait for the first acknowledgement (slow machines, sanitizers), then kill
        // at a random moment; every fourth round kills at once, often while the store opens.
        std::uint64_t acked = 0;
        bool got_any = false;
        if (round % 4 != 3) {
            pollfd ready{.fd = fds[0], .events = POLLIN, .revents = 0};
            if (::poll(&ready, 1, 10000) > 0 && ::read(fds[0], &acked, sizeof acked) == sizeof acked) got_any = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 60));
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 30));
        }
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited by itself with status " << WEXITSTATUS(status);
        while (::read(fds[0], &acked, sizeof acked) == sizeof acked) got_any = true;
        ::close(fds[0]);
        if (got_any) {
            acknowledged = acked + 1;
            ++rounds_with_progress;
        }

        auto store = Store::open(dir.path(), StoreOptions{.background = false});
        if (!store->has_collection("c")) {
            ASSERT_EQ(acknowledged, 0u);
            continue;
        }
        auto c = store->collection("c");
        const std::size_t count = c->count();
        ASSERT_GE(count, acknowledged) << "round " << round;
        ASSERT_EQ(count % kBatch, 0u) << "a batch was half applied in round " << round;
        ASSERT_LE(count, acknowledged + kBatch) << "more than the one unacknowledged batch in flight";
        for (std::uint64_t id = 0; id < count; ++id) {
            const auto point = c->get(PointId(id));
            ASSERT_TRUE(point) << "acknowledged point " << id << " lost in round " << round;
            ASSERT_EQ(point->payload["id"], id);
            ASSERT_EQ(point->vectors.at(""), vector_for(id));
        }
        next_id = count;
        acknowledged = count;  // an applied batch is durable too from now on
    }
    EXPECT_GE(rounds_with_progress, 8) << "the writer rarely got to acknowledge anything";
    EXPECT_GT(next_id, 0u);
}

}  // namespace
}  // namespace tessera
