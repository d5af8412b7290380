#include "core/file_lock.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "tessera/error.hpp"

namespace tessera::core {
namespace {

namespace fs = std::filesystem;

fs::path lock_path(const char* name) {
    return fs::temp_directory_path() / (std::string("tessera-lock-") + name + "-" + std::to_string(::getpid()));
}

TEST(FileLock, ExcludesASecondHolderUntilReleased) {
    const fs::path path = lock_path("a");
    {
        FileLock held = FileLock::acquire(path);
        EXPECT_FALSE(FileLock::try_acquire(path).has_value());
        FileLock moved = std::move(held);
        EXPECT_FALSE(FileLock::try_acquire(path).has_value());
    }
    EXPECT_TRUE(FileLock::try_acquire(path).has_value());
    fs::remove(path);
}

TEST(FileLock, TimesOutWithUnavailable) {
    const fs::path path = lock_path("b");
    FileLock held = FileLock::acquire(path);
    try {
        (void)FileLock::acquire_for(path, 50);
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::unavailable);
        EXPECT_NE(std::string(err.what()).find(path.string()), std::string::npos);
    }
    held.release();
    EXPECT_NO_THROW((void)FileLock::acquire_for(path, 50));
    fs::remove(path);
}

TEST(FileLock, BlockingAcquireWaitsForTheHolder) {
    const fs::path path = lock_path("c");
    std::atomic<bool> released{false};
    auto held = std::make_unique<FileLock>(FileLock::acquire(path));
    std::thread waiter([&] {
        FileLock lock = FileLock::acquire(path);
        EXPECT_TRUE(released.load());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    released = true;
    held.reset();
    waiter.join();
    fs::remove(path);
}

TEST(FileLock, ExcludesAnotherProcess) {
    const fs::path path = lock_path("d");
    FileLock held = FileLock::acquire(path);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        bool got = FileLock::try_acquire(path).has_value();
        ::_exit(got ? 1 : 0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    fs::remove(path);
}

TEST(FileLock, UncreatableLockFileIsAnIoError) {
    try {
        (void)FileLock::acquire("/nonexistent-dir/x/lock");
        FAIL();
    } catch (const Error& err) {
        EXPECT_EQ(err.code(), ErrorCode::io);
        EXPECT_NE(std::string(err.what()).find("/nonexistent-dir/x/lock"), std::string::npos);
    }
}

}  // namespace
}  // namespace tessera::core
