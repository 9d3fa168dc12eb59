// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on POSIX systems for starting a file as a copy of another and
/// editing it in place: clone (FICLONE), copy_range (copy_file_range), read, pwrite_all,
/// truncate, seek, allocate (fallocate), filesystem_type (fstatfs), open_to_copy. Not API: include
/// <atomicwrites/detail/sys.hpp>. Every call goes through the thread's syscall_hook.
#ifndef ATOMICWRITES_DETAIL_POSIX_COPY_HPP
#define ATOMICWRITES_DETAIL_POSIX_COPY_HPP

#include <atomicwrites/detail/posix/file.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>
#if ATOMICWRITES_LINUX
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// True where a file can be made to share another's blocks (FICLONE, Linux).
#if ATOMICWRITES_LINUX && defined(FICLONE)
inline constexpr bool has_clone = true;
#else
inline constexpr bool has_clone = false;
#endif

/// True where the kernel copies between two files itself (copy_file_range, Linux).
inline constexpr bool has_copy_range = ATOMICWRITES_LINUX;

/// True where a file can be read, written at an offset, cut and positioned (POSIX).
inline constexpr bool has_positioned_io = true;

/// Whether an error of clone or copy_range says that this method cannot copy these
/// files (another filesystem, no support in the filesystem or the kernel), so that the
/// next method should be tried; any other error is the copy's failure.
inline bool is_copy_unsupported(const std::error_code& ec) noexcept {
    if (ec.category() != std::system_category() && ec.category() != std::generic_category()) return false;
    switch (ec.value()) {
        case EXDEV:
        case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
        case ENOTSUP:
#endif
        case EINVAL:
        case ENOSYS:
        case ENOTTY:
            return true;
        default:
            return false;
    }
}

/// ioctl(FICLONE): `to` becomes a copy of `from` sharing its blocks (btrfs, XFS with
/// reflink, bcachefs). The positions of both files are unchanged. Filesystems without
/// reflinks answer EOPNOTSUPP (ext4), ENOTTY (tmpfs) or EINVAL; two filesystems, EXDEV.
inline void clone(handle to, handle from, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::clone, .file = to, .dir = from};
    long r = through_hook(info, [](syscall_info& i) -> long {
#if ATOMICWRITES_LINUX && defined(FICLONE)
        return ::ioctl(i.file, FICLONE, i.dir);
#else
        (void)i;
        errno = EOPNOTSUPP;
        return -1;
#endif
    });
    if (r < 0) set_error(ec);
}

/// copy_file_range(2): copies up to `size` bytes from `from` to `to`, each at its
/// position, which both advance; returns the bytes copied (0 at the end of `from`).
/// Retries EINTR. Kernels before 5.3 answer EXDEV between two filesystems; filesystems
/// that cannot, EOPNOTSUPP or EINVAL; kernels without it, ENOSYS.
inline std::size_t copy_range(handle to, handle from, std::size_t size, std::error_code& ec) noexcept {
    for (;;) {
        syscall_info info{.op = sysop::copy_range, .file = to, .dir = from, .size = size};
        long r = through_hook(info, [](syscall_info& i) -> long {
#if ATOMICWRITES_LINUX
            const ssize_t n = ::copy_file_range(i.dir, nullptr, i.file, nullptr, i.size, 0);
            return n;
#else
            (void)i;
            errno = ENOSYS;
            return -1;
#endif
        });
        if (r >= 0) return static_cast<std::size_t>(r);
        if (errno == EINTR) continue;
        set_error(ec);
        return 0;
    }
}

/// read(2) of up to `size` bytes at the position; returns the bytes read (0 at the end).
/// Retries EINTR.
inline std::size_t read(handle file, void* buffer, std::size_t size, std::error_code& ec) noexcept {
    for (;;) {
        syscall_info info{.op = sysop::read, .file = file, .size = size < 0x7ffff000u ? size : 0x7ffff000u};
        long r = through_hook(info, [buffer](syscall_info& i) -> long { return ::read(i.file, buffer, i.size); });
        if (r >= 0) return static_cast<std::size_t>(r);
        if (errno == EINTR) continue;
        set_error(ec);
        return 0;
    }
}

/// pwrite(2) of all of [data, data + size) at `offset`, retrying EINTR and short writes;
/// the position is unchanged.
inline void pwrite_all(handle file, const void* data, std::size_t size, std::uint64_t offset,
                       std::error_code& ec) noexcept {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        syscall_info info{
            .op = sysop::pwrite, .file = file, .size = size < 0x7ffff000u ? size : 0x7ffff000u, .offset = offset};
        long r = through_hook(
            info, [p](syscall_info& i) -> long { return ::pwrite(i.file, p, i.size, static_cast<off_t>(i.offset)); });
        if (r < 0) {
            if (errno == EINTR) continue;
            set_error(ec);
            return;
        }
        if (r == 0) {
            ec = std::make_error_code(std::errc::io_error);
            return;
        }
        p += r;
        size -= static_cast<std::size_t>(r);
        offset += static_cast<std::uint64_t>(r);
    }
}

/// ftruncate(2): cuts or extends (with zeros) `file` to `size` bytes.
inline void truncate(handle file, std::uint64_t size, std::error_code& ec) noexcept {
    if (size > static_cast<std::uint64_t>(INT64_MAX)) {
        ec = std::make_error_code(std::errc::file_too_large);
        return;
    }
    syscall_info info{.op = sysop::truncate, .file = file, .size = static_cast<std::size_t>(size)};
    long r;
    do {
        r = through_hook(info, [](syscall_info& i) -> long { return ::ftruncate(i.file, static_cast<off_t>(i.size)); });
    } while (r < 0 && errno == EINTR);
    if (r < 0) set_error(ec);
}

/// Where seek() counts from.
enum class seek_from : unsigned char { start = 0, position = 1, end = 2 };

/// lseek(2); returns the new position. `offset` is signed for seek_from::position and
/// seek_from::end (two's complement in the unsigned field).
inline std::uint64_t seek(handle file, std::int64_t offset, seek_from from, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::seek,
                      .file = file,
                      .size = static_cast<std::size_t>(from),
                      .offset = static_cast<std::uint64_t>(offset)};
    long long position = -1;
    long r = through_hook(info, [&position](syscall_info& i) -> long {
        const int whence = i.size == 0 ? SEEK_SET : i.size == 1 ? SEEK_CUR : SEEK_END;
        position =
            static_cast<long long>(::lseek(i.file, static_cast<off_t>(static_cast<std::int64_t>(i.offset)), whence));
        return position < 0 ? -1 : 0;
    });
    if (r < 0) {
        set_error(ec);
        return 0;
    }
    return static_cast<std::uint64_t>(position);
}

/// True where space can be reserved without changing a file's size (Linux).
inline constexpr bool has_allocate = ATOMICWRITES_LINUX;

/// fallocate(2) with FALLOC_FL_KEEP_SIZE (Linux): reserves `size` bytes of `file` from
/// `offset` without changing its size. Filesystems without it answer EOPNOTSUPP. Where
/// has_allocate is false: not_supported, no call made.
inline void allocate(handle file, std::uint64_t offset, std::uint64_t size, std::error_code& ec) noexcept {
#if ATOMICWRITES_LINUX
    syscall_info info{.op = sysop::fallocate, .file = file, .size = static_cast<std::size_t>(size), .offset = offset};
    long r;
    do {
        r = through_hook(info, [](syscall_info& i) -> long {
            return ::fallocate(i.file, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(i.offset), static_cast<off_t>(i.size));
        });
    } while (r < 0 && errno == EINTR);
    if (r < 0) set_error(ec);
#else
    (void)file;
    (void)offset;
    (void)size;
    ec = std::make_error_code(std::errc::not_supported);
#endif
}

/// The type of the filesystem holding `file` (fstatfs(2)'s f_type, Linux's magic
/// numbers: 0xEF53 ext2/3/4, 0x58465342 XFS, 0x9123683E btrfs, 0x01021994 tmpfs); 0
/// where it is not known (not Linux).
inline std::uint64_t filesystem_type(handle file, std::error_code& ec) noexcept {
#if ATOMICWRITES_LINUX
    struct ::statfs st {};
    syscall_info info{.op = sysop::statfs, .file = file};
    long r = through_hook(info, [&st](syscall_info& i) -> long { return ::fstatfs(i.file, &st); });
    if (r < 0) {
        set_error(ec);
        return 0;
    }
    return static_cast<std::uint64_t>(static_cast<unsigned long>(st.f_type)) & 0xffffffffu;
#else
    (void)file;
    (void)ec;
    return 0;
#endif
}

/// Opens the target of a copy (write_options::start) for reading: open_file(), which
/// is read-only here (Windows needs a handle of its own for this).
inline handle open_to_copy(handle dir, const char* name, std::error_code& ec) noexcept {
    return open_file(dir, name, ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_POSIX_COPY_HPP
