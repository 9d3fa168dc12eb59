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
/// (falling back to link_unlink), link_unlink elsewhere. Platforms: POSIX.
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

}  // namespace commit
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_COMMIT_HPP
