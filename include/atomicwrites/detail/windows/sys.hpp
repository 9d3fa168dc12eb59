// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on Windows. Not API: include <atomicwrites/detail/sys.hpp>.
///
/// Names are UTF-16 (wchar_t) throughout: only the W functions are called, so no name
/// passes through an ANSI code page. Errors are GetLastError() values in
/// std::system_category(); every call goes through the thread's syscall_hook, if any,
/// and a hook's error is set as the last error, so that it is handled (retried,
/// reported) exactly as a real one.
///
/// Directories. Win32 has no *at calls. A directory is opened once (CreateFileW with
/// FILE_FLAG_BACKUP_SEMANTICS) without FILE_SHARE_DELETE, so that nobody can rename or
/// remove it while it is open; a name in it is then handed to a call as the
/// directory's own final path (GetFinalPathNameByHandleW, "\\?\C:\dir") plus the name.
/// That path names the directory that was opened, whatever happens to the current
/// directory or to the path the caller gave, and the "\\?\" form is not limited to
/// MAX_PATH characters.
///
/// Transient answers. Virus scanners, indexers and backup agents open files for a
/// moment; a file being deleted stays in the directory until its last handle closes.
/// Calls that open, create, rename or delete a name are retried on
/// ERROR_SHARING_VIOLATION, ERROR_ACCESS_DENIED, ERROR_LOCK_VIOLATION and
/// ERROR_DELETE_PENDING, with a backoff of 1, 2, 4, ... 512 ms (11 attempts, about one
/// second in all), and the last answer is reported. An access-denied answer that is not
/// transient (a directory the user may not write) is therefore reported after that
/// second. Each attempt goes through the hook.
///
/// Read-only files. rename(2) replaces and unlink(2) removes a file whatever its mode;
/// MoveFileExW and DeleteFileW refuse a file with FILE_ATTRIBUTE_READONLY. rename and
/// unlink here clear the attribute of the file they replace or remove when the system
/// refuses, and put it back if the call still fails. A directory in the way of a rename
/// is reported at once as is_a_directory, as rename(2) reports it, not retried.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_SYS_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_SYS_HPP

#include <atomicwrites/syscall_hook.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>

// <windows.h> defines min and max as macros unless told not to; they would break
// std::min and std::max here and in the including program.
#ifndef NOMINMAX
#define NOMINMAX
#define ATOMICWRITES_DEFINED_NOMINMAX
#endif
#include <windows.h>
#ifdef ATOMICWRITES_DEFINED_NOMINMAX
#undef NOMINMAX
#undef ATOMICWRITES_DEFINED_NOMINMAX
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

using handle = native_handle_type;

/// The directory handle that means "relative to the current directory": the name is
/// handed to the call as given.
inline constexpr handle current_directory = nullptr;

/// The longest name a component may have on NTFS, ReFS and FAT (UTF-16 code units).
inline constexpr std::size_t max_name = 255;

/// The longest path the "\\?\" form allows.
inline constexpr std::size_t max_path = 32767;

/// Whether `c` separates the components of a path: both slashes do on Windows.
constexpr bool is_separator(wchar_t c) noexcept { return c == L'/' || c == L'\\'; }

/// The length of the root of `path`: a drive ("C:"), a share ("\\server\share"), a
/// "\\?\" or "\\.\" prefix with what it names, then the separator after it, if any
/// ("C:\", "\"). 0 for a relative path.
constexpr std::size_t root_length(std::wstring_view path) noexcept {
    const std::size_t size = path.size();
    auto sep = [&](std::size_t i) { return i < size && is_separator(path[i]); };
    auto drive = [&](std::size_t i) {
        return i + 1 < size && path[i + 1] == L':' &&
               ((path[i] >= L'A' && path[i] <= L'Z') || (path[i] >= L'a' && path[i] <= L'z'));
    };
    auto skip_component = [&](std::size_t i) {
        while (i < size && !is_separator(path[i])) ++i;
        return i;
    };
    std::size_t n = 0;
    if (sep(0) && sep(1)) {
        if (size >= 4 && (path[2] == L'?' || path[2] == L'.') && sep(3)) {
            n = 4;  // "\\?\" or "\\.\"
            const std::wstring_view rest = path.substr(4);
            if (drive(4)) {
                n += 2;
            } else if (rest.size() >= 4 && (rest[0] == L'U' || rest[0] == L'u') &&
                       (rest[1] == L'N' || rest[1] == L'n') && (rest[2] == L'C' || rest[2] == L'c') &&
                       is_separator(rest[3])) {
                n = skip_component(8);                  // server
                if (sep(n)) n = skip_component(n + 1);  // share
            } else {
                n = skip_component(4);  // a volume or device name
            }
        } else {
            n = skip_component(2);                  // server
            if (sep(n)) n = skip_component(n + 1);  // share
        }
    } else if (drive(0)) {
        n = 2;
    }
    if (sep(n)) ++n;
    return n;
}

/// What text mode writes for '\n'.
inline constexpr std::string_view text_newline = "\r\n";

/// Converts a UTF-8 string given by the user (a temporary name's prefix or suffix) into
/// a UTF-16 name buffer of `capacity` characters, NUL-terminated; returns its length.
/// Errors: invalid_argument (not UTF-8), filename_too_long.
inline std::size_t to_native(std::string_view s, wchar_t* out, std::size_t capacity, std::error_code& ec) noexcept {
    out[0] = L'\0';
    if (s.empty()) return 0;
    const int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), static_cast<int>(s.size()), out,
                                        static_cast<int>(capacity - 1));
    if (n <= 0) {
        ec = std::make_error_code(::GetLastError() == ERROR_INSUFFICIENT_BUFFER ? std::errc::filename_too_long
                                                                                : std::errc::invalid_argument);
        out[0] = L'\0';
        return 0;
    }
    out[n] = L'\0';
    return static_cast<std::size_t>(n);
}

/// Whether a system error says that a call, an information class or a flag is not
/// available here: Windows answers ERROR_INVALID_PARAMETER for an information class it
/// does not know, a filesystem ERROR_INVALID_FUNCTION or ERROR_NOT_SUPPORTED for one it
/// does not implement. Checked by value, since not every standard library maps these
/// to std::errc (libstdc++ 12 leaves ERROR_INVALID_FUNCTION unmapped).
inline bool is_unsupported_error(const std::error_code& ec) noexcept {
    if (ec.category() != std::system_category()) return false;
    switch (ec.value()) {
        case ERROR_INVALID_FUNCTION:
        case ERROR_INVALID_PARAMETER:
        case ERROR_NOT_SUPPORTED:
        case ERROR_CALL_NOT_IMPLEMENTED:
            return true;
        default:
            return false;
    }
}

/// Makes one call through the hook. `call` receives the (possibly changed) info and
/// returns whether the call succeeded, with the last error set when it did not.
template <class Call>
inline bool through_hook(syscall_info& info, Call&& call) noexcept {
    syscall_hook* hook = current_hook;
    if (hook == nullptr) [[likely]] {
        return call(info);
    }
    if (int e = hook->before(info); e != 0) {
        ::SetLastError(static_cast<DWORD>(e));
        return false;
    }
    const bool ok = call(info);
    const DWORD saved = ok ? 0 : ::GetLastError();
    hook->after(info, static_cast<int>(saved));
    ::SetLastError(saved);
    return ok;
}

inline void set_error(std::error_code& ec) noexcept {
    ec.assign(static_cast<int>(::GetLastError()), std::system_category());
}

/// Whether an answer may go away by itself (see the file comment).
inline bool is_transient(DWORD error) noexcept {
    return error == ERROR_SHARING_VIOLATION || error == ERROR_ACCESS_DENIED || error == ERROR_LOCK_VIOLATION ||
           error == ERROR_DELETE_PENDING;
}

/// Attempts of a call that keeps answering a transient error: the first and 10 more,
/// after 1, 2, 4, ... 512 ms.
inline constexpr int transient_attempts = 11;

/// Makes `attempt` (which returns success, with the last error set on failure) until it
/// succeeds, fails with a lasting error (or one the attempt found out to be lasting, by
/// setting `lasting`), or has been made transient_attempts times.
template <class Attempt>
inline bool retry_transient(Attempt&& attempt, const bool& lasting) noexcept {
    DWORD delay_ms = 1;
    for (int made = 1;; ++made) {
        if (attempt()) return true;
        const DWORD error = ::GetLastError();
        if (lasting || !is_transient(error) || made == transient_attempts) {
            ::SetLastError(error);
            return false;
        }
        ::Sleep(delay_ms);
        delay_ms *= 2;
    }
}
template <class Attempt>
inline bool retry_transient(Attempt&& attempt) noexcept {
    const bool never = false;
    return retry_transient(attempt, never);
}

/// Whether a name must go through the system's path normalisation: "\\?\" paths are
/// taken literally, so "..", "." and "/" in a name (a relative link's target), and the
/// trailing dots and spaces Win32 strips from names, would otherwise mean something
/// else than they mean to every other Win32 call.
inline bool needs_normalizing(std::wstring_view name) noexcept {
    if (name.empty()) return false;
    if (name.back() == L'.' || name.back() == L' ') return true;
    for (wchar_t c : name)
        if (is_separator(c)) return true;
    return false;
}

/// Normalises a "\\?\" path as Win32 would normalise a plain one (GetFullPathNameW:
/// "." and ".." resolved, '/' made '\', trailing dots and spaces stripped), keeping its
/// root ("\\?\C:\", "\\?\UNC\server\share\", "\\?\Volume{...}\"). The part after the
/// root is normalised under a stand-in drive, where GetFullPathNameW is purely lexical
/// and ".." stops at the root, as it does under the real one.
inline bool normalize(std::wstring& path) {
    const std::size_t root = root_length(path);
    const std::wstring relative = L"A:\\" + path.substr(root);
    std::wstring full(relative.size() + 16, L'\0');
    for (;;) {
        const DWORD n = ::GetFullPathNameW(relative.c_str(), static_cast<DWORD>(full.size()), full.data(), nullptr);
        if (n == 0) return false;
        if (n < full.size()) {
            full.resize(n);
            break;
        }
        full.resize(n);
    }
    path = path.substr(0, root) + full.substr(3);
    return true;
}

/// The path to hand to a call for `name` in the directory `dir`: the directory's final
/// path and the name, or `name` as given when `dir` is current_directory or `name` has a
/// root of its own (as openat(2) ignores the directory for an absolute path). False with
/// the last error set if the directory's path cannot be had.
inline bool path_in(handle dir, const wchar_t* name, std::wstring& out) noexcept {
    try {
        if (dir == current_directory || root_length(name) != 0) {
            out.assign(name);
            return true;
        }
        // The drive-letter form; a volume that has none (mounted nowhere) by its GUID.
        DWORD form = VOLUME_NAME_DOS;
        out.assign(MAX_PATH, L'\0');
        for (;;) {
            const DWORD n = ::GetFinalPathNameByHandleW(dir, out.data(), static_cast<DWORD>(out.size()),
                                                        FILE_NAME_NORMALIZED | form);
            if (n == 0) {
                if (form == VOLUME_NAME_GUID) return false;
                form = VOLUME_NAME_GUID;
                continue;
            }
            if (n < out.size()) {
                out.resize(n);
                break;
            }
            out.resize(n);  // too small: n is the size needed, with the NUL
        }
        if (out.empty() || !is_separator(out.back())) out += L'\\';
        out += name;
        return needs_normalizing(name) ? normalize(out) : true;
    } catch (...) {
        ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return false;
    }
}

/// Closes a handle made on the way to a failure, keeping the failure's last error.
inline void close_keeping_error(HANDLE h) noexcept {
    const DWORD error = ::GetLastError();
    ::CloseHandle(h);
    ::SetLastError(error);
}

/// Opens a directory (for name-relative work and for FlushFileBuffers), without
/// FILE_SHARE_DELETE: it cannot be renamed or removed while open. With write access
/// (FILE_ADD_FILE, which FlushFileBuffers needs) where the user has it, else without.
/// A name that is not a directory fails with ERROR_DIRECTORY (ENOTDIR).
inline handle open_directory(handle at, const wchar_t* path, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_directory, .dir = at, .name = path};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = through_hook(info, [&result](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        constexpr DWORD read = FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
        HANDLE h = ::CreateFileW(full.c_str(), read | FILE_ADD_FILE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                 OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
        if (h == INVALID_HANDLE_VALUE && ::GetLastError() == ERROR_ACCESS_DENIED)
            h = ::CreateFileW(full.c_str(), read, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                              FILE_FLAG_BACKUP_SEMANTICS, nullptr);
        if (h == INVALID_HANDLE_VALUE) return false;
        FILE_BASIC_INFO basic{};
        if (!::GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic)) {
            close_keeping_error(h);
            return false;
        }
        if ((basic.FileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
            ::CloseHandle(h);
            ::SetLastError(ERROR_DIRECTORY);
            return false;
        }
        result = h;
        return true;
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// Opens an existing file to sync it: with write access, which FlushFileBuffers needs,
/// sharing everything. A symbolic link is opened itself, not followed.
inline handle open_file(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            result = ::CreateFileW(full.c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                   FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// What is at a name.
enum class file_kind : unsigned char { none, regular, directory, symlink, other };

/// A name's status. Windows keeps no POSIX mode: a read-only file (its
/// FILE_ATTRIBUTE_READONLY) reads as 0444, any other as 0666. Owners are security
/// descriptors, not ids: both ids read as 0, as process_owner() does, so the writer
/// never tries to change them. Identity and times are filled by stat_handle() only.
struct file_status {
    file_kind kind = file_kind::none;
    unsigned mode = 0;
    unsigned uid = 0;
    unsigned gid = 0;
    std::uint64_t device = 0;   ///< the volume's serial number; with `inode`, what the name refers to
    std::uint64_t inode = 0;    ///< the file index (NTFS: the file reference number)
    std::int64_t modified = 0;  ///< LastWriteTime, ns since the Unix epoch
    std::int64_t changed = 0;   ///< ChangeTime (content, attributes or names), ns since the Unix epoch
};

/// A file time (100 ns units since 1601-01-01 UTC) as ns since 1970-01-01 UTC, the unit of
/// the POSIX layer's times; saturated beyond year 2262.
constexpr std::int64_t unix_ns(std::int64_t filetime) noexcept {
    constexpr std::int64_t epoch = 116444736000000000;  // 1970-01-01 in file time
    constexpr std::int64_t limit = INT64_MAX / 100;
    const std::int64_t since = filetime - epoch;
    return since > limit ? INT64_MAX : since < -limit ? INT64_MIN : since * 100;
}

/// What the attributes and reparse tag of an open file say it is. Name surrogates
/// (symbolic links, junctions, WSL's links) are links; WSL's sockets, FIFOs and
/// devices, and FILE_ATTRIBUTE_DEVICE, are "other"; a file whose data has another kind
/// of reparse point (deduplicated, a cloud placeholder) is a regular file.
constexpr file_kind kind_of(DWORD attributes, DWORD tag) noexcept {
    if ((attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
        if (tag == IO_REPARSE_TAG_SYMLINK || (tag & 0x20000000u) != 0) return file_kind::symlink;  // name surrogate
        if (tag >= 0x80000023u && tag <= 0x80000026u) return file_kind::other;  // AF_UNIX, LX_FIFO, LX_CHR, LX_BLK
    }
    if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) return file_kind::directory;
    if ((attributes & FILE_ATTRIBUTE_DEVICE) != 0) return file_kind::other;
    return file_kind::regular;
}

/// GetFileAttributesExW, which does not follow a final reparse point; its tag (from
/// FindFirstFileExW) tells a symbolic link from a file whose data has a reparse point
/// (deduplicated, cloud placeholder), which is a regular file. A missing name is not an
/// error: kind == none.
inline file_status stat_at(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::stat, .dir = dir, .name = name};
    WIN32_FILE_ATTRIBUTE_DATA data{};
    DWORD tag = 0;
    const bool ok = through_hook(info, [&data, &tag](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        if (!::GetFileAttributesExW(full.c_str(), GetFileExInfoStandard, &data)) return false;
        if ((data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
            WIN32_FIND_DATAW found{};
            HANDLE f = ::FindFirstFileExW(full.c_str(), FindExInfoBasic, &found, FindExSearchNameMatch, nullptr, 0);
            if (f == INVALID_HANDLE_VALUE) return false;
            ::FindClose(f);
            tag = found.dwReserved0;
        }
        return true;
    });
    file_status s;
    if (!ok) {
        if (::GetLastError() != ERROR_FILE_NOT_FOUND) set_error(ec);
        return s;
    }
    if ((data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
        s.kind = file_kind::directory;
    else if ((data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 && tag == IO_REPARSE_TAG_SYMLINK)
        s.kind = file_kind::symlink;
    else if ((data.dwFileAttributes & FILE_ATTRIBUTE_DEVICE) != 0)
        s.kind = file_kind::other;
    else
        s.kind = file_kind::regular;
    s.mode = (data.dwFileAttributes & FILE_ATTRIBUTE_READONLY) != 0 ? 0444u : 0666u;
    return s;
}

/// The status of an open file, with its identity and times (sysop::stat with `file` set
/// and no name): GetFileInformationByHandle for the attributes and the identity,
/// GetFileInformationByHandleEx(FileBasicInfo) for the times, and (FileAttributeTagInfo)
/// the reparse tag of a reparse point.
inline file_status stat_handle(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::stat, .file = file};
    BY_HANDLE_FILE_INFORMATION by_handle{};
    FILE_BASIC_INFO basic{};
    FILE_ATTRIBUTE_TAG_INFO tag{};
    const bool ok = through_hook(info, [&](syscall_info& i) {
        if (!::GetFileInformationByHandle(i.file, &by_handle)) return false;
        if (!::GetFileInformationByHandleEx(i.file, FileBasicInfo, &basic, sizeof basic)) return false;
        if ((by_handle.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 &&
            !::GetFileInformationByHandleEx(i.file, FileAttributeTagInfo, &tag, sizeof tag))
            return false;
        return true;
    });
    file_status s;
    if (!ok) {
        set_error(ec);
        return s;
    }
    s.kind = kind_of(by_handle.dwFileAttributes, tag.ReparseTag);
    s.mode = (by_handle.dwFileAttributes & FILE_ATTRIBUTE_READONLY) != 0 ? 0444u : 0666u;
    s.device = by_handle.dwVolumeSerialNumber;
    s.inode = (static_cast<std::uint64_t>(by_handle.nFileIndexHigh) << 32) | by_handle.nFileIndexLow;
    s.modified = unix_ns(basic.LastWriteTime.QuadPart);
    s.changed = unix_ns(basic.ChangeTime.QuadPart);
    return s;
}

/// The layout of a symbolic link's reparse data (REPARSE_DATA_BUFFER, declared in the
/// driver kit's ntifs.h, not in the SDK's headers).
struct symlink_reparse_data {
    DWORD tag;
    WORD data_length;
    WORD reserved;
    WORD substitute_offset;  // bytes, from path_buffer
    WORD substitute_length;  // bytes
    WORD print_offset;
    WORD print_length;
    ULONG flags;  // 1: SYMLINK_FLAG_RELATIVE
    WCHAR path_buffer[1];
};

/// Reads a symbolic link's target into buf (not terminated); returns its length, or 0
/// with ec set. An absolute target ("\??\C:\x") is given in the "\\?\C:\x" form. A
/// target that does not fit reports ENAMETOOLONG; a name that is not a symbolic link,
/// ERROR_NOT_A_REPARSE_POINT.
inline std::size_t read_link(handle dir, const wchar_t* name, wchar_t* buf, std::size_t size,
                             std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::readlink, .dir = dir, .name = name, .size = size};
    std::size_t length = 0;
    bool too_long = false;
    const bool ok = through_hook(info, [&](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        HANDLE h =
            ::CreateFileW(full.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                          nullptr, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
        if (h == INVALID_HANDLE_VALUE) return false;
        constexpr DWORD capacity = 16 * 1024;  // MAXIMUM_REPARSE_DATA_BUFFER_SIZE
        std::unique_ptr<unsigned char[]> data(new (std::nothrow) unsigned char[capacity]);
        if (!data) {
            ::CloseHandle(h);
            ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
            return false;
        }
        DWORD got = 0;
        if (!::DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, nullptr, 0, data.get(), capacity, &got, nullptr)) {
            close_keeping_error(h);
            return false;
        }
        ::CloseHandle(h);
        symlink_reparse_data head{};
        constexpr std::size_t path_at = offsetof(symlink_reparse_data, path_buffer);
        if (got < path_at) {
            ::SetLastError(ERROR_NOT_A_REPARSE_POINT);
            return false;
        }
        std::memcpy(&head, data.get(), path_at);
        if (head.tag != IO_REPARSE_TAG_SYMLINK ||
            path_at + std::size_t{head.substitute_offset} + head.substitute_length > got) {
            ::SetLastError(ERROR_NOT_A_REPARSE_POINT);
            return false;
        }
        std::wstring target(head.substitute_length / sizeof(wchar_t), L'\0');
        std::memcpy(target.data(), data.get() + path_at + head.substitute_offset, head.substitute_length);
        if (target.compare(0, 4, L"\\??\\") == 0) target[1] = L'\\';  // NT "\??\" -> Win32 "\\?\"
        if (target.size() >= i.size) {
            too_long = true;
            return true;
        }
        std::memcpy(buf, target.data(), target.size() * sizeof(wchar_t));
        length = target.size();
        return true;
    });
    if (!ok) {
        set_error(ec);
        return 0;
    }
    if (too_long) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return 0;
    }
    return length;
}

/// Creates a new file exclusively for writing: CreateFileW with CREATE_NEW, which fails
/// with ERROR_FILE_EXISTS on any existing name (a link is never followed). Access:
/// write, attributes, and DELETE, so that the open file can be renamed through its
/// handle. Sharing: readers, and renames by others (MoveFileExW of the open file); no
/// other writer. Not inherited by child processes. A `mode` without write bits makes
/// the file read-only (the handle can still write, as with open(2)).
inline handle create_file(handle dir, const wchar_t* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::create_file, .dir = dir, .name = name, .size = mode};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            const DWORD attributes = (i.size & 0222u) != 0 ? FILE_ATTRIBUTE_NORMAL : FILE_ATTRIBUTE_READONLY;
            result = ::CreateFileW(full.c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES | DELETE,
                                   FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, CREATE_NEW, attributes, nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// Windows has no unnamed files.
inline constexpr bool has_anonymous_files = false;

/// Writes all of [data, data+size) with WriteFile, continuing short writes.
inline void write_all(handle file, const void* data, std::size_t size, std::error_code& ec) noexcept {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        syscall_info info{.op = sysop::write, .file = file, .size = size < 0x7ffff000u ? size : 0x7ffff000u};
        DWORD written = 0;
        const bool ok = through_hook(info, [p, &written](syscall_info& i) {
            return ::WriteFile(i.file, p, static_cast<DWORD>(i.size), &written, nullptr) != 0;
        });
        if (!ok) {
            set_error(ec);
            return;
        }
        if (written == 0) {  // no progress and no error: do not spin
            ec = std::make_error_code(std::errc::io_error);
            return;
        }
        p += written;
        size -= written;
    }
}

inline void flush_call(sysop op, handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = op, .file = file};
    if (!through_hook(info, [](syscall_info& i) { return ::FlushFileBuffers(i.file) != 0; })) set_error(ec);
}

/// FlushFileBuffers: the file's data and metadata, and the drive's cache.
inline void fsync(handle file, std::error_code& ec) noexcept { flush_call(sysop::fsync, file, ec); }

/// FlushFileBuffers too: Windows offers no lighter flush outside the driver kit.
inline void fdatasync(handle file, std::error_code& ec) noexcept { flush_call(sysop::fdatasync, file, ec); }

/// FlushFileBuffers already asks the drive to flush its cache.
inline constexpr bool has_full_fsync = false;
inline void full_fsync(handle file, std::error_code& ec) noexcept { flush_call(sysop::fsync, file, ec); }

/// The attributes a POSIX mode stands for: read-only when no write bit is set.
inline DWORD attributes_for(DWORD attributes, unsigned mode) noexcept {
    attributes &= ~static_cast<DWORD>(FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_NORMAL);
    if ((mode & 0222u) == 0) attributes |= FILE_ATTRIBUTE_READONLY;
    return attributes != 0 ? attributes : FILE_ATTRIBUTE_NORMAL;  // 0 would mean "unchanged"
}

/// Sets the read-only attribute of an open file from a mode (no write bit: read-only),
/// with SetFileInformationByHandle(FileBasicInfo); times are left as they are.
inline void set_mode(handle file, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chmod, .file = file, .size = mode};
    const bool ok = through_hook(info, [](syscall_info& i) {
        FILE_BASIC_INFO basic{};
        if (!::GetFileInformationByHandleEx(i.file, FileBasicInfo, &basic, sizeof basic)) return false;
        const DWORD wanted = attributes_for(basic.FileAttributes, static_cast<unsigned>(i.size));
        if (wanted == basic.FileAttributes) return true;
        FILE_BASIC_INFO change{};  // zero times: unchanged
        change.FileAttributes = wanted;
        return ::SetFileInformationByHandle(i.file, FileBasicInfo, &change, sizeof change) != 0;
    });
    if (!ok) set_error(ec);
}

/// Sets the read-only attribute of the file `name` in `dir` from a mode, by name
/// (SetFileAttributesW): for a file about to be replaced or removed.
inline void set_mode_at(handle dir, const wchar_t* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chmod, .dir = dir, .name = name, .size = mode};
    const bool ok = through_hook(info, [](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        const DWORD attributes = ::GetFileAttributesW(full.c_str());
        if (attributes == INVALID_FILE_ATTRIBUTES) return false;
        return ::SetFileAttributesW(full.c_str(), attributes_for(attributes, static_cast<unsigned>(i.size))) != 0;
    });
    if (!ok) set_error(ec);
}

/// Windows has no owner ids (see file_status): the writer never asks for a change, and
/// a request fails with ERROR_NOT_SUPPORTED.
inline void set_owner(handle file, unsigned uid, unsigned gid, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chown, .file = file, .size = (static_cast<std::size_t>(uid) << 32) | gid};
    const bool ok = through_hook(info, [](syscall_info&) {
        ::SetLastError(ERROR_NOT_SUPPORTED);
        return false;
    });
    if (!ok) set_error(ec);
}

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

/// Windows moves without replacing in one step.
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

/// CloseHandle, never retried.
inline void close(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::close, .file = file};
    if (!through_hook(info, [](syscall_info& i) { return ::CloseHandle(i.file) != 0; })) set_error(ec);
}

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
inline constexpr bool has_read_lease = false;

/// Never called (has_read_lease is false): answers ERROR_NOT_SUPPORTED.
inline void try_read_lease(handle file, std::error_code& ec) noexcept {
    (void)file;
    ec.assign(ERROR_NOT_SUPPORTED, std::system_category());
}

/// A file can be opened so that nobody else can write, rename or delete it, and removed
/// through that handle: open_for_removal() and remove_open_file().
inline constexpr bool has_open_for_removal = true;

/// What open_for_removal() found at a name.
enum class removal_candidate : unsigned char {
    opened,   ///< open: nobody else has it open for writing or deleting
    missing,  ///< no such name (any more)
    in_use,   ///< open elsewhere for writing or deleting, or without sharing its deletion
    refused,  ///< not for us to open: access denied (its security, a directory, a deletion pending)
};

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

/// A file's owner and group: Windows has none as ids (see file_status).
struct owner_ids {
    unsigned uid;
    unsigned gid;
};
inline owner_ids process_owner() noexcept { return {0, 0}; }
inline owner_ids current_owner() noexcept { return {0, 0}; }

/// 64 bits for seeding the generator of temporary names, from the performance counter,
/// the process and thread ids and the address space layout. The names need to be
/// unlikely to collide, not secret: CREATE_NEW makes creation exclusive, and a taken
/// name is answered by another one. (A system random source would need bcrypt.lib,
/// which a header-only library cannot make its users link.)
inline std::uint64_t random_seed() noexcept {
    LARGE_INTEGER counter{};
    ::QueryPerformanceCounter(&counter);
    std::uint64_t seed = static_cast<std::uint64_t>(counter.QuadPart);
    seed ^= (static_cast<std::uint64_t>(::GetCurrentProcessId()) << 32) ^ ::GetCurrentThreadId();
    seed ^= reinterpret_cast<std::uintptr_t>(&seed) * 0x9e3779b97f4a7c15ull;
    return seed ^ static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_SYS_HPP
