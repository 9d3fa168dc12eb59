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
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_SYNC_HPP
