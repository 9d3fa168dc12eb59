// SPDX-License-Identifier: MIT
// --progress: how much of the input atomic-write has written, while it writes a big
// input, and how long the commit took. Pure: it reads no clock and makes no system call
// of its own; the caller passes the times, so that tests can drive it step by step.
#ifndef ATOMICWRITES_TOOLS_ATOMIC_WRITE_PROGRESS_HPP
#define ATOMICWRITES_TOOLS_ATOMIC_WRITE_PROGRESS_HPP

#include "options.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

namespace atomic_write_cli {

/// `bytes` in binary units with three significant digits: "0 B", "512 B", "64.0 KiB",
/// "1.25 GiB".
inline std::string human_bytes(std::uint64_t bytes) {
    constexpr std::string_view units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return std::to_string(bytes) + " B";
    double v = static_cast<double>(bytes);
    std::size_t u = 0;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    // Round first, so that 1023.99 KiB becomes "1.00 MiB", not "1024 KiB".
    char text[32];
    std::snprintf(text, sizeof text, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
    if (std::string_view(text) == "1024" && u + 1 < std::size(units)) return "1.00 " + std::string(units[u + 1]);
    return std::string(text) + " " + std::string(units[u]);
}

/// Seconds with one decimal: "0.0 s", "12.3 s".
inline std::string human_seconds(std::chrono::steady_clock::duration d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
    return text;
}

/// Writes the progress of one write to `err` (standard error). On a terminal one line is
/// rewritten in place ("\r", then erase to the end of the line) at most every 200 ms;
/// elsewhere (a log) a new line is written at most every second. Nothing is written
/// when it is not enabled.
class progress_meter {
public:
    using clock = std::chrono::steady_clock;

    progress_meter(std::ostream& err, const std::filesystem::path& target, bool enabled, bool terminal,
                   clock::time_point start)
        : err_(err),
          lead_(std::string(program) + ": " + target.string() + ": "),
          enabled_(enabled),
          terminal_(terminal),
          interval_(terminal ? std::chrono::milliseconds(200) : std::chrono::seconds(1)),
          start_(start),
          last_(start) {}

    progress_meter(const progress_meter&) = delete;
    progress_meter& operator=(const progress_meter&) = delete;

    /// `total` bytes of input have been written by `now`: shown if the interval since the
    /// last line has passed.
    void written(std::uint64_t total, clock::time_point now) {
        total_ = total;
        if (!enabled_ || now - last_ < interval_) return;
        last_ = now;
        const double seconds = std::chrono::duration<double>(now - start_).count();
        std::string rate;
        if (seconds > 0)
            rate = ", " + human_bytes(static_cast<std::uint64_t>(static_cast<double>(total) / seconds)) + "/s";
        show(human_bytes(total) + " written" + rate);
    }

    /// The input has ended: the commit (flush, rename, directory flush) begins, which on a
    /// big file can take as long as the writing did.
    void committing(clock::time_point now) {
        committing_at_ = now;
        if (enabled_) show(human_bytes(total_) + " written in " + human_seconds(now - start_) + "; syncing");
    }

    /// The commit has returned successfully: the last line, ended.
    void done(clock::time_point now) {
        if (!enabled_) return;
        show(human_bytes(total_) + " written in " + human_seconds(committing_at_ - start_) + ", synced in " +
             human_seconds(now - committing_at_));
        end_line();
    }

    /// Ends a line left open on a terminal, so that an error message that follows starts
    /// on a line of its own.
    void end_line() {
        if (open_line_) err_ << '\n' << std::flush;
        open_line_ = false;
    }

private:
    void show(const std::string& text) {
        if (terminal_) {
            err_ << '\r' << lead_ << text << "\x1b[K" << std::flush;
            open_line_ = true;
        } else {
            err_ << lead_ << text << '\n' << std::flush;
        }
    }

    std::ostream& err_;
    std::string lead_;
    bool enabled_;
    bool terminal_;
    clock::duration interval_;
    clock::time_point start_;
    clock::time_point last_;
    clock::time_point committing_at_{};
    std::uint64_t total_ = 0;
    bool open_line_ = false;
};

}  // namespace atomic_write_cli

#endif  // ATOMICWRITES_TOOLS_ATOMIC_WRITE_PROGRESS_HPP
