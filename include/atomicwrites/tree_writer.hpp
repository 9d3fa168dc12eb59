// SPDX-License-Identifier: MIT
/// \file
/// tree_writer: a directory tree published at a stable name, all or nothing. Files are
/// written into a fresh version directory; commit() makes the whole tree durable, then
/// switches the stable name (a symbolic link) to it in one step.
#ifndef ATOMICWRITES_TREE_WRITER_HPP
#define ATOMICWRITES_TREE_WRITER_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/stream_buffer.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/group.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace atomicwrites {
inline namespace v1 {

/// Options for a tree_writer. An aggregate: `{.keep = 3}` works.
struct tree_options {
    /// How many previous versions to keep after a commit (their directories stay, under
    /// `.NAME.vN`); older ones are removed. 1 by default: the version a reader may still
    /// be reading when the next commit comes.
    unsigned keep = 1;
    /// Publish by exchanging two real directories (renameat2 RENAME_EXCHANGE, Linux)
    /// instead of switching a symbolic link: the stable name is then a directory itself.
    /// Where the system cannot exchange, commit() fails with not_supported. False by default.
    bool exchange = false;
    /// The permission bits of every file written, set exactly; perms::unknown (the
    /// default): 0666 & ~umask, as open(2) gives a new file. Directories get
    /// 0777 & ~umask.
    std::filesystem::perms mode = std::filesystem::perms::unknown;
    /// How many written files may stay open before they are synced as a group and
    /// closed (write_file(), and add()ed files once close()d): bounds the descriptors a
    /// large tree holds. Files from add() still being written stay open until commit().
    std::size_t max_open_files = 256;
};

template <class SyncPolicy, class GroupPolicy>
class basic_tree_writer;

/// A file of a tree being written, from basic_tree_writer::add(): write to it, or to
/// its stream(), then close() it (or let commit() do that). Its bytes are synced with
/// the tree's other files by the tree's group policy; nothing is visible at the stable
/// name before the tree's commit(). Owned by its tree writer (the reference stays valid
/// as long as the tree writer, even after commit); not copyable or movable.
class tree_file {
    struct key {
        explicit key() = default;
    };

public:
    /// Made by basic_tree_writer::add() only.
    tree_file(key, std::filesystem::path path, native_handle_type file) noexcept
        : path_(std::move(path)), file_(file) {}
    tree_file(const tree_file&) = delete;
    tree_file& operator=(const tree_file&) = delete;

    /// Appends bytes. Small writes are buffered (64 KiB), large ones go straight to
    /// the file. A failure is also kept: the tree's commit() reports it and publishes
    /// nothing.
    /// Errors: bad_file_descriptor (closed, or the tree committed or rolled back), and
    /// those of write(2): EIO, ENOSPC, EDQUOT, EFBIG.
    void write(std::string_view data, std::error_code& ec) noexcept { put(data.data(), data.size(), ec); }
    /// \overload
    void write(std::span<const std::byte> data, std::error_code& ec) noexcept {
        put(reinterpret_cast<const char*>(data.data()), data.size(), ec);
    }
    /// Appends bytes; throws filesystem_error naming the step and the file on failure.
    void write(std::string_view data) {
        std::error_code ec;
        write(data, ec);
        if (ec) fail(ec);
    }
    /// \overload
    void write(std::span<const std::byte> data) {
        std::error_code ec;
        write(data, ec);
        if (ec) fail(ec);
    }

    /// A std::ostream writing to the file (through the same buffer). A write error sets
    /// badbit, and the tree's commit() fails with it.
    std::ostream& stream() {
        if (!buffer_) buffer_ = std::make_unique<detail::stream_buffer>(file_);
        std::ostream& s = buffer_->stream();
        if (!open_) buffer_->close();  // after the stream exists, so that it is failed too
        return s;
    }

    /// Done writing: writes out the buffer and hands the file to the tree, which syncs
    /// it with the others (in a group once tree_options::max_open_files are waiting,
    /// else at commit()). Further writes fail. Closing twice does nothing.
    /// Errors: the first write error of the file, io_error (the stream() failed).
    void close(std::error_code& ec) noexcept {
        ec.clear();
        if (!open_) {
            ec = error_ == std::errc::bad_file_descriptor ? std::error_code{} : error_;
            return;
        }
        open_ = false;
        if (buffer_ && !error_) {
            buffer_->flush(ec);
            if (!ec && buffer_->stream_failed()) ec = std::make_error_code(std::errc::io_error);
            if (ec) keep(ec, "write file");
        }
        buffer_.reset();
        ec = error_;
    }
    /// Closes; throws filesystem_error naming the step and the file on a write error.
    void close() {
        std::error_code ec;
        close(ec);
        if (ec) fail(ec);
    }

    /// True until close(), or the tree's commit() or rollback().
    bool is_open() const noexcept { return open_; }
    /// Where the file is being written (in the tree's version directory).
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The file's descriptor (POSIX) or handle (Windows) while open, for calls the
    /// library does not wrap; invalid_handle after. Do not close it; write out the
    /// buffer first if you write to it directly (the stream's flush()).
    native_handle_type native_handle() const noexcept { return open_ ? file_ : invalid_handle; }

private:
    template <class, class>
    friend class basic_tree_writer;

    void put(const char* p, std::size_t n, std::error_code& ec) noexcept {
        ec.clear();
        if (!open_) {
            step_ = "write file (closed)";
            ec = std::make_error_code(std::errc::bad_file_descriptor);
            return;
        }
        if (error_) {
            ec = error_;
            return;
        }
        if (!buffer_ && n < detail::stream_buffer::capacity) {
            try {
                buffer_ = std::make_unique<detail::stream_buffer>(file_);
            } catch (...) {
                // No memory for a buffer: written straight through.
            }
        }
        if (buffer_)
            buffer_->put(p, n, ec);
        else
            detail::sys::write_all(file_, p, n, ec);
        if (ec) keep(ec, "write file");
    }

    void keep(const std::error_code& ec, const char* step) noexcept {
        if (error_) return;
        error_ = ec;
        step_ = step;
    }

    [[noreturn]] void fail(const std::error_code& ec) const {
        detail::throw_error(step_ != nullptr ? step_ : "write file", path_, {}, ec, commit_state::unchanged);
    }

    /// Ends the file for the tree (commit or rollback): the descriptor is the tree's.
    void end() noexcept {
        if (open_) {
            std::error_code ignored;
            close(ignored);
        }
        if (!error_) error_ = std::make_error_code(std::errc::bad_file_descriptor);
        buffer_.reset();
    }

    std::filesystem::path path_;
    native_handle_type file_;
    std::unique_ptr<detail::stream_buffer> buffer_;
    std::error_code error_;
    const char* step_ = nullptr;
    bool open_ = true;
    bool handed_ = false;  // the descriptor is in the tree's list of files to sync
};

namespace detail {

using native_string = std::basic_string<native_char_type>;

/// Whether `relative` is a path inside a tree: not empty, no root, no "." or ".."
/// component, no empty component at the end.
inline bool is_tree_path(const std::filesystem::path& relative) noexcept {
    if (relative.empty() || relative.has_root_path()) return false;
    const native_string_view p(relative.native());
    std::size_t start = 0;
    for (std::size_t i = 0; i <= p.size(); ++i) {
        if (i < p.size() && !sys::is_separator(p[i])) continue;
        const native_string_view part = p.substr(start, i - start);
        if ((part.empty() && i == p.size()) || part == native_string_view(current_directory_name) ||
            (part.size() == 2 && part[0] == '.' && part[1] == '.') || part.size() > sys::max_name)
            return false;
        start = i + 1;
    }
    return true;
}

/// The version number in `name` if it is `prefix` (`.NAME.v`) and digits, else 0.
inline std::uint64_t version_of(native_string_view name, native_string_view prefix) noexcept {
    if (name.size() <= prefix.size() || name.size() > prefix.size() + 19 || name.substr(0, prefix.size()) != prefix)
        return 0;
    std::uint64_t n = 0;
    for (native_char_type c : name.substr(prefix.size())) {
        if (c < '0' || c > '9') return 0;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

/// Removes `name` in `dir` and everything below it; a missing name is not an error.
/// System calls: unlinkat (most of a tree is files); where that fails as it does for a
/// directory (EISDIR, EPERM, EACCES), fstatat, and for a directory, open, read, each
/// entry removed, then unlinkat(AT_REMOVEDIR).
inline void remove_tree(native_handle_type dir, const native_char_type* name, std::error_code& ec) noexcept {
    sys::unlink(dir, name, ec);
    if (!ec || ec == std::errc::no_such_file_or_directory) {
        ec.clear();
        return;
    }
    if (ec != std::errc::is_a_directory && ec != std::errc::operation_not_permitted &&
        ec != std::errc::permission_denied)
        return;
    const std::error_code unlink_error = ec;
    ec.clear();
    const sys::file_status st = sys::stat_at(dir, name, ec);
    if (ec || st.kind == sys::file_kind::none) return;
    if (st.kind != sys::file_kind::directory) {
        ec = unlink_error;
        return;
    }
    const native_handle_type h = sys::open_directory(dir, name, ec);
    if (ec) return;
    std::vector<native_string> names;
    try {
        sys::directory_reader reader(h);
        while (const native_char_type* n = reader.next(ec)) {
            const native_string_view v(n);
            if (v != native_string_view(current_directory_name) && !(v.size() == 2 && v[0] == '.' && v[1] == '.'))
                names.emplace_back(v);
        }
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
    }
    for (const native_string& n : names) {
        if (ec) break;
        remove_tree(h, n.c_str(), ec);
    }
    std::error_code ignored;  // a directory opened to be read: nothing to lose at close
    sys::close(h, ignored);
    if (!ec) sys::remove_directory(dir, name, ec);
}

}  // namespace detail

/// Writes a directory tree and publishes it at a stable name in one step: readers that
/// resolve the name once (open the directory, or read the link) see the complete old
/// tree or the complete new one, never a mix, and never a missing name once one
/// existed. The sequence deploy tools and profile managers use, with every flush it
/// needs.
///
///     atomicwrites::tree_writer t("site");          // makes .site.XXXXXXXX.build
///     t.write_file("index.html", html);
///     t.write_file("css/main.css", css);            // directories made as needed
///     t.commit();                                   // site -> .site.v8, durably
///
/// Layout: the stable name NAME is a symbolic link to `.NAME.vN` beside it (N counts
/// up). With tree_options::exchange it is a real directory instead, swapped with the
/// new one by renameat2(RENAME_EXCHANGE); previous versions are then kept as `.NAME.vN`.
///
/// Durability (a durable SyncPolicy): the files' bytes are synced together by the
/// GroupPolicy, as a batch's are (at commit(), or in groups of
/// tree_options::max_open_files as they are written), then every new directory, then the
/// version directory is named and the parent synced (so that no crash can keep the
/// switch and lose what it points to), then the stable name switched and the parent
/// synced again. A commit that returned survives a crash.
///
/// Streaming: add() returns a tree_file to write to, for content that is produced
/// piece by piece; write_file() writes a whole file in one call.
///
/// Previous versions: tree_options::keep of them stay after a commit (the highest
/// numbers up to the one the link pointed to), the rest are removed, as are versions
/// above the one the link pointed to (rolled back from by pointing the link at an
/// older one, or named but never published: a crash between the two steps) and
/// half-built trees (`.NAME.*.build`) of earlier writers that did not finish. So: one
/// tree_writer per stable name at a time (a second one's half-built tree would be
/// removed by the first one's commit).
///
/// Platforms: POSIX; Windows where the process may make symbolic links (else
/// commit() fails naming the step; exchange: not_supported). Not thread-safe; movable.
template <class SyncPolicy = default_sync, class GroupPolicy = default_group>
class basic_tree_writer {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    static_assert(group_policy<GroupPolicy>, "GroupPolicy does not satisfy atomicwrites::group_policy");

public:
    /// Makes the new version's directory beside `name`. Throws filesystem_error naming
    /// the step.
    explicit basic_tree_writer(const std::filesystem::path& name, const tree_options& options = {},
                               GroupPolicy group = {})
        : group_(std::move(group)) {
        std::error_code ec;
        open(name, options, ec);
        if (ec) detail::throw_error(step_, name, {}, ec, commit_state::unchanged);
    }
    /// The same, reporting a failure in `ec` (the writer is then not open).
    /// Errors: invalid_argument (empty name), is_a_directory (ends in a separator),
    /// filename_too_long, and those of openat, mkdirat (EACCES, EROFS, ENOSPC, ...).
    basic_tree_writer(const std::filesystem::path& name, const tree_options& options, std::error_code& ec) noexcept {
        open(name, options, ec);
    }
    /// \overload
    basic_tree_writer(const std::filesystem::path& name, const tree_options& options, GroupPolicy group,
                      std::error_code& ec) noexcept
        : group_(std::move(group)) {
        open(name, options, ec);
    }
    /// Rolls back an uncommitted tree (removes what was written). Never throws.
    ~basic_tree_writer() { rollback(); }

    /// Takes over `other`'s tree; `other` is left not open.
    basic_tree_writer(basic_tree_writer&& other) noexcept { take(other); }
    /// Rolls back this writer's tree, then takes over `other`'s.
    basic_tree_writer& operator=(basic_tree_writer&& other) noexcept {
        if (this != &other) {
            rollback();
            take(other);
        }
        return *this;
    }
    basic_tree_writer(const basic_tree_writer&) = delete;
    basic_tree_writer& operator=(const basic_tree_writer&) = delete;

    /// True between construction and commit() or rollback().
    bool is_open() const noexcept { return build_dir_ != invalid_handle; }

    /// The stable name, as given.
    const std::filesystem::path& path() const noexcept { return name_; }

    /// The directory the files go to while open (`.NAME.XXXXXXXX.build`); after a
    /// commit, the published version's (`.NAME.vN`).
    std::filesystem::path version_path() const { return parent_path() / native_string_view(build_); }

    /// Writes the file `relative` (a path inside the tree: no root, no "." or "..") with
    /// `data`, making its directories as needed; it is synced with the others. Each
    /// file may be written once. A failure is kept: commit() reports it and publishes
    /// nothing.
    /// Errors: bad_file_descriptor (not open), invalid_argument (a path outside the
    /// tree), file_exists (written twice), not_a_directory, and those of the calls.
    void write_file(const std::filesystem::path& relative, std::string_view data, std::error_code& ec) noexcept {
        const native_handle_type f = create(relative, mode_, ec);
        if (ec) return;
        step_ = "write file";
        detail::sys::write_all(f, data.data(), data.size(), ec);
        if (ec) {
            std::error_code ignored;
            detail::sys::close(f, ignored);
            return keep_error(ec, relative);
        }
        written(f, relative, ec);
    }
    /// Writes a file; throws filesystem_error naming the step and the file on failure.
    void write_file(const std::filesystem::path& relative, std::string_view data) {
        std::error_code ec;
        write_file(relative, data, ec);
        if (ec) detail::throw_error(step_, name_, version_path() / relative, ec, commit_state::unchanged);
    }

    /// Starts the file `relative` (a path inside the tree, as for write_file()) and
    /// returns it to write to piece by piece; close() it when done (commit() closes
    /// what is still open). The reference stays valid as long as this tree writer.
    /// Errors: those of write_file() before the first byte; null is returned then.
    tree_file* add(const std::filesystem::path& relative, std::error_code& ec) noexcept {
        return add(relative, mode_, ec);
    }
    /// add() with the permission bits of this file, set exactly (as tree_options::mode
    /// is for the others): to copy a tree with its executables, say.
    tree_file* add(const std::filesystem::path& relative, std::filesystem::perms mode, std::error_code& ec) noexcept {
        const native_handle_type f = create(relative, mode, ec);
        if (ec) return nullptr;
        try {
            return &files_.emplace_back(tree_file::key(), version_path() / relative, f);
        } catch (...) {
            std::error_code ignored;
            detail::sys::close(f, ignored);
            ec = std::make_error_code(std::errc::not_enough_memory);
            step_ = "add file";
            keep_error(ec, relative);
            return nullptr;
        }
    }
    /// Starts a file to write to; throws filesystem_error naming the step and the file.
    tree_file& add(const std::filesystem::path& relative, std::filesystem::perms mode) {
        std::error_code ec;
        tree_file* f = add(relative, mode, ec);
        if (ec) detail::throw_error(step_, name_, version_path() / relative, ec, commit_state::unchanged);
        return *f;
    }
    /// \overload
    tree_file& add(const std::filesystem::path& relative) {
        std::error_code ec;
        tree_file* f = add(relative, ec);
        if (ec) detail::throw_error(step_, name_, version_path() / relative, ec, commit_state::unchanged);
        return *f;
    }

    /// Makes the directory `relative` (and its parents) in the tree, for an empty one.
    void make_directory(const std::filesystem::path& relative, std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return;
        if (!detail::is_tree_path(relative)) {
            step_ = "check path (a relative path inside the tree, without . or ..)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return keep_error(ec);
        }
        directory_for(native_string_view(relative.native()), ec);
        if (ec) return keep_error(ec);
        step_ = nullptr;
    }
    /// Makes a directory; throws filesystem_error on failure.
    void make_directory(const std::filesystem::path& relative) {
        std::error_code ec;
        make_directory(relative, ec);
        if (ec) detail::throw_error(step_, name_, version_path() / relative, ec, commit_state::unchanged);
    }

    /// Makes the tree durable and publishes it at the stable name in one step, then
    /// removes the versions beyond tree_options::keep. Returns how far it got: an error
    /// before the switch removes the new tree and leaves the stable name as it was
    /// (unchanged); one after it (a sync, the removal of old versions) leaves the new
    /// tree published.
    /// Errors: bad_file_descriptor (not open), an error kept from write_file(),
    /// invalid_argument (a file or, without tree_options::exchange, a real directory at
    /// the stable name; with it, a link), not_supported (exchange where the system has
    /// none), and those of the calls.
    commit_state commit(std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return commit_state::unchanged;
        if (error_) {
            ec = error_;
            step_ = "commit (a write into the tree failed)";
            rollback();
            return commit_state::unchanged;
        }
        // The files still being written are done; every file's bytes are synced before
        // anything else.
        for (tree_file& f : files_) {
            if (f.handed_) continue;
            std::error_code e;
            f.close(e);
            if (e && !error_) {
                error_ = e;
                step_ = f.step_;
                failed_path_ = &f.path_;
            }
        }
        if (!error_) hand_over(true);
        if (error_) {
            ec = error_;
            rollback();
            return commit_state::unchanged;
        }
        sync_directories(ec);
        close_tree(ec);
        if (ec) return abandon();
        step_ = "look at the stable name";
        const detail::sys::file_status at_name = detail::sys::stat_at(parent_, stable_, ec);
        if (ec) return abandon();
        if (exchange_) return commit_exchange(at_name, ec);
        return commit_link(at_name, ec);
    }
    /// Publishes the tree. Throws filesystem_error on a failure before the switch and
    /// durability_error on one after it.
    void commit() {
        std::error_code ec;
        const commit_state s = commit(ec);
        if (ec) detail::throw_error(step_, name_, failed_path_ != nullptr ? *failed_path_ : version_path(), ec, s);
    }

    /// Abandons the tree: removes what was written. Does nothing on a writer that is not
    /// open. Errors while cleaning up are ignored.
    void rollback() noexcept {
        if (parent_ == invalid_handle) return;
        std::error_code ignored;
        close_files();
        close_tree(ignored);
        if (build_[0] != '\0') detail::remove_tree(parent_, build_, ignored);
        build_[0] = '\0';
        detail::sys::close(parent_, ignored);
        parent_ = invalid_handle;
    }

    /// The step that failed last, or null.
    const char* failed_step() const noexcept { return step_; }

private:
    // --- opening ------------------------------------------------------------------

    void open(const std::filesystem::path& name, const tree_options& options, std::error_code& ec) noexcept {
        ec.clear();
        keep_ = options.keep;
        exchange_ = options.exchange;
        mode_ = options.mode;
        max_open_ = options.max_open_files;
        step_ = "check path";
        try {
            name_ = name;
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        detail::file_name(name, stable_, ec);
        if (ec) return;
        if (native_string_view(stable_).size() + 23 > detail::sys::max_name) {
            step_ = "check path (the name is too long for its version directories' names)";
            ec = std::make_error_code(std::errc::filename_too_long);
            return;
        }
        native_char_type* p = prefix_;  // `.NAME.v`
        *p++ = '.';
        p = detail::copy_chars(p, native_string_view(stable_));
        *p++ = '.';
        *p++ = 'v';
        *p = '\0';
        step_ = "open directory";
        parent_ = detail::open_parent(name, ec);
        if (ec) {
            parent_ = invalid_handle;
            return;
        }
        constexpr native_char_type prefix[] = {'.', '\0'};
        constexpr native_char_type suffix[] = {'.', 'b', 'u', 'i', 'l', 'd', '\0'};
        step_ = "create version directory";
        detail::with_random_name(
            build_, prefix, stable_, suffix, ec,
            [&](const native_char_type* n, std::error_code& e) { detail::sys::make_directory(parent_, n, 0777, e); });
        if (ec) {
            build_[0] = '\0';
            return rollback();
        }
        step_ = "open version directory";
        build_dir_ = detail::sys::open_directory(parent_, build_, ec);
        if (ec) {
            build_dir_ = invalid_handle;
            return rollback();
        }
        step_ = nullptr;
    }

    void take(basic_tree_writer& other) noexcept {
        name_ = std::move(other.name_);
        dirs_ = std::move(other.dirs_);
        other.dirs_.clear();
        files_ = std::move(other.files_);  // a deque's elements keep their addresses
        other.files_.clear();
        pending_ = std::move(other.pending_);
        other.pending_.clear();
        const bool own_name = other.failed_path_ == &other.failed_relative_;
        failed_relative_ = std::move(other.failed_relative_);
        failed_path_ = own_name ? &failed_relative_ : std::exchange(other.failed_path_, nullptr);
        other.failed_path_ = nullptr;
        device_ = other.device_;
        max_open_ = other.max_open_;
        group_ = std::move(other.group_);
        parent_ = std::exchange(other.parent_, invalid_handle);
        build_dir_ = std::exchange(other.build_dir_, invalid_handle);
        std::copy(std::begin(other.stable_), std::end(other.stable_), std::begin(stable_));
        std::copy(std::begin(other.build_), std::end(other.build_), std::begin(build_));
        std::copy(std::begin(other.prefix_), std::end(other.prefix_), std::begin(prefix_));
        other.build_[0] = '\0';
        error_ = other.error_;
        step_ = other.step_;
        keep_ = other.keep_;
        exchange_ = other.exchange_;
        mode_ = other.mode_;
    }

    // --- writing ------------------------------------------------------------------

    bool check_open(std::error_code& ec) noexcept {
        if (is_open()) return true;
        step_ = "use tree writer (not open: committed or rolled back)";
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }

    void keep_error(const std::error_code& ec) noexcept {
        if (!error_) error_ = ec;
    }

    /// Keeps the first error, and the file it happened to (for commit()'s message).
    void keep_error(const std::error_code& ec, const std::filesystem::path& relative) noexcept {
        if (error_) return;
        error_ = ec;
        try {
            failed_relative_ = version_path() / relative;
            failed_path_ = &failed_relative_;
        } catch (...) {
            // Without memory for the name, commit() names the version directory.
        }
    }

    /// Makes the file `relative` (and its directories) with the tree's mode, checking
    /// the path first. A failure is kept.
    native_handle_type create(const std::filesystem::path& relative, std::filesystem::perms mode,
                              std::error_code& ec) noexcept {
        ec.clear();
        if (!check_open(ec)) return invalid_handle;
        if (!detail::is_tree_path(relative)) {
            step_ = "check path (a relative path inside the tree, without . or ..)";
            ec = std::make_error_code(std::errc::invalid_argument);
            keep_error(ec, relative);
            return invalid_handle;
        }
        hand_over(false);
        native_char_type leaf[detail::sys::max_name + 1];
        detail::file_name(relative, leaf, ec);
        const native_handle_type dir = ec ? invalid_handle : directory_for(detail::parent_view(relative), ec);
        if (ec) {
            keep_error(ec, relative);
            return invalid_handle;
        }
        step_ = "create file";
        const native_handle_type f = detail::sys::create_file(dir, leaf, 0666, ec);
        if (ec) {
            keep_error(ec, relative);
            return invalid_handle;
        }
        if (mode != std::filesystem::perms::unknown) {
            step_ = "set mode of file";
            detail::sys::set_mode(f, static_cast<unsigned>(mode) & 07777u, ec);
            if (ec) {
                std::error_code ignored;
                detail::sys::close(f, ignored);
                keep_error(ec, relative);
                return invalid_handle;
            }
        }
        step_ = nullptr;
        return f;
    }

    /// A file written whole: waits with the others for its sync.
    void written(native_handle_type f, const std::filesystem::path& relative, std::error_code& ec) noexcept {
        try {
            pending_.push_back({f, nullptr});
        } catch (...) {
            // No memory to wait: synced and closed on its own, now.
            step_ = "sync file";
            sync_.sync_file(f, ec);
            std::error_code e;
            detail::sys::close(f, e);
            if (!ec && e) {
                step_ = "close file";
                ec = e;
            }
            if (ec) keep_error(ec, relative);
            if (!ec) step_ = nullptr;
            return;
        }
        step_ = nullptr;
        if (pending_.size() >= max_open_) sync_pending(ec);
    }

    /// Puts the close()d files from add() with those waiting for their sync; syncs the
    /// group if it reached tree_options::max_open_files, or if `all` (commit).
    void hand_over(bool all) noexcept {
        for (tree_file& f : files_) {
            if (f.handed_ || f.open_) continue;
            if (f.error_) {
                if (!error_) {
                    error_ = f.error_;
                    step_ = f.step_;
                    failed_path_ = &f.path_;
                }
            }
            try {
                pending_.push_back({f.file_, &f});
            } catch (...) {
                continue;  // handed over at commit(), when it closes what is left
            }
            f.handed_ = true;
        }
        std::error_code ec;
        if (!pending_.empty() && (all || pending_.size() >= max_open_)) sync_pending(ec);
    }

    /// Syncs the waiting files with the group policy, then closes them. A failure is
    /// kept (commit() reports it and publishes nothing).
    void sync_pending(std::error_code& ec) noexcept {
        std::vector<sync_item> items;
        if (error_) {
            // The tree will not be published: nothing to sync, only to close.
            close_pending();
            return;
        }
        try {
            items.reserve(pending_.size());
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
        }
        if (!ec && device_ == no_device) {
            step_ = "look at version directory";
            device_ = detail::sys::stat_handle(build_dir_, ec).device;
            if (ec) device_ = no_device;
        }
        if (!ec) {
            for (const waiting& w : pending_) items.push_back({w.file, device_, {}});
            group_.sync_files(std::span<sync_item>(items), sync_step(&sync_, &sync_one<false>, SyncPolicy::durable));
            for (std::size_t i = 0; i < items.size() && !ec; ++i) {
                if (!items[i].error) continue;
                ec = items[i].error;
                step_ = "sync file";
                if (pending_[i].from != nullptr) failed_path_ = &pending_[i].from->path_;
            }
        }
        if (ec) keep_error(ec);
        close_pending();
    }

    /// The sync a group policy issues for one of the tree's files or directories: the
    /// SyncPolicy's (`context` is it).
    template <bool Directory>
    static void sync_one(const void* context, sync_item& item) noexcept {
        const auto* sync = static_cast<const SyncPolicy*>(context);
        if constexpr (Directory)
            sync->sync_directory(item.handle, item.error);
        else
            sync->sync_file(item.handle, item.error);
    }

    /// Closes the files waiting for their sync; a failure is kept.
    void close_pending() noexcept {
        for (const waiting& w : pending_) {
            std::error_code e;
            detail::sys::close(w.file, e);
            if (e && !error_) {
                error_ = e;
                step_ = "close file";
                if (w.from != nullptr) failed_path_ = &w.from->path_;
            }
        }
        pending_.clear();
    }

    /// Closes every file still open (rollback).
    void close_files() noexcept {
        for (tree_file& f : files_) {
            f.end();
            if (f.handed_) continue;
            std::error_code ignored;  // the tree is being removed
            detail::sys::close(f.file_, ignored);
            f.handed_ = true;
        }
        for (const waiting& w : pending_) {
            std::error_code ignored;
            detail::sys::close(w.file, ignored);
        }
        pending_.clear();
    }

    /// Every new directory, deepest paths first, then the version directory itself,
    /// synced with the group policy: a name persists only once the directory that
    /// holds it is flushed.
    void sync_directories(std::error_code& ec) noexcept {
        std::vector<sync_item> items;
        try {
            items.reserve(dirs_.size() + 1);
        } catch (...) {
            step_ = "sync directory in the tree";
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) items.push_back({it->second, device_, {}});
        items.push_back({build_dir_, device_, {}});
        group_.sync_directories(std::span<sync_item>(items), sync_step(&sync_, &sync_one<true>, SyncPolicy::durable));
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (!items[i].error) continue;
            ec = items[i].error;
            step_ = i + 1 == items.size() ? "sync version directory" : "sync directory in the tree";
            return;
        }
    }

    /// The open directory `relative` ("." for the version directory), made with its
    /// parents where missing.
    native_handle_type directory_for(native_string_view relative, std::error_code& ec) noexcept {
        if (relative == native_string_view(detail::current_directory_name)) return build_dir_;
        try {
            native_handle_type at = build_dir_;
            std::size_t start = 0;
            for (std::size_t i = 0; i <= relative.size(); ++i) {
                if (i < relative.size() && !detail::sys::is_separator(relative[i])) continue;
                if (i == start) {  // doubled or trailing separator
                    start = i + 1;
                    continue;
                }
                const detail::native_string so_far(relative.substr(0, i));
                const auto found = dirs_.find(so_far);
                if (found != dirs_.end()) {
                    at = found->second;
                } else {
                    const detail::native_string part(relative.substr(start, i - start));
                    step_ = "create directory in the tree";
                    detail::sys::make_directory(at, part.c_str(), 0777, ec);
                    if (ec) return invalid_handle;
                    step_ = "open directory in the tree";
                    const native_handle_type h = detail::sys::open_directory(at, part.c_str(), ec);
                    if (ec) return invalid_handle;
                    dirs_.emplace(so_far, h);
                    at = h;
                }
                start = i + 1;
            }
            return at;
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return invalid_handle;
        }
    }

    /// Closes the tree's directories (the version directory last), keeping the first
    /// error in `ec` if it is clear.
    void close_tree(std::error_code& ec) noexcept {
        std::error_code e;
        for (auto& entry : dirs_) detail::sys::close(entry.second, e);
        dirs_.clear();
        if (build_dir_ != invalid_handle) detail::sys::close(build_dir_, e);
        build_dir_ = invalid_handle;
        if (e && !ec) {
            step_ = "close directory in the tree";
            ec = e;
        }
    }

    // --- publishing ---------------------------------------------------------------

    /// A failure before the switch: the new tree is removed, the stable name untouched.
    commit_state abandon() noexcept {
        rollback();
        return commit_state::unchanged;
    }

    /// The versions beside the stable name, and the half-built trees of other writers.
    struct versions_found {
        std::vector<std::uint64_t> numbers;         // sorted, highest first
        std::vector<detail::native_string> builds;  // `.NAME.*.build`, not ours
    };

    versions_found find_versions(std::error_code& ec) noexcept {
        versions_found out;
        const native_string_view prefix(prefix_);
        const native_string_view stable(stable_);
        constexpr native_char_type dot_build[] = {'.', 'b', 'u', 'i', 'l', 'd', '\0'};
        // A descriptor of its own: reading moves the descriptor's position.
        const native_handle_type dir = detail::sys::open_directory(parent_, detail::current_directory_name, ec);
        if (ec) return out;
        try {
            detail::sys::directory_reader reader(dir);
            while (const native_char_type* n = reader.next(ec)) {
                const native_string_view v(n);
                if (const std::uint64_t number = detail::version_of(v, prefix); number != 0)
                    out.numbers.push_back(number);
                else if (v.size() == stable.size() + 1 + 1 + detail::random_name_length + 6 && v[0] == '.' &&
                         v.substr(1, stable.size()) == stable &&
                         v.substr(v.size() - 6) == native_string_view(dot_build) && v != native_string_view(build_))
                    out.builds.emplace_back(v);
            }
            std::sort(out.numbers.begin(), out.numbers.end(), [](std::uint64_t a, std::uint64_t b) { return a > b; });
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
        }
        std::error_code ignored;  // read only
        detail::sys::close(dir, ignored);
        return out;
    }

    /// `.NAME.v<number>` into `out`.
    void version_name(std::uint64_t number, native_char_type* out) const noexcept {
        native_char_type* p = detail::copy_chars(out, native_string_view(prefix_));  // fits: checked at open
        native_char_type digits[20];
        int n = 0;
        do {
            digits[n++] = static_cast<native_char_type>('0' + number % 10);
            number /= 10;
        } while (number != 0);
        while (n > 0) *p++ = digits[--n];
        *p = '\0';
    }

    /// The number of the version the stable name's link points to, or 0 if it points
    /// elsewhere.
    std::uint64_t current_version(std::error_code& ec) noexcept {
        native_char_type text[detail::sys::max_name + 1];
        const std::size_t n = detail::sys::read_link(parent_, stable_, text, detail::sys::max_name + 1, ec);
        if (ec == std::errc::filename_too_long) ec.clear();  // longer than any of ours
        if (ec || n == 0) return 0;
        return detail::version_of(native_string_view(text, n), native_string_view(prefix_));
    }

    /// Removes the versions beyond `keep` (of those not above `current`, the highest
    /// kept; `kept` of them are kept already), those above `current` other than
    /// `published` (named, never published), and the half-built trees of earlier
    /// writers.
    void sweep(const versions_found& found, std::uint64_t current, std::uint64_t published, unsigned kept,
               std::error_code& ec) noexcept {
        native_char_type name[detail::sys::max_name + 1];
        for (std::uint64_t number : found.numbers) {
            if (number == published) continue;
            if (number <= current && kept < keep_) {
                ++kept;
                continue;
            }
            version_name(number, name);
            std::error_code e;
            detail::remove_tree(parent_, name, e);
            if (e && !ec) ec = e;
        }
        for (const detail::native_string& b : found.builds) {
            std::error_code e;
            detail::remove_tree(parent_, b.c_str(), e);
            if (e && !ec) ec = e;
        }
    }

    /// The steps after the switch: the parent synced, old versions removed, the parent
    /// closed. Returns published, with the first error if any.
    commit_state finish(const versions_found& found, std::uint64_t current, std::uint64_t published, unsigned kept,
                        std::error_code& ec) noexcept {
        step_ = "sync directory";
        sync_.sync_directory(parent_, ec);
        if (!ec) {
            step_ = "remove old versions (the new tree is in place and durable)";
            sweep(found, current, published, kept, ec);
        }
        std::error_code e;
        detail::sys::close(parent_, e);
        parent_ = invalid_handle;
        if (e && !ec) {
            step_ = "close directory";
            ec = e;
        }
        if (!ec) step_ = nullptr;
        return commit_state::published;
    }

    /// Whether renameat2's RENAME_NOREPLACE is missing here (EINVAL from FUSE and older
    /// NFS, ENOSYS from old kernels), rather than refused.
    static bool no_noreplace(const std::error_code& ec) noexcept {
        return ec == std::errc::invalid_argument || ec == std::errc::function_not_supported ||
               ec == std::errc::operation_not_supported;
    }

    /// Renames the build directory to `version` without replacing anything there:
    /// renameat2(RENAME_NOREPLACE); where the filesystem lacks it, `version` is claimed
    /// by making it (mkdirat fails if it exists), then the build directory is renamed
    /// over that empty directory, which rename(2) allows. A crash in between leaves an
    /// empty version that was never published: the next commit removes it.
    void name_version(const native_char_type* version, std::error_code& ec) noexcept {
        if constexpr (detail::sys::has_rename_noreplace) {
            detail::sys::rename_noreplace(parent_, build_, parent_, version, ec);
            if (!ec || !no_noreplace(ec)) return;
            ec.clear();
        }
        step_ = "name version directory (claim the name: no RENAME_NOREPLACE here)";
        detail::sys::make_directory(parent_, version, 0700, ec);
        if (ec) return;
        step_ = "name version directory";
        detail::sys::rename(parent_, build_, parent_, version, ec);
        if (ec) {
            std::error_code ignored;  // the empty directory just made
            detail::sys::remove_directory(parent_, version, ignored);
        }
    }

    /// Renames the build directory to the stable name, where nothing is (exchange, the
    /// first tree): renameat2(RENAME_NOREPLACE); where the filesystem lacks it, a look
    /// that the name is still free, then rename(2). Not an empty directory made first,
    /// as for a version: readers would find it at the stable name. So there, a
    /// directory made at the name in the instant between the look and the rename is
    /// replaced if empty (rename(2) fails if it is not).
    void publish_first(std::error_code& ec) noexcept {
        if constexpr (detail::sys::has_rename_noreplace) {
            detail::sys::rename_noreplace(parent_, build_, parent_, stable_, ec);
            if (!ec || !no_noreplace(ec)) return;
            ec.clear();
        }
        step_ = "publish the first tree (look again: no RENAME_NOREPLACE here)";
        const detail::sys::file_status st = detail::sys::stat_at(parent_, stable_, ec);
        if (ec) return;
        if (st.kind != detail::sys::file_kind::none) {
            ec = std::make_error_code(std::errc::file_exists);
            return;
        }
        step_ = "publish the first tree";
        detail::sys::rename(parent_, build_, parent_, stable_, ec);
    }

    commit_state commit_link(const detail::sys::file_status& at_name, std::error_code& ec) noexcept {
        if (at_name.kind != detail::sys::file_kind::none && at_name.kind != detail::sys::file_kind::symlink) {
            step_ =
                "look at the stable name (not a symbolic link: a real directory is published with "
                "tree_options::exchange, and a file is never replaced by a tree)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return abandon();
        }
        step_ = "read the stable name's link";
        std::uint64_t current = at_name.kind == detail::sys::file_kind::symlink ? current_version(ec) : 0;
        if (ec) return abandon();
        step_ = "read directory";
        const versions_found found = find_versions(ec);
        if (ec) return abandon();
        // A link to something else than a version: every version counts as published.
        if (current == 0 && !found.numbers.empty()) current = found.numbers.front();
        const std::uint64_t number = (found.numbers.empty() ? 0 : found.numbers.front()) + 1;
        native_char_type version[detail::sys::max_name + 1];
        version_name(number, version);
        step_ = "name version directory";
        name_version(version, ec);
        if (ec) return abandon();
        detail::copy_c_string(build_, version);  // a failure from here removes it by this name
        native_char_type link[detail::sys::max_name + 1];
        constexpr native_char_type prefix[] = {'.', '\0'};
        constexpr native_char_type suffix[] = {'.', 't', 'm', 'p', '\0'};
        step_ = "create temporary link";
        detail::with_random_name(link, prefix, stable_, suffix, ec, [&](const native_char_type* n, std::error_code& e) {
            detail::sys::symlink(version, parent_, n, e);
        });
        if (ec) return abandon();
        std::error_code ignored;
        // The version directory's name must be on disk before a link to it can be: else
        // a crash could keep the switch and lose what it points to.
        step_ = "sync directory (before the switch)";
        sync_.sync_directory(parent_, ec);
        if (!ec) {
            step_ = "switch the stable name";
            detail::sys::rename(parent_, link, parent_, stable_, ec);
        }
        if (ec) {
            detail::sys::unlink(parent_, link, ignored);
            return abandon();
        }
        return finish(found, current, number, 0, ec);
    }

    commit_state commit_exchange(const detail::sys::file_status& at_name, std::error_code& ec) noexcept {
        if (at_name.kind != detail::sys::file_kind::none && at_name.kind != detail::sys::file_kind::directory) {
            step_ =
                "look at the stable name (tree_options::exchange publishes over a real directory, not a link "
                "or a file)";
            ec = std::make_error_code(std::errc::invalid_argument);
            return abandon();
        }
        step_ = "read directory";
        const versions_found found = find_versions(ec);
        if (ec) return abandon();
        std::error_code ignored;
        if (at_name.kind == detail::sys::file_kind::none) {
            // The first version: named at the stable name, exclusively.
            step_ = "publish the first tree";
            publish_first(ec);
            if (ec) return abandon();
            build_[0] = '\0';
            return finish(found, 0, 0, 0, ec);
        }
        if constexpr (!detail::sys::has_rename_exchange) {
            step_ = "exchange (this platform cannot swap two directories in one step)";
            ec = std::make_error_code(std::errc::not_supported);
            return abandon();
        }
        // The new tree's name must be on disk before the exchange can be.
        step_ = "sync directory (before the switch)";
        sync_.sync_directory(parent_, ec);
        if (ec) return abandon();
        step_ = "exchange the stable name";
        detail::sys::rename_exchange(parent_, build_, parent_, stable_, ec);
        if (ec) {
            if (ec == std::errc::function_not_supported || ec == std::errc::operation_not_supported ||
                ec == std::errc::invalid_argument) {
                step_ =
                    "exchange the stable name (this kernel or filesystem cannot swap two directories in one "
                    "step)";
                ec = std::make_error_code(std::errc::not_supported);
            }
            return abandon();
        }
        // The old tree is under the build name now: kept as the newest previous version,
        // or removed.
        const std::uint64_t number = (found.numbers.empty() ? 0 : found.numbers.front()) + 1;
        native_char_type version[detail::sys::max_name + 1];
        version_name(number, version);
        std::error_code keep_ec;
        if (keep_ > 0) {
            step_ = "keep the previous tree";
            detail::sys::rename(parent_, build_, parent_, version, keep_ec);
        } else {
            step_ = "remove the previous tree";
            detail::remove_tree(parent_, build_, keep_ec);
        }
        const char* keep_step = step_;
        build_[0] = '\0';
        // The previous tree just kept counts as one of `keep`.
        const commit_state s = finish(found, number, number, keep_ > 0 ? 1 : 0, ec);
        if (keep_ec) {
            // Left under its build name, the next commit removes it.
            ec = keep_ec;
            step_ = keep_step;
        }
        return s;
    }

    std::filesystem::path parent_path() const {
        std::filesystem::path p = name_.parent_path();
        return p.empty() ? std::filesystem::path(".") : p;
    }

    /// A written file waiting for its sync: the descriptor, and the tree_file it came
    /// from (null for write_file()).
    struct waiting {
        native_handle_type file;
        const tree_file* from;
    };
    static constexpr std::uint64_t no_device = static_cast<std::uint64_t>(-1);

    std::filesystem::path name_;
    std::map<detail::native_string, native_handle_type> dirs_;  // directories made in the tree, by path
    std::deque<tree_file> files_;                               // from add(), in order
    std::vector<waiting> pending_;                              // written, not yet synced
    const std::filesystem::path* failed_path_ = nullptr;        // the file of error_, if known
    std::filesystem::path failed_relative_;                     // its path, for write_file()'s
    std::uint64_t device_ = no_device;                          // the version directory's filesystem
    std::size_t max_open_ = 256;
    native_handle_type parent_ = invalid_handle;
    native_handle_type build_dir_ = invalid_handle;
    native_char_type stable_[detail::sys::max_name + 1] = {};
    native_char_type build_[detail::sys::max_name + 1] = {};
    native_char_type prefix_[detail::sys::max_name + 1] = {};  // `.NAME.v`, of every version's name
    std::error_code error_;
    const char* step_ = nullptr;
    unsigned keep_ = 1;
    bool exchange_ = false;
    std::filesystem::perms mode_ = std::filesystem::perms::unknown;
    ATOMICWRITES_NO_UNIQUE_ADDRESS SyncPolicy sync_{};
    ATOMICWRITES_NO_UNIQUE_ADDRESS GroupPolicy group_{};
};

/// The tree writer with the platform's durable defaults.
using tree_writer = basic_tree_writer<>;

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_TREE_WRITER_HPP
