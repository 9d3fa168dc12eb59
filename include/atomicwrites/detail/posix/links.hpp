// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on POSIX systems for symbolic links, exchanges and directory
/// trees: symlink, rename_exchange (where has_rename_exchange), make_directory and
/// remove_directory. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_POSIX_LINKS_HPP
#define ATOMICWRITES_DETAIL_POSIX_LINKS_HPP

#include <atomicwrites/detail/posix/file.hpp>

#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#if ATOMICWRITES_LINUX && defined(RENAME_EXCHANGE)
#define ATOMICWRITES_HAS_RENAME_EXCHANGE 1
#else
/// 1 where renameat2(2) takes RENAME_EXCHANGE (Linux 3.15), else 0.
#define ATOMICWRITES_HAS_RENAME_EXCHANGE 0
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// True: POSIX systems make symbolic links for any user.
inline constexpr bool has_symlinks = true;

/// symlinkat(2): makes `name` in `dir` a symbolic link whose text is `text`, failing
/// with EEXIST if the name exists (whatever is there). The text is not looked at (a
/// link may dangle).
inline void symlink(const char* text, handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::symlink, .dir = dir, .name = name, .name2 = text};
    long r = through_hook(info, [](syscall_info& i) { return static_cast<long>(::symlinkat(i.name2, i.dir, i.name)); });
    if (r < 0) set_error(ec);
}

/// True where renameat2(2) with RENAME_EXCHANGE exists.
inline constexpr bool has_rename_exchange = ATOMICWRITES_HAS_RENAME_EXCHANGE;

#if ATOMICWRITES_HAS_RENAME_EXCHANGE
/// renameat2(2) with RENAME_EXCHANGE: swaps what the two names refer to, in one step;
/// both must exist (ENOENT). Filesystems without it answer EINVAL; kernels before 3.15,
/// ENOSYS.
inline void rename_exchange(handle a_dir, const char* a, handle b_dir, const char* b, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::rename_exchange, .dir = a_dir, .name = a, .dir2 = b_dir, .name2 = b};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(::renameat2(i.dir, i.name, i.dir2, i.name2, RENAME_EXCHANGE));
    });
    if (r < 0) set_error(ec);
}
#else
/// Never called (has_rename_exchange is false): answers ENOTSUP.
inline void rename_exchange(handle a_dir, const char* a, handle b_dir, const char* b, std::error_code& ec) noexcept {
    (void)a_dir;
    (void)a;
    (void)b_dir;
    (void)b;
    ec = std::make_error_code(std::errc::not_supported);
}
#endif

/// mkdirat(2): a new directory, `mode` filtered by the umask as for any mkdir(2);
/// EEXIST if the name exists.
inline void make_directory(handle dir, const char* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::make_directory, .dir = dir, .name = name, .size = mode};
    long r = through_hook(
        info, [](syscall_info& i) { return static_cast<long>(::mkdirat(i.dir, i.name, static_cast<mode_t>(i.size))); });
    if (r < 0) set_error(ec);
}

/// unlinkat(2) with AT_REMOVEDIR: removes an empty directory (ENOTEMPTY otherwise).
inline void remove_directory(handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::remove_directory, .dir = dir, .name = name};
    long r =
        through_hook(info, [](syscall_info& i) { return static_cast<long>(::unlinkat(i.dir, i.name, AT_REMOVEDIR)); });
    if (r < 0) set_error(ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_POSIX_LINKS_HPP
