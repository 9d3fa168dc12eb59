// SPDX-License-Identifier: MIT
/// \file
/// Windows: what remove_stale_temps() needs: reading a directory, and opening and
/// removing a file nobody uses. Not API: include <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_SWEEP_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_SWEEP_HPP

#include <atomicwrites/detail/sys_types.hpp>
#include <atomicwrites/detail/windows/file.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// The names in a directory, one at a time, from a handle of it (which must stay open
/// while the reader is used): FindFirstFileExW on the directory's final path and "\\*",
/// then FindNextFileW, each one sysop::read_directory call. Includes "." and ".." (not
/// at the root of a volume). The search handle is closed with the reader, outside the
/// seam.
class directory_reader {
public:
    explicit directory_reader(handle dir) noexcept : dir_(dir) {}
    ~directory_reader() {
        if (search_ != INVALID_HANDLE_VALUE) ::FindClose(search_);
    }
    directory_reader(const directory_reader&) = delete;
    directory_reader& operator=(const directory_reader&) = delete;

    /// The next name, or null at the end or on an error (`ec` set).
    const wchar_t* next(std::error_code& ec) noexcept {
        if (done_) return nullptr;
        syscall_info info{.op = sysop::read_directory, .dir = dir_};
        const bool ok = through_hook(info, [this](syscall_info& i) {
            if (search_ != INVALID_HANDLE_VALUE) return ::FindNextFileW(search_, &found_) != 0;
            std::wstring pattern;
            if (!path_in(i.dir, L"*", pattern)) return false;
            search_ = ::FindFirstFileExW(pattern.c_str(), FindExInfoBasic, &found_, FindExSearchNameMatch, nullptr,
                                         FIND_FIRST_EX_LARGE_FETCH);
            return search_ != INVALID_HANDLE_VALUE;
        });
        if (!ok) {
            done_ = true;
            const DWORD error = ::GetLastError();
            // The end of the names; FindFirstFileExW answers "not found" for none at all.
            if (error != ERROR_NO_MORE_FILES && error != ERROR_FILE_NOT_FOUND) set_error(ec);
            return nullptr;
        }
        return found_.cFileName;
    }

private:
    handle dir_;
    HANDLE search_ = INVALID_HANDLE_VALUE;
    bool done_ = false;
    WIN32_FIND_DATAW found_{};
};

/// Windows has no leases: whether a file is open for writing is told by opening it
/// (open_for_removal()).
inline constexpr bool has_read_lease = ATOMICWRITES_HAS_READ_LEASE;

/// Never called (has_read_lease is false): answers ERROR_NOT_SUPPORTED.
inline void try_read_lease(handle file, std::error_code& ec) noexcept {
    (void)file;
    ec.assign(ERROR_NOT_SUPPORTED, std::system_category());
}

/// Never called (has_read_lease is false): answers ERROR_NOT_SUPPORTED.
inline bool on_nfs(handle dir, std::error_code& ec) noexcept {
    (void)dir;
    ec.assign(ERROR_NOT_SUPPORTED, std::system_category());
    return false;
}

/// Whether a file is in use is told by opening it: list_open_files() is not needed.
inline constexpr bool has_open_file_list = false;

/// Never called (has_open_file_list is false): answers ERROR_NOT_SUPPORTED.
inline void list_open_files(handle exclude, std::vector<std::pair<std::uint64_t, std::uint64_t>>& ids,
                            std::error_code& incomplete) noexcept {
    (void)exclude;
    (void)ids;
    incomplete.assign(ERROR_NOT_SUPPORTED, std::system_category());
}

/// A file can be opened so that nobody else can write, rename or delete it, and removed
/// through that handle: open_for_removal() and remove_open_file().
inline constexpr bool has_open_for_removal = true;

/// Opens the file `name` in `dir` to remove it if it is unused (sysop::open_file):
/// CreateFileW with DELETE and attribute access, sharing reading only, not following a
/// reparse point (FILE_FLAG_OPEN_REPARSE_POINT), not opening a directory. The sharing
/// makes the open fail with ERROR_SHARING_VIOLATION while any handle anywhere has the
/// file open for writing (a writer's temporary file is open with GENERIC_WRITE until
/// its commit) or for deleting or renaming, or open without FILE_SHARE_DELETE; and
/// while this handle is open nobody can open it so. So "in use" is known exactly, and
/// the file cannot be written, renamed or replaced under the handle. Made once, not
/// retried: an answer that might go away by itself (a scanner holding the file) only
/// keeps the file until the next sweep. `found` tells what was found; ec is set only
/// for other errors (ERROR_TOO_MANY_OPEN_FILES, ERROR_NOT_ENOUGH_MEMORY, ...).
inline handle open_for_removal(handle dir, const wchar_t* name, removal_candidate& found,
                               std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = through_hook(info, [&result](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        // FILE_WRITE_ATTRIBUTES: to clear a read-only attribute before the removal where
        // the system cannot remove past it. Attribute access takes no part in sharing.
        result = ::CreateFileW(full.c_str(), DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE,
                               FILE_SHARE_READ, nullptr, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
        return result != INVALID_HANDLE_VALUE;
    });
    found = removal_candidate::opened;
    if (ok) return result;
    switch (::GetLastError()) {
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
        case ERROR_DELETE_PENDING:
            found = removal_candidate::missing;
            break;
        case ERROR_SHARING_VIOLATION:
        case ERROR_LOCK_VIOLATION:
            found = removal_candidate::in_use;
            break;
        case ERROR_ACCESS_DENIED:
        case ERROR_CANT_ACCESS_FILE:
            found = removal_candidate::refused;
            break;
        default:
            set_error(ec);
            break;
    }
    return invalid_handle;
}

/// FileDispositionInfoEx and its flags (Windows 10 1607 and later; IGNORE_READONLY from
/// 1809), spelled out so as not to depend on the SDK version the program is built with.
inline constexpr auto file_disposition_info_ex = static_cast<FILE_INFO_BY_HANDLE_CLASS>(21);
inline constexpr DWORD disposition_delete = 0x1;
inline constexpr DWORD disposition_posix_semantics = 0x2;
inline constexpr DWORD disposition_ignore_readonly_attribute = 0x10;

/// FILE_DISPOSITION_INFO_EX (older SDKs do not declare it).
struct file_disposition_info_ex_data {
    DWORD flags;
};

/// Removes the file open as `file` (from open_for_removal()) through its handle, so that
/// exactly the file that was looked at is removed, whatever has become of the name
/// (sysop::unlink with `file` set; `dir` and `name` name it for the hook).
/// SetFileInformationByHandle(FileDispositionInfoEx) with POSIX_SEMANTICS (the name goes
/// at once, even if a reader that shares deletion still holds the file) and
/// IGNORE_READONLY_ATTRIBUTE. Where that is not supported (older systems, FAT, Wine):
/// FileDispositionInfo, after clearing a read-only attribute through the handle (put
/// back if the removal still fails); the file then goes when its last handle closes.
/// The fallback and the attribute's change are part of the one sysop::unlink call.
inline void remove_open_file(handle file, handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::unlink, .file = file, .dir = dir, .name = name};
    const bool ok = through_hook(info, [](syscall_info& i) {
        file_disposition_info_ex_data ex{};
        ex.flags = disposition_delete | disposition_posix_semantics | disposition_ignore_readonly_attribute;
        if (::SetFileInformationByHandle(i.file, file_disposition_info_ex, &ex, sizeof ex)) return true;
        std::error_code e;
        set_error(e);
        if (!is_unsupported_error(e)) return false;
        FILE_BASIC_INFO basic{};
        if (!::GetFileInformationByHandleEx(i.file, FileBasicInfo, &basic, sizeof basic)) return false;
        const DWORD attributes = basic.FileAttributes;
        const bool read_only = (attributes & FILE_ATTRIBUTE_READONLY) != 0;
        if (read_only) {
            FILE_BASIC_INFO change{};  // zero times: unchanged
            change.FileAttributes = attributes_for(attributes, 0666);
            if (!::SetFileInformationByHandle(i.file, FileBasicInfo, &change, sizeof change)) return false;
        }
        FILE_DISPOSITION_INFO disposition{};
        disposition.DeleteFile = TRUE;
        if (::SetFileInformationByHandle(i.file, FileDispositionInfo, &disposition, sizeof disposition)) return true;
        if (read_only) {
            const DWORD error = ::GetLastError();
            FILE_BASIC_INFO change{};
            change.FileAttributes = attributes;
            ::SetFileInformationByHandle(i.file, FileBasicInfo, &change, sizeof change);
            ::SetLastError(error);
        }
        return false;
    });
    if (!ok) set_error(ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_SWEEP_HPP
