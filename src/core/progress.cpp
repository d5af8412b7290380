#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace tessera::core {

std::string format_bytes(double bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit_idx = 0;
    while (bytes >= 1024.0 && unit_idx < 4) {
        bytes /= 1024.0;
        ++unit_idx;
    }
    char buffer[32];
    if (unit_idx == 0) {
        std::snprintf(buffer, sizeof buffer, "%.0f B", bytes);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.1f %s", bytes, kUnits[unit_idx]);
    }
    return buffer;
}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    auto total = static_cast<long long>(std::llround(seconds));
    char buffer[32];
    if (total < 60) {
        std::snprintf(buffer, sizeof buffer, "%llds", total);
    } else if (total < 3600) {
        std::snprintf(buffer, sizeof buffer, "%lldm%02llds", total / 60, total % 60);
    } else {
        std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
    }
    return buffer;
}

ProgressBar::ProgressBar(std::string label, std::uint64_t total_units, std::string unit_name,
                         ProgressOptions options)
    : label_(std::move(label)),
      total_units_(total_units),
      unit_name_(std::move(unit_name)),
      options_(options),
      start_time_(std::chrono::steady_clock::now()),
      last_draw_time_(start_time_) {
    if (options_.stream == nullptr) options_.enabled = false;
    if (options_.enabled) is_tty_ = ::isatty(::fileno(options_.stream)) == 1;
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(std::uint64_t units) {
    std::lock_guard lock(mutex_);
    done_units_ += units;
    maybe_draw_locked(false);
}

void ProgressBar::set_done(std::uint64_t units) {
    std::lock_guard lock(mutex_);
    // A jump before any progress is a resume: the rate counts only what moves from here on.
    if (done_units_ == 0) start_units_ = units;
    done_units_ = units;
    maybe_draw_locked(false);
}

void ProgressBar::set_total(std::uint64_t total_units) {
    std::lock_guard lock(mutex_);
    total_units_ = total_units;
}

void ProgressBar::finish() {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (!options_.enabled) return;
    std::string line = render_locked();
    std::fprintf(options_.stream, is_tty_ ? "\r%s\033[K\n" : "%s\n", line.c_str());
    std::fflush(options_.stream);
}

std::uint64_t ProgressBar::done() const {
    std::lock_guard lock(mutex_);
    return done_units_;
}

std::string ProgressBar::render() const {
    std::lock_guard lock(mutex_);
    return render_locked();
}

void ProgressBar::maybe_draw_locked(bool force) {
    if (!options_.enabled || finished_) return;
    auto now = std::chrono::steady_clock::now();
    auto interval_ms = is_tty_ ? options_.tty_interval_ms : options_.log_interval_ms;
    auto since_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - last_draw_time_).count();
    if (!force && since_ms < interval_ms) return;
    last_draw_time_ = now;
    std::string line = render_locked();
    std::fprintf(options_.stream, is_tty_ ? "\r%s\033[K" : "%s\n", line.c_str());
    std::fflush(options_.stream);
}

std::string ProgressBar::render_locked() const {
    const bool bytes = unit_name_ == "B";
    auto amount = [&](double units) {
        if (bytes) return format_bytes(units);
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "%.0f %s", units, unit_name_.c_str());
        return std::string(buffer);
    };
    std::string line = label_ + "  " + amount(static_cast<double>(done_units_));
    if (total_units_ > 0) {
        line += " / " + amount(static_cast<double>(total_units_));
        char percent[16];
        std::snprintf(percent, sizeof percent, "  %3.0f%%",
                      100.0 * static_cast<double>(done_units_) / static_cast<double>(total_units_));
        line += percent;
    }
    double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                     start_time_).count();
    double moved = static_cast<double>(done_units_ - std::min(start_units_, done_units_));
    if (elapsed_s > 0.05 && moved > 0) {
        double rate = moved / elapsed_s;
        if (bytes) {
            line += "  " + format_bytes(rate) + "/s";
        } else {
            char buffer[48];
            std::snprintf(buffer, sizeof buffer, "  %.1f %s/s", rate, unit_name_.c_str());
            line += buffer;
        }
        if (total_units_ > done_units_) {
            line += "  ETA " + format_duration(static_cast<double>(total_units_ - done_units_) / rate);
        } else if (total_units_ > 0) {
            line += "  in " + format_duration(elapsed_s);
        }
    }
    return line;
}

}  // namespace tessera::core
