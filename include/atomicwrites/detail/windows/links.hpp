// SPDX-License-Identifier: MIT
/// \file
/// Windows: symbolic links, the exchange it does not have, and making and removing
/// directories. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_LINKS_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_LINKS_HPP

#include <atomicwrites/detail/windows/path.hpp>
#include <atomicwrites/detail/windows/retry.hpp>

#include <string>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// True: Windows makes symbolic links where the process may (an administrator, or any
/// user with Developer Mode on); elsewhere CreateSymbolicLinkW answers
/// ERROR_PRIVILEGE_NOT_HELD.
inline constexpr bool has_symlinks = true;

/// SYMBOLIC_LINK_FLAG_DIRECTORY and SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE (Windows
/// 10 1703), spelled out for older SDKs.
inline constexpr DWORD symlink_flag_directory = 0x1;
inline constexpr DWORD symlink_flag_unprivileged = 0x2;

/// CreateSymbolicLinkW: makes `name` in `dir` a symbolic link whose text is `text`,
/// failing with ERROR_ALREADY_EXISTS if the name exists. Windows tells links to
/// directories from links to files: a text that names a directory now (relative to
/// `dir`, as the link will resolve it) makes a directory link. Asks for an unprivileged
/// link first; a system older than 1703 refuses that flag (ERROR_INVALID_PARAMETER),
/// and is asked again without it.
inline void symlink(const wchar_t* text, handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::symlink, .dir = dir, .name = name, .name2 = text};
    const bool ok = through_hook(info, [](syscall_info& i) {
        std::wstring full;
        std::wstring target;
        if (!path_in(i.dir, i.name, full) || !path_in(i.dir, i.name2, target)) return false;
        const DWORD attributes = ::GetFileAttributesW(target.c_str());
        const bool is_directory = attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
        const DWORD kind = is_directory ? symlink_flag_directory : 0;
        bool made = ::CreateSymbolicLinkW(full.c_str(), i.name2, kind | symlink_flag_unprivileged) != 0;
        if (!made && ::GetLastError() == ERROR_INVALID_PARAMETER)
            made = ::CreateSymbolicLinkW(full.c_str(), i.name2, kind) != 0;
        if (!made) return false;
        // Wine answers success and makes nothing: a link that is not there was not made.
        if (::GetFileAttributesW(full.c_str()) == INVALID_FILE_ATTRIBUTES &&
            (::GetLastError() == ERROR_FILE_NOT_FOUND || ::GetLastError() == ERROR_PATH_NOT_FOUND)) {
            ::SetLastError(ERROR_NOT_SUPPORTED);
            return false;
        }
        return true;
    });
    if (!ok) set_error(ec);
}

/// False: Windows has no call that swaps two names in one step.
inline constexpr bool has_rename_exchange = false;

/// Never called (has_rename_exchange is false): answers not_supported.
inline void rename_exchange(handle a_dir, const wchar_t* a, handle b_dir, const wchar_t* b,
                            std::error_code& ec) noexcept {
    (void)a_dir;
    (void)a;
    (void)b_dir;
    (void)b;
    ec = std::make_error_code(std::errc::not_supported);
}

/// CreateDirectoryW: a new directory with the security its parent gives (`mode` is not
/// used: Windows has no POSIX modes); ERROR_ALREADY_EXISTS if the name exists.
inline void make_directory(handle dir, const wchar_t* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::make_directory, .dir = dir, .name = name, .size = mode};
    const bool ok = through_hook(info, [](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        return ::CreateDirectoryW(full.c_str(), nullptr) != 0;
    });
    if (!ok) set_error(ec);
}

/// RemoveDirectoryW: removes an empty directory (ERROR_DIR_NOT_EMPTY otherwise), or a
/// link to a directory (the link, not what it names).
inline void remove_directory(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::remove_directory, .dir = dir, .name = name};
    const bool ok = retry_transient([&info] {
        return through_hook(info, [](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            return ::RemoveDirectoryW(full.c_str()) != 0;
        });
    });
    if (!ok) set_error(ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_LINKS_HPP
