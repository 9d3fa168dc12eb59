// SPDX-License-Identifier: MIT
/// \file
/// Commit policies: how the temporary file is published at the target name. See the
/// commit_policy concept for what their constants mean.
#ifndef ATOMICWRITES_COMMIT_HPP
#define ATOMICWRITES_COMMIT_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/detail/sys.hpp>

#include <cerrno>

namespace atomicwrites {
inline namespace v1 {

#if ATOMICWRITES_POSIX
namespace commit {

/// renameat(2) over the target: replaces it in one step. Honours `overwrite = true` only.
/// Platforms: POSIX. System calls: renameat.
/// Errors: EXDEV (temporary on another filesystem), EACCES, EPERM, EROFS, ENOSPC, EDQUOT,
/// EISDIR (target became a directory), EBUSY.
struct rename {
    static constexpr bool can_replace = true;         ///< replaces an existing target
    static constexpr bool can_keep = false;           ///< cannot refuse to replace
    static constexpr bool links_anonymous = false;    ///< needs a named temporary file
    static constexpr bool renames_open_file = false;  ///< closes the file first
    /// renameat(2) the temporary file over the target.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        detail::sys::rename(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
        if (ec) return {commit_state::unchanged, "rename into place"};
        return {commit_state::published};
    }
};
static_assert(commit_policy<rename>);

/// linkat(2) the temporary to the target, then unlinkat(2) the temporary name; an
/// anonymous temporary is linked straight to the target. Honours `overwrite = false`
/// only. A crash between the two calls leaves the temporary name behind (the target is
/// complete). Platforms: POSIX, on filesystems with hard links (not FAT, some FUSE:
/// EPERM). System calls: linkat, unlinkat. Errors: EEXIST, EPERM, EMLINK, EXDEV, EACCES,
/// EROFS, ENOSPC; an unlinkat error is reported after publication.
struct link_unlink {
    static constexpr bool can_replace = false;                                 ///< cannot replace
    static constexpr bool can_keep = true;                                     ///< EEXIST if the target exists
    static constexpr bool links_anonymous = detail::sys::has_anonymous_files;  ///< where O_TMPFILE exists
    static constexpr bool renames_open_file = false;                           ///< closes the file first
    /// linkat(2) the temporary file to the target, then unlinkat(2) its temporary name.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if constexpr (detail::sys::has_anonymous_files) {
            if (r.temp_name == nullptr || r.temp_name[0] == '\0') {
                detail::sys::link_anonymous(r.file, r.target_dir, r.target_name, ec);
                if (ec) return {commit_state::unchanged, "link into place"};
                return {commit_state::published};
            }
        }
        detail::sys::link(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
        if (ec) return {commit_state::unchanged, "link into place"};
        detail::sys::unlink(r.temp_dir, r.temp_name, ec);
        if (ec) return {commit_state::published, "remove temporary name"};
        return {commit_state::published};
    }
};
static_assert(commit_policy<link_unlink>);

}  // namespace commit

namespace detail {
/// renameat2(2) with RENAME_NOREPLACE, falling back to link_unlink for an anonymous
/// temporary and where the kernel or filesystem lacks the flag. Where hard links are
/// refused as well (EPERM, EOPNOTSUPP, ENOSYS), the step says that no atomic no-replace
/// step exists on this filesystem; the error is the link's.
inline commit_result publish_noreplace(const commit_request& r, std::error_code& ec) noexcept {
    if (r.temp_name == nullptr || r.temp_name[0] == '\0') return commit::link_unlink{}.publish(r, ec);
    sys::rename_noreplace(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
    if (!ec) return {commit_state::published};
    // Linux before 3.15 answers ENOSYS; older NFS and some FUSE, EINVAL or EOPNOTSUPP.
    if (ec == std::errc::invalid_argument || ec == std::errc::function_not_supported ||
        ec == std::errc::operation_not_supported) {
        const int refused = ec.value();
        ec.clear();
        commit_result result = commit::link_unlink{}.publish(r, ec);
        // Hard links refused too (FAT, exFAT, many FUSE filesystems: EPERM): no step can
        // publish without replacing here. Say so, with the link's errno in `ec`; the
        // step names renameat2's answer.
        if (result.state == commit_state::unchanged &&
            (ec == std::errc::operation_not_permitted || ec == std::errc::operation_not_supported ||
             ec == std::errc::function_not_supported)) {
            result.failed_step =
                refused == ENOSYS ? "publish without replacing (no atomic no-replace step exists here: renameat2 "
                                    "with RENAME_NOREPLACE answered ENOSYS and hard links are refused; "
                                    "overwrite = true replaces instead)"
                : refused == EINVAL
                    ? "publish without replacing (no atomic no-replace step exists here: this filesystem has "
                      "neither RENAME_NOREPLACE (EINVAL) nor hard links; overwrite = true replaces instead)"
                    : "publish without replacing (no atomic no-replace step exists here: this filesystem has "
                      "neither RENAME_NOREPLACE (EOPNOTSUPP) nor hard links; overwrite = true replaces instead)";
        }
        return result;
    }
    return {commit_state::unchanged, "rename into place (no replace)"};
}
}  // namespace detail

namespace commit {

#if ATOMICWRITES_HAS_RENAME_NOREPLACE
/// renameat2(2) with RENAME_NOREPLACE: publishes unless the target exists, in one step
/// with no moment where both names exist; link_unlink where the filesystem or kernel
/// lacks it. Honours `overwrite = false` only. Platforms: Linux.
/// System calls: renameat2 (linkat, unlinkat on fallback). Errors: EEXIST, and as rename
/// and link_unlink.
struct renameat2 {
    static constexpr bool can_replace = false;        ///< cannot replace
    static constexpr bool can_keep = true;            ///< EEXIST if the target exists
    static constexpr bool links_anonymous = true;     ///< links an anonymous file straight to the target
    static constexpr bool renames_open_file = false;  ///< closes the file first
    /// renameat2(2) with RENAME_NOREPLACE, or link_unlink where it is unsupported.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        return detail::publish_noreplace(r, ec);
    }
};
static_assert(commit_policy<renameat2>);
#endif

/// The default on POSIX: `overwrite = true` renames; `overwrite = false` publishes exclusively
/// (renameat2 on Linux, link_unlink elsewhere). Platforms: POSIX.
/// System calls and Errors: as the policy it chooses.
struct automatic {
    static constexpr bool can_replace = true;                              ///< when `overwrite`
    static constexpr bool can_keep = true;                                 ///< when not `overwrite`
    static constexpr bool links_anonymous = link_unlink::links_anonymous;  ///< as link_unlink
    static constexpr bool renames_open_file = false;                       ///< closes the file first
    /// rename when `r.overwrite`, else renameat2 (Linux) or link_unlink.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if (r.overwrite) return rename{}.publish(r, ec);
        if constexpr (detail::sys::has_rename_noreplace) return detail::publish_noreplace(r, ec);
        return link_unlink{}.publish(r, ec);
    }
};
static_assert(commit_policy<automatic>);

}  // namespace commit
#endif  // ATOMICWRITES_POSIX

#if ATOMICWRITES_WINDOWS
namespace commit {

/// MoveFileExW with MOVEFILE_WRITE_THROUGH, plus MOVEFILE_REPLACE_EXISTING when
/// overwriting: both values of `overwrite` in one step. A read-only target is replaced;
/// a target another process has open is not (use posix_rename). Transient answers are
/// retried for about a second. Platforms: Windows. System calls: MoveFileExW.
/// Errors: ERROR_ALREADY_EXISTS, ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION,
/// ERROR_NOT_SAME_DEVICE (temporary on another volume), ERROR_DISK_FULL,
/// ERROR_WRITE_PROTECT.
struct movefileex {
    static constexpr bool can_replace = true;         ///< MOVEFILE_REPLACE_EXISTING
    static constexpr bool can_keep = true;            ///< ERROR_ALREADY_EXISTS without it
    static constexpr bool links_anonymous = false;    ///< needs a named temporary file
    static constexpr bool renames_open_file = false;  ///< closes the file first
    /// MoveFileExW the temporary file to the target.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if (r.overwrite) {
            detail::sys::rename(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
            if (ec) return {commit_state::unchanged, "rename into place"};
        } else {
            detail::sys::rename_noreplace(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
            if (ec) return {commit_state::unchanged, "rename into place (no replace)"};
        }
        return {commit_state::published};
    }
};
static_assert(commit_policy<movefileex>);

/// Renames the open temporary file through its handle with POSIX semantics
/// (SetFileInformationByHandle, FileRenameInfoEx): it replaces a target that readers
/// hold open with FILE_SHARE_DELETE. Falls back to movefileex where the system or
/// filesystem lacks it (before Windows 10 1809, FAT, Wine) and when there is no open
/// file. Platforms: Windows. System calls: SetFileInformationByHandle (MoveFileExW on
/// fallback). Errors: as movefileex.
struct posix_rename {
    static constexpr bool can_replace = true;        ///< FILE_RENAME_FLAG_REPLACE_IF_EXISTS
    static constexpr bool can_keep = true;           ///< ERROR_ALREADY_EXISTS without it
    static constexpr bool links_anonymous = false;   ///< needs a named temporary file
    static constexpr bool renames_open_file = true;  ///< the file stays open until after publish()
    /// Renames the open temporary file through its handle, or MoveFileExW where that
    /// is not supported or there is no open file.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if (r.file != invalid_handle) {
            detail::sys::rename_open_file(r.file, r.temp_dir, r.temp_name, r.target_dir, r.target_name, r.overwrite,
                                          ec);
            if (!ec) return {commit_state::published};
            // ERROR_INVALID_PARAMETER (no FileRenameInfoEx), ERROR_NOT_SUPPORTED or
            // ERROR_INVALID_FUNCTION (no POSIX semantics on this filesystem).
            if (!is_not_supported(ec))
                return {commit_state::unchanged, r.overwrite ? "rename into place" : "rename into place (no replace)"};
            ec.clear();
        }
        return movefileex{}.publish(r, ec);
    }
};
static_assert(commit_policy<posix_rename>);

/// The default on Windows: posix_rename, which honours write_options::overwrite either way in one
/// step, as on POSIX. Platforms: Windows.
struct automatic : posix_rename {};
static_assert(commit_policy<automatic>);

}  // namespace commit
#endif  // ATOMICWRITES_WINDOWS

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_COMMIT_HPP
