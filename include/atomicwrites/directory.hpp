// SPDX-License-Identifier: MIT
/// \file
/// directory: an open directory that writers reuse, so that a program saving many files
/// in one place opens (and closes) it once instead of once per file.
#ifndef ATOMICWRITES_DIRECTORY_HPP
#define ATOMICWRITES_DIRECTORY_HPP

#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/types.hpp>

#include <filesystem>
#include <system_error>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

/// Where the names given with a directory handle may lead.
enum class name_scope : unsigned char {
    /// As openat(2) resolves them: "..", and symbolic links among the directories of a
    /// name (and, with symlink_mode::follow, the target's links), may lead anywhere the
    /// process may go. The default: a handle is first a way to open a directory once for
    /// many writes, and names that a program makes itself resolve as they would by path.
    anywhere,
    /// Beneath the directory, for names from another source (an archive, a request, a
    /// manifest): "..", absolute symbolic links and links that lead out are refused
    /// with cross_device_link (EXDEV, as Linux's openat2(2) RESOLVE_BENEATH refuses
    /// them), before anything is made; an absolute name is refused as always
    /// (invalid_argument). Linux 5.6 and later: openat2 with RESOLVE_BENEATH, so links
    /// that stay beneath are followed. Other systems and older kernels: a walk, one
    /// openat(2) with O_NOFOLLOW per directory of the name, which refuses a symbolic
    /// link among them (too_many_symbolic_link_levels); ".." that stays beneath is
    /// resolved by name. Windows: the name resolved, then the final path of the
    /// directory reached, must lie beneath the handle's. Costs nothing for a bare name;
    /// else the walk costs one open per directory of the name.
    beneath,
};

/// An open directory that writers work relative to: they neither open nor close it,
/// and the commit syncs this handle. It names the directory, not its path: writes still
/// go into it after it is renamed (path() is then only a name for messages). Any number
/// of writers on any threads may use it at once; it must outlive them. Movable, not
/// copyable.
///
/// Platforms: all; on Windows nobody can rename or remove the directory while it is
/// open (no FILE_SHARE_DELETE). System calls: a one-shot write_file() into it makes
/// those of the hand-written sequence only (create, write, sync, close, rename, sync
/// the directory), plus one fstatat and, on a replace, one fchmod with the default
/// metadata_mode::preserve.
class directory {
public:
    /// A handle that names no directory (is_open() is false).
    directory() noexcept = default;

    /// Opens `path` (O_RDONLY|O_DIRECTORY|O_CLOEXEC; a directory the process may write
    /// and search but not read, a drop box, with O_PATH on Linux); `scope` says where
    /// names given with it may lead. Throws filesystem_error, step "open directory".
    explicit directory(const std::filesystem::path& path, name_scope scope = name_scope::anywhere) : scope_(scope) {
        std::error_code ec;
        open(path, ec);
        if (ec) detail::throw_error("open directory", path, {}, ec, commit_state::unchanged);
    }

    /// Opens `path`; on failure sets `ec` and makes a handle that is not open. Errors:
    /// invalid_argument (empty path), not_a_directory, no_such_file_or_directory,
    /// permission_denied, too_many_files_open, not_enough_memory, ...
    directory(const std::filesystem::path& path, std::error_code& ec) noexcept { open(path, ec); }
    /// The same, with a name_scope.
    directory(const std::filesystem::path& path, name_scope scope, std::error_code& ec) noexcept : scope_(scope) {
        open(path, ec);
    }

    /// Closes the directory; errors are ignored (call close() to see them).
    ~directory() {
        std::error_code ignored;
        close(ignored);
    }

    /// Takes over `other`'s handle; `other` is left not open.
    directory(directory&& other) noexcept
        : path_(std::move(other.path_)), handle_(std::exchange(other.handle_, invalid_handle)), scope_(other.scope_) {}
    /// Closes this handle, then takes over `other`'s.
    directory& operator=(directory&& other) noexcept {
        if (this != &other) {
            std::error_code ignored;
            close(ignored);
            path_ = std::move(other.path_);
            handle_ = std::exchange(other.handle_, invalid_handle);
            scope_ = other.scope_;
        }
        return *this;
    }
    directory(const directory&) = delete;
    directory& operator=(const directory&) = delete;

    /// True between a successful open and close().
    bool is_open() const noexcept { return handle_ != invalid_handle; }

    /// Where names given with this handle may lead.
    name_scope scope() const noexcept { return scope_; }

    /// The path the directory was opened by (for messages; see the class comment).
    const std::filesystem::path& path() const noexcept { return path_; }

    /// The descriptor (POSIX) or handle (Windows); invalid_handle when not open. Do not
    /// close it.
    native_handle_type native_handle() const noexcept { return handle_; }

    /// Closes the directory; the handle is closed even when an error is reported
    /// (close(2) is never retried). Does nothing on a handle that is not open.
    void close(std::error_code& ec) noexcept {
        ec.clear();
        if (handle_ == invalid_handle) return;
        detail::sys::close(handle_, ec);
        handle_ = invalid_handle;
    }
    /// Closes the directory; throws filesystem_error, step "close directory".
    void close() {
        std::error_code ec;
        close(ec);
        if (ec) detail::throw_error("close directory", path_, {}, ec, commit_state::unchanged);
    }

private:
    void open(const std::filesystem::path& path, std::error_code& ec) noexcept {
        ec.clear();
        if (path.empty()) {
            ec = std::make_error_code(std::errc::invalid_argument);
            return;
        }
        try {
            path_ = path;
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return;
        }
        handle_ = detail::sys::open_directory(detail::sys::current_directory, path_.c_str(), ec);
        if (ec == std::errc::permission_denied) {
            // A directory that may be written and searched but not read (a drop box):
            // opened for name-relative work only; a durable commit flushes its
            // filesystem instead of it (see detail::sync_target_directory).
            std::error_code again;
            handle_ = detail::sys::open_directory_path_only(detail::sys::current_directory, path_.c_str(), again);
            if (!again) ec.clear();
        }
        if (ec) handle_ = invalid_handle;
    }

    std::filesystem::path path_;
    native_handle_type handle_ = invalid_handle;
    name_scope scope_ = name_scope::anywhere;
};

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DIRECTORY_HPP
