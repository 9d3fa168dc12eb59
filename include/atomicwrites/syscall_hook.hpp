// SPDX-License-Identifier: MIT
/// \file
/// The system-call seam: observe, count or fail any operation the library asks of the
/// operating system, per thread, without LD_PRELOAD, macros or a mocked filesystem.
///
/// Every operation of the library goes through detail::sys, and every function there
/// asks the hook installed on the calling thread (if any) before it makes its system
/// call. The hook may let the call happen, fail it with an error number of its choice
/// (the call is then not made), or, for writes, shorten it. Retry loops (EINTR, short
/// writes, Windows' transient sharing violations) sit above the seam, so an injected
/// error is retried exactly as a real one.
///
/// Error numbers are the platform's own: errno values on POSIX, GetLastError() values
/// (ERROR_ACCESS_DENIED, ...) on Windows. Names are in the system's characters
/// (native_char_type: UTF-16 on Windows).
///
/// With no hook installed the cost is one thread-local load per system call.
#ifndef ATOMICWRITES_SYSCALL_HOOK_HPP
#define ATOMICWRITES_SYSCALL_HOOK_HPP

#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace atomicwrites {
inline namespace v1 {

/// The operations of the OS layer, one per kind of system call. The Windows call each
/// one stands for is given after the POSIX one.
enum class sysop : unsigned char {
    open_directory,    ///< open(2)/openat(2) of a directory (O_DIRECTORY); CreateFileW
    open_file,         ///< openat(2) of an existing file, read-only (to sync it, or a stale temporary
                       ///< file remove_stale_temps() looks at); CreateFileW (for the sweep with
                       ///< DELETE access, sharing reading only)
    stat,              ///< fstatat(2) without following links; GetFileAttributesExW. With `file`
                       ///< set and no name: fstat(2); GetFileInformationByHandle(Ex)
    readlink,          ///< readlinkat(2); DeviceIoControl(FSCTL_GET_REPARSE_POINT)
    create_file,       ///< openat(2) with O_CREAT|O_EXCL|O_NOFOLLOW; CreateFileW(CREATE_NEW)
    create_anonymous,  ///< openat(2) with O_TMPFILE (Linux only)
    write,             ///< write(2); WriteFile. `size` may be lowered by the hook (a short write)
    fsync,             ///< fsync(2); FlushFileBuffers
    fdatasync,         ///< fdatasync(2) (POSIX only)
    full_fsync,        ///< fcntl(F_FULLFSYNC) where it exists (POSIX only)
    chmod,             ///< fchmod(2); SetFileInformationByHandle(FileBasicInfo): the read-only
                       ///< attribute. On Windows also by name (`file` unused), to clear the
                       ///< read-only attribute of a file a rename replaces or an unlink removes
    chown,             ///< fchown(2); never made on Windows (owners are security descriptors)
    rename,            ///< renameat(2); MoveFileExW(MOVEFILE_REPLACE_EXISTING), or, with
                       ///< `file` set, SetFileInformationByHandle(FileRenameInfoEx)
    rename_noreplace,  ///< renameat2(2) with RENAME_NOREPLACE; MoveFileExW without
                       ///< MOVEFILE_REPLACE_EXISTING, or, with `file` set,
                       ///< SetFileInformationByHandle(FileRenameInfoEx) without replacing
    link,              ///< linkat(2) of a named file; CreateHardLinkW
    link_anonymous,    ///< linkat(2) of an open anonymous file (Linux only)
    unlink,            ///< unlinkat(2); DeleteFileW, or, with `file` set (remove_stale_temps()),
                       ///< SetFileInformationByHandle(FileDispositionInfoEx or FileDispositionInfo)
    close,             ///< close(2); CloseHandle. A failure the hook injects still releases the
                       ///< descriptor (the call is made, after() is not called), as a real
                       ///< failed close(2) does on Linux: a failed close never leaks
    read_directory,    ///< getdents64(2) (Linux) or readdir(3): the next names of a directory;
                       ///< FindFirstFileExW, then FindNextFileW: the next name
    lease,             ///< fcntl(F_SETLEASE, F_RDLCK): is a file open for writing anywhere? (Linux only)
    list_xattrs,       ///< llistxattr(2) of the file `name` in `dir` (through /proc/self/fd), or
                       ///< flistxattr(2) of `file` (Linux only)
    get_xattr,         ///< lgetxattr(2) or fgetxattr(2) of attribute `name2`, as list_xattrs (Linux only)
    set_xattr,         ///< fsetxattr(2) of attribute `name2` on `file`; `size` is the value's (Linux only)
    open_beneath,      ///< opening the directory `name` without leaving `dir` (a confining
                       ///< directory handle): openat2(2) with RESOLVE_BENEATH, or a walk of
                       ///< openat(2) with O_NOFOLLOW per component; on Windows CreateFileW
                       ///< and a check of the final path. `size` is 1 for a search-only open
    symlink,           ///< symlinkat(2): makes `name` in `dir` a symbolic link whose text is
                       ///< `name2` (`dir2` unused); CreateSymbolicLinkW
    rename_exchange,   ///< renameat2(2) with RENAME_EXCHANGE (Linux only)
    make_directory,    ///< mkdirat(2), `size` the mode; CreateDirectoryW
    remove_directory,  ///< unlinkat(2) with AT_REMOVEDIR; RemoveDirectoryW
    syncfs,            ///< syncfs(2): flush the whole filesystem holding `file` (Linux only; group::syncfs)
    clone,             ///< ioctl(FICLONE) (Linux): `file` becomes a copy of the file `dir` sharing its
                       ///< blocks (reflink; write_options::start); on Windows block cloning
                       ///< (FSCTL_DUPLICATE_EXTENTS_TO_FILE with what it needs first: the size, the
                       ///< sparse and integrity settings), one seam call for the whole copy
    copy_range,        ///< copy_file_range(2) (Linux): up to `size` bytes from the file `dir` to `file`,
                       ///< at both files' positions; not made on Windows
    read,              ///< read(2) of up to `size` bytes from `file` (a copy of the target done by
                       ///< hand, read_file()); ReadFile
    pwrite,            ///< pwrite(2) of `size` bytes to `file` at `offset`; `size` may be lowered by
                       ///< the hook, as for write; WriteFile with the offset in an OVERLAPPED (the
                       ///< position put back)
    truncate,          ///< ftruncate(2) of `file` to `size` bytes; SetFileInformationByHandle
                       ///< (FileEndOfFileInfo)
    seek,              ///< lseek(2) of `file` to `offset` (`size` 0: from the start, 1: from the
                       ///< position, 2: from the end); SetFilePointerEx
    fallocate,         ///< fallocate(2) with FALLOC_FL_KEEP_SIZE (Linux): reserves `size` bytes of
                       ///< `file` at `offset` (write_options::prealloc); SetFileInformationByHandle
                       ///< (FileAllocationInfo) when the file has less
    statfs,            ///< fstatfs(2) of `file`: which filesystem holds it (Linux: prealloc_mode::automatic,
                       ///< the sweep on NFS); not made on Windows
    open_lock_file,    ///< openat(2) with O_RDWR|O_CREAT|O_NOFOLLOW of the lock file `name` beside a
                       ///< target (write_options::lock, update_file()); CreateFileW(OPEN_ALWAYS)
    lock,              ///< fcntl(2) F_OFD_SETLK (`size` 0) or F_OFD_SETLKW (`size` 1) of the whole lock
                       ///< file `file` for writing (flock(2) where there are no OFD locks); LockFileEx
    unlock,            ///< fcntl(2) F_OFD_SETLK with F_UNLCK (flock(2) LOCK_UN); UnlockFileEx
    read_umask,        ///< the umask read without changing it: the "Umask:" line of /proc/self/status
                       ///< (Linux 4.7 and later; open, read, close as one operation). For
                       ///< write_options::create_mode with owner_ids; not made on Windows
    open_processes,    ///< openat(2) of /proc (`name` "/proc") or of a process's descriptors (`name`
                       ///< "PID/fd" in `dir`, the /proc handle): remove_stale_temps() looking for
                       ///< the files open on this machine (Linux only)
    read_processes,    ///< getdents64(2) of /proc, or of a process's descriptors (`name` "PID/fd")
                       ///< (Linux only)
    stat_open_file,    ///< statx(2) with AT_STATX_DONT_SYNC of "PID/fd/N" (`name`) in `dir` (/proc),
                       ///< following the link: the file a process's descriptor refers to (Linux only)
};

/// The name of an operation, as used in error messages and traces.
constexpr std::string_view to_string(sysop op) noexcept {
    constexpr std::string_view names[] = {
        "open_directory", "open_file",
        "stat",           "readlink",
        "create_file",    "create_anonymous",
        "write",          "fsync",
        "fdatasync",      "full_fsync",
        "chmod",          "chown",
        "rename",         "rename_noreplace",
        "link",           "link_anonymous",
        "unlink",         "close",
        "read_directory", "lease",
        "list_xattrs",    "get_xattr",
        "set_xattr",      "open_beneath",
        "symlink",        "rename_exchange",
        "make_directory", "remove_directory",
        "syncfs",         "clone",
        "copy_range",     "read",
        "pwrite",         "truncate",
        "seek",           "fallocate",
        "statfs",         "open_lock_file",
        "lock",           "unlock",
        "read_umask",     "open_processes",
        "read_processes", "stat_open_file",
    };
    return names[static_cast<unsigned>(op)];
}

/// The number of sysop values.
inline constexpr unsigned sysop_count = static_cast<unsigned>(sysop::stat_open_file) + 1;

/// One operation as the hook sees it. Unused fields are invalid_handle / nullptr / 0.
struct syscall_info {
    /// The operation.
    sysop op;
    /// The file the call acts on (write, sync, chmod, chown, close, link_anonymous).
    native_handle_type file = invalid_handle;
    /// The directory `name` is relative to.
    native_handle_type dir = invalid_handle;
    /// The name, relative to `dir` (or a path when `dir` is the current directory).
    const native_char_type* name = nullptr;
    /// The second directory and name (rename, link: the new name).
    native_handle_type dir2 = invalid_handle;
    /// The second name, relative to dir2.
    const native_char_type* name2 = nullptr;
    /// Bytes to write (write); mode bits (create_file, create_anonymous, chmod).
    std::size_t size = 0;
    /// Where in `file` (pwrite, seek, fallocate).
    std::uint64_t offset = 0;
};

/// Observes, and may fail, the operations of the calling thread. Install with
/// scoped_syscall_hook.
class syscall_hook {
public:
    virtual ~syscall_hook() = default;
    /// Called before each system call. Return 0 to make the call, or an error number
    /// (errno; GetLastError() value on Windows) to fail it with that error without making
    /// it (sysop::close excepted: the descriptor is released all the same). For sysop::write the hook may lower
    /// `info.size` (not to zero) to make a short write.
    virtual int before(syscall_info& info) noexcept {
        (void)info;
        return 0;
    }
    /// Called after each call that was made, with its error number (0 on success).
    virtual void after(const syscall_info& info, int error) noexcept {
        (void)info;
        (void)error;
    }
};

/// A hook that counts the calls made on its thread, by operation (calls it did not
/// make, failed by an enclosing hook, are not counted: hooks do not chain). For
/// measuring what a write costs:
///
///     atomicwrites::syscall_counter calls;
///     {
///         atomicwrites::scoped_syscall_hook counting(calls);
///         atomicwrites::write_file("state.bin", data, {.overwrite = true});
///     }
///     calls.total();  // 11 for the default writer replacing a file
class syscall_counter : public syscall_hook {
public:
    void after(const syscall_info& info, int error) noexcept override {
        (void)error;
        ++counts_[static_cast<unsigned>(info.op)];
    }
    /// The calls of operation `op` made so far.
    unsigned long count(sysop op) const noexcept { return counts_[static_cast<unsigned>(op)]; }
    /// All calls made so far.
    unsigned long total() const noexcept {
        unsigned long n = 0;
        for (unsigned long c : counts_) n += c;
        return n;
    }
    /// Starts counting again from zero.
    void reset() noexcept {
        for (unsigned long& c : counts_) c = 0;
    }

private:
    unsigned long counts_[sysop_count] = {};
};

namespace detail {
/// The hook of this thread; null when none is installed.
inline thread_local constinit syscall_hook* current_hook = nullptr;
}  // namespace detail

/// Installs a hook on the calling thread for its lifetime, restoring the previous one
/// afterwards (hooks nest).
class scoped_syscall_hook {
public:
    /// Installs `hook` on the calling thread.
    explicit scoped_syscall_hook(syscall_hook& hook) noexcept : previous_(detail::current_hook) {
        detail::current_hook = &hook;
    }
    ~scoped_syscall_hook() { detail::current_hook = previous_; }
    scoped_syscall_hook(const scoped_syscall_hook&) = delete;
    scoped_syscall_hook& operator=(const scoped_syscall_hook&) = delete;

private:
    syscall_hook* previous_;
};

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_SYSCALL_HOOK_HPP
