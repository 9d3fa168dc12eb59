// SPDX-License-Identifier: MIT
/// \file
/// Error conventions.
///
/// Every fallible operation comes in two forms, as in std::filesystem: one throws
/// std::filesystem::filesystem_error, the other takes a std::error_code& and is noexcept.
/// Errors from the system keep their errno in std::system_category(); the library's own
/// decisions use std::errc. The exception's message names the step that failed and its
/// code() is the error; path1() is the target, path2() the temporary file (if any).
///
/// A failure after the new content became visible at the target (the directory sync
/// after the rename, say) throws durability_error, a filesystem_error; the error_code
/// forms report it by returning commit_state::published with the error set.
#ifndef ATOMICWRITES_ERROR_HPP
#define ATOMICWRITES_ERROR_HPP

#include <atomicwrites/types.hpp>

#include <filesystem>
#include <string>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {

/// The new content is visible at the target, but a step after that failed (the
/// directory sync, say): the target has changed, and the change may not survive a crash.
class durability_error : public std::filesystem::filesystem_error {
public:
    using std::filesystem::filesystem_error::filesystem_error;
};

namespace detail {

/// Throws the exception for a failed step.
[[noreturn]] inline void throw_error(const char* step, const std::filesystem::path& p1, const std::filesystem::path& p2,
                                     std::error_code ec, commit_state state) {
    std::string what = "atomicwrites: ";
    what += step != nullptr ? step : "operation";
    if (state == commit_state::published) {
        what += " (the new content is already in place)";
        if (p2.empty()) throw durability_error(what, p1, ec);
        throw durability_error(what, p1, p2, ec);
    }
    if (p2.empty()) throw std::filesystem::filesystem_error(what, p1, ec);
    throw std::filesystem::filesystem_error(what, p1, p2, ec);
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_ERROR_HPP
