// SPDX-License-Identifier: MIT
/// \file
/// basic_atomic_writer: writes a temporary file next to the target and publishes it at
/// the target in one step.
#ifndef ATOMICWRITES_BASIC_ATOMIC_WRITER_HPP
#define ATOMICWRITES_BASIC_ATOMIC_WRITER_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/stream_buffer.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <memory>
#include <new>
#include <ostream>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

template <class SyncPolicy, class CommitPolicy, class TempPolicy>
class basic_atomic_writer;

namespace detail {
struct writer_access;
}

/// Writes a file atomically: the constructor makes a temporary file next to the target,
/// writes go to it, and commit() publishes it at the target in one step, so readers (and
/// a crash, when SyncPolicy is durable) see the complete old file or the complete new
/// one, never a mix. A writer destroyed without commit() rolls back: the temporary file
/// is removed and the target is untouched.
///
/// The sequence, for a durable SyncPolicy:
///   open the target's directory; look at the target; create the temporary (TempPolicy);
///   give it the final mode and owner; write; sync it (SyncPolicy::sync_file);
///   publish it (CommitPolicy); sync the directory (SyncPolicy::sync_directory).
/// Every step after the first is relative to the open directory, so renaming or
/// replacing a component of the path meanwhile cannot redirect the commit.
///
/// Mode and owner: a new file gets 0666 & ~umask, as open(2) would give it; a replaced
/// regular file keeps its permission bits and, where the process may set them
/// (owner_mode::preserve), its owner and group; write_options::mode overrides. Set-id
/// bits are dropped if the owner could not be kept. The temporary file is never more
/// permissive than the final file at any moment.
///
/// Symbolic link at the target: see symlink_mode. A replaced symbolic link is treated as
/// a missing file for mode and owner (a link has no mode of its own).
///
/// Not thread-safe: one writer, one thread at a time. Movable, not copyable.
template <class SyncPolicy = default_sync, class CommitPolicy = default_commit, class TempPolicy = default_temp>
class basic_atomic_writer {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    static_assert(commit_policy<CommitPolicy>, "CommitPolicy does not satisfy atomicwrites::commit_policy");
    static_assert(temp_policy<TempPolicy>, "TempPolicy does not satisfy atomicwrites::temp_policy");

public:
    /// The SyncPolicy.
    using sync_type = SyncPolicy;
    /// The CommitPolicy.
    using commit_type = CommitPolicy;
    /// The TempPolicy.
    using temp_type = TempPolicy;

    /// Creates the temporary file for `target`. Throws std::filesystem::filesystem_error
    /// naming the failed step (see the error_code overload for the errors).
    explicit basic_atomic_writer(const std::filesystem::path& target, const write_options& options = {}) {
        std::error_code ec;
        open(target, options, ec);
        if (ec) detail::throw_error(step_, target, {}, ec, commit_state::unchanged);
    }

    /// Creates the temporary file for `target`; on failure sets `ec`, leaves nothing
    /// behind and makes a writer that is not open (is_open() is false).
    ///
    /// Errors (std::errc): invalid_argument (empty path, a target that is not a regular
    /// file or a link, a commit policy that cannot honour `overwrite`, a '/' in the temp
    /// prefix or suffix), is_a_directory (the target is a directory or the path ends in
    /// a separator), file_exists (`overwrite` is false and the target exists),
    /// too_many_symbolic_link_levels (symlink_mode::refuse and the target is a link, or a
    /// loop), filename_too_long, and every errno of the system calls made: ENOENT
    /// (missing parent), ENOTDIR, EACCES, EROFS, ENOSPC, EDQUOT, EMFILE, ENFILE, ...
    basic_atomic_writer(const std::filesystem::path& target, const write_options& options,
                        std::error_code& ec) noexcept {
        open(target, options, ec);
    }

    /// As above, with policy objects (for policies that carry state, such as a counter
    /// or a configuration).
    basic_atomic_writer(const std::filesystem::path& target, const write_options& options, SyncPolicy sync,
                        CommitPolicy commit, TempPolicy temp)
        : sync_(std::move(sync)), commit_(std::move(commit)), temp_policy_(std::move(temp)) {
        std::error_code ec;
        open(target, options, ec);
        if (ec) detail::throw_error(step_, target, {}, ec, commit_state::unchanged);
    }

    /// Creates the temporary file for `name` inside the open directory `dir`, which the
    /// writer uses instead of opening the target's directory itself (see directory).
    /// `name` is relative to `dir`: a file name, or a relative path whose directories
    /// are then opened relative to `dir`. The errors are those of the path constructor,
    /// and invalid_argument for an absolute `name`, bad_file_descriptor for a `dir` that
    /// is not open. `dir` must outlive the writer.
    basic_atomic_writer(const directory& dir, const std::filesystem::path& name, const write_options& options = {}) {
        std::error_code ec;
        open_in(dir, name, options, ec);
        if (ec) detail::throw_error(step_, target_.empty() ? name : target(), {}, ec, commit_state::unchanged);
    }
    /// The same, reporting failures in `ec` (the writer is then not open).
    basic_atomic_writer(const directory& dir, const std::filesystem::path& name, const write_options& options,
                        std::error_code& ec) noexcept {
        open_in(dir, name, options, ec);
    }

    /// Rolls back an uncommitted writer. Never throws.
    ~basic_atomic_writer() { rollback(); }

    /// Takes over `other`'s write; `other` is left not open.
    basic_atomic_writer(basic_atomic_writer&& other) noexcept { swap(other); }
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
    bool is_open() const noexcept { return state_ == phase::open; }

    /// Whether the new content has been published (is visible at the target).
    commit_state state() const noexcept {
        return state_ == phase::published ? commit_state::published : commit_state::unchanged;
    }

    /// The target path as given.
    /// With a directory handle, the handle's path joined with the name. Built on demand:
    /// the writer keeps the path as a string, which is cheaper to copy than a path.
    std::filesystem::path target() const {
        return base_ != nullptr ? base_->path() / target_ : std::filesystem::path(target_);
    }

    /// The temporary file's path while it has a name (empty for an anonymous one, or once
    /// the writer is closed).
    std::filesystem::path temp_path() const {
        if (!is_open() || temp_.anonymous()) return {};
        return temp_directory() / temp_.name;
    }

    /// The temporary file's descriptor (POSIX) or handle (Windows), for calls the
    /// library does not wrap (fallocate, ioctl, ...); invalid_handle when not open. Do
    /// not close it. Flush buffered data (flush()) before writing to it directly.
    native_handle_type native_handle() const noexcept { return is_open() ? temp_.file : invalid_handle; }

    /// A std::ostream writing to the temporary file (through a 64 KiB buffer). A write
    /// error sets badbit on the stream, and commit() then fails with that error.
    std::ostream& stream() {
        if (!buffer_) buffer_ = std::make_unique<detail::stream_buffer>(is_open() ? temp_.file : invalid_handle, text_);
        if (!is_open()) buffer_->close();
        return buffer_->stream();
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

    /// Writes out buffered data to the temporary file (not a sync).
    void flush(std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return;
        if (buffer_) {
            buffer_->flush(ec);
            if (ec) {
                step_ = "write temporary file";
                write_error_ = ec;
            }
        }
    }
    /// Writes out buffered data; throws filesystem_error on failure.
    void flush() {
        std::error_code ec;
        flush(ec);
        if (ec) throw_step(ec);
    }

    /// Publishes the temporary file at the target: flush, sync the file, publish, sync
    /// the directory. Returns how far it got. On an error before publication the
    /// temporary file is removed and the target is untouched (commit_state::unchanged);
    /// an error after it (the directory sync) leaves the new content in place
    /// (commit_state::published). Either way the writer is closed afterwards.
    ///
    /// Errors: bad_file_descriptor (not open: already committed or rolled back),
    /// file_exists (overwrite is false and the target appeared meanwhile), a write error
    /// kept from an earlier write, io_error (the stream() was left in a failed state),
    /// and the errors of the sync and commit policies.
    commit_state commit(std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return state();
        step_ = "write temporary file";
        if (write_error_) {
            ec = write_error_;
            return fail(ec);
        }
        if (buffer_) {
            buffer_->flush(ec);
            if (!ec && buffer_->stream_failed()) ec = std::make_error_code(std::errc::io_error);
            buffer_->close();
            if (ec) return fail(ec);
        }
        if (setid_mode_ != 0) {
            // A write by a process without CAP_FSETID clears the set-id bits
            // (write(2), chmod(2)); give them back once the data is complete.
            step_ = "set mode of temporary file";
            detail::sys::set_mode(temp_.file, setid_mode_, ec);
            if (ec) return fail(ec);
        }
        step_ = "sync temporary file";
        sync_.sync_file(temp_.file, ec);
        if (ec) return fail(ec);
        if (temp_.anonymous() && !(CommitPolicy::links_anonymous && !overwrite_)) {
            step_ = "name temporary file";
            detail::name_anonymous(temp_request_(), temp_, ec);
            if (ec) return fail(ec);
        }
        if (!temp_.anonymous() && !detail::renames_open_file<CommitPolicy>()) {
            // Close before publishing: on network filesystems close(2) is where delayed
            // write errors surface, and they must stop the commit. (A policy that renames
            // the open file gets it open; it is closed right after the rename.)
            step_ = "close temporary file";
            close_file(ec);
            if (ec) return fail(ec);
        }
        const commit_request request{temp_dir_handle(), temp_.name, temp_.file, dir_, name_, overwrite_};
        commit_result r = commit_.publish(request, ec);
        if (r.state == commit_state::unchanged) {
            step_ = r.failed_step != nullptr ? r.failed_step : "commit";
            if (!ec) ec = std::make_error_code(std::errc::io_error);
            return fail(ec);
        }
        state_ = phase::published;
        if (ec) {
            // Published, and a later part of the publication (removing the temporary
            // name after a link) failed: the leftover name is reported, not removed
            // (it is a second name of the published file), and the steps below still
            // run so that the publication is made durable.
            step_ = r.failed_step != nullptr ? r.failed_step : "commit";
            std::memcpy(last_temp_name_, temp_.name, sizeof last_temp_name_);
        }
        temp_.name[0] = '\0';
        // Every remaining step is attempted even if one fails: the first error is the
        // one reported.
        auto keep_first = [this, &ec](const char* step, const std::error_code& e) {
            if (e && !ec) {
                step_ = step;
                ec = e;
            }
        };
        std::error_code e;
        if (temp_.file != invalid_handle) {
            close_file(e);
            keep_first("close temporary file", e);
        }
        e.clear();
        sync_.sync_directory(dir_, e);
        keep_first("sync directory", e);
        if (temp_dir_ != invalid_handle) {
            e.clear();
            sync_.sync_directory(temp_dir_, e);
            keep_first("sync temporary directory", e);
        }
        e.clear();
        release(&e);
        keep_first("close directory", e);
        if (!ec) step_ = nullptr;
        return commit_state::published;
    }

    /// Publishes the temporary file; throws filesystem_error on a failure before
    /// publication and durability_error on one after it.
    void commit() {
        std::error_code ec;
        commit_state s = commit(ec);
        if (ec) detail::throw_error(step_, target(), failed_temp_path_(), ec, s);
    }

    /// Abandons the write: closes and removes the temporary file, leaves the target
    /// untouched. Does nothing on a writer that is not open. Never fails: errors while
    /// cleaning up are ignored, so they never hide the error that led here.
    void rollback() noexcept {
        if (state_ != phase::open) return;
        discard();
        state_ = phase::closed;
    }

    /// The step that failed last ("sync temporary file", ...), or null.
    const char* failed_step() const noexcept { return step_; }

    /// Exchanges two writers.
    void swap(basic_atomic_writer& other) noexcept {
        using std::swap;
        swap(target_, other.target_);
        swap(base_, other.base_);
        swap(resolved_dir_, other.resolved_dir_);
        swap(temp_dir_path_, other.temp_dir_path_);
        swap(buffer_, other.buffer_);
        swap(write_error_, other.write_error_);
        swap(last_temp_name_, other.last_temp_name_);
        swap(dir_, other.dir_);
        swap(owns_dir_, other.owns_dir_);
        swap(temp_dir_, other.temp_dir_);
        swap(temp_, other.temp_);
        swap(name_, other.name_);
        swap(prefix_, other.prefix_);
        swap(suffix_, other.suffix_);
        swap(state_, other.state_);
        swap(overwrite_, other.overwrite_);
        swap(text_, other.text_);
        swap(setid_mode_, other.setid_mode_);
        swap(step_, other.step_);
        swap(sync_, other.sync_);
        swap(commit_, other.commit_);
        swap(temp_policy_, other.temp_policy_);
    }

private:
    friend struct detail::writer_access;

    enum class phase : unsigned char { closed, open, published };

    static constexpr std::size_t max_affix = 64;

    // --- opening ---------------------------------------------------------------------

    /// Keeps the target as given (for messages and target()) and checks the options.
    bool begin(const std::filesystem::path& target, const write_options& options, std::error_code& ec) noexcept {
        ec.clear();
        step_ = "check path";
        try {
            target_ = target.native();
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return false;
        }
        return check_options(options, ec);
    }

    void open(const std::filesystem::path& target, const write_options& options, std::error_code& ec) noexcept {
        if (!begin(target, options, ec)) return;
        detail::file_name(target, name_, ec);
        if (ec) return;
        step_ = "open directory";
        dir_ = detail::open_parent(target, ec);
        if (ec) return;
        owns_dir_ = true;
        prepare(options, ec);
    }

    void open_in(const directory& dir, const std::filesystem::path& name, const write_options& options,
                 std::error_code& ec) noexcept {
        base_ = &dir;
        if (!begin(name, options, ec)) return;
        if (name.has_root_path()) {  // "/x"; on Windows also "C:x" and "\\x"
            step_ = "check path (a name inside the directory handle, not an absolute path)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return;
        }
        detail::file_name(name, name_, ec);
        if (ec) return;
        step_ = "open directory";
        if (!dir.is_open()) {
            step_ = "open directory (the directory handle is not open)";
            ec = std::make_error_code(std::errc::bad_file_descriptor);
            return;
        }
        if (detail::parent_view(name) == native_string_view(detail::current_directory_name)) {
            dir_ = dir.native_handle();
            owns_dir_ = false;
        } else {
            dir_ = detail::open_parent(name, ec, dir.native_handle());
            if (ec) return;
            owns_dir_ = true;
        }
        prepare(options, ec);
    }

    /// Checks the options that need no system call and takes the temporary name's
    /// affixes and the overwrite flag from them.
    bool check_options(const write_options& options, std::error_code& ec) noexcept {
        if (options.overwrite ? !CommitPolicy::can_replace : !CommitPolicy::can_keep) {
            step_ = options.overwrite ? "check options (the commit policy cannot replace: overwrite must be false)"
                                      : "check options (the commit policy always replaces: overwrite must be true)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return false;
        }
        if (detail::has_separator_or_nul(options.temp_prefix) || detail::has_separator_or_nul(options.temp_suffix)) {
            step_ = "check options (temp_prefix and temp_suffix must not contain a separator or NUL)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return false;
        }
        if (options.temp_prefix.size() > max_affix || options.temp_suffix.size() > max_affix) {
            step_ = "check options (temp_prefix and temp_suffix are limited to 64 bytes)";
            ec = std::make_error_code(std::errc::filename_too_long);
            return false;
        }
        detail::sys::to_native(options.temp_prefix, prefix_, max_affix + 1, ec);
        if (!ec) detail::sys::to_native(options.temp_suffix, suffix_, max_affix + 1, ec);
        if (ec) {
            step_ = "check options (temp_prefix and temp_suffix must be UTF-8)";
            return false;
        }
        overwrite_ = options.overwrite;
        // Text mode only changes anything where the newline is not "\n": elsewhere the
        // writer makes exactly the calls of binary mode.
        text_ = options.text && detail::sys::text_newline != "\n";
        return true;
    }

    /// With dir_ open: inspects the target, creates the temporary file and gives it its
    /// mode and owner.
    void prepare(const write_options& options, std::error_code& ec) noexcept {
        state_ = phase::open;  // from here on, failures clean up through discard()

        // A fresh file that may replace whatever is there, link or not, needs nothing
        // from the target: the commit itself reports what cannot be replaced.
        const bool inspect =
            options.metadata == metadata_mode::preserve || !overwrite_ || options.symlinks != symlink_mode::replace;
        detail::sys::file_status st{};
        step_ = "inspect target";
        if (inspect) st = detail::sys::stat_at(dir_, name_, ec);
        if (ec) return abandon();
        if (st.kind == detail::sys::file_kind::symlink) {
            if (options.symlinks == symlink_mode::refuse) {
                step_ = "inspect target (a symbolic link, and symlink_mode::refuse)";
                ec = std::make_error_code(std::errc::too_many_symbolic_link_levels);
                return abandon();
            }
            if (options.symlinks == symlink_mode::follow) {
                st = follow_links(ec);
                if (ec) return abandon();
            } else {
                st = {};  // the link is replaced; it has no mode of its own
                st.kind = detail::sys::file_kind::symlink;
            }
        }
        if (st.kind == detail::sys::file_kind::directory) {
            step_ = "inspect target";
            ec = std::make_error_code(std::errc::is_a_directory);
            return abandon();
        }
        if (st.kind == detail::sys::file_kind::other) {
            step_ = "inspect target (not a regular file)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return abandon();
        }
        if (st.kind != detail::sys::file_kind::none && !overwrite_) {
            step_ = "inspect target (it exists and overwrite is false)";
            ec = std::make_error_code(std::errc::file_exists);
            return abandon();
        }

        if (!options.temp_directory.empty()) {
            step_ = "open temporary directory";
            try {
                temp_dir_path_ = options.temp_directory;
            } catch (...) {
                ec = std::make_error_code(std::errc::not_enough_memory);
                return abandon();
            }
            temp_dir_ = detail::sys::open_directory(detail::sys::current_directory, temp_dir_path_.c_str(), ec);
            if (ec) return abandon();
        }

        // Modes. The temporary file is created with a mode no wider than the final one
        // (the umask can only narrow it), then set exactly where needed.
        const bool replacing =
            st.kind == detail::sys::file_kind::regular && options.metadata == metadata_mode::preserve;
        unsigned create_mode = 0666;
        unsigned final_mode = 0;
        bool set_mode = false;
        if (options.mode != std::filesystem::perms::unknown) {
            final_mode = static_cast<unsigned>(options.mode) & 07777u;
            create_mode = final_mode & 0777u;
            set_mode = true;
        } else if (replacing) {
            final_mode = st.mode;
            create_mode = st.mode & 0777u;
            set_mode = true;
        }
        bool set_owner = false;
        if (replacing && options.owner == owner_mode::preserve) {
            detail::sys::owner_ids me = detail::sys::process_owner();
            bool differs = st.uid != me.uid || st.gid != me.gid;
            if (!differs && (st.mode & 06000u) != 0) {
                // Set-id bits must never reach a file of another owner: for them, ask
                // the system for the ids in force now rather than those at exec.
                me = detail::sys::current_owner();
                differs = st.uid != me.uid || st.gid != me.gid;
            }
            if (differs) {
                // Until the owner is set, the file belongs to us: keep others out.
                set_owner = true;
                create_mode &= 0700u;
                if (!set_mode) {
                    final_mode = st.mode;
                    set_mode = true;
                }
            }
        }

        step_ = "create temporary file";
        temp_policy_.create(temp_request_(create_mode), temp_, ec);
        if (ec) {
            if (ec == std::errc::file_exists)
                step_ = "create temporary file (the name is taken: another writer, or a stale temporary file)";
            temp_.file = invalid_handle;
            temp_.name[0] = '\0';
            return abandon();
        }

        if (set_owner) {
            step_ = "set owner of temporary file";
            bool kept = true;
            detail::sys::set_owner(temp_.file, st.uid, st.gid, ec);
            if (ec == std::errc::operation_not_permitted) {
                // Not ours to give away: keep the group at least, if we may.
                ec.clear();
                kept = false;
                detail::sys::set_owner(temp_.file, static_cast<unsigned>(-1), st.gid, ec);
                if (ec == std::errc::operation_not_permitted) ec.clear();
            }
            if (ec) return abandon();
            if (!kept) final_mode &= ~06000u;  // never hand set-id bits to a new owner
        }
        if (set_mode) {
            step_ = "set mode of temporary file";
            detail::sys::set_mode(temp_.file, final_mode, ec);
            if (ec) return abandon();
            setid_mode_ = (final_mode & 06000u) != 0 ? final_mode : 0;
        }
        step_ = nullptr;
    }

    /// Follows the chain of links at (dir_, name_) to its end, moving dir_ and name_
    /// there. Returns the status of what is at the end (none if it does not exist).
    detail::sys::file_status follow_links(std::error_code& ec) noexcept {
        step_ = "follow symbolic link";
        native_char_type link[4096];
        for (int hops = 0; hops < 40; ++hops) {  // 40: Linux's MAXSYMLINKS
            std::size_t n = detail::sys::read_link(dir_, name_, link, std::size(link), ec);
            if (ec) return {};
            const std::size_t root = detail::sys::root_length(native_string_view(link, n));
            while (n > root && n > 1 && detail::sys::is_separator(link[n - 1])) --n;  // "dir/" names dir
            link[n] = '\0';
            const native_string_view l(link, n);
            const std::size_t start = detail::name_offset(l);
            if (start != 0) {
                const native_string_view base = l.substr(start);
                if (base.empty() || base.size() > detail::sys::max_name) {
                    ec = std::make_error_code(base.empty() ? std::errc::is_a_directory : std::errc::filename_too_long);
                    return {};
                }
                const native_string_view parent = detail::parent_view(l);
                const bool absolute = root != 0;
                const native_handle_type from = absolute ? detail::sys::current_directory : dir_;
                native_handle_type next = detail::open_directory_at(from, parent, ec);
                if (ec) return {};
                try {
                    resolved_dir_ = absolute ? std::filesystem::path(parent) : target_directory() / parent;
                } catch (...) {
                }
                std::error_code ignored;
                if (owns_dir_) detail::sys::close(dir_, ignored);
                dir_ = next;
                owns_dir_ = true;
                detail::copy_c_string(name_, base);
            } else {
                if (n == 0 || n > detail::sys::max_name) {
                    ec = std::make_error_code(n == 0 ? std::errc::no_such_file_or_directory
                                                     : std::errc::filename_too_long);
                    return {};
                }
                detail::copy_c_string(name_, l);
            }
            detail::sys::file_status st = detail::sys::stat_at(dir_, name_, ec);
            if (ec || st.kind != detail::sys::file_kind::symlink) return st;
        }
        ec = std::make_error_code(std::errc::too_many_symbolic_link_levels);
        return {};
    }

    temp_request temp_request_(unsigned mode = 0) const noexcept {
        return {temp_dir_handle(), native_string_view(name_), mode, native_string_view(prefix_),
                native_string_view(suffix_)};
    }

    native_handle_type temp_dir_handle() const noexcept { return temp_dir_ != invalid_handle ? temp_dir_ : dir_; }

    std::filesystem::path target_directory() const {
        if (!resolved_dir_.empty()) return resolved_dir_;
        std::filesystem::path p = target().parent_path();
        return p.empty() ? std::filesystem::path(".") : p;
    }
    std::filesystem::path temp_directory() const {
        return temp_dir_path_.empty() ? target_directory() : temp_dir_path_;
    }

    std::filesystem::path failed_temp_path_() const {
        if (last_temp_name_[0] == '\0') return {};
        return temp_directory() / last_temp_name_;
    }

    // --- writing ---------------------------------------------------------------------

    bool check_open(std::error_code& ec) noexcept {
        if (state_ == phase::open) return true;
        step_ = state_ == phase::published ? "use writer (already committed)" : "use writer (not open)";
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }

    void write_bytes(const char* p, std::size_t n, std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return;
        if (write_error_) {
            ec = write_error_;
            return;
        }
        if (!buffer_ && (n >= detail::stream_buffer::capacity || !make_buffer(ec))) {
            write_through(p, n, ec);
            return;
        }
        buffer_->put(p, n, ec);
        if (ec) {
            step_ = "write temporary file";
            write_error_ = ec;
        }
    }

    /// Makes the buffer; false if there is no memory for it. In text mode that is an
    /// error in `ec` (newlines are translated in the buffer); otherwise writes can go
    /// straight to the file.
    bool make_buffer(std::error_code& ec) noexcept {
        try {
            buffer_ = std::make_unique<detail::stream_buffer>(temp_.file, text_);
        } catch (...) {
            if (text_) ec = std::make_error_code(std::errc::not_enough_memory);
            return false;
        }
        return true;
    }

    /// Unbuffered write, for the one-shot functions (no buffer to allocate), except in
    /// text mode, where the buffer translates newlines.
    void write_through(const char* p, std::size_t n, std::error_code& ec) noexcept {
        if (buffer_ || (text_ && make_buffer(ec)))
            buffer_->put(p, n, ec);
        else if (!ec)
            detail::sys::write_all(temp_.file, p, n, ec);
        if (ec) {
            step_ = "write temporary file";
            write_error_ = ec;
        }
    }

    [[noreturn]] void throw_step(std::error_code ec) const {
        detail::throw_error(step_, target(), is_open() ? temp_path() : std::filesystem::path{}, ec, state());
    }

    // --- closing ---------------------------------------------------------------------

    void close_file(std::error_code& ec) noexcept {
        detail::sys::close(temp_.file, ec);
        temp_.file = invalid_handle;
    }

    /// Closes the directories (and the file, if still open). Reports the first error of
    /// a directory close in *ec if given.
    void release(std::error_code* ec = nullptr) noexcept {
        std::error_code e;
        if (temp_.file != invalid_handle) {
            detail::sys::close(temp_.file, e);
            temp_.file = invalid_handle;
        }
        if (temp_dir_ != invalid_handle) {
            detail::sys::close(temp_dir_, e);
            temp_dir_ = invalid_handle;
        }
        if (dir_ != invalid_handle) {
            std::error_code d;
            if (owns_dir_) detail::sys::close(dir_, d);  // a directory handle's stays open
            dir_ = invalid_handle;
            if (!e) e = d;
        }
        if (ec != nullptr) *ec = e;
        if (buffer_) buffer_->close();
    }

    /// Closes and removes the temporary file, closes the directories. Ignores errors.
    void discard() noexcept {
        std::error_code ignored;
        if (temp_.file != invalid_handle) {
            detail::sys::close(temp_.file, ignored);
            temp_.file = invalid_handle;
        }
        if (!temp_.anonymous()) {
            detail::sys::unlink(temp_dir_handle(), temp_.name, ignored);
            temp_.name[0] = '\0';
        }
        release();
    }

    /// A failure during open(): clean up and leave the writer closed.
    void abandon() noexcept {
        discard();
        state_ = phase::closed;
    }

    /// A failure before publication during commit(): clean up, report unchanged.
    commit_state fail(std::error_code& ec) noexcept {
        (void)ec;
        std::memcpy(last_temp_name_, temp_.name, sizeof last_temp_name_);
        discard();
        state_ = phase::closed;
        return commit_state::unchanged;
    }

    std::filesystem::path::string_type target_;  // as given (a name inside base_, if set)
    const directory* base_ = nullptr;            // the directory handle written into, if any
    std::filesystem::path resolved_dir_;         // set when a link was followed to another directory
    std::filesystem::path temp_dir_path_;        // write_options::temp_directory
    std::unique_ptr<detail::stream_buffer> buffer_;
    std::error_code write_error_;
    native_handle_type dir_ = invalid_handle;
    bool owns_dir_ = true;                          // false when dir_ belongs to a directory handle
    native_handle_type temp_dir_ = invalid_handle;  // only with write_options::temp_directory
    temp_file temp_;
    native_char_type name_[detail::sys::max_name + 1] = {};
    native_char_type last_temp_name_[detail::sys::max_name + 1] = {};
    native_char_type prefix_[max_affix + 1] = {'.', '\0'};
    native_char_type suffix_[max_affix + 1] = {'.', 't', 'm', 'p', '\0'};
    phase state_ = phase::closed;
    unsigned setid_mode_ = 0;  // the final mode, when it has set-id bits to restore
    bool overwrite_ = false;
    bool text_ = false;
    const char* step_ = nullptr;
    [[no_unique_address]] SyncPolicy sync_{};
    [[no_unique_address]] CommitPolicy commit_{};
    [[no_unique_address]] TempPolicy temp_policy_{};
};

/// Exchanges two writers (found by argument-dependent lookup).
template <class S, class C, class T>
void swap(basic_atomic_writer<S, C, T>& a, basic_atomic_writer<S, C, T>& b) noexcept {
    a.swap(b);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_BASIC_ATOMIC_WRITER_HPP
