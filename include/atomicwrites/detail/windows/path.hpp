// SPDX-License-Identifier: MIT
/// \file
/// Windows: what a name is, and the path a call is handed for a name in an open
/// directory. Not API: include <atomicwrites/detail/sys.hpp>.
///
/// Names are UTF-16 (wchar_t) throughout: only the W functions are called, so no name
/// passes through an ANSI code page.
///
/// Directories. Win32 has no *at calls. A directory is opened once (CreateFileW with
/// FILE_FLAG_BACKUP_SEMANTICS) without FILE_SHARE_DELETE, so that nobody can rename or
/// remove it while it is open; a name in it is then handed to a call as the
/// directory's own final path (GetFinalPathNameByHandleW, "\\?\C:\dir") plus the name.
/// That path names the directory that was opened, whatever happens to the current
/// directory or to the path the caller gave, and the "\\?\" form is not limited to
/// MAX_PATH characters.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_PATH_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_PATH_HPP

#include <atomicwrites/syscall_hook.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

// <windows.h> defines min and max as macros unless told not to; they would break
// std::min and std::max here and in the including program. Not WIN32_LEAN_AND_MEAN:
// <windows.h> is included once per program, so a program that includes it after this
// header would silently lose the parts it leaves out (the shell, sockets, COM).
#ifndef NOMINMAX
#define NOMINMAX
#define ATOMICWRITES_DEFINED_NOMINMAX
#endif
#include <windows.h>
#ifdef ATOMICWRITES_DEFINED_NOMINMAX
#undef NOMINMAX
#undef ATOMICWRITES_DEFINED_NOMINMAX
#endif

// 0/1 feature probes, as the POSIX layer defines them. Windows has no O_TMPFILE, and
// RENAME_NOREPLACE names renameat2(2)'s flag: moving without replacing is
// MoveFileExW's own (has_rename_noreplace is true).
#define ATOMICWRITES_HAS_O_TMPFILE 0
#define ATOMICWRITES_HAS_RENAME_NOREPLACE 0
#define ATOMICWRITES_HAS_READ_LEASE 0
#define ATOMICWRITES_HAS_FULL_FSYNC 0

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

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_PATH_HPP
