// SPDX-License-Identifier: MIT
/// \file
/// Reading a file, and cooperative locks on a lock file beside a target (versions.hpp),
/// on POSIX. Not API: include <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_POSIX_LOCK_HPP
#define ATOMICWRITES_DETAIL_POSIX_LOCK_HPP

#include <atomicwrites/detail/posix/file.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <cerrno>
#include <cstddef>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// Opens a file to read it (O_RDONLY), following symbolic links as any reader does
/// (sysop::open_file).
inline handle open_for_reading(handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    long r = through_hook(
        info, [](syscall_info& i) { return static_cast<long>(::openat(i.dir, i.name, O_RDONLY | O_CLOEXEC)); });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

/// read(2) up to `size` bytes; 0 at the end of the file. Retried on EINTR.
inline std::size_t read_some(handle file, char* buf, std::size_t size, std::error_code& ec) noexcept {
    for (;;) {
        syscall_info info{.op = sysop::read, .file = file, .size = size};
        long r = through_hook(info, [buf](syscall_info& i) -> long { return ::read(i.file, buf, i.size); });
        if (r >= 0) return static_cast<std::size_t>(r);
        if (errno == EINTR) continue;
        set_error(ec);
        return 0;
    }
}

/// Opens (creating it if needed, mode 0666 & ~umask) the lock file `name` in `dir`, for
/// reading and writing: a write lock needs a descriptor open for writing. Never follows
/// a symbolic link at the name (ELOOP), so a planted link cannot make it create a file
/// elsewhere.
inline handle open_lock_file(handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_lock_file, .dir = dir, .name = name, .size = 0666};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(
            ::openat(i.dir, i.name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(i.size)));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

#if defined(F_OFD_SETLKW)
/// Open-file-description locks (Linux 3.15): held by the open file, so two opens in one
/// process exclude each other as two processes do, and released when the last
/// descriptor of it is closed — by the kernel, also when the process dies.
#define ATOMICWRITES_HAS_OFD_LOCKS 1
#else
#define ATOMICWRITES_HAS_OFD_LOCKS 0
#endif

/// Takes the exclusive lock of the whole file `file`: waiting for it (`wait`), or
/// failing with EAGAIN (resource_unavailable_try_again) at once if another open file
/// holds it. A wait is retried on EINTR. F_OFD_SETLK(W) where it exists, else flock(2),
/// whose locks also belong to the open file.
inline void lock(handle file, bool wait, std::error_code& ec) noexcept {
    for (;;) {
        syscall_info info{.op = sysop::lock, .file = file, .size = wait ? 1u : 0u};
        long r = through_hook(info, [](syscall_info& i) -> long {
#if ATOMICWRITES_HAS_OFD_LOCKS
            struct ::flock l {};
            l.l_type = F_WRLCK;
            l.l_whence = SEEK_SET;
            return ::fcntl(i.file, i.size != 0 ? F_OFD_SETLKW : F_OFD_SETLK, &l);
#else
            return ::flock(i.file, LOCK_EX | (i.size != 0 ? 0 : LOCK_NB));
#endif
        });
        if (r >= 0) return;
        if (errno == EINTR && wait) continue;
        if (errno == EACCES || errno == EWOULDBLOCK) errno = EAGAIN;  // fcntl(2): either means "held"
        set_error(ec);
        return;
    }
}

/// Whether lock() without waiting found the lock held by another open file.
inline bool lock_busy(const std::error_code& ec) noexcept { return ec == std::errc::resource_unavailable_try_again; }

/// Releases the lock of `file` and closes it: the close alone releases it at once.
inline void release_lock(handle file, std::error_code& ec) noexcept { close(file, ec); }

/// Releases the lock taken with lock() (closing the file would release it too).
inline void unlock(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::unlock, .file = file};
    long r = through_hook(info, [](syscall_info& i) -> long {
#if ATOMICWRITES_HAS_OFD_LOCKS
        struct ::flock l {};
        l.l_type = F_UNLCK;
        l.l_whence = SEEK_SET;
        return ::fcntl(i.file, F_OFD_SETLK, &l);
#else
        return ::flock(i.file, LOCK_UN);
#endif
    });
    if (r < 0) set_error(ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_POSIX_LOCK_HPP
