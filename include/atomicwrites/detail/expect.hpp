// SPDX-License-Identifier: MIT
/// \file
/// write_options::expect and write_options::lock inside a writer: the version check
/// before the publication, and the lock file beside the target. Not API (versions.hpp is).
#ifndef ATOMICWRITES_DETAIL_EXPECT_HPP
#define ATOMICWRITES_DETAIL_EXPECT_HPP

#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/writer_state.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/types.hpp>

#include <chrono>
#include <cstddef>
#include <system_error>
#include <thread>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// Closes a handle when it goes.
struct held_handle {
    native_handle_type handle = invalid_handle;
    held_handle() = default;
    explicit held_handle(native_handle_type h) noexcept : handle(h) {}
    held_handle(const held_handle&) = delete;
    held_handle& operator=(const held_handle&) = delete;
    ~held_handle() {
        if (handle != invalid_handle) {
            std::error_code ignored;
            sys::close(handle, ignored);
        }
    }
    /// Gives the handle up without closing it.
    native_handle_type release() noexcept {
        const native_handle_type h = handle;
        handle = invalid_handle;
        return h;
    }
};

/// Releases a lock file's lock and closes it when it goes.
struct held_lock : held_handle {
    using held_handle::held_handle;
    ~held_lock() {
        if (handle != invalid_handle) {
            std::error_code ignored;
            sys::release_lock(release(), ignored);
        }
    }
};

/// The version a status describes: "no file" for a status of kind none.
inline file_version to_version(const sys::file_status& st) noexcept {
    if (st.kind == sys::file_kind::none) return {};
    return {true, st.device, st.inode, st.size, st.modified, st.changed};
}

/// The version of the file open as `file` (its handle closed here). System calls:
/// fstat, close.
inline file_version version_of_open(native_handle_type file, std::error_code& ec) noexcept {
    const sys::file_status st = sys::stat_handle(file, ec);
    std::error_code ignored;
    sys::close(file, ignored);
    return ec ? file_version{} : to_version(st);
}

/// The version of what is at `name` in `dir`, a final symbolic link not followed (what a
/// rename there would replace). POSIX: one fstatat. Windows, whose stat by name has no
/// file index: the file opened for its attributes, stat_handle, close. A missing name
/// is "no file", not an error.
inline file_version version_at(native_handle_type dir, const native_char_type* name, std::error_code& ec) noexcept {
#if ATOMICWRITES_POSIX
    return to_version(sys::stat_at(dir, name, ec));
#else
    const native_handle_type file = sys::open_for_reading(dir, name, ec, true);
    if (ec) {
        if (ec.value() == 2 /* ERROR_FILE_NOT_FOUND */) ec.clear();
        return {};
    }
    return version_of_open(file, ec);
#endif
}

/// The version of the file at `name` in `dir` as a reader sees it: a final symbolic link
/// is followed. POSIX: fstatat, and for a link open, fstat, close. Missing: "no file".
inline file_version version_following(native_handle_type dir, const native_char_type* name,
                                      std::error_code& ec) noexcept {
#if ATOMICWRITES_POSIX
    const sys::file_status st = sys::stat_at(dir, name, ec);
    if (ec || st.kind != sys::file_kind::symlink) return to_version(st);
    const native_handle_type file = sys::open_for_reading(dir, name, ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory) ec.clear();  // a dangling link: no file
        return {};
    }
    return version_of_open(file, ec);
#else
    return version_at(dir, name, ec);
#endif
}

/// Whether the publication itself enforces an expected "no file": the commit policy can
/// publish without replacing, which refuses a file that appeared (file_exists).
constexpr bool publication_checks_absence(const writer_state& s, bool can_keep) noexcept {
    return s.expecting && !s.expected.exists && can_keep;
}

/// Sets target_changed and says so in the step.
inline void report_changed(writer_state& s, std::error_code& ec) noexcept {
    s.step = s.expected.exists ? "check target version (it is no longer the version expected)"
                               : "check target version (a file appeared where none was expected)";
    ec = make_error_code(errc::target_changed);
}

/// The same when the writer is made, from the status the writer took of the target
/// (its link followed with symlink_mode::follow): a target already changed fails before
/// any data is written. A file_exists (overwrite false, or the inspection) becomes
/// target_changed when no file was expected.
inline void check_expected_early(writer_state& s, const sys::file_status& st, std::error_code& ec) noexcept {
    if (!s.expecting) return;
    if (ec) {
        if (ec == std::errc::file_exists && !s.expected.exists) report_changed(s, ec);
        return;
    }
#if ATOMICWRITES_POSIX
    // A link to be replaced reads as a bare kind (no identity): only the commit's check
    // of the link itself can tell.
    if (st.kind == sys::file_kind::symlink) return;
    const file_version now = to_version(st);
#else
    (void)st;
    s.step = "check target version";
    const file_version now = version_at(s.dir, s.name, ec);
    if (ec) return;
#endif
    if (now != s.expected) report_changed(s, ec);
}

/// After a refused publication: a file that appeared where none was expected is
/// target_changed.
inline void explain_changed(writer_state& s, std::error_code& ec) noexcept {
    if (s.expecting && !s.expected.exists && ec == std::errc::file_exists) report_changed(s, ec);
}

/// The name of the lock file of `name`: "." + name + ".lock". Errors: filename_too_long.
inline void lock_file_name(native_string_view name, native_char_type* out, std::error_code& ec) noexcept {
    constexpr native_char_type dot[] = {'.', '\0'};
    constexpr native_char_type suffix[] = {'.', 'l', 'o', 'c', 'k', '\0'};
    if (name.size() + 1 + 5 > sys::max_name) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return;
    }
    native_char_type* p = copy_chars(out, native_string_view(dot));
    p = copy_chars(p, name);
    copy_c_string(p, native_string_view(suffix));
}

/// Opens the lock file of `name` in `dir` and locks it exclusively, waiting `timeout`
/// at most (negative: as long as it takes, in the kernel; zero: one try). Returns its
/// handle, which holds the lock until it is closed. `step` names the failed step.
/// milliseconds::max() waits as long as it takes, as a negative timeout does.
/// System calls: open_lock_file, lock (repeated, with growing pauses from 0.1 ms to
/// 10 ms, while another writer holds it and the time allows), close on failure.
/// Errors: errc::lock_timeout, filename_too_long, and those of the calls (EACCES: the
/// lock file cannot be opened for writing; ENOLCK).
inline native_handle_type acquire_lock(native_handle_type dir, native_string_view name,
                                       std::chrono::milliseconds timeout, const char*& step,
                                       std::error_code& ec) noexcept {
    native_char_type lock_name[sys::max_name + 1];
    step = "lock target (the lock file's name, the target's with '.' before and \".lock\" after, is too long)";
    lock_file_name(name, lock_name, ec);
    if (ec) return invalid_handle;
    step = "lock target (open the lock file)";
    const native_handle_type file = sys::open_lock_file(dir, lock_name, ec);
    if (ec) return invalid_handle;
    step = "lock target";
    if (timeout.count() < 0 || timeout == std::chrono::milliseconds::max()) {
        sys::lock(file, true, ec);
    } else {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::chrono::microseconds pause(100);
        for (;;) {
            sys::lock(file, false, ec);
            if (!ec || !sys::lock_busy(ec)) break;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) {
                step = "lock target (timed out: another writer holds the target's lock file)";
                ec = make_error_code(errc::lock_timeout);
                break;
            }
            ec.clear();
            const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
            std::this_thread::sleep_for(pause < left ? pause : left);
            if (pause < std::chrono::milliseconds(10)) pause *= 2;
        }
    }
    if (ec) {
        std::error_code ignored;
        sys::close(file, ignored);
        return invalid_handle;
    }
    step = nullptr;
    return file;
}

/// write_options::expect, right before the publication: the target (s.dir, s.name) is
/// still the version expected. One fstatat (POSIX), made under the target's lock file
/// unless the writer holds it already (write_options::lock, update_file()): `held`
/// receives it, to be closed once the publication is done, so that of two writers of
/// this library expecting the same version exactly one publishes. Nothing where the
/// publication refuses an existing file itself. False with target_changed (or the
/// error of a call) otherwise.
inline bool check_expected(writer_state& s, bool can_keep, held_lock& held, std::error_code& ec) noexcept {
    if (!s.expecting || publication_checks_absence(s, can_keep)) return true;
    if (s.lock == invalid_handle) {
        held.handle = acquire_lock(s.dir, native_string_view(s.name), s.lock_timeout, s.step, ec);
        if (ec) return false;
    }
    s.step = "check target version";
    const file_version now = version_at(s.dir, s.name, ec);
    if (ec) return false;
    if (now == s.expected) return true;
    report_changed(s, ec);
    return false;
}

/// write_options::lock for a writer whose directory is open: takes the lock beside the
/// name as given (before any link is followed). On failure closes what the writer
/// holds. Errors: acquire_lock's.
inline bool take_lock(writer_state& s, const write_options& options, std::error_code& ec) noexcept {
    if (options.lock == lock_mode::none) return true;
    s.lock = acquire_lock(s.dir, native_string_view(s.name), options.lock_timeout, s.step, ec);
    if (!ec) return true;
    s.release();
    return false;
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_EXPECT_HPP
