// SPDX-License-Identifier: MIT
/// \file
/// Splitting a target path into an open parent directory and a file name, and copying
/// names into fixed buffers. Not API. Names are in the system's characters
/// (native_char_type); what counts as a separator and as the root of a path is the
/// platform's (detail::sys::is_separator, detail::sys::root_length).
#ifndef ATOMICWRITES_DETAIL_PATH_HPP
#define ATOMICWRITES_DETAIL_PATH_HPP

#include <atomicwrites/detail/sys.hpp>

#include <cstring>
#include <filesystem>
#include <iterator>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// "." in the system's characters: the current directory.
inline constexpr native_char_type current_directory_name[] = {'.', '\0'};

/// Copies `s` to `out` and returns the end of the copy. An empty `s` copies nothing: its
/// data() may be null, which memcpy must never be given.
inline native_char_type* copy_chars(native_char_type* out, native_string_view s) noexcept {
    if (!s.empty()) std::memcpy(out, s.data(), s.size() * sizeof(native_char_type));
    return out + s.size();
}

/// Whether `s` holds a separator ('/'; on Windows '\\' too) or a NUL: what a file name
/// must not. A plain loop: the affixes it checks are a few characters long, shorter than
/// a call to memchr costs. For UTF-8 (the options) and for names in the system's
/// characters.
/// The bytes of `s` as a view of Char, for the callers' branch where Char is char
/// (POSIX names are bytes). A template, so that no cast is written where none is needed.
template <class Char>
std::basic_string_view<Char> same_chars(std::string_view s) noexcept {
    if constexpr (std::is_same_v<Char, char>)
        return s;
    else
        return {reinterpret_cast<const Char*>(s.data()), s.size()};
}

template <class Char>
inline bool has_separator_or_nul(std::basic_string_view<Char> s) noexcept {
    for (Char c : s)
        if (c == Char('\0') || sys::is_separator(static_cast<native_char_type>(c))) return true;
    return false;
}

/// Copies `s` and a terminating NUL to `out`.
inline void copy_c_string(native_char_type* out, native_string_view s) noexcept { *copy_chars(out, s) = '\0'; }

/// Where the last component of `p` starts: after the last separator, and never inside
/// the root ("/", "C:\", "C:", "\\server\share\").
inline std::size_t name_offset(native_string_view p) noexcept {
    const std::size_t root = sys::root_length(p);
    std::size_t i = p.size();
    while (i > root && !sys::is_separator(p[i - 1])) --i;
    return i;
}

/// The lexical parent of `p`, "." for a bare name: the part before the last component,
/// without the separators in between unless they belong to the root. For opening the
/// parent, for messages, and for telling whether two paths share a directory.
inline native_string_view parent_view(native_string_view p) noexcept {
    const std::size_t start = name_offset(p);
    if (start == 0) return current_directory_name;
    const std::size_t root = sys::root_length(p);
    if (start <= root) return p.substr(0, root);
    std::size_t end = start - 1;
    while (end > root && sys::is_separator(p[end - 1])) --end;
    return p.substr(0, end);
}
inline native_string_view parent_view(const std::filesystem::path& p) noexcept {
    return parent_view(native_string_view(p.native()));
}

/// Copies the last component of `path` into `name` (max_name + 1 characters). Errors:
/// invalid_argument (empty path), is_a_directory (ends in a separator, ".", "..", or is
/// a root), filename_too_long.
inline void file_name(const std::filesystem::path& path, native_char_type* name, std::error_code& ec) noexcept {
    const native_string_view native(path.native());
    if (native.empty()) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return;
    }
    const native_string_view file = native.substr(name_offset(native));
    if (file.empty() || file == native_string_view(current_directory_name) ||
        (file.size() == 2 && file[0] == '.' && file[1] == '.')) {
        ec = std::make_error_code(std::errc::is_a_directory);
        return;
    }
    if (file.size() > sys::max_name) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return;
    }
    copy_c_string(name, file);
}

/// Calls `open` with `path` (not NUL-terminated) copied into a terminated buffer, on
/// the stack when it is short, and returns what it returns.
template <class Open>
inline native_handle_type with_c_string(native_string_view path, std::error_code& ec, Open&& open) noexcept {
    if (path.size() >= sys::max_path) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return invalid_handle;
    }
    native_char_type small[256];
    std::unique_ptr<native_char_type[]> large;
    native_char_type* buffer = small;
    if (path.size() >= std::size(small)) {
        large.reset(new (std::nothrow) native_char_type[path.size() + 1]);
        if (!large) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return invalid_handle;
        }
        buffer = large.get();
    }
    copy_c_string(buffer, path);
    return open(static_cast<const native_char_type*>(buffer));
}

/// Opens the directory `path` (not NUL-terminated) relative to `at`.
inline native_handle_type open_directory_at(native_handle_type at, native_string_view path,
                                            std::error_code& ec) noexcept {
    return with_c_string(path, ec, [&](const native_char_type* p) { return sys::open_directory(at, p, ec); });
}

/// Opens the directory `path` (not NUL-terminated) relative to `at`, never leaving it
/// (see sys::open_directory_beneath); where it may be searched but not read (a drop-box
/// directory, EACCES), for searching only (POSIX: O_PATH).
inline native_handle_type open_directory_beneath(native_handle_type at, native_string_view path,
                                                 std::error_code& ec) noexcept {
    return with_c_string(path, ec, [&](const native_char_type* p) {
        native_handle_type h = sys::open_directory_beneath(at, p, false, ec);
        if (ec == std::errc::permission_denied) {  // (Windows has no search-only open)
            std::error_code again;
            h = sys::open_directory_beneath(at, p, true, again);
            if (!again) ec.clear();
        }
        return h;
    });
}

/// Opens the directory that holds the last component of `path` ("." for a bare name),
/// relative to the directory `base` if `path` is relative.
inline native_handle_type open_parent(const std::filesystem::path& path, std::error_code& ec,
                                      native_handle_type base = sys::current_directory) noexcept {
    return open_directory_at(base, parent_view(path), ec);
}

/// Whether a UTF-8 or UTF-16 code unit continues a character rather than starting one
/// (a UTF-8 continuation byte, a UTF-16 low surrogate): a name is never cut before one.
inline bool continues_character(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0u) == 0x80u; }
inline bool continues_character(wchar_t c) noexcept {
    const auto u = static_cast<unsigned long>(c);
    return u >= 0xDC00u && u <= 0xDFFFu;
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_PATH_HPP
