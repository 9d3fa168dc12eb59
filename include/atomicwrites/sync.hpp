// SPDX-License-Identifier: MIT
/// \file
/// Sync policies: how the temporary file's bytes, and the directory entry that names
/// them, are made durable. See the sync_policy concept.
#ifndef ATOMICWRITES_SYNC_HPP
#define ATOMICWRITES_SYNC_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/detail/sys.hpp>

namespace atomicwrites {
inline namespace v1 {
namespace sync {

/// Syncs nothing: atomic, not durable; for caches and files that can be rebuilt.
/// Durability: none; after a crash the target may hold the old content or, on some
/// filesystems, an empty or partial file (see docs/design-notes.md).
/// Platforms: all. System calls: none. Errors: none.
struct none {
    static constexpr bool durable = false;  ///< a returned commit may not survive a crash
    /// Does nothing.
    void sync_file(native_handle_type, std::error_code&) const noexcept {}
    /// Does nothing.
    void sync_directory(native_handle_type, std::error_code&) const noexcept {}
};
static_assert(sync_policy<none>);

#if ATOMICWRITES_POSIX
/// fdatasync(2) the file, fsync(2) the directory.
/// Durability: the data and its size before the commit, the name after it; the mode and
/// owner may be lost in a crash (never wider than the temporary's).
/// Platforms: POSIX (fsync(2) where fdatasync is missing). System calls: fdatasync, fsync.
/// Errors: EIO, ENOSPC, EDQUOT (delayed allocation), EROFS, EINVAL (cannot be synced).
struct fdatasync {
    static constexpr bool durable = true;  ///< a returned commit survives a crash
    /// fdatasync(2) the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::fdatasync(f, ec); }
    /// fsync(2) the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::fsync(d, ec); }
};
static_assert(sync_policy<fdatasync>);

/// fsync(2) the file and the directory.
/// Durability: data and all metadata before the commit, the name after it; on Apple
/// systems not past the drive's cache (use full_fsync there).
/// Platforms: POSIX. System calls: fsync. Errors: EIO, ENOSPC, EDQUOT, EROFS, EINVAL.
struct fsync {
    static constexpr bool durable = true;  ///< a returned commit survives a crash
    /// fsync(2) the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::fsync(f, ec); }
    /// fsync(2) the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::fsync(d, ec); }
};
static_assert(sync_policy<fsync>);

/// fcntl(F_FULLFSYNC) the file and the directory where the system has it, fsync(2) where
/// it does not or the filesystem refuses it.
/// Durability: the strongest the platform offers (on Apple, past the drive's cache).
/// Platforms: POSIX. System calls: fcntl(F_FULLFSYNC) or fsync. Errors: as fsync.
struct full_fsync {
    static constexpr bool durable = true;  ///< a returned commit survives a crash
    /// F_FULLFSYNC (or fsync(2)) the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::full_fsync(f, ec); }
    /// F_FULLFSYNC (or fsync(2)) the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::full_fsync(d, ec); }
};
static_assert(sync_policy<full_fsync>);
#endif  // ATOMICWRITES_POSIX

#if ATOMICWRITES_WINDOWS
/// FlushFileBuffers the file and the directory (what the C runtime's _commit does).
/// Durability: the file's data and metadata, past the drive's cache, before the commit;
/// the directory's entries after it (see docs/design-notes.md).
/// Platforms: Windows. System calls: FlushFileBuffers (sysop::fsync).
/// Errors: ERROR_ACCESS_DENIED (a handle without write access), ERROR_DISK_FULL,
/// ERROR_WRITE_PROTECT, ERROR_IO_DEVICE, ERROR_INVALID_FUNCTION (a filesystem that
/// cannot flush a directory).
struct commit {
    static constexpr bool durable = true;  ///< a returned commit survives a crash
    /// FlushFileBuffers the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::fsync(f, ec); }
    /// FlushFileBuffers the directory (opened with write access, which the flush needs).
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::fsync(d, ec); }
};
static_assert(sync_policy<commit>);
#endif  // ATOMICWRITES_WINDOWS

}  // namespace sync

namespace detail {
/// Flushes the filesystem that holds the directory `dir` through the file `name` in it
/// (opened read-only, syncfs(2)), for a directory that cannot be flushed itself (a drop
/// box, opened O_PATH). Returns the step to name in an error. POSIX only (elsewhere a
/// directory handle can always be flushed): answers not_supported. System calls:
/// openat, syncfs, close.
inline const char* flush_filesystem_through(native_handle_type dir, const native_char_type* name,
                                            std::error_code& ec) noexcept {
#if ATOMICWRITES_POSIX
    const native_handle_type file = sys::open_file(dir, name, ec);
    if (ec)
        return "sync directory (it cannot be read; opening the new file to flush its filesystem instead "
               "failed)";
    sys::sync_filesystem(file, ec);
    std::error_code ignored;  // read-only: nothing to lose at close
    sys::close(file, ignored);
    if (ec) return "sync directory (it cannot be read; flushing its filesystem instead failed)";
    return "sync directory";
#else
    (void)dir;
    (void)name;
    ec = std::make_error_code(std::errc::not_supported);
    return "sync directory";
#endif
}

/// Makes the target's directory entry durable after the publication with
/// `sync.sync_directory(dir)`. A directory the process may not read (a drop-box
/// directory, opened O_PATH) cannot be flushed (EBADF); a durable policy then flushes
/// the filesystem that holds it instead, through the new file `name`
/// (flush_filesystem_through), and reports a durability error if that cannot be done:
/// never a silently skipped step. Returns the step to name in an error. System calls:
/// the policy's; on EBADF, openat, syncfs and close.
template <class Sync>
const char* sync_target_directory(const Sync& sync, native_handle_type dir, const native_char_type* name,
                                  std::error_code& ec) noexcept {
    sync.sync_directory(dir, ec);
    if constexpr (Sync::durable) {
        if (ec == std::errc::bad_file_descriptor) {
            ec.clear();
            return flush_filesystem_through(dir, name, ec);
        }
    }
    return "sync directory";
}
}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_SYNC_HPP
