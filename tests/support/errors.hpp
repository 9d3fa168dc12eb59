// SPDX-License-Identifier: MIT
// Errors the tests inject and expect: the platform's numbers by meaning, what a call
// threw, and a check of a failure without assertions (for child processes).
#ifndef ATOMICWRITES_TESTS_SUPPORT_ERRORS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_ERRORS_HPP

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "content.hpp"

#if defined(_WIN32)
#include <windows.h>
#endif

namespace test {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// What a call threw: the code, message and paths of a std::system_error (a
/// std::filesystem::filesystem_error is one). `threw` is false if the call returned.
/// Exceptions of other types propagate.
struct thrown_error {
    bool threw = false;
    std::error_code code;
    std::string what;
    fs::path path1;
    fs::path path2;
};

template <class F>
thrown_error catch_error(F&& fn) {
    thrown_error out;
    try {
        std::forward<F>(fn)();
    } catch (const fs::filesystem_error& e) {
        out = {true, e.code(), e.what(), e.path1(), e.path2()};
    } catch (const std::system_error& e) {
        out = {true, e.code(), e.what(), {}, {}};
    }
    return out;
}

/// Error numbers the tests inject and expect, in the platform's own numbering (errno on
/// POSIX, GetLastError() values on Windows), named for what they mean.
namespace err {
#if defined(_WIN32)
inline constexpr int io = ERROR_IO_DEVICE;
inline constexpr int no_space = ERROR_DISK_FULL;
inline constexpr int read_only = ERROR_WRITE_PROTECT;
#else
inline constexpr int io = EIO;
inline constexpr int no_space = ENOSPC;
inline constexpr int read_only = EROFS;
#endif
}  // namespace err

/// 0 if writing `target` (default writer) fails before publication with `expected`, at
/// a step whose name contains `step`, in the error_code and the throwing form, the
/// message and path1() naming the target; else the number of the first check that
/// failed. No assertions: usable in a child process.
inline int failure_check(const fs::path& target, const aw::write_options& options, std::errc expected,
                         std::string_view step) {
    std::error_code ec;
    if (aw::write_file(target, new_content, options, ec) != aw::commit_state::unchanged) return 1;
    if (ec != expected || ec.category() != std::system_category()) return 2;
    try {
        aw::write_file(target, new_content, options);
        return 3;
    } catch (const aw::durability_error&) {
        return 4;
    } catch (const fs::filesystem_error& e) {
        const std::string what = e.what();
        if (e.code() != expected) return 5;
        if (what.find(step) == std::string::npos) return 6;
        if (what.find(target.string()) == std::string::npos || e.path1() != target) return 7;
    }
    return 0;
}

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_ERRORS_HPP
