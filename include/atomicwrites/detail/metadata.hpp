// SPDX-License-Identifier: MIT
/// \file
/// The mode and owner a new file gets: planned from the target's status and the options
/// without a system call (plan_metadata), then given to the temporary file
/// (apply_metadata). Not API.
#ifndef ATOMICWRITES_DETAIL_METADATA_HPP
#define ATOMICWRITES_DETAIL_METADATA_HPP

#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/xattr.hpp>
#include <atomicwrites/types.hpp>

#include <filesystem>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// What to create the temporary file with, and what to give it afterwards.
struct metadata_plan {
    /// The temp policy's creation mode (the umask narrows it): never wider than final_mode.
    unsigned create_mode = 0666;
    /// The permission bits to set when set_mode (07777).
    unsigned final_mode = 0;
    /// Set final_mode on the temporary file.
    bool set_mode = false;
    /// Give the temporary file `owner` (the replaced file's ids).
    bool set_owner = false;
    /// The replaced file's owner and group, when set_owner or check_owner.
    sys::owner_ids owner{0, 0};
    /// Look at the owner, group and mode the temporary file was created with (one fstat,
    /// instead of the fchmod where the mode is already right): set `owner` where they
    /// differ (a set-group-ID directory, ids changed since exec), the mode only where it
    /// differs (the umask or a default ACL narrowed it).
    bool check_owner = false;
    /// A refusal to set `owner` is an error, not a fallback (write_options::owner_ids,
    /// owner_mode::require).
    bool owner_required = false;
    /// The owner is write_options::owner_ids (for the step's name).
    bool owner_explicit = false;
    /// final_mode is write_options::create_mode, still to be narrowed by the umask
    /// (read_umask): the file was created narrower, for a group it will not keep.
    bool apply_umask = false;
};

/// write_options::owner_ids on top of the plan so far: the ids given, and for an id left
/// unchanged on a replace with owner_mode::preserve or require, the old file's. Until
/// the fchown the file has the process's group (or its directory's): with another
/// group to come, the group bits it is created with are only those the others get too,
/// and the mode is set after the fchown.
inline void plan_explicit_owner(metadata_plan& plan, const sys::file_status& target, bool replacing,
                                const write_options& options) noexcept {
    file_owner want = *options.owner_ids;
    if (replacing && options.owner != owner_mode::process) {
        if (want.uid == file_owner::unchanged) want.uid = target.uid;
        if (want.gid == file_owner::unchanged) want.gid = target.gid;
    }
    plan.check_owner = false;
    plan.set_owner = false;
    if (want.uid == file_owner::unchanged && want.gid == file_owner::unchanged) return;
    plan.set_owner = true;
    plan.owner_required = true;
    plan.owner_explicit = true;
    plan.owner = {want.uid, want.gid};
    if (want.gid == file_owner::unchanged) return;
    const unsigned requested = plan.create_mode;
    const unsigned shared = (requested >> 3) & requested & 07u;
    plan.create_mode = (requested & 0707u) | (shared << 3);
    if (plan.create_mode != requested && !plan.set_mode) {
        plan.final_mode = requested;
        plan.set_mode = true;
        plan.apply_umask = true;
    }
}

/// Who the process is, as the system says: process() the ids a new file gets (taken at
/// exec: no system call on Linux), current() the ids in force now (a system call, asked
/// only for a target with set-id bits).
struct system_ids {
    static sys::owner_ids process() noexcept { return sys::process_owner(); }
    static sys::owner_ids current() noexcept { return sys::current_owner(); }
};

/// The mode and owner rules. `target` is what is at the target (file_kind::none if
/// nothing, a default status with kind symlink for a link that is replaced), `ids` says
/// who the process is (system_ids, or a stand-in with the same two functions).
///
/// - A new file: create_mode 0666 (write_options::create_mode if given) and nothing to
///   set (the kernel applies the umask).
/// - write_options::mode: created with its permission bits, then set exactly.
/// - A replaced regular file (metadata_mode::preserve): keeps its mode; with
///   owner_mode::preserve and another owner, the file is created 0700-narrowed and given
///   the old owner before it gets its mode; with the same owner, the group and other
///   bits it is created with are those both had (the new file's group is only known by
///   looking: check_owner). owner_mode::require: the same, a refusal being an error.
/// - write_options::owner_ids: see plan_explicit_owner.
/// Asks `ids` nothing unless a regular file is replaced with owner_mode::preserve or
/// require.
template <class Ids = system_ids>
metadata_plan plan_metadata(const sys::file_status& target, const write_options& options,
                            const Ids& ids = {}) noexcept {
    metadata_plan plan;
    const bool replacing = target.kind == sys::file_kind::regular && options.metadata == metadata_mode::preserve;
    if (options.mode != std::filesystem::perms::unknown) {
        plan.final_mode = static_cast<unsigned>(options.mode) & 07777u;
        plan.create_mode = plan.final_mode & 0777u;
        plan.set_mode = true;
    } else if (replacing) {
        plan.final_mode = target.mode;
        plan.create_mode = target.mode & 0777u;
        plan.set_mode = true;
    } else if (options.create_mode != std::filesystem::perms::unknown) {
        plan.create_mode = static_cast<unsigned>(options.create_mode) & 0777u;
    }
    if (options.owner_ids) {
        plan_explicit_owner(plan, target, replacing, options);
        return plan;
    }
    if (!replacing || options.owner == owner_mode::process) return plan;
    plan.owner_required = options.owner == owner_mode::require;

    sys::owner_ids me = ids.process();
    bool differs = target.uid != me.uid || target.gid != me.gid;
    if (!differs && (target.mode & 06000u) != 0) {
        // Set-id bits must never reach a file of another owner: for them, ask the system
        // for the ids in force now rather than those at exec.
        me = ids.current();
        differs = target.uid != me.uid || target.gid != me.gid;
    }
    if (differs) {
        // Until the owner is set, the file belongs to us: keep others out.
        plan.set_owner = true;
        plan.owner = {target.uid, target.gid};
        plan.create_mode &= 0700u;
        if (!plan.set_mode) {
            plan.final_mode = target.mode;
            plan.set_mode = true;
        }
    } else if constexpr (sys::has_owners) {
        // The ids match those at exec, but a new file's group is the directory's in a
        // set-group-ID directory, and the ids in force after setegid: what the file got
        // is only known by looking. The mode is still the old file's (no wider).
        plan.check_owner = true;
        plan.owner = {target.uid, target.gid};
        // Until that look, the file may carry another group than the old file's, and a
        // descriptor opened now keeps its access for the data written later: no class of
        // user may get more than the old file gave it. The group and the others both get
        // only what the old file gave both (0644, 0600, 0755 stay as they are; 0640 is
        // created 0600 and then set).
        const unsigned shared = (plan.create_mode >> 3) & plan.create_mode & 07u;
        plan.create_mode = (plan.create_mode & 0700u) | (shared << 3) | shared;
    }
    return plan;
}

/// What a replacing file takes from the file it replaces besides the plan: where the old
/// file is (for its extended attributes), and whether the mode is only kept.
struct metadata_source {
    /// The old file's directory and name; invalid_handle when nothing is copied.
    native_handle_type dir = invalid_handle;
    const native_char_type* name = nullptr;
    /// The mode is the old file's (not write_options::mode): a refused fchmod then
    /// leaves the creation mode, which is never wider.
    bool mode_kept = false;
};

/// The source for a replaced `target`: extended attributes with write_options::xattrs
/// and metadata_mode::preserve, the mode kept unless write_options::mode is given.
inline metadata_source metadata_source_of(const sys::file_status& target, const write_options& options,
                                          native_handle_type dir, const native_char_type* name) noexcept {
    metadata_source from;
    if (target.kind != sys::file_kind::regular || options.metadata != metadata_mode::preserve) return from;
    if (options.xattrs) {
        from.dir = dir;
        from.name = name;
    }
    from.mode_kept = options.mode == std::filesystem::perms::unknown;
    return from;
}

/// Whether fchown or fchmod refused rather than failed: not permitted (EPERM), ids not
/// mapped in this user namespace (EINVAL), or a filesystem without owners or modes
/// (ENOSYS, EOPNOTSUPP: FUSE, FAT). POSIX only.
inline bool is_metadata_refusal(const std::error_code& ec) noexcept {
#if ATOMICWRITES_WINDOWS
    (void)ec;
    return false;
#else
    return ec == std::errc::operation_not_permitted || ec == std::errc::invalid_argument ||
           ec == std::errc::function_not_supported || ec == std::errc::operation_not_supported ||
           ec == std::errc::not_supported;
#endif
}

/// Gives the open temporary file `file` the planned owner, then the old file's extended
/// attributes (`from`), then the planned mode. Returns the mode set if it has set-id bits
/// (a later write may clear them: the commit sets it again), else 0. An owner the
/// process may not give keeps at least the group where it may, and then loses the
/// set-id bits; a kept mode that the system refuses stays the creation mode (never
/// wider). The order matters: fchown clears file capabilities, and an ACL sets the group
/// bits (its mask), which the mode then sets as planned.
/// A refusal with owner_required (write_options::owner_ids, owner_mode::require) is an
/// error. System calls: fstat (check_owner), fchown (two on a refusal) where the owner
/// differs or is given; read_umask (apply_umask);
/// with `from`, llistxattr (see carry_xattrs) and, for a file without an ACL, fsetxattr
/// of a minimal ACL in place of fchmod (fchmod after it only for set-id bits, or where
/// it fails and the mode is not yet right); else fchmod where the mode differs.
/// Errors: those of fstat, of fchown other than refusals, of carry_xattrs, and of fchmod
/// (when the mode is requested, or not a refusal); `step` names the one.
inline unsigned apply_metadata(native_handle_type file, metadata_plan plan, const char*& step, std::error_code& ec,
                               const metadata_source& from = {}) noexcept {
    bool mode_right = false;  // created with exactly the final mode (as fstat saw it)
    if (plan.check_owner) {
        step = "inspect temporary file (its owner, group and mode)";
        const sys::file_status made = sys::stat_handle(file, ec);
        if (ec) return 0;
        mode_right = made.mode == plan.final_mode;
        if (made.uid != plan.owner.uid || made.gid != plan.owner.gid)
            plan.set_owner = true;
        else if (mode_right && from.name == nullptr)
            plan.set_mode = false;  // created exactly as it must be (no inherited ACL to drop)
    }
    if (plan.set_owner) {
        step = plan.owner_explicit ? "set owner of temporary file (write_options::owner_ids)"
               : plan.owner_required
                   ? "set owner of temporary file (owner_mode::require: the owner and group of the file it replaces)"
                   : "set owner of temporary file";
        bool kept = true;
        sys::set_owner(file, plan.owner.uid, plan.owner.gid, ec);
        if (is_metadata_refusal(ec) && !plan.owner_required) {
            // Not ours to give away (or not here): keep the group at least, if we may.
            ec.clear();
            kept = false;
            sys::set_owner(file, static_cast<unsigned>(-1), plan.owner.gid, ec);
            if (is_metadata_refusal(ec)) ec.clear();
        }
        if (ec) return 0;
        if (!kept) plan.final_mode &= ~06000u;  // never hand set-id bits to a new owner
    }
    bool had_acl = false;
    if (from.name != nullptr) {
        step = "copy extended attributes";
        carry_xattrs(from.dir, from.name, file, had_acl, ec);
        if (ec) return 0;
    }
    if (plan.apply_umask) {
        // A new file's create_mode, narrowed as open(2) narrows it. Where the umask
        // cannot be read without changing it, the creation mode stays (never wider).
        std::error_code mask_ec;
        const unsigned mask = sys::read_umask(mask_ec);
        if (mask_ec) return 0;
        plan.final_mode &= ~mask;
    }
    if (!plan.set_mode) return 0;
    step = "set mode of temporary file";
    if (from.name != nullptr && !had_acl) {
        // No ACL of its own: drop one the directory's default ACL gave the new file.
        std::error_code acl_ec;
        set_minimal_acl(file, plan.final_mode, acl_ec);
        if ((!acl_ec || mode_right) && (plan.final_mode & 07000u) == 0) return 0;  // else fchmod
    }
    sys::set_mode(file, plan.final_mode, ec);
    if (ec && from.mode_kept && is_metadata_refusal(ec)) {
        ec.clear();  // the creation mode stays: the old mode, narrowed by the umask
        return 0;
    }
    if (ec) return 0;
    return (plan.final_mode & 06000u) != 0 ? plan.final_mode : 0;
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_METADATA_HPP
