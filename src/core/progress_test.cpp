#include "core/progress.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

namespace tessera::core {
namespace {

using ::testing::HasSubstr;

std::string read_all(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string text;
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, file)) text += buffer;
    return text;
}

TEST(Progress, FormatsBytesAndDurations) {
    EXPECT_EQ(format_bytes(812), "812 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(80.0 * 1024 * 1024), "80.0 MiB");
    EXPECT_EQ(format_duration(42), "42s");
    EXPECT_EQ(format_duration(185), "3m05s");
    EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(Progress, RendersAmountPercentRateAndEta) {
    std::FILE* sink = std::tmpfile();
    ProgressBar bar("model.safetensors", 4 * 1024 * 1024, "B", {.enabled = true, .stream = sink});
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    bar.advance(1024 * 1024);
    const std::string line = bar.render();
    EXPECT_THAT(line, HasSubstr("model.safetensors  1.0 MiB / 4.0 MiB   25%"));
    EXPECT_THAT(line, HasSubstr("/s"));
    EXPECT_THAT(line, HasSubstr("ETA "));
    bar.finish();
    bar.finish();  // idempotent
    const std::string written = read_all(sink);
    EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 1);
    EXPECT_THAT(written, HasSubstr("25%"));
    std::fclose(sink);
}

TEST(Progress, ItemsWithUnknownTotal) {
    std::FILE* sink = std::tmpfile();
    {
        ProgressBar bar("embedding", 0, "chunks", {.enabled = true, .stream = sink, .log_interval_ms = 0});
        bar.advance(10);
        bar.advance(5);
        EXPECT_EQ(bar.done(), 15u);
        EXPECT_THAT(bar.render(), HasSubstr("embedding  15 chunks"));
        EXPECT_THAT(bar.render(), ::testing::Not(HasSubstr("%")));
    }  // the destructor finishes
    const std::string written = read_all(sink);
    EXPECT_THAT(written, HasSubstr("embedding  10 chunks"));  // a log line per advance (interval 0)
    EXPECT_THAT(written, HasSubstr("embedding  15 chunks"));
    std::fclose(sink);
}

TEST(Progress, DisabledBarIsSilent) {
    std::FILE* sink = std::tmpfile();
    {
        ProgressBar bar("x", 10, "B", {.enabled = false, .stream = sink});
        bar.advance(10);
    }
    EXPECT_EQ(read_all(sink), "");
    std::fclose(sink);
}

TEST(Progress, ResumedPositionDoesNotInflateTheRate) {
    ProgressBar bar("x", 1000, "B", {.enabled = false});
    bar.set_done(900);
    EXPECT_EQ(bar.done(), 900u);
    EXPECT_THAT(bar.render(), HasSubstr("90%"));
    EXPECT_THAT(bar.render(), ::testing::Not(HasSubstr("/s")));  // nothing moved yet
}

TEST(Progress, ThreadSafeAdvance) {
    ProgressBar bar("x", 0, "items", {.enabled = false});
    std::vector<std::thread> threads;
    for (int idx = 0; idx < 4; ++idx) {
        threads.emplace_back([&] {
            for (int step = 0; step < 1000; ++step) bar.advance(1);
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(bar.done(), 4000u);
}

}  // namespace
}  // namespace tessera::core
