// SPDX-License-Identifier: MIT
/// \file
/// No lost updates: the version of a file (file_version), reading a file with its
/// version (read_file()), compare-and-swap commits (write_options::expect), cooperative
/// locks (write_options::lock) and the read-modify-write one-liner update_file().
/// Guarantees and the window a compare-and-swap leaves: docs/updates.md.
///
///     atomicwrites::update_file("counter", [](std::string_view old) {
///         return std::to_string(old.empty() ? 1 : std::stoll(std::string(old)) + 1);
///     });
#ifndef ATOMICWRITES_VERSIONS_HPP
#define ATOMICWRITES_VERSIONS_HPP

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/detail/expect.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/target.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

/// A file's content and the version it was read at (read_file()).
struct file_contents {
    /// The bytes.
    std::string content;
    /// The version of the file they were read from, taken before reading: a later change
    /// of the file (in place, or a replacement) gives another version.
    file_version version;
};

namespace detail {

/// Reads the open file `file` to its end into `out`, `size_hint` bytes expected.
/// Errors: those of read, not_enough_memory.
inline void read_all(native_handle_type file, std::uint64_t size_hint, std::string& out, std::error_code& ec) noexcept {
    try {
        out.clear();
        std::size_t used = 0;
        // One byte more than the size, to see the end (or a file that grew) in one read.
        std::size_t capacity = 4096;
        if (size_hint >= capacity && size_hint < SIZE_MAX / 2) capacity = size_hint + 1;
        out.resize(capacity);
        for (;;) {
            if (used == out.size()) out.resize(out.size() * 2);
            const std::size_t n = sys::read_some(file, out.data() + used, out.size() - used, ec);
            if (ec) return;
            if (n == 0) break;
            used += n;
        }
        out.resize(used);
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
    }
}

/// Opens `name` in `dir` (following links), takes its version, reads it, closes it.
/// System calls: open_file, stat (fstat), read until the end, close.
inline void read_open(native_handle_type dir, const native_char_type* name, file_contents& out, const char*& step,
                      std::error_code& ec) noexcept {
    step = "open file";
    const native_handle_type file = sys::open_for_reading(dir, name, ec);
    if (ec) return;
    step = "inspect file";
    const sys::file_status st = sys::stat_handle(file, ec);
    if (!ec && st.kind == sys::file_kind::directory) ec = std::make_error_code(std::errc::is_a_directory);
    if (!ec) {
        out.version = to_version(st);
        step = "read file";
        read_all(file, st.size, out.content, ec);
    }
    std::error_code e;
    sys::close(file, e);
    if (!ec && e) {
        step = "close file";
        ec = e;
    }
}

/// What update_file() holds between its read and its commit.
struct update_state {
    held_lock lock;
    file_contents old;
    const char* step = nullptr;
};

/// update_file() up to the transformation: opens the target's directory, takes the lock
/// beside the target, and reads the target with the version its commit must find
/// (what a rename there would replace: the link itself, unless symlink_mode::follow).
/// A missing target reads as empty, at the version "no file".
inline void begin_update(const std::filesystem::path& path, const write_options& options, update_state& u,
                         std::error_code& ec) noexcept {
    ec.clear();
    native_char_type name[sys::max_name + 1];
    u.step = "check path";
    file_name(path, name, ec);
    if (ec) return;
    u.step = "open directory";
    held_handle dir(open_target_parent(path, ec));
    if (ec) return;
    u.lock.handle = acquire_lock(dir.handle, native_string_view(name), options.lock_timeout, u.step, ec);
    if (ec) return;
    if (options.symlinks == symlink_mode::follow) {
        read_open(dir.handle, name, u.old, u.step, ec);
        if (ec == std::errc::no_such_file_or_directory) {
            ec.clear();
            u.old = {};
        }
        return;
    }
    u.step = "inspect target";
    const sys::file_status st = sys::stat_at(dir.handle, name, ec);
    if (ec || st.kind == sys::file_kind::none) return;
    if (st.kind == sys::file_kind::symlink && options.symlinks == symlink_mode::refuse) {
        u.step = "inspect target (a symbolic link, and symlink_mode::refuse)";
        ec = std::make_error_code(std::errc::too_many_symbolic_link_levels);
        return;
    }
#if ATOMICWRITES_POSIX
    read_open(dir.handle, name, u.old, u.step, ec);
    if (ec == std::errc::no_such_file_or_directory && st.kind == sys::file_kind::symlink) {
        ec.clear();  // a dangling link: nothing to read, the link is replaced
        u.old.content.clear();
    }
    u.old.version = to_version(st);  // what the commit's fstatat must find
#else
    read_open(dir.handle, name, u.old, u.step, ec);
#endif
}

/// The options of update_file()'s commit: the version read expected, no second lock.
inline write_options update_options(const write_options& options, const file_version& version) {
    write_options o = options;
    o.overwrite = true;
    o.expect = version;
    o.lock = lock_mode::none;
    return o;
}

}  // namespace detail

/// Reads the whole file at `path` (following symbolic links) with its version.
/// System calls: open, fstat, read until the end, close.
/// Errors: throws filesystem_error naming the step ("open file", "read file"): ENOENT,
/// EACCES, is_a_directory, not_enough_memory, EIO.
inline file_contents read_file(const std::filesystem::path& path) {
    file_contents out;
    std::error_code ec;
    const char* step = nullptr;
    detail::read_open(detail::sys::current_directory, path.c_str(), out, step, ec);
    if (ec) detail::throw_error(step, path, {}, ec, commit_state::unchanged);
    return out;
}
/// The error_code form of read_file(): on failure sets `ec` and returns empty contents.
inline file_contents read_file(const std::filesystem::path& path, std::error_code& ec) noexcept {
    file_contents out;
    ec.clear();
    const char* step = nullptr;
    detail::read_open(detail::sys::current_directory, path.c_str(), out, step, ec);
    if (ec) out = {};
    return out;
}

/// The version of the file at `path` as a reader sees it (a symbolic link followed);
/// "no file" (file_version{}) if there is none, which is not an error.
/// System calls: fstatat (POSIX; for a link also open, fstat, close); on Windows
/// CreateFileW for attributes, GetFileInformationByHandle(Ex), CloseHandle.
/// Errors: those of the calls (EACCES, ENOTDIR, ELOOP, ...).
inline file_version version_of(const std::filesystem::path& path, std::error_code& ec) noexcept {
    ec.clear();
    return detail::version_following(detail::sys::current_directory, path.c_str(), ec);
}
/// \overload
/// Throws filesystem_error on failure.
inline file_version version_of(const std::filesystem::path& path) {
    std::error_code ec;
    const file_version v = version_of(path, ec);
    if (ec) detail::throw_error("inspect file", path, {}, ec, commit_state::unchanged);
    return v;
}

/// Read-modify-write without lost updates: takes the lock beside `path` (".NAME.lock",
/// waiting options.lock_timeout at most), reads the file (empty if there is none),
/// calls `fn(old)` (a std::string_view) for the new content (anything convertible to
/// std::string_view: a std::string, say), and commits it with options.expect set to the
/// version read, then releases the lock once the commit is durable. Writers of the file
/// that use update_file() or write_options::lock never lose each other's updates; one
/// that takes no lock and changes the file meanwhile makes this commit fail with
/// errc::target_changed rather than be overwritten (docs/updates.md). options.overwrite,
/// expect and lock are set by update_file(); the rest applies to the commit.
/// If `fn` throws, nothing is written and the exception propagates.
/// Errors: throws filesystem_error naming the step: errc::lock_timeout,
/// errc::target_changed, and those of reading and write_file().
template <writer_or_policy Writer = atomic_writer, class F>
void update_file(const std::filesystem::path& path, F&& fn, const write_options& options = {}) {
    detail::update_state u;
    std::error_code ec;
    detail::begin_update(path, options, u, ec);
    if (ec) detail::throw_error(u.step, path, {}, ec, commit_state::unchanged);
    const auto content = std::forward<F>(fn)(std::string_view(u.old.content));
    const std::string_view data(content);
    writer_for<Writer> w(path, detail::update_options(options, u.old.version));
    detail::writer_access::adopt_lock(w, u.lock.release());  // held until the commit is durable
    detail::writer_access::write_through(w, data.data(), data.size(), ec);
    if (ec) detail::throw_error("write temporary file", w.target(), w.temp_path(), ec, commit_state::unchanged);
    w.commit();
}

/// The error_code form of update_file(): returns commit_state::published if the new
/// content is at `path` (with `ec` set if a step after publication failed), otherwise
/// commit_state::unchanged and the target is as it was. What `fn` throws propagates.
template <writer_or_policy Writer = atomic_writer, class F>
commit_state update_file(const std::filesystem::path& path, F&& fn, const write_options& options, std::error_code& ec) {
    detail::update_state u;
    detail::begin_update(path, options, u, ec);
    if (ec) return commit_state::unchanged;
    const auto content = std::forward<F>(fn)(std::string_view(u.old.content));
    write_options o;
    try {
        o = detail::update_options(options, u.old.version);
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return commit_state::unchanged;
    }
    const std::string_view data(content);
    writer_for<Writer> w(path, o, ec);
    if (ec) return commit_state::unchanged;
    detail::writer_access::adopt_lock(w, u.lock.release());  // held until the commit is durable
    detail::writer_access::write_through(w, data.data(), data.size(), ec);
    if (ec) return commit_state::unchanged;
    return w.commit(ec);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_VERSIONS_HPP
