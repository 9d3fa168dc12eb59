// SPDX-License-Identifier: MIT
/// \file
/// What most users include: atomic_writer, atomic_write(), write_file() and directory;
/// with replace_atomic() and move_atomic() (move.hpp) and remove_stale_temps()
/// (stale_temps.hpp).
#ifndef ATOMICWRITES_ATOMIC_WRITER_HPP
#define ATOMICWRITES_ATOMIC_WRITER_HPP

#include <atomicwrites/basic_atomic_writer.hpp>
#include <atomicwrites/commit.hpp>
#include <atomicwrites/concepts.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/move.hpp>
#include <atomicwrites/stale_temps.hpp>
#include <atomicwrites/sync.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <filesystem>
#include <ostream>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

/// The writer with the platform's durable defaults.
using atomic_writer = basic_atomic_writer<>;

namespace detail {
/// The one-shot functions write straight to the file, without the writer's buffer.
struct writer_access {
    template <class Writer>
    static void write_through(Writer& w, const char* p, std::size_t n, std::error_code& ec) noexcept {
        ec.clear();
        if (w.check_open(ec)) w.s_.write_through(p, n, ec);
    }
};

/// Writes [p, p + n) as the whole content of the target named by `where...` (a path, or
/// a directory handle and a name).
template <class Writer, class... Where>
commit_state write_whole(const char* p, std::size_t n, const write_options& options, std::error_code& ec,
                         const Where&... where) noexcept {
    Writer w(where..., options, ec);
    if (ec) return commit_state::unchanged;
    writer_access::write_through(w, p, n, ec);
    if (ec) return commit_state::unchanged;  // w's destructor rolls back
    return w.commit(ec);
}

template <class Writer, class... Where>
void write_whole(const char* p, std::size_t n, const write_options& options, const Where&... where) {
    Writer w(where..., options);
    std::error_code ec;
    writer_access::write_through(w, p, n, ec);
    if (ec) throw_error("write temporary file", w.target(), w.temp_path(), ec, commit_state::unchanged);
    w.commit();
}

template <class Writer, class F>
void run_and_commit(Writer& w, F&& fn) {
    if constexpr (std::is_invocable_v<F&&, Writer&>) {
        std::forward<F>(fn)(w);
    } else {
        static_assert(std::is_invocable_v<F&&, std::ostream&>,
                      "atomic_write: fn must take std::ostream& or the writer");
        std::forward<F>(fn)(w.stream());
    }
    // fn may have committed or rolled back itself: then there is nothing left to do.
    if (w.is_open()) w.commit();
}
}  // namespace detail

/// Runs `fn` on a writer for `path` and commits when `fn` returns (unless `fn` committed
/// or rolled back the Writer& itself: that stands, without an error); if `fn` throws, the
/// write is rolled back and the exception propagates unchanged (the seed's
/// `with atomic_write(path) as f:`). `fn` takes a std::ostream&, or the Writer& itself.
/// Throws filesystem_error (durability_error after publication) on a failed step.
///
///     atomicwrites::atomic_write("config.json", [&](std::ostream& out) { out << config; },
///                                {.overwrite = true});
template <class Writer = atomic_writer, class F>
void atomic_write(const std::filesystem::path& path, F&& fn, const write_options& options = {}) {
    Writer w(path, options);
    detail::run_and_commit(w, std::forward<F>(fn));
}

/// atomic_write() for the file `name` inside the open directory `dir` (see directory).
template <class Writer = atomic_writer, class F>
void atomic_write(const directory& dir, const std::filesystem::path& name, F&& fn, const write_options& options = {}) {
    Writer w(dir, name, options);
    detail::run_and_commit(w, std::forward<F>(fn));
}

/// Replaces or creates `path` with `data`, atomically (and durably with the default
/// policies). Throws filesystem_error naming the failed step; durability_error if the
/// new content was published and a later step failed.
template <class Writer = atomic_writer>
void write_file(const std::filesystem::path& path, std::span<const std::byte> data, const write_options& options = {}) {
    detail::write_whole<Writer>(reinterpret_cast<const char*>(data.data()), data.size(), options, path);
}
/// \overload
template <class Writer = atomic_writer>
void write_file(const std::filesystem::path& path, std::string_view data, const write_options& options = {}) {
    detail::write_whole<Writer>(data.data(), data.size(), options, path);
}

/// The error_code form of write_file(): returns commit_state::published if the new
/// content is at `path` (with `ec` set if a step after publication failed), otherwise
/// commit_state::unchanged and the target is as it was.
template <class Writer = atomic_writer>
commit_state write_file(const std::filesystem::path& path, std::span<const std::byte> data,
                        const write_options& options, std::error_code& ec) noexcept {
    return detail::write_whole<Writer>(reinterpret_cast<const char*>(data.data()), data.size(), options, ec, path);
}
/// \overload
template <class Writer = atomic_writer>
commit_state write_file(const std::filesystem::path& path, std::string_view data, const write_options& options,
                        std::error_code& ec) noexcept {
    return detail::write_whole<Writer>(data.data(), data.size(), options, ec, path);
}

/// write_file() for the file `name` inside the open directory `dir`: the directory is
/// neither opened nor closed, only synced (see directory). Throws like write_file().
template <class Writer = atomic_writer>
void write_file(const directory& dir, const std::filesystem::path& name, std::span<const std::byte> data,
                const write_options& options = {}) {
    detail::write_whole<Writer>(reinterpret_cast<const char*>(data.data()), data.size(), options, dir, name);
}
/// \overload
template <class Writer = atomic_writer>
void write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                const write_options& options = {}) {
    detail::write_whole<Writer>(data.data(), data.size(), options, dir, name);
}

/// The error_code form of write_file() in a directory handle.
template <class Writer = atomic_writer>
commit_state write_file(const directory& dir, const std::filesystem::path& name, std::span<const std::byte> data,
                        const write_options& options, std::error_code& ec) noexcept {
    return detail::write_whole<Writer>(reinterpret_cast<const char*>(data.data()), data.size(), options, ec, dir, name);
}
/// \overload
template <class Writer = atomic_writer>
commit_state write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                        const write_options& options, std::error_code& ec) noexcept {
    return detail::write_whole<Writer>(data.data(), data.size(), options, ec, dir, name);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_ATOMIC_WRITER_HPP
