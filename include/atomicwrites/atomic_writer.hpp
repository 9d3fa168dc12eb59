// SPDX-License-Identifier: MIT
/// \file
/// What most users include: atomic_writer, atomic_write(), write_file(),
/// replace_atomic(), move_atomic() and directory; and remove_stale_temps() (stale_temps.hpp).
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
        if (w.check_open(ec)) w.write_through(p, n, ec);
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
    w.commit();
}
}  // namespace detail

/// Runs `fn` on a writer for `path` and commits when `fn` returns; if `fn` throws, the
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

namespace detail {

/// Moves src to dst with a commit policy, syncing as SyncPolicy says: src's data before
/// (so that dst never names a file whose bytes are not on disk), both directories after.
template <class SyncPolicy, class CommitPolicy>
commit_state move_file(const std::filesystem::path& src, const std::filesystem::path& dst, bool overwrite,
                       const char*& step, std::error_code& ec) noexcept {
    ec.clear();
    native_char_type src_name[sys::max_name + 1];
    native_char_type dst_name[sys::max_name + 1];
    step = "check source path";
    file_name(src, src_name, ec);
    if (ec) return commit_state::unchanged;
    step = "check target path";
    file_name(dst, dst_name, ec);
    if (ec) return commit_state::unchanged;

    step = "open source directory";
    native_handle_type src_dir = open_parent(src, ec);
    if (ec) return commit_state::unchanged;
    const bool same_dir = parent_view(src) == parent_view(dst);
    native_handle_type dst_dir = src_dir;
    std::error_code ignored;
    auto close_dirs = [&](std::error_code& e) {
        if (dst_dir != src_dir) sys::close(dst_dir, e);
        sys::close(src_dir, e);
    };
    if (!same_dir) {
        step = "open target directory";
        dst_dir = open_parent(dst, ec);
        if (ec) {
            dst_dir = src_dir;
            close_dirs(ignored);
            return commit_state::unchanged;
        }
    }
    if constexpr (SyncPolicy::durable) {
        step = "open source file";
        native_handle_type f = sys::open_file(src_dir, src_name, ec);
        // A symbolic link has no data of its own to sync (O_NOFOLLOW answers ELOOP).
        if (ec == std::errc::too_many_symbolic_link_levels) {
            ec.clear();
        } else if (!ec) {
            step = "sync source file";
            SyncPolicy{}.sync_file(f, ec);
            sys::close(f, ignored);
        }
        if (ec) {
            close_dirs(ignored);
            return commit_state::unchanged;
        }
    }
    const commit_request request{src_dir, src_name, invalid_handle, dst_dir, dst_name, overwrite};
    commit_result r = CommitPolicy{}.publish(request, ec);
    if (r.state == commit_state::unchanged) {
        step = r.failed_step;
        close_dirs(ignored);
        return commit_state::unchanged;
    }
    if (ec) {
        step = r.failed_step;
        close_dirs(ignored);
        return commit_state::published;
    }
    step = "sync target directory";
    SyncPolicy{}.sync_directory(dst_dir, ec);
    if (!ec && dst_dir != src_dir) {
        step = "sync source directory";
        SyncPolicy{}.sync_directory(src_dir, ec);
    }
    std::error_code close_ec;
    close_dirs(close_ec);
    if (!ec && close_ec) {
        step = "close directory";
        ec = close_ec;
    }
    return commit_state::published;
}

}  // namespace detail

/// Moves `src` to `dst`, replacing `dst` if it exists, in one step: readers of `dst` see
/// the old file or `src`'s. Both must be on one filesystem (else EXDEV, nothing moved).
/// With a durable SyncPolicy, `src`'s data is synced first and both directories after.
/// Returns how far it got (see commit_state); noexcept, errors in `ec`.
template <class SyncPolicy = default_sync>
commit_state replace_atomic(const std::filesystem::path& src, const std::filesystem::path& dst,
                            std::error_code& ec) noexcept {
    const char* step = nullptr;
    return detail::move_file<SyncPolicy, default_commit>(src, dst, true, step, ec);
}

/// replace_atomic(), throwing filesystem_error naming the step and both paths
/// (durability_error if `dst` already shows `src` when the error happened).
template <class SyncPolicy = default_sync>
void replace_atomic(const std::filesystem::path& src, const std::filesystem::path& dst) {
    const char* step = nullptr;
    std::error_code ec;
    commit_state s = detail::move_file<SyncPolicy, default_commit>(src, dst, true, step, ec);
    if (ec) detail::throw_error(step, src, dst, ec, s);
}

/// Moves `src` to `dst`, failing with std::errc::file_exists if `dst` exists. On Linux
/// this is one renameat2(RENAME_NOREPLACE) step; where that is unavailable (and on
/// other systems) it is link then unlink, so for a moment both names exist. Same
/// filesystem only. Syncs like replace_atomic().
template <class SyncPolicy = default_sync>
commit_state move_atomic(const std::filesystem::path& src, const std::filesystem::path& dst,
                         std::error_code& ec) noexcept {
    const char* step = nullptr;
    return detail::move_file<SyncPolicy, default_commit>(src, dst, false, step, ec);
}

/// move_atomic(), throwing filesystem_error naming the step and both paths.
template <class SyncPolicy = default_sync>
void move_atomic(const std::filesystem::path& src, const std::filesystem::path& dst) {
    const char* step = nullptr;
    std::error_code ec;
    commit_state s = detail::move_file<SyncPolicy, default_commit>(src, dst, false, step, ec);
    if (ec) detail::throw_error(step, src, dst, ec, s);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_ATOMIC_WRITER_HPP
