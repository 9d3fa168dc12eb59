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

/// The library's own error codes, in their own category (atomicwrites_category()); an
/// error_code compares equal to them: `ec == atomicwrites::errc::target_changed`.
enum class errc {
    /// write_options::expect: the target is no longer the version expected (another
    /// writer changed, replaced, created or removed it); nothing was published.
    target_changed = 1,
    /// write_options::lock_timeout passed while another writer held the target's lock.
    /// Equivalent to std::errc::timed_out.
    lock_timeout,
};

namespace detail {
class error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "atomicwrites"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::target_changed:
                return "the target is not the version expected";
            case errc::lock_timeout:
                return "timed out waiting for the target's lock";
        }
        return "unknown atomicwrites error";
    }
    std::error_condition default_error_condition(int value) const noexcept override {
        if (static_cast<errc>(value) == errc::lock_timeout) return std::make_error_condition(std::errc::timed_out);
        return {value, *this};
    }
};
}  // namespace detail

/// The category of atomicwrites::errc.
inline const std::error_category& atomicwrites_category() noexcept {
    static const detail::error_category category;
    return category;
}

/// An error_code of the library's own category.
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), atomicwrites_category()}; }

}  // namespace v1
}  // namespace atomicwrites

/// \cond
// atomicwrites::errc values convert to std::error_code (not API documentation).
template <>
struct std::is_error_code_enum<atomicwrites::errc> : std::true_type {};
/// \endcond

#endif  // ATOMICWRITES_ERROR_HPP
