// SPDX-License-Identifier: MIT
/// \file
/// The three policy concepts of basic_atomic_writer, and the requests the writer hands
/// to a policy. To write a policy of your own, satisfy one of these concepts (see
/// examples/custom_policy.cpp); check it with static_assert next to its definition.
#ifndef ATOMICWRITES_CONCEPTS_HPP
#define ATOMICWRITES_CONCEPTS_HPP

#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/types.hpp>

#include <concepts>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace atomicwrites {
inline namespace v1 {

// ---------------------------------------------------------------------------------------
// Sync policies

/// Makes the temporary file's bytes durable before the commit publishes them, and the
/// directory entry durable after it.
///
/// - `sync_file(file, ec)` is called once, after the last write and before the commit.
/// - `sync_directory(dir, ec)` is called after the commit, on every directory whose
///   entries the commit changed.
/// - `durable` says whether the policy promises that a commit that returned survives a
///   crash; a policy that syncs nothing says false (and callers that need durability can
///   reject it at compile time).
template <class P>
concept sync_policy = std::semiregular<P> && requires(const P& p, native_handle_type h, std::error_code& ec) {
    { p.sync_file(h, ec) }
    noexcept;
    { p.sync_directory(h, ec) }
    noexcept;
    // Compile-time constants, not merely values convertible to bool: the writer
    // branches on them with `if constexpr`.
    typename std::bool_constant<static_cast<bool>(P::durable)>;
};

// ---------------------------------------------------------------------------------------
// Temp policies

/// What a temp policy is asked to make.
struct temp_request {
    /// The directory to make the temporary file in (same filesystem as the target).
    native_handle_type dir;
    /// The target's file name (no directory part); temporary names are derived from it.
    /// In the system's characters (UTF-16 on Windows), as are the prefix and suffix.
    native_string_view target_name;
    /// Creation mode; the umask filters it, as for open(2). Never wider than the final
    /// file's mode. On Windows: no write bit makes the file read-only.
    unsigned mode;
    /// write_options::temp_prefix.
    native_string_view prefix;
    /// write_options::temp_suffix.
    native_string_view suffix;
};

/// An open temporary file. `name` is empty for an anonymous file (one with no directory
/// entry yet, e.g. O_TMPFILE).
struct temp_file {
    /// The open file (invalid_handle if none).
    native_handle_type file = invalid_handle;
    /// Its name in the directory, NUL-terminated; empty if anonymous.
    native_char_type name[detail::sys::max_name + 1] = {};

    /// True if the file has no name.
    bool anonymous() const noexcept { return name[0] == '\0'; }
};

/// Makes the temporary file next to the target.
///
/// - `create(request, file, ec)` opens a new, exclusively created file for writing and
///   fills `file` (name left empty if the file is anonymous). On failure it leaves
///   nothing behind. An error of std::errc::operation_not_supported,
///   std::errc::is_a_directory, std::errc::invalid_argument or
///   std::errc::function_not_supported means "this kind of file is not available here"
///   (temp::first_of falls back on it).
/// - `may_be_anonymous` is true if `create` can return an anonymous file; the writer then
///   gives it a name when the commit needs one.
/// - optionally `needs_affix` (see temp_policy_needs_affix).
template <class P>
concept temp_policy = std::semiregular<P> &&
    requires(const P& p, const temp_request& r, temp_file& t, std::error_code& ec) {
    { p.create(r, t, ec) }
    noexcept;
    typename std::bool_constant<static_cast<bool>(P::may_be_anonymous)>;
};

/// Whether the temp policy `P` names its file from the target and the affixes alone
/// (an optional `static constexpr bool needs_affix`, false if absent): the writer then
/// refuses an empty temp_prefix with an empty temp_suffix when it checks the options,
/// instead of a bare invalid_argument from the creation.
template <class P>
inline constexpr bool temp_policy_needs_affix = [] {
    if constexpr (requires { P::needs_affix; })
        return static_cast<bool>(P::needs_affix);
    else
        return false;
}();

/// True if `ec` says that a feature is missing here, not that the operation failed.
/// On Windows the system's own "not supported" answers count too (ERROR_INVALID_FUNCTION
/// is one the standard library may not map to std::errc).
inline bool is_not_supported(const std::error_code& ec) noexcept {
    return ec == std::errc::operation_not_supported || ec == std::errc::not_supported ||
           ec == std::errc::is_a_directory || ec == std::errc::invalid_argument ||
           ec == std::errc::function_not_supported || detail::sys::is_unsupported_error(ec);
}

// ---------------------------------------------------------------------------------------
// Commit policies

/// What a commit policy is asked to publish.
struct commit_request {
    /// The temporary file: its directory and name (empty if anonymous), and its handle
    /// (still open when the file is anonymous or the policy says renames_open_file; a
    /// named file is closed by then otherwise; invalid_handle for replace_atomic() and
    /// move_atomic(), which have no open file).
    native_handle_type temp_dir;
    /// The temporary file's name (empty if it is anonymous).
    const native_char_type* temp_name;
    /// The temporary file's handle (see above).
    native_handle_type file;
    /// Where to publish it.
    native_handle_type target_dir;
    /// The target's name in target_dir.
    const native_char_type* target_name;
    /// write_options::overwrite.
    bool overwrite;
};

/// The outcome of a commit policy's publish().
struct commit_result {
    /// Whether the target now shows the new content (it may, even with an error: a
    /// link that worked followed by an unlink that did not).
    commit_state state = commit_state::unchanged;
    /// The step that failed, for the error message ("rename into place"); null if none.
    const char* failed_step = nullptr;
};

/// Publishes the temporary file at the target name.
///
/// - `publish(request, ec)` makes the target show the temporary file's content in one
///   step a reader cannot see halfway, or fails and leaves the target as it was.
/// - `can_replace` / `can_keep`: whether it can honour `overwrite == true` (replace an
///   existing target) and `overwrite == false` (fail with file_exists if the target
///   exists). The writer rejects an option the policy cannot honour before anything is
///   written; a policy must support at least one.
/// - `links_anonymous`: publish() accepts an anonymous temporary (empty temp_name) when
///   `overwrite` is false; otherwise the writer names the file first.
/// - `renames_open_file`: publish() renames the temporary file through its open handle,
///   so the writer keeps it open until after publish() (commit::posix_rename on
///   Windows); otherwise it is closed before.
template <class P>
concept commit_policy = std::semiregular<P> && requires(const P& p, const commit_request& r, std::error_code& ec) {
    { p.publish(r, ec) }
    noexcept->std::same_as<commit_result>;
} && requires {
    typename std::bool_constant<static_cast<bool>(P::can_replace)>;
    typename std::bool_constant<static_cast<bool>(P::can_keep)>;
    typename std::bool_constant<static_cast<bool>(P::links_anonymous)>;
    typename std::bool_constant<static_cast<bool>(P::renames_open_file)>;
} &&(P::can_replace || P::can_keep);

namespace detail {
/// CommitPolicy::renames_open_file.
template <class P>
constexpr bool renames_open_file() noexcept {
    return static_cast<bool>(P::renames_open_file);
}
}  // namespace detail

/// Whether a writer with these policies can ever make a durable commit.
template <class SyncPolicy>
inline constexpr bool is_durable = SyncPolicy::durable;

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_CONCEPTS_HPP
