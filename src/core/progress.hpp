// A progress bar on stderr: bytes or items done, rate and ETA, for downloads and long batch jobs.
//
//   core::ProgressBar bar("model.safetensors", total_bytes, "B");   // "B" formats as KiB/MiB/GiB
//   while (...) bar.advance(chunk_bytes);                           // thread-safe, cheap
//   bar.finish();                                                   // final line, then newline
//
// On a terminal the line is redrawn in place (at most ~10 times a second); when stderr is not a
// terminal (CI logs, pipes) one line is written every few seconds. A disabled bar prints nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace tessera::core {

struct ProgressOptions {
    bool enabled = true;
    std::FILE* stream = stderr;          // where to draw; tests pass a temporary file
    std::int64_t tty_interval_ms = 100;  // redraw period on a terminal
    std::int64_t log_interval_ms = 5000; // line period when the stream is not a terminal
};

class ProgressBar {
public:
    // total_units 0 means unknown (no percentage or ETA). unit_name "B" formats bytes.
    ProgressBar(std::string label, std::uint64_t total_units = 0, std::string unit_name = "B",
                ProgressOptions options = {});
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    ~ProgressBar();  // finishes the bar if finish() was not called

    void advance(std::uint64_t units);
    // Sets the absolute position (e.g. after resuming a download at byte N).
    void set_done(std::uint64_t units);
    void set_total(std::uint64_t total_units);
    // Draws the final state once and ends the line. Idempotent.
    void finish();

    [[nodiscard]] std::uint64_t done() const;
    // The current line without drawing it: "label  12.0 MiB / 80.0 MiB  15%  3.1 MiB/s  ETA 22s".
    [[nodiscard]] std::string render() const;

private:
    void maybe_draw_locked(bool force);
    [[nodiscard]] std::string render_locked() const;

    std::string label_;
    std::uint64_t total_units_;
    std::string unit_name_;
    ProgressOptions options_;
    bool is_tty_ = false;
    bool finished_ = false;
    std::uint64_t done_units_ = 0;
    std::uint64_t start_units_ = 0;  // units already done at construction/first set_done (resume)
    std::chrono::steady_clock::time_point start_time_;
    std::chrono::steady_clock::time_point last_draw_time_;
    mutable std::mutex mutex_;
};

// "1.5 MiB", "812 B", "3.2 GiB".
[[nodiscard]] std::string format_bytes(double bytes);
// "42s", "3m05s", "1h02m".
[[nodiscard]] std::string format_duration(double seconds);

}  // namespace tessera::core
