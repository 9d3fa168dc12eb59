// SPDX-License-Identifier: MIT
/// \file
/// basic_atomic_writer: writes a temporary file next to the target and publishes it at
/// the target in one step.
#ifndef ATOMICWRITES_BASIC_ATOMIC_WRITER_HPP
#define ATOMICWRITES_BASIC_ATOMIC_WRITER_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/config.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/backup.hpp>
#include <atomicwrites/detail/edit.hpp>
#include <atomicwrites/detail/expect.hpp>
#include <atomicwrites/detail/metadata.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/stream_buffer.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/target.hpp>
#include <atomicwrites/detail/writer_state.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

namespace detail {
struct writer_access;
struct batch_access;
}  // namespace detail

/// Writes a file atomically: the constructor makes a temporary file next to the target,
/// writes go to it, and commit() publishes it at the target in one step; a writer
/// destroyed without commit() rolls back (the temporary file is removed, the target is
/// untouched). Readers see the complete old file or the complete new one, never a mix.
///
/// Durability: with a durable SyncPolicy, a commit that returned survives a crash.
/// System calls: open the target's directory; look at the target; create the temporary
/// (TempPolicy); give it the final mode and owner; write; sync it
/// (SyncPolicy::sync_file); publish it (CommitPolicy); sync the directory
/// (SyncPolicy::sync_directory). Every step after the first is relative to the open
/// directory, so renaming a component of the path meanwhile cannot redirect the commit.
///
/// Mode and owner: a new file gets 0666 & ~umask, as open(2) would give it; a replaced
/// regular file keeps its permission bits and, where the process may set them
/// (owner_mode::preserve), its owner and group; write_options::mode overrides. Set-id
/// bits are dropped if the owner could not be kept. The temporary file is never more
/// permissive than the final file. A replaced symbolic link counts as a missing file.
///
/// Not thread-safe: one writer, one thread at a time. Movable, not copyable.
template <class SyncPolicy = default_sync, class CommitPolicy = default_commit, class TempPolicy = default_temp>
class basic_atomic_writer {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    static_assert(commit_policy<CommitPolicy>, "CommitPolicy does not satisfy atomicwrites::commit_policy");
    static_assert(temp_policy<TempPolicy>, "TempPolicy does not satisfy atomicwrites::temp_policy");

    using phase = detail::writer_state::phase;

public:
    /// The SyncPolicy.
    using sync_type = SyncPolicy;
    /// The CommitPolicy.
    using commit_type = CommitPolicy;
    /// The TempPolicy.
    using temp_type = TempPolicy;

    /// Creates the temporary file for `target`.
    /// Errors: throws std::filesystem::filesystem_error naming the failed step (the
    /// errors are listed at the error_code overload).
    explicit basic_atomic_writer(const std::filesystem::path& target, const write_options& options = {}) {
        std::error_code ec;
        open(target, options, ec);
        if (ec) detail::throw_error(s_.step, target, s_.failed_directory(), ec, commit_state::unchanged);
    }

    /// Creates the temporary file for `target`; on failure sets `ec`, leaves nothing
    /// behind and makes a writer that is not open (is_open() is false).
    /// Errors (std::errc): invalid_argument (empty path, a target that is not a regular
    /// file or a link, a commit policy that cannot honour `overwrite`, a separator in
    /// the temp prefix or suffix), is_a_directory (the target is a directory or the path
    /// ends in a separator), file_exists (`overwrite` is false and the target exists),
    /// too_many_symbolic_link_levels (symlink_mode::refuse and the target is a link, or
    /// a loop), cross_device_link (temp_directory on another filesystem), filename_too_long, and every errno of the
    /// system calls made: ENOENT (missing parent), ENOTDIR, EACCES, EROFS, ENOSPC, EDQUOT, EMFILE, ENFILE, ...
    basic_atomic_writer(const std::filesystem::path& target, const write_options& options,
                        std::error_code& ec) noexcept {
        open(target, options, ec);
    }

    /// As above, with policy objects (for policies that carry state).
    basic_atomic_writer(const std::filesystem::path& target, const write_options& options, SyncPolicy sync,
                        CommitPolicy commit, TempPolicy temp)
        : sync_(std::move(sync)), commit_(std::move(commit)), temp_(std::move(temp)) {
        std::error_code ec;
        open(target, options, ec);
        if (ec) detail::throw_error(s_.step, target, s_.failed_directory(), ec, commit_state::unchanged);
    }

    /// Creates the temporary file for `name` inside the open directory `dir`, which the
    /// writer uses instead of opening the target's directory (see directory). `name` is
    /// a file name or a relative path, whose directories are opened relative to `dir`.
    /// `dir` must outlive the writer.
    /// Errors: those of the path constructor; invalid_argument (an absolute `name`),
    /// bad_file_descriptor (`dir` is not open).
    basic_atomic_writer(const directory& dir, const std::filesystem::path& name, const write_options& options = {}) {
        std::error_code ec;
        open_in(dir, name, options, ec);
        if (ec)
            detail::throw_error(s_.step, s_.target.empty() ? name : target(), s_.failed_directory(), ec,
                                commit_state::unchanged);
    }
    /// The same, reporting failures in `ec` (the writer is then not open).
    basic_atomic_writer(const directory& dir, const std::filesystem::path& name, const write_options& options,
                        std::error_code& ec) noexcept {
        open_in(dir, name, options, ec);
    }

    /// Rolls back an uncommitted writer. Never throws.
    ~basic_atomic_writer() { rollback(); }

    /// Takes over `other`'s write; `other` is left not open.
    basic_atomic_writer(basic_atomic_writer&& other) noexcept
        : s_(std::exchange(other.s_, {})),
          sync_(std::move(other.sync_)),
          commit_(std::move(other.commit_)),
          temp_(std::move(other.temp_)) {}
    /// Rolls back this writer's own write, then takes over `other`'s.
    basic_atomic_writer& operator=(basic_atomic_writer&& other) noexcept {
        if (this != &other) {
            rollback();
            swap(other);
        }
        return *this;
    }
    basic_atomic_writer(const basic_atomic_writer&) = delete;
    basic_atomic_writer& operator=(const basic_atomic_writer&) = delete;

    /// True while the temporary file is open: after construction and before commit() or
    /// rollback().
    bool is_open() const noexcept { return s_.state == phase::open; }

    /// Whether the new content has been published (is visible at the target).
    commit_state state() const noexcept {
        return s_.state == phase::published ? commit_state::published : commit_state::unchanged;
    }

    /// The target path as given; with a directory handle, its path joined with the name.
    std::filesystem::path target() const { return s_.target_path(); }

    /// The temporary file's path while it has a name (empty for an anonymous one, or once
    /// the writer is closed).
    std::filesystem::path temp_path() const {
        if (!is_open() || s_.file.anonymous()) return {};
        return s_.temp_directory() / s_.file.name;
    }

    /// The temporary file's descriptor (POSIX) or handle (Windows), for calls the
    /// library does not wrap (fallocate, ioctl, ...); invalid_handle when not open. Do
    /// not close it. Flush buffered data (flush()) before writing to it directly.
    native_handle_type native_handle() const noexcept { return is_open() ? s_.file.file : invalid_handle; }

    /// A std::ostream writing to the temporary file (through a 64 KiB buffer).
    /// Errors: a write error sets badbit on the stream, and commit() then fails with it;
    /// the stream of a writer no longer open is bad from the start.
    std::ostream& stream() {
        if (!s_.buffer)
            s_.buffer = std::make_unique<detail::stream_buffer>(is_open() ? s_.file.file : invalid_handle, s_.text);
        // The stream exists before close() so that close() can put it in a failed state.
        std::ostream& out = s_.buffer->stream();
        if (!is_open()) s_.buffer->close();
        return out;
    }

    /// Appends bytes. Small writes are buffered, large ones go straight to the file.
    /// Errors: bad_file_descriptor (the writer is not open), and those of write(2):
    /// EIO, ENOSPC, EDQUOT, EFBIG.
    void write(std::span<const std::byte> data, std::error_code& ec) noexcept {
        write_bytes(reinterpret_cast<const char*>(data.data()), data.size(), ec);
    }
    /// \overload
    void write(std::string_view data, std::error_code& ec) noexcept { write_bytes(data.data(), data.size(), ec); }
    /// Appends bytes; throws filesystem_error naming the step on failure.
    void write(std::span<const std::byte> data) {
        std::error_code ec;
        write(data, ec);
        if (ec) throw_step(ec);
    }
    /// \overload
    void write(std::string_view data) {
        std::error_code ec;
        write(data, ec);
        if (ec) throw_step(ec);
    }

    /// Writes `data` at `offset` of the temporary file (after what is buffered), leaving
    /// the position of write() and stream() where it was; a hole before `offset` reads
    /// as zeros. For editing a copy of the target (write_options::start, edit.hpp).
    /// Errors: those of write(); an error sticks, and commit() then fails with it.
    /// Platforms: POSIX and Windows.
    void pwrite(std::uint64_t offset, std::span<const std::byte> data, std::error_code& ec) noexcept {
        if (edit_ready(ec))
            detail::edit_pwrite(s_, offset, reinterpret_cast<const char*>(data.data()), data.size(), ec);
    }
    /// \overload
    void pwrite(std::uint64_t offset, std::string_view data, std::error_code& ec) noexcept {
        if (edit_ready(ec)) detail::edit_pwrite(s_, offset, data.data(), data.size(), ec);
    }
    /// As above; throws filesystem_error naming the step on failure.
    void pwrite(std::uint64_t offset, std::span<const std::byte> data) {
        or_throw([&](auto& e) { pwrite(offset, data, e); });
    }
    /// As above; throws filesystem_error naming the step on failure.
    void pwrite(std::uint64_t offset, std::string_view data) {
        or_throw([&](auto& e) { pwrite(offset, data, e); });
    }
    /// Cuts the temporary file to `size` bytes, or extends it with zeros; the position of
    /// write() is unchanged. Errors and platforms: as pwrite().
    void truncate(std::uint64_t size, std::error_code& ec) noexcept {
        if (edit_ready(ec)) detail::edit_truncate(s_, size, ec);
    }
    /// As above; throws filesystem_error naming the step on failure.
    void truncate(std::uint64_t size) {
        or_throw([&](auto& e) { truncate(size, e); });
    }
    /// Writes `data` at the end of the temporary file; later write()s follow it. Errors
    /// and platforms: as pwrite().
    void append(std::span<const std::byte> data, std::error_code& ec) noexcept {
        if (edit_ready(ec)) detail::edit_append(s_, reinterpret_cast<const char*>(data.data()), data.size(), ec);
    }
    /// \overload
    void append(std::string_view data, std::error_code& ec) noexcept {
        if (edit_ready(ec)) detail::edit_append(s_, data.data(), data.size(), ec);
    }
    /// As above; throws filesystem_error naming the step on failure.
    void append(std::span<const std::byte> data) {
        or_throw([&](auto& e) { append(data, e); });
    }
    /// As above; throws filesystem_error naming the step on failure.
    void append(std::string_view data) {
        or_throw([&](auto& e) { append(data, e); });
    }

    /// Says that the file will hold `size` bytes: its space is reserved where
    /// write_options::prealloc says it pays (detail/edit.hpp), without changing its size.
    /// Errors: ENOSPC, EDQUOT, EIO (a filesystem that cannot reserve is not an error).
    void reserve(std::uint64_t size, std::error_code& ec) noexcept {
        if (edit_ready(ec)) detail::reserve(s_, size, ec);
    }
    /// As above; throws filesystem_error naming the step on failure.
    void reserve(std::uint64_t size) {
        or_throw([&](auto& e) { reserve(size, e); });
    }

    /// Writes out buffered data to the temporary file (not a sync).
    void flush(std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec) || !s_.buffer) return;
        s_.buffer->flush(ec);
        if (ec) s_.keep_write_error(ec);
    }
    /// Writes out buffered data; throws filesystem_error on failure.
    void flush() {
        std::error_code ec;
        flush(ec);
        if (ec) throw_step(ec);
    }

    /// Publishes the temporary file at the target: flush, sync the file, publish, sync
    /// the directory. Returns how far it got; the writer is closed afterwards.
    /// Durability: an error before publication removes the temporary file and leaves the
    /// target untouched (commit_state::unchanged); one after it (the directory sync)
    /// leaves the new content in place (commit_state::published).
    /// Errors: bad_file_descriptor (not open: already committed or rolled back),
    /// file_exists (overwrite is false and the target appeared meanwhile), a write error
    /// kept from an earlier write, io_error (the stream() was left in a failed state),
    /// and the errors of the sync and commit policies.
    commit_state commit(std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return state();
        if (!finish_content(ec)) return fail();
        s_.step = "sync temporary file";
        sync_.sync_file(s_.file.file, ec);
        if (ec) return fail();
        if (!close_for_publication(ec)) return fail();
        if (publish(ec) == commit_state::unchanged) return fail();
        // Every remaining step is attempted even if one fails: the first error is the
        // one reported.
        std::error_code e;
        keep_first(detail::sync_target_directory(sync_, s_.dir, s_.name, e), e, ec);
        if (s_.temp_dir != invalid_handle) {
            e.clear();
            sync_.sync_directory(s_.temp_dir, e);
            keep_first("sync temporary directory", e, ec);
        }
        e.clear();
        s_.release(&e);
        keep_first("close directory", e, ec);
        if (!ec) s_.step = nullptr;
        return commit_state::published;
    }

    /// Publishes the temporary file.
    /// Errors: throws filesystem_error on a failure before publication and
    /// durability_error on one after it. On a writer that is not open (committed or
    /// rolled back already) it is a usage error: filesystem_error with
    /// bad_file_descriptor, never durability_error, since this call changed nothing.
    void commit() {
        std::error_code ec;
        const bool was_open = is_open();
        const commit_state s = commit(ec);
        if (ec) detail::throw_error(s_.step, target(), failed_temp_path(), ec, was_open ? s : commit_state::unchanged);
    }

    /// Abandons the write: closes and removes the temporary file, leaves the target
    /// untouched. Does nothing on a writer that is not open. Never fails: errors while
    /// cleaning up are ignored, so they never hide the error that led here.
    void rollback() noexcept {
        if (s_.state != phase::open) return;
        s_.discard();
        s_.state = phase::closed;
    }

    /// The step that failed last ("sync temporary file", ...), or null.
    const char* failed_step() const noexcept { return s_.step; }

    /// Exchanges two writers.
    void swap(basic_atomic_writer& other) noexcept {
        using std::swap;
        swap(s_, other.s_);
        swap(sync_, other.sync_);
        swap(commit_, other.commit_);
        swap(temp_, other.temp_);
    }

private:
    friend struct detail::writer_access;
    friend struct detail::batch_access;

    // --- opening ---------------------------------------------------------------------

    void open(const std::filesystem::path& target, const write_options& options, std::error_code& ec) noexcept {
        if (take_options(target, options, ec) && detail::take_backup(s_, options, ec) &&
            detail::open_target_directory(s_, target, ec) && detail::take_lock(s_, options, ec))
            prepare(options, ec);
    }

    void open_in(const directory& dir, const std::filesystem::path& name, const write_options& options,
                 std::error_code& ec) noexcept {
        s_.base = &dir;
        if (take_options(name, options, ec) && detail::take_backup(s_, options, ec) &&
            detail::open_target_directory(s_, dir, name, ec) && detail::take_lock(s_, options, ec))
            prepare(options, ec);
    }

    bool take_options(const std::filesystem::path& target, const write_options& options, std::error_code& ec) noexcept {
        return detail::take_options(s_, target, options, CommitPolicy::can_replace, CommitPolicy::can_keep, ec,
                                    temp_policy_needs_affix<TempPolicy>);
    }

    /// With the directory open: inspects the target, creates the temporary file and
    /// gives it its mode and owner.
    void prepare(const write_options& options, std::error_code& ec) noexcept {
        s_.state = phase::open;  // from here on, failures clean up through discard()
        const detail::sys::file_status st = detail::inspect_target(s_, options, ec);
        detail::check_expected_early(s_, st, ec);  // write_options::expect
        if (ec) return abandon();
        detail::open_temp_directory(s_, options, ec);
        if (ec) return abandon();
        // The temporary file is created with a mode no wider than the final one (the
        // umask can only narrow it), then given its owner and mode where needed.
        const detail::metadata_plan plan = detail::plan_metadata(st, options);
        s_.step = "create temporary file";
        temp_.create(make_temp_request(plan.create_mode), s_.file, ec);
        if (ec) {
            if (ec == std::errc::file_exists)
                s_.step =
                    "create temporary file (the name is taken: by another writer, a leftover of a crash "
                    "(see remove_stale_temps), or another file of that name)";
            s_.file.file = invalid_handle;
            s_.file.name[0] = '\0';
            return abandon();
        }
        s_.setid_mode = detail::apply_metadata(s_.file.file, plan, s_.step, ec,
                                               detail::metadata_source_of(st, options, s_.dir, s_.name));
        if (ec) return abandon();
        detail::start_from_target(s_, st, options.start, ec);  // write_options::start (detail/edit.hpp)
        if (ec) return abandon();
        s_.step = nullptr;
    }

    temp_request make_temp_request(unsigned mode = 0) const noexcept {
        return {s_.temp_dir_handle(), native_string_view(s_.name), mode, native_string_view(s_.prefix),
                native_string_view(s_.suffix)};
    }

    std::filesystem::path failed_temp_path() const {
        if (s_.last_temp_name[0] == '\0') return {};
        return s_.temp_directory() / s_.last_temp_name;
    }

    // --- writing ---------------------------------------------------------------------

    bool check_open(std::error_code& ec) noexcept {
        if (s_.state == phase::open) return true;
        s_.step = s_.state == phase::published ? "use writer (already committed)" : "use writer (not open)";
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }

    bool edit_ready(std::error_code& ec) noexcept {
        ec.clear();
        return check_open(ec);
    }

    template <class F>
    void or_throw(F&& f) {
        std::error_code ec;
        f(ec);
        if (ec) throw_step(ec);
    }

    void write_bytes(const char* p, std::size_t n, std::error_code& ec) noexcept {
        ec.clear();
        if (check_open(ec)) s_.write(p, n, ec);
    }

    [[noreturn]] void throw_step(std::error_code ec) const {
        detail::throw_error(s_.step, target(), is_open() ? temp_path() : std::filesystem::path{}, ec, state());
    }

    // --- the steps of commit(), in order; a batch runs each one for all its writers --

    /// Makes the temporary file's content final: a kept write error, the buffer written
    /// out, the set-id bits restored. False (and the step set) on failure.
    bool finish_content(std::error_code& ec) noexcept {
        s_.step = "write temporary file";
        if (s_.write_error) {
            ec = s_.write_error;
            return false;
        }
        if (s_.buffer) {
            s_.buffer->flush(ec);
            if (!ec && s_.buffer->stream_failed()) ec = std::make_error_code(std::errc::io_error);
            s_.buffer->close();
            if (ec) return false;
        }
        if (s_.setid_mode != 0) {
            // A write by a process without CAP_FSETID clears the set-id bits
            // (write(2), chmod(2)); give them back once the data is complete.
            s_.step = "set mode of temporary file";
            detail::sys::set_mode(s_.file.file, s_.setid_mode, ec);
            if (ec) return false;
        }
        return true;
    }

    /// After the sync: names an anonymous file the commit needs named, and closes a named
    /// one. False (and the step set) on failure.
    bool close_for_publication(std::error_code& ec) noexcept {
        if (s_.file.anonymous() && !(CommitPolicy::links_anonymous && !s_.overwrite)) {
            s_.step = "name temporary file";
            detail::name_anonymous(make_temp_request(), s_.file, ec);
            if (ec) return false;
        }
        if (!s_.file.anonymous() && !detail::renames_open_file<CommitPolicy>() && s_.file.file != invalid_handle) {
            // Close before publishing: on network filesystems close(2) is where delayed
            // write errors surface, and they must stop the commit. (A policy that renames
            // the open file gets it open; it is closed right after the rename.)
            s_.step = "close temporary file";
            s_.close_file(ec);
            if (ec) return false;
        }
        return true;
    }

    /// Publishes the synced file and closes it if still open. commit_state::unchanged
    /// (with `ec` and the step set) if nothing was published; published otherwise, with
    /// `ec` set if a later part of the publication failed.
    commit_state publish(std::error_code& ec) noexcept {
        // write_options::expect: the last look at the target before it is replaced,
        // under its lock file until the publication is done (detail/expect.hpp).
        detail::held_lock lock;
        if (!detail::check_expected(s_, CommitPolicy::can_keep, lock, ec)) return commit_state::unchanged;
        if (!s_.backup.empty()) {
            // write_options::backup: the old file gets its second name durably before
            // the publication takes the first (detail/backup.hpp).
            detail::make_backup(sync_, s_, ec);
            if (ec) return commit_state::unchanged;
        }
        const commit_request request{s_.temp_dir_handle(),
                                     s_.file.name,
                                     s_.file.file,
                                     s_.dir,
                                     s_.name,
                                     s_.overwrite && !detail::publication_checks_absence(s_, CommitPolicy::can_keep)};
        const commit_result r = commit_.publish(request, ec);
        if (r.state == commit_state::unchanged) {
            s_.step = r.failed_step != nullptr ? r.failed_step : "commit";
            if (!ec) ec = std::make_error_code(std::errc::io_error);
            detail::explain_refused_publish(s_, ec);
            detail::explain_changed(s_, ec);
            return commit_state::unchanged;
        }
        s_.state = phase::published;
        if (ec) {
            // Published, and a later part of the publication (removing the temporary
            // name after a link) failed: the leftover name is reported, not removed
            // (it is a second name of the published file), and the steps after it
            // still run so that the publication is made durable.
            s_.step = r.failed_step != nullptr ? r.failed_step : "commit";
            std::memcpy(s_.last_temp_name, s_.file.name, sizeof s_.last_temp_name);
        }
        s_.file.name[0] = '\0';
        if (s_.file.file != invalid_handle) {
            std::error_code e;
            s_.close_file(e);
            keep_first("close temporary file", e, ec);
        }
        return commit_state::published;
    }

    /// Keeps the first error of the steps after publication, each of which is attempted.
    void keep_first(const char* step, const std::error_code& e, std::error_code& ec) noexcept {
        if (e && !ec) {
            s_.step = step;
            ec = e;
        }
    }

    // --- rolling back ----------------------------------------------------------------

    /// A failure during open(): clean up and leave the writer closed.
    void abandon() noexcept {
        s_.discard();
        s_.state = phase::closed;
    }

    /// A failure before publication during commit(): clean up, report unchanged, and
    /// keep the temporary file's name for the message.
    commit_state fail() noexcept {
        std::memcpy(s_.last_temp_name, s_.file.name, sizeof s_.last_temp_name);
        abandon();
        return commit_state::unchanged;
    }

    detail::writer_state s_;
    ATOMICWRITES_NO_UNIQUE_ADDRESS SyncPolicy sync_{};
    ATOMICWRITES_NO_UNIQUE_ADDRESS CommitPolicy commit_{};
    ATOMICWRITES_NO_UNIQUE_ADDRESS TempPolicy temp_{};
};

/// Exchanges two writers (found by argument-dependent lookup).
template <class S, class C, class T>
void swap(basic_atomic_writer<S, C, T>& a, basic_atomic_writer<S, C, T>& b) noexcept {
    a.swap(b);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_BASIC_ATOMIC_WRITER_HPP
