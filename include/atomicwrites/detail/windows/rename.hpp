// SPDX-License-Identifier: MIT
/// \file
/// Windows: renaming, linking and removing names. Not API: include
/// <atomicwrites/detail/sys.hpp>.
///
/// Read-only files. rename(2) replaces and unlink(2) removes a file whatever its mode;
/// MoveFileExW and DeleteFileW refuse a file with FILE_ATTRIBUTE_READONLY. rename and
/// unlink here clear the attribute of the file they replace or remove when the system
/// refuses, and put it back if the call still fails. A directory in the way of a rename
/// is reported at once as is_a_directory, as rename(2) reports it, not retried.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_RENAME_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_RENAME_HPP

#include <atomicwrites/detail/windows/file.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// Makes `attempt` (a call that replaces or removes the file `name` in `dir`), retrying
/// transient answers. On the first access-denied answer it looks at what is there: a
/// read-only file has its attribute cleared and the call made once more (the attribute
/// is restored if the call still fails); a directory can never be replaced, so the
/// call is not retried and `directory` is set.
template <class Attempt>
inline bool replacing(handle dir, const wchar_t* name, bool& directory, Attempt&& attempt) noexcept {
    bool checked = false;
    bool cleared = false;
    bool lasting = false;
    const bool ok = retry_transient(
        [&] {
            if (attempt()) return true;
            if (checked || ::GetLastError() != ERROR_ACCESS_DENIED) return false;
            checked = true;
            std::error_code e;
            const file_status st = stat_at(dir, name, e);
            if (!e && st.kind == file_kind::directory) directory = lasting = true;
            if (e || st.kind != file_kind::regular || (st.mode & 0222u) != 0) {
                ::SetLastError(ERROR_ACCESS_DENIED);
                return false;
            }
            set_mode_at(dir, name, 0666, e);
            if (e) {
                ::SetLastError(ERROR_ACCESS_DENIED);
                return false;
            }
            cleared = true;
            return attempt();
        },
        lasting);
    if (!ok && cleared) {
        const DWORD error = ::GetLastError();
        std::error_code ignored;
        set_mode_at(dir, name, 0444, ignored);  // the file is still there: as it was
        ::SetLastError(error);
    }
    return ok;
}

/// Reports a failed replacement: the library's own is_a_directory (EISDIR, what
/// rename(2) answers) for a directory in the way, the system's error otherwise.
inline void set_replace_error(bool directory, std::error_code& ec) noexcept {
    if (directory)
        ec = std::make_error_code(std::errc::is_a_directory);
    else
        set_error(ec);
}

/// MoveFileExW with MOVEFILE_WRITE_THROUGH and `flags`, by the names in their
/// directories.
inline void move_file(sysop op, DWORD flags, handle from_dir, const wchar_t* from, handle to_dir, const wchar_t* to,
                      std::error_code& ec) noexcept {
    syscall_info info{.op = op, .dir = from_dir, .name = from, .dir2 = to_dir, .name2 = to};
    auto attempt = [&info, flags] {
        return through_hook(info, [flags](syscall_info& i) {
            std::wstring source;
            std::wstring target;
            if (!path_in(i.dir, i.name, source) || !path_in(i.dir2, i.name2, target)) return false;
            return ::MoveFileExW(source.c_str(), target.c_str(), flags | MOVEFILE_WRITE_THROUGH) != 0;
        });
    };
    bool directory = false;
    const bool ok =
        (flags & MOVEFILE_REPLACE_EXISTING) != 0 ? replacing(to_dir, to, directory, attempt) : retry_transient(attempt);
    if (!ok) set_replace_error(directory, ec);
}

/// MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH): replaces `to` (if it
/// exists, read-only or not) with `from`. A directory at `to` gives is_a_directory.
inline void rename(handle from_dir, const wchar_t* from, handle to_dir, const wchar_t* to,
                   std::error_code& ec) noexcept {
    move_file(sysop::rename, MOVEFILE_REPLACE_EXISTING, from_dir, from, to_dir, to, ec);
}

/// Windows moves without replacing in one step: MoveFileExW (ATOMICWRITES_HAS_RENAME_NOREPLACE,
/// which names renameat2(2)'s flag, is 0).
inline constexpr bool has_rename_noreplace = true;

/// MoveFileExW(MOVEFILE_WRITE_THROUGH): moves `from` to `to` unless `to` exists
/// (ERROR_ALREADY_EXISTS).
inline void rename_noreplace(handle from_dir, const wchar_t* from, handle to_dir, const wchar_t* to,
                             std::error_code& ec) noexcept {
    move_file(sysop::rename_noreplace, 0, from_dir, from, to_dir, to, ec);
}

/// FileRenameInfoEx and its flags (Windows 10 1607 and later; 1809 for the last one),
/// spelled out so as not to depend on the SDK version the program is built with.
inline constexpr auto file_rename_info_ex = static_cast<FILE_INFO_BY_HANDLE_CLASS>(22);
inline constexpr DWORD rename_replace_if_exists = 0x1;
inline constexpr DWORD rename_posix_semantics = 0x2;
inline constexpr DWORD rename_ignore_readonly_attribute = 0x40;

/// FILE_RENAME_INFO with the Flags member of its FileRenameInfoEx form (older SDKs
/// declare only ReplaceIfExists, a BOOLEAN in the same place).
struct file_rename_info {
    DWORD flags;
    HANDLE root_directory;
    DWORD file_name_length;  // bytes, without the NUL
    WCHAR file_name[1];
};
static_assert(sizeof(file_rename_info) == sizeof(FILE_RENAME_INFO));
static_assert(offsetof(file_rename_info, root_directory) == offsetof(FILE_RENAME_INFO, RootDirectory));
static_assert(offsetof(file_rename_info, file_name_length) == offsetof(FILE_RENAME_INFO, FileNameLength));
static_assert(offsetof(file_rename_info, file_name) == offsetof(FILE_RENAME_INFO, FileName));

/// Renames the open file `file` (opened with DELETE access) to `to` in `to_dir` with
/// POSIX semantics: SetFileInformationByHandle(FileRenameInfoEx) with
/// FILE_RENAME_FLAG_POSIX_SEMANTICS, and when `replace`, REPLACE_IF_EXISTS and
/// IGNORE_READONLY_ATTRIBUTE. A target open elsewhere with FILE_SHARE_DELETE is replaced
/// (its handles keep the old file). `from_dir` and `from` name the file for the hook.
/// Systems without FileRenameInfoEx answer ERROR_INVALID_PARAMETER; filesystems
/// without POSIX semantics ERROR_NOT_SUPPORTED or ERROR_INVALID_FUNCTION.
inline void rename_open_file(handle file, handle from_dir, const wchar_t* from, handle to_dir, const wchar_t* to,
                             bool replace, std::error_code& ec) noexcept {
    syscall_info info{.op = replace ? sysop::rename : sysop::rename_noreplace,
                      .file = file,
                      .dir = from_dir,
                      .name = from,
                      .dir2 = to_dir,
                      .name2 = to};
    auto attempt = [&info, replace] {
        return through_hook(info, [replace](syscall_info& i) {
            std::wstring target;
            if (!path_in(i.dir2, i.name2, target)) return false;
            const std::size_t bytes = target.size() * sizeof(wchar_t);
            const std::size_t size = sizeof(file_rename_info) + bytes;  // file_name[1] holds the NUL
            // new[] of bytes is aligned for any object of that size (a HANDLE here).
            std::unique_ptr<unsigned char[]> buffer(new (std::nothrow) unsigned char[size]);
            if (!buffer) {
                ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
                return false;
            }
            auto* rename_info = reinterpret_cast<file_rename_info*>(buffer.get());
            rename_info->flags =
                rename_posix_semantics | (replace ? rename_replace_if_exists | rename_ignore_readonly_attribute : 0);
            rename_info->root_directory = nullptr;
            rename_info->file_name_length = static_cast<DWORD>(bytes);
            std::memcpy(rename_info->file_name, target.c_str(), bytes + sizeof(wchar_t));
            return ::SetFileInformationByHandle(i.file, file_rename_info_ex, rename_info, static_cast<DWORD>(size)) !=
                   0;
        });
    };
    bool directory = false;
    const bool ok = replace ? replacing(to_dir, to, directory, attempt) : retry_transient(attempt);
    if (!ok) set_replace_error(directory, ec);
}

/// CreateHardLinkW: a second name for `from`; ERROR_ALREADY_EXISTS if `to` exists.
inline void link(handle from_dir, const wchar_t* from, handle to_dir, const wchar_t* to, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::link, .dir = from_dir, .name = from, .dir2 = to_dir, .name2 = to};
    const bool ok = through_hook(info, [](syscall_info& i) {
        std::wstring source;
        std::wstring target;
        if (!path_in(i.dir, i.name, source) || !path_in(i.dir2, i.name2, target)) return false;
        return ::CreateHardLinkW(target.c_str(), source.c_str(), nullptr) != 0;
    });
    if (!ok) set_error(ec);
}

/// DeleteFileW, past a read-only attribute, retrying transient answers.
inline void unlink(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::unlink, .dir = dir, .name = name};
    auto attempt = [&info] {
        return through_hook(info, [](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            return ::DeleteFileW(full.c_str()) != 0;
        });
    };
    bool directory = false;
    if (!replacing(dir, name, directory, attempt)) set_replace_error(directory, ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_RENAME_HPP
