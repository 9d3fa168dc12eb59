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

/// An open directory. Writers made with it (basic_atomic_writer's directory
/// constructors, the directory overloads of write_file() and atomic_write()) work
/// relative to it: they do not open or close the directory themselves, and the commit
/// syncs this handle. A one-shot write_file() into a directory handle makes the system
/// calls of the hand-written sequence and no others: create the temporary file, write,
/// sync it, close it, rename it, sync the directory (with write_options::metadata set
/// to metadata_mode::fresh; the default, preserve, adds one fstatat and, on a replace,
/// one fchmod).
///
/// The handle names the directory itself, not its path: if the directory is renamed
/// while the handle is open, later writes still go into it (path() then names where
/// it was, and is only used in messages). On Windows the handle is opened without
/// FILE_SHARE_DELETE: the directory cannot be renamed or removed while it is open.
///
/// Any number of writers, on any threads, may use one directory at once (they only
/// read the handle). It must outlive them. Movable, not copyable.
class directory {
public:
    /// A handle that names no directory (is_open() is false).
    directory() noexcept = default;

    /// Opens `path` (O_RDONLY|O_DIRECTORY|O_CLOEXEC). Throws filesystem_error, step
    /// "open directory".
    explicit directory(const std::filesystem::path& path) {
        std::error_code ec;
        open(path, ec);
        if (ec) detail::throw_error("open directory", path, {}, ec, commit_state::unchanged);
    }

    /// Opens `path`; on failure sets `ec` and makes a handle that is not open. Errors:
    /// invalid_argument (empty path), not_a_directory, no_such_file_or_directory,
    /// permission_denied, too_many_files_open, not_enough_memory, ...
    directory(const std::filesystem::path& path, std::error_code& ec) noexcept { open(path, ec); }

    /// Closes the directory; errors are ignored (call close() to see them).
    ~directory() {
        std::error_code ignored;
        close(ignored);
    }

    /// Takes over `other`'s handle; `other` is left not open.
    directory(directory&& other) noexcept
        : path_(std::move(other.path_)), handle_(std::exchange(other.handle_, invalid_handle)) {}
    /// Closes this handle, then takes over `other`'s.
    directory& operator=(directory&& other) noexcept {
        if (this != &other) {
            std::error_code ignored;
            close(ignored);
            path_ = std::move(other.path_);
            handle_ = std::exchange(other.handle_, invalid_handle);
        }
        return *this;
    }
    directory(const directory&) = delete;
    directory& operator=(const directory&) = delete;

    /// True between a successful open and close().
    bool is_open() const noexcept { return handle_ != invalid_handle; }

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
        if (ec) handle_ = invalid_handle;
    }

    std::filesystem::path path_;
    native_handle_type handle_ = invalid_handle;
};

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DIRECTORY_HPP
