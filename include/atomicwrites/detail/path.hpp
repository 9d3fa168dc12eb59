// SPDX-License-Identifier: MIT
/// \file
/// Splitting a target path into an open parent directory and a file name, and copying
/// names into fixed buffers. Not API.
#ifndef ATOMICWRITES_DETAIL_PATH_HPP
#define ATOMICWRITES_DETAIL_PATH_HPP

#include <atomicwrites/detail/sys.hpp>

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// Copies `s` to `out` and returns the end of the copy. An empty `s` copies nothing: its
/// data() may be null, which memcpy must never be given.
inline char* copy_chars(char* out, std::string_view s) noexcept {
    if (!s.empty()) std::memcpy(out, s.data(), s.size());
    return out + s.size();
}

/// Whether `s` holds a '/' or a NUL: what a file name must not. A plain loop: the
/// affixes it checks are a few bytes long, shorter than a call to memchr costs.
inline bool has_separator_or_nul(std::string_view s) noexcept {
    for (char c : s)
        if (c == '/' || c == '\0') return true;
    return false;
}

/// Copies `s` and a terminating NUL to `out`.
inline void copy_c_string(char* out, std::string_view s) noexcept { *copy_chars(out, s) = '\0'; }

/// Copies the last component of `path` into `name` (max_name + 1 bytes). Errors:
/// invalid_argument (empty path), is_a_directory (ends in a separator, ".", ".."),
/// filename_too_long.
inline void file_name(const std::filesystem::path& path, char* name, std::error_code& ec) noexcept {
    const std::string_view native(path.native());
    if (native.empty()) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return;
    }
    const std::size_t slash = native.find_last_of('/');
    const std::string_view file = slash == native.npos ? native : native.substr(slash + 1);
    if (file.empty() || file == "." || file == "..") {
        ec = std::make_error_code(std::errc::is_a_directory);
        return;
    }
    if (file.size() > sys::max_name) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return;
    }
    copy_c_string(name, file);
}

/// Opens the directory that holds the last component of `path` ("." for a bare name),
/// relative to the directory `base` if `path` is relative.
inline native_handle_type open_parent(const std::filesystem::path& path, std::error_code& ec,
                                      native_handle_type base = sys::current_directory) noexcept {
    const std::string& native = path.native();
    const std::size_t slash = native.find_last_of('/');
    if (slash == native.npos) return sys::open_directory(base, ".", ec);
    if (slash == 0) return sys::open_directory(base, "/", ec);
    if (slash < 4096) {
        char parent[4096];
        std::memcpy(parent, native.data(), slash);
        parent[slash] = '\0';
        return sys::open_directory(base, parent, ec);
    }
    ec = std::make_error_code(std::errc::filename_too_long);
    return invalid_handle;
}

/// The lexical parent of `path`, "." for a bare name: for messages and for telling
/// whether two paths share a directory.
inline std::string_view parent_view(const std::filesystem::path& path) noexcept {
    const std::string_view native(path.native());
    const std::size_t slash = native.find_last_of('/');
    if (slash == native.npos) return ".";
    return slash == 0 ? native.substr(0, 1) : native.substr(0, slash);
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_PATH_HPP
