// SPDX-License-Identifier: MIT
// How the test process runs: as root or not, as another user in a child, in the long
// variant or under ThreadSanitizer, and the figures it reports.
#ifndef ATOMICWRITES_TESTS_SUPPORT_PROCESSES_HPP
#define ATOMICWRITES_TESTS_SUPPORT_PROCESSES_HPP

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#if !defined(_WIN32)
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace test {

namespace fs = std::filesystem;

#if defined(_WIN32)
/// Windows has no root: tests that need one (mounts, other users' files) skip.
inline bool is_root() { return false; }
#else
/// Whether the process runs as root (some tests need to mount or change ids).
inline bool is_root() { return ::geteuid() == 0; }
#endif

#if !defined(_WIN32)
/// Exit statuses of as_nobody() that are not the check's own.
inline constexpr int nobody_threw = 60;        ///< the check threw
inline constexpr int nobody_no_ids = 70;       ///< the ids could not be dropped
inline constexpr int nobody_unreachable = 77;  ///< `reach` is out of nobody's reach: skip

/// Runs `check` (which returns an exit status, 0 for success) in a child process with
/// the ids of nobody (65534) and no supplementary groups, once access(2) says `reach`
/// allows `access_mode`; returns the child's exit status, or -1 if it could not be run.
/// Root only.
template <class F>
int as_nobody(const fs::path& reach, int access_mode, F&& check) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(nobody_no_ids);
        if (::access(reach.c_str(), access_mode) != 0) ::_exit(nobody_unreachable);
        int code = 0;
        try {
            code = check();
        } catch (...) {
            code = nobody_threw;
        }
        ::_exit(code);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}
#endif  // !_WIN32

// --- long runs, fast directories and figures ---------------------------------------------

/// Whether the long variants were asked for (ATOMICWRITES_LONG_TESTS=1, set by
/// scripts/test-long): more kills, more racing operations, longer time limits.
inline bool long_run() {
    const char* v = std::getenv("ATOMICWRITES_LONG_TESTS");
    return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

/// Whether the tests run under ThreadSanitizer, which makes every operation 5 to 15
/// times slower.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool thread_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool thread_sanitizer = true;
#else
inline constexpr bool thread_sanitizer = false;
#endif
#else
inline constexpr bool thread_sanitizer = false;
#endif

/// `normal` in the ordinary suite, `long_value` in the long variant. Under
/// ThreadSanitizer the ordinary count is quartered: the races it looks for show within
/// a few hundred operations, and its run stays within the CI budget.
template <class T>
T scaled(T normal, T long_value) {
    if (long_run()) return long_value;
    return thread_sanitizer && normal >= T(4) ? normal / 4 : normal;
}

/// Prints one measured figure of a suite ("figure: <text>") on standard output, where
/// the test log keeps it: counts that the suites' summaries report.
inline void report_figure(const std::string& text) {
    std::printf("figure: %s\n", text.c_str());
    std::fflush(stdout);
}

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_PROCESSES_HPP
