// SPDX-License-Identifier: MIT
/// \file
/// Commit policies: how the temporary file is published at the target name. See the
/// commit_policy concept.
#ifndef ATOMICWRITES_COMMIT_HPP
#define ATOMICWRITES_COMMIT_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/detail/sys.hpp>

namespace atomicwrites {
inline namespace v1 {
namespace commit {

#if ATOMICWRITES_POSIX
/// renameat(2) over the target: replaces it in one step (readers see the old file or the
/// new one). Honours `overwrite = true` only. Platforms: POSIX.
/// System calls: renameat. Errors: EXDEV (temporary on another filesystem), EACCES,
/// EPERM, EROFS, ENOSPC, EDQUOT, EISDIR (target became a directory), EBUSY.
struct rename {
    /// True: replaces an existing target.
    static constexpr bool can_replace = true;
    /// False: cannot refuse to replace an existing target.
    static constexpr bool can_keep = false;
    /// False: needs a named temporary file.
    static constexpr bool links_anonymous = false;
    /// renameat(2) the temporary file over the target.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        detail::sys::rename(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
        if (ec) return {commit_state::unchanged, "rename into place"};
        return {commit_state::published};
    }
};
static_assert(commit_policy<rename>);

/// linkat(2) the temporary to the target, which fails with EEXIST if the target exists,
/// then unlinkat(2) the temporary name (python-atomicwrites' way). Honours
/// `overwrite = false` only. Note: between the two calls the file has both names; a
/// crash there leaves the temporary name behind (the target is complete). With an
/// anonymous temporary there is no second name: it is linked straight to the target.
/// Platforms: POSIX; the filesystem must support hard links (not FAT, some FUSE:
/// EPERM). System calls: linkat, unlinkat. Errors: EEXIST, EPERM, EMLINK, EXDEV,
/// EACCES, EROFS, ENOSPC; an unlinkat error is reported after publication.
struct link_unlink {
    /// False: cannot replace an existing target.
    static constexpr bool can_replace = false;
    /// True: fails with EEXIST if the target exists.
    static constexpr bool can_keep = true;
    /// True on Linux: links an O_TMPFILE file straight to the target.
    static constexpr bool links_anonymous = ATOMICWRITES_LINUX && detail::sys::has_anonymous_files;
    /// linkat(2) the temporary file to the target, then unlinkat(2) its temporary name.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
#if ATOMICWRITES_LINUX && defined(O_TMPFILE)
        if (r.temp_name == nullptr || r.temp_name[0] == '\0') {
            detail::sys::link_anonymous(r.file, r.target_dir, r.target_name, ec);
            if (ec) return {commit_state::unchanged, "link into place"};
            return {commit_state::published};
        }
#endif
        detail::sys::link(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
        if (ec) return {commit_state::unchanged, "link into place"};
        detail::sys::unlink(r.temp_dir, r.temp_name, ec);
        if (ec) return {commit_state::published, "remove temporary name"};
        return {commit_state::published};
    }
};
static_assert(commit_policy<link_unlink>);
#endif  // ATOMICWRITES_POSIX

#if ATOMICWRITES_LINUX && defined(RENAME_NOREPLACE)
/// renameat2(2) with RENAME_NOREPLACE: publishes unless the target exists (EEXIST), in
/// one step with no moment where both names exist. Honours `overwrite = false` only.
/// Where the filesystem or kernel lacks it (EINVAL, ENOSYS, EOPNOTSUPP: Linux < 3.15,
/// older NFS, some FUSE), falls back to link_unlink. Platforms: Linux.
/// System calls: renameat2 (linkat, unlinkat on fallback). Errors: EEXIST, and as
/// rename and link_unlink.
struct renameat2 {
    /// False: cannot replace an existing target.
    static constexpr bool can_replace = false;
    /// True: fails with EEXIST if the target exists.
    static constexpr bool can_keep = true;
    /// True: an anonymous temporary file is linked straight to the target.
    static constexpr bool links_anonymous = true;
    /// renameat2(2) with RENAME_NOREPLACE, or link_unlink where it is unsupported.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if (r.temp_name == nullptr || r.temp_name[0] == '\0') return link_unlink{}.publish(r, ec);
        detail::sys::rename_noreplace(r.temp_dir, r.temp_name, r.target_dir, r.target_name, ec);
        if (!ec) return {commit_state::published};
        if (ec == std::errc::invalid_argument || ec == std::errc::function_not_supported ||
            ec == std::errc::operation_not_supported) {
            ec.clear();
            return link_unlink{}.publish(r, ec);
        }
        return {commit_state::unchanged, "rename into place (no replace)"};
    }
};
static_assert(commit_policy<renameat2>);
#endif

#if ATOMICWRITES_POSIX
/// The default: honours write_options::overwrite the way python-atomicwrites does.
/// overwrite = true: rename. overwrite = false: renameat2 with RENAME_NOREPLACE on Linux
/// (falling back to link_unlink), link_unlink elsewhere. Platforms: POSIX (Windows has
/// its own, below).
struct automatic {
    /// True: replaces when `overwrite` is true.
    static constexpr bool can_replace = true;
    /// True: fails with EEXIST when `overwrite` is false and the target exists.
    static constexpr bool can_keep = true;
    /// As link_unlink.
    static constexpr bool links_anonymous = link_unlink::links_anonymous;
    /// rename when `r.overwrite`, else renameat2 (Linux) or link_unlink.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if (r.overwrite) return rename{}.publish(r, ec);
#if ATOMICWRITES_LINUX && defined(RENAME_NOREPLACE)
        return renameat2{}.publish(r, ec);
#else
        return link_unlink{}.publish(r, ec);
#endif
    }
};
static_assert(commit_policy<automatic>);
#endif  // ATOMICWRITES_POSIX

#if ATOMICWRITES_WINDOWS
/// MoveFileExW with MOVEFILE_WRITE_THROUGH, plus MOVEFILE_REPLACE_EXISTING when
/// overwriting (the seed's Windows commit). Without it an existing target makes the move
/// fail with ERROR_ALREADY_EXISTS (std::errc::file_exists), so both values of
/// `overwrite` are honoured in one step. WRITE_THROUGH: the call returns once the move
/// is on the disk. A read-only target is replaced as rename(2) replaces a file without
/// write permission (its read-only attribute is cleared first, and restored if the
/// move fails). Not possible: replacing a target another process has open, even with
/// FILE_SHARE_DELETE (ERROR_ACCESS_DENIED; use posix_rename). Sharing violations and
/// access-denied answers are retried for about a second (a scanner or indexer holding
/// the file), then reported. Platforms: Windows. System calls: MoveFileExW.
/// Errors: ERROR_ALREADY_EXISTS, ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION,
/// ERROR_NOT_SAME_DEVICE (temporary on another volume), ERROR_DISK_FULL,
/// ERROR_WRITE_PROTECT.
struct movefileex {
    /// True: MOVEFILE_REPLACE_EXISTING replaces an existing target.
    static constexpr bool can_replace = true;
    /// True: without it, an existing target fails the move with ERROR_ALREADY_EXISTS.
    static constexpr bool can_keep = true;
    /// False: needs a named temporary file.
    static constexpr bool links_anonymous = false;
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

/// Renames the open temporary file through its handle with POSIX semantics:
/// SetFileInformationByHandle(FileRenameInfoEx) with FILE_RENAME_FLAG_POSIX_SEMANTICS,
/// plus FILE_RENAME_FLAG_REPLACE_IF_EXISTS and FILE_RENAME_FLAG_IGNORE_READONLY_ATTRIBUTE
/// when overwriting. It replaces a target that other processes have open with
/// FILE_SHARE_DELETE (they keep reading the old file, as on POSIX), which MoveFileExW
/// cannot, and it never re-opens the temporary file by name. Where the system or the
/// filesystem does not support it (Windows before 10 1809, FAT, Wine; the answer is
/// ERROR_INVALID_PARAMETER, ERROR_NOT_SUPPORTED or ERROR_INVALID_FUNCTION) it falls back
/// to movefileex, as it does for replace_atomic() and move_atomic(), which have no open
/// file. The writer keeps the temporary file open until after the rename
/// (renames_open_file). Platforms: Windows. System calls: SetFileInformationByHandle
/// (MoveFileExW on fallback). Errors: as movefileex.
struct posix_rename {
    /// True: FILE_RENAME_FLAG_REPLACE_IF_EXISTS replaces an existing target.
    static constexpr bool can_replace = true;
    /// True: without it, an existing target fails the rename with ERROR_ALREADY_EXISTS.
    static constexpr bool can_keep = true;
    /// False: needs a named temporary file.
    static constexpr bool links_anonymous = false;
    /// True: the temporary file stays open until after publish().
    static constexpr bool renames_open_file = true;
    /// Renames the open temporary file through its handle, or MoveFileExW where that
    /// is not supported or there is no open file.
    commit_result publish(const commit_request& r, std::error_code& ec) const noexcept {
        if (r.file != invalid_handle) {
            detail::sys::rename_open_file(r.file, r.temp_dir, r.temp_name, r.target_dir, r.target_name, r.overwrite,
                                          ec);
            if (!ec) return {commit_state::published};
            if (!is_not_supported(ec))
                return {commit_state::unchanged, r.overwrite ? "rename into place" : "rename into place (no replace)"};
            ec.clear();
        }
        return movefileex{}.publish(r, ec);
    }
};
static_assert(commit_policy<posix_rename>);

/// The default: honours write_options::overwrite either way in one step, as on POSIX.
/// On Windows this is posix_rename, whose members it has.
struct automatic : posix_rename {};
static_assert(commit_policy<automatic>);
#endif  // ATOMICWRITES_WINDOWS

}  // namespace commit
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_COMMIT_HPP
