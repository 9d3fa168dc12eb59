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

/// Syncs nothing. Atomic still: readers see the old or the new file, never a mix. Not
/// durable: after a crash the target may hold the old content, or, on filesystems that
/// publish the rename before the data (XFS, btrfs, ext4 with noauto_da_alloc), an empty
/// or partly written file. For caches and files that can be rebuilt.
/// Platforms: all. System calls: none. Errors: none.
struct none {
    /// False: a commit that returned may not survive a crash.
    static constexpr bool durable = false;
    /// Does nothing.
    void sync_file(native_handle_type, std::error_code&) const noexcept {}
    /// Does nothing.
    void sync_directory(native_handle_type, std::error_code&) const noexcept {}
};
static_assert(sync_policy<none>);

#if ATOMICWRITES_POSIX
/// fdatasync(2) the file, fsync(2) the directory. Durable: the data and the metadata
/// needed to read it back (the size) reach stable storage before the commit, the name
/// after it. The file's mode and owner may be lost in a crash (the file keeps the
/// temporary's, never wider). Platforms: POSIX (fsync(2) where fdatasync is missing).
/// Errors: EIO, ENOSPC, EDQUOT (delayed allocation), EROFS, EINVAL (a file that
/// cannot be synced).
struct fdatasync {
    /// True: a commit that returned survives a crash.
    static constexpr bool durable = true;
    /// fdatasync(2) the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::fdatasync(f, ec); }
    /// fsync(2) the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::fsync(d, ec); }
};
static_assert(sync_policy<fdatasync>);

/// fsync(2) the file and the directory. Durable: data and all metadata (mode, owner)
/// before the commit, the name after it. Does not flush a drive's volatile cache on
/// Apple systems (use full_fsync there); on Linux fsync(2) issues the cache flush.
/// Platforms: POSIX. Errors: EIO, ENOSPC, EDQUOT, EROFS, EINVAL.
struct fsync {
    /// True: a commit that returned survives a crash.
    static constexpr bool durable = true;
    /// fsync(2) the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::fsync(f, ec); }
    /// fsync(2) the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::fsync(d, ec); }
};
static_assert(sync_policy<fsync>);

/// fcntl(F_FULLFSYNC) the file and the directory where the system has it (Apple: it asks
/// the drive to flush its cache, which fsync(2) there does not), falling back to
/// fsync(2) when the filesystem refuses it; plain fsync(2) elsewhere. The strongest
/// guarantee the platform offers. Platforms: POSIX. Errors: as fsync.
struct full_fsync {
    /// True: a commit that returned survives a crash.
    static constexpr bool durable = true;
    /// F_FULLFSYNC (or fsync(2)) the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::full_fsync(f, ec); }
    /// F_FULLFSYNC (or fsync(2)) the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::full_fsync(d, ec); }
};
static_assert(sync_policy<full_fsync>);
#endif  // ATOMICWRITES_POSIX

#if ATOMICWRITES_WINDOWS
/// FlushFileBuffers the file and the directory: the seed's `_commit` (what the C
/// runtime's _commit and Python's os.fsync do on Windows). Durable: the file's data and
/// metadata reach the disk, and the disk is asked to flush its cache, before the commit;
/// the directory's entries after it (a directory handle can be flushed when it was
/// opened with write access, as the writer opens it; the documented exception of
/// NtFlushBuffersFileEx's data-only mode confirms the plain flush applies to
/// directories). Platforms: Windows. System calls: FlushFileBuffers (sysop::fsync).
/// Errors: ERROR_ACCESS_DENIED (a handle without write access), ERROR_DISK_FULL,
/// ERROR_WRITE_PROTECT, ERROR_IO_DEVICE, ERROR_INVALID_FUNCTION (a filesystem that
/// cannot flush a directory).
struct commit {
    /// True: a commit that returned survives a crash.
    static constexpr bool durable = true;
    /// FlushFileBuffers the temporary file.
    void sync_file(native_handle_type f, std::error_code& ec) const noexcept { detail::sys::fsync(f, ec); }
    /// FlushFileBuffers the directory.
    void sync_directory(native_handle_type d, std::error_code& ec) const noexcept { detail::sys::fsync(d, ec); }
};
static_assert(sync_policy<commit>);
#endif  // ATOMICWRITES_WINDOWS

}  // namespace sync
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_SYNC_HPP
