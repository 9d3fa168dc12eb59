// SPDX-License-Identifier: MIT
/// \file
/// Extended attributes on POSIX systems: list, read and write them (Linux; elsewhere
/// has_xattrs is false and the calls answer "not supported"). Not API: include
/// <atomicwrites/detail/sys.hpp>.
///
/// A replaced file's attributes are read by name, not through a descriptor: the old file
/// may be write-only (no O_RDONLY open), and fgetxattr(2) refuses an O_PATH descriptor.
/// The name is "/proc/self/fd/<directory>/<name>" with the l* calls (one call, no open,
/// no close, the final link not followed); without /proc (ENOENT there), the file is
/// opened read-only and the f* calls are used.
#ifndef ATOMICWRITES_DETAIL_POSIX_XATTR_HPP
#define ATOMICWRITES_DETAIL_POSIX_XATTR_HPP

#include <atomicwrites/detail/posix/file.hpp>

#include <cstddef>
#include <cstdio>
#include <system_error>

#if ATOMICWRITES_LINUX
#include <sys/xattr.h>
#endif

#if ATOMICWRITES_LINUX
#define ATOMICWRITES_HAS_XATTRS 1
#else
/// 1 where the library carries extended attributes over to a replacing file (Linux), else 0.
#define ATOMICWRITES_HAS_XATTRS 0
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// True where list_xattrs, get_xattr and set_xattr exist.
inline constexpr bool has_xattrs = ATOMICWRITES_HAS_XATTRS;

#if ATOMICWRITES_HAS_XATTRS
/// "/proc/self/fd/<dir>/<name>" into `out` (max_path + 32 characters); false if too long.
inline bool proc_path(handle dir, const char* name, char* out, std::size_t capacity) noexcept {
    const int n = std::snprintf(out, capacity, "/proc/self/fd/%d/%s", dir, name);
    return n > 0 && static_cast<std::size_t>(n) < capacity;
}

/// The capacity of a buffer for proc_path().
inline constexpr std::size_t proc_path_size = max_path + 32;

/// The names of the extended attributes of the file `name` in `dir` (when `file` is
/// invalid_handle) or of the open `file`, NUL-separated, into `buf`; returns their total
/// length (0: none). `size` 0 asks for the length only. Errors: ERANGE (`buf` too small),
/// ENOTSUP (no attributes on this filesystem), ENOENT (no such file, or no /proc), ...
inline std::size_t list_xattrs(handle dir, const char* name, handle file, char* buf, std::size_t size,
                               std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::list_xattrs, .file = file, .dir = dir, .name = name, .size = size};
    long r = through_hook(info, [buf](syscall_info& i) -> long {
        if (i.file != invalid_handle) return static_cast<long>(::flistxattr(i.file, buf, i.size));
        char path[proc_path_size];
        if (!proc_path(i.dir, i.name, path, sizeof path)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return static_cast<long>(::llistxattr(path, buf, i.size));
    });
    if (r < 0) {
        set_error(ec);
        return 0;
    }
    return static_cast<std::size_t>(r);
}

/// The value of attribute `attr`, of the file as list_xattrs() names it, into `buf`;
/// returns its length. `size` 0 asks for the length only. Errors: ERANGE, ENODATA (no
/// such attribute), EACCES/EPERM (not readable by this process), ...
inline std::size_t get_xattr(handle dir, const char* name, handle file, const char* attr, char* buf, std::size_t size,
                             std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::get_xattr, .file = file, .dir = dir, .name = name, .name2 = attr, .size = size};
    long r = through_hook(info, [buf](syscall_info& i) -> long {
        if (i.file != invalid_handle) return static_cast<long>(::fgetxattr(i.file, i.name2, buf, i.size));
        char path[proc_path_size];
        if (!proc_path(i.dir, i.name, path, sizeof path)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return static_cast<long>(::lgetxattr(path, i.name2, buf, i.size));
    });
    if (r < 0) {
        set_error(ec);
        return 0;
    }
    return static_cast<std::size_t>(r);
}

/// fsetxattr(2): gives the open `file` attribute `attr` with `size` bytes of `value`.
inline void set_xattr(handle file, const char* attr, const void* value, std::size_t size,
                      std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::set_xattr, .file = file, .name2 = attr, .size = size};
    long r = through_hook(
        info, [value](syscall_info& i) { return static_cast<long>(::fsetxattr(i.file, i.name2, value, i.size, 0)); });
    if (r < 0) set_error(ec);
}
#else
/// Never called (has_xattrs is false): answers ENOTSUP.
inline std::size_t list_xattrs(handle, const char*, handle, char*, std::size_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}
/// Never called (has_xattrs is false): answers ENOTSUP.
inline std::size_t get_xattr(handle, const char*, handle, const char*, char*, std::size_t,
                             std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}
/// Never called (has_xattrs is false): answers ENOTSUP.
inline void set_xattr(handle, const char*, const void*, std::size_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
}
#endif

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_POSIX_XATTR_HPP
