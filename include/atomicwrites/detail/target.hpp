// SPDX-License-Identifier: MIT
/// \file
/// Finding the target before the temporary file is made: its directory opened, what is
/// there, whether it may be replaced, and where a chain of symbolic links ends. Not API.
#ifndef ATOMICWRITES_DETAIL_TARGET_HPP
#define ATOMICWRITES_DETAIL_TARGET_HPP

#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/writer_state.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <filesystem>
#include <iterator>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// open_parent, and where the directory may be written and searched but not read (a
/// drop-box directory, 1733 or 0733: EACCES), open_parent with O_PATH (POSIX): the
/// *at calls work relative to it; only its sync differs (see
/// detail::sync_target_directory). System calls: openat, a second on EACCES.
inline native_handle_type open_target_parent(const std::filesystem::path& path, std::error_code& ec,
                                             native_handle_type base = sys::current_directory) noexcept {
    native_handle_type dir = open_parent(path, ec, base);
#if ATOMICWRITES_POSIX
    if (ec == std::errc::permission_denied) {
        const native_string_view parent = parent_view(path);
        native_char_type buffer[sys::max_path];
        if (parent.size() < sys::max_path) {
            copy_c_string(buffer, parent);
            std::error_code again;
            dir = sys::open_directory_path_only(base, buffer, again);
            if (!again) ec.clear();
        }
    }
#endif
    return dir;
}

/// Opens the directory that holds `target` (a path) and keeps its file name in s.name.
/// System calls: openat (two for a directory that cannot be read).
/// Errors: file_name's and open_parent's.
inline bool open_target_directory(writer_state& s, const std::filesystem::path& target, std::error_code& ec) noexcept {
    file_name(target, s.name, ec);
    if (ec) return false;
    s.step = "open directory";
    s.dir = open_target_parent(target, ec);
    if (ec) return false;
    s.owns_dir = true;
    return true;
}

/// Names the reason in s.step where a confining directory handle refused a name
/// (name_scope::beneath): it leads out (cross_device_link), or a symbolic link on the way
/// cannot be followed beneath it (too_many_symbolic_link_levels).
inline void explain_escape(writer_state& s, const std::error_code& ec) noexcept {
    if (ec == std::errc::cross_device_link)
        s.step = "open directory (the name leads out of the directory handle, which keeps names beneath it)";
    else if (ec == std::errc::too_many_symbolic_link_levels)
        s.step =
            "open directory (a symbolic link on the way, which the directory handle cannot follow beneath "
            "itself here)";
}

/// The same for `name` inside the open directory `base`: the directory is `base` itself
/// (not opened, not closed) for a bare name; with name_scope::beneath the name's
/// directories are opened without leaving `base`. Errors: also invalid_argument (an
/// absolute name), bad_file_descriptor (`base` is not open), and with
/// name_scope::beneath cross_device_link (the name leads out) and
/// too_many_symbolic_link_levels (a link on the way that cannot be followed beneath).
inline bool open_target_directory(writer_state& s, const directory& base, const std::filesystem::path& name,
                                  std::error_code& ec) noexcept {
    if (name.has_root_path()) {  // "/x"; on Windows also "C:x" and "\\x"
        s.step = "check path (a name inside the directory handle, not an absolute path)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    file_name(name, s.name, ec);
    if (ec) return false;
    s.step = "open directory";
    if (!base.is_open()) {
        s.step = "open directory (the directory handle is not open)";
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }
    if (parent_view(name) == native_string_view(current_directory_name)) {
        s.dir = base.native_handle();
        s.owns_dir = false;
    } else if (base.scope() == name_scope::beneath) {
        s.dir = open_directory_beneath(base.native_handle(), parent_view(name), ec);
        if (ec) {
            explain_escape(s, ec);
            return false;
        }
        s.owns_dir = true;
    } else {
        s.dir = open_target_parent(name, ec, base.native_handle());
        if (ec) return false;
        s.owns_dir = true;
    }
    return true;
}

/// Opens write_options::temp_directory, if given, and checks that it is on the target's
/// filesystem. System calls: openat, fstat twice.
/// Errors: those of openat and fstat, not_enough_memory, cross_device_link.
inline void open_temp_directory(writer_state& s, const write_options& options, std::error_code& ec) noexcept {
    if (options.temp_directory.empty()) return;
    s.step = "open temporary directory";
    try {
        s.temp_dir_path = options.temp_directory;
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return;
    }
    s.temp_dir = sys::open_directory(sys::current_directory, s.temp_dir_path.c_str(), ec);
    if (ec) return;
    // The commit renames across the two directories, which cannot cross filesystems:
    // refuse now, before any data is written, not at the commit.
    const sys::file_status temp = sys::stat_handle(s.temp_dir, ec);
    if (ec) return;
    const sys::file_status target = sys::stat_handle(s.dir, ec);
    if (ec) return;
    if (temp.device != target.device) {
        s.step = "check options (temp_directory is on another filesystem than the target's directory)";
        ec = std::make_error_code(std::errc::cross_device_link);
    }
}

/// Where one symbolic link points: a name, and the directory holding it unless that is
/// the link's own directory.
struct link_text {
    /// The directory, as written in the link; empty if the link names a file beside it.
    native_string_view parent;
    /// The file name at the end of the link.
    native_string_view name;
    /// Whether `parent` is absolute (else relative to the link's directory).
    bool absolute = false;
};

/// Splits the text of a link (`link`, not NUL-terminated). Trailing separators are
/// dropped ("dir/" names dir). Pure: no system call.
/// Errors: is_a_directory (the link names a root), filename_too_long,
/// no_such_file_or_directory (an empty link).
inline link_text parse_link(native_string_view link, std::error_code& ec) noexcept {
    std::size_t n = link.size();
    const std::size_t root = sys::root_length(link);
    while (n > root && n > 1 && sys::is_separator(link[n - 1])) --n;
    link = link.substr(0, n);
    const std::size_t start = name_offset(link);
    if (start == 0) {
        if (n == 0 || n > sys::max_name)
            ec = std::make_error_code(n == 0 ? std::errc::no_such_file_or_directory : std::errc::filename_too_long);
        return {{}, link, false};
    }
    const native_string_view name = link.substr(start);
    if (name.empty() || name.size() > sys::max_name)
        ec = std::make_error_code(name.empty() ? std::errc::is_a_directory : std::errc::filename_too_long);
    return {parent_view(link), name, root != 0};
}

/// Whether the directory with status `dir` is sticky and writable by others: world-
/// writable, or also group-writable when `group_too` (protection level 2).
constexpr bool sticky_and_shared(const sys::file_status& dir, bool group_too) noexcept {
    return (dir.mode & 01000u) != 0 && ((dir.mode & 0002u) != 0 || (group_too && (dir.mode & 0020u) != 0));
}

/// Whether `uid` is the caller: the ids at exec first (no system call), then those in
/// force now.
inline bool is_caller(unsigned uid) noexcept {
    return uid == sys::process_owner().uid || uid == sys::current_owner().uid;
}

/// After the publication failed with EPERM: where the target's directory is sticky
/// (1777, as /tmp), says why in s.step, since the bare "Operation not permitted" does not
/// (only the file's owner, the directory's owner or a privileged process may replace or
/// remove a file there). System calls: fstat of the directory, on this error path only;
/// its own failure leaves the step as it was.
inline void explain_refused_publish(writer_state& s, const std::error_code& ec) noexcept {
#if ATOMICWRITES_POSIX
    // Still there after the retries (sys::retry_transient): what an NFS client answers
    // while another client replaces or removes the same name.
    if (ec.category() == std::system_category() && sys::is_transient(ec.value())) {
        s.step =
            "rename into place (busy or stale on NFS, likely: another client replaced or removed the file at the "
            "same moment; the target is unchanged, try again)";
        return;
    }
#endif
    if (ec != std::errc::operation_not_permitted) return;
    std::error_code ignored;
    const sys::file_status dir = sys::stat_handle(s.dir, ignored);
    if (!ignored && (dir.mode & 01000u) != 0)
        s.step =
            "rename into place (a sticky directory: only the owner of the file it replaces, or of the "
            "directory, may replace it)";
}

/// Linux's fs.protected_symlinks, per link followed in user space: a link in a sticky
/// world-writable directory that belongs to neither the caller nor the directory's owner
/// is not followed (EACCES), exactly where the kernel's own open(2) would refuse
/// (may_follow_link). Costs nothing for the caller's own links; else reads the setting
/// and, if it is on, fstat(2)s the link's directory (s.dir).
/// Errors: permission_denied, and those of fstat.
inline void check_link_owner(writer_state& s, const sys::file_status& link, std::error_code& ec) noexcept {
    if (is_caller(link.uid) || sys::kernel_protection("protected_symlinks", 1) == 0) return;
    s.step = "follow symbolic link (look at its directory)";
    const sys::file_status dir = sys::stat_handle(s.dir, ec);
    if (ec) return;
    if (sticky_and_shared(dir, false) && dir.uid != link.uid) {
        s.step = "follow symbolic link (another user's link in a sticky directory: fs.protected_symlinks)";
        ec = std::make_error_code(std::errc::permission_denied);
        return;
    }
    s.step = "follow symbolic link";
}

/// Linux's fs.protected_regular, for a regular file `target` whose metadata would be
/// kept: a file that belongs to neither the caller nor the directory's owner, in a
/// sticky directory others may write, was planted there by someone else, and keeping
/// its owner or mode would hand them the new content. Where the kernel's open(2) with
/// O_CREAT would refuse it (may_create_in_sticky: level 1 and a world-writable
/// directory, level 2 and a group-writable one too), this refuses it the same way
/// (EACCES); elsewhere the file is treated as new (a default status of kind none:
/// nothing is taken from it). Costs nothing for the caller's own files; else one
/// fstat(2) of the directory. Errors: permission_denied, and those of fstat.
inline sys::file_status check_planted(writer_state& s, const sys::file_status& target, std::error_code& ec) noexcept {
    if (is_caller(target.uid)) return target;
    s.step = "inspect target (look at its directory)";
    const sys::file_status dir = sys::stat_handle(s.dir, ec);
    if (ec) return target;
    s.step = "inspect target";
    if (dir.uid == target.uid || !sticky_and_shared(dir, true)) return target;
    const int level = sys::kernel_protection("protected_regular", 1);
    if (level >= 1 && sticky_and_shared(dir, level >= 2)) {
        s.step = "inspect target (another user's file in a sticky directory: fs.protected_regular)";
        ec = std::make_error_code(std::errc::permission_denied);
        return target;
    }
    return {};
}

/// Follows the chain of links at (s.dir, s.name) to its end, moving s.dir and s.name
/// there (and s.resolved_dir, when the directory changes). `link` is the status of the
/// first link. Returns the status of what is at the end (kind none if it does not
/// exist). System calls: per link, readlinkat, openat of its directory if it names
/// another, fstatat; and check_link_owner's for a link of another user.
/// With a confining directory handle (name_scope::beneath) each link's directory is
/// opened from the handle, never leaving it.
/// Errors: too_many_symbolic_link_levels (40 links: Linux's MAXSYMLINKS),
/// permission_denied (fs.protected_symlinks), cross_device_link (a link that leads out
/// of a confining directory handle), parse_link's, and those of the calls.
inline sys::file_status follow_links(writer_state& s, sys::file_status link_status, std::error_code& ec) noexcept {
    s.step = "follow symbolic link";
    native_char_type buffer[4096];
    // With a confining directory handle, the way from it to the link's directory.
    const bool confined = s.base != nullptr && s.base->scope() == name_scope::beneath;
    std::filesystem::path from_base;
    if (confined) {
        try {
            from_base = parent_view(native_string_view(s.target));
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return {};
        }
    }
    for (int hops = 0; hops < 40; ++hops) {
        check_link_owner(s, link_status, ec);
        if (ec) return {};
        const std::size_t n = sys::read_link(s.dir, s.name, buffer, std::size(buffer), ec);
        if (ec) return {};
        const link_text link = parse_link(native_string_view(buffer, n), ec);
        if (ec) return {};
        if (!link.parent.empty()) {
            native_handle_type next = invalid_handle;
            if (confined) {
                // Opened from the handle, by the way there: links that stay beneath it
                // are followed, the rest refused.
                if (link.absolute) {
                    ec = std::make_error_code(std::errc::cross_device_link);
                } else {
                    try {
                        from_base /= link.parent;
                    } catch (...) {
                        ec = std::make_error_code(std::errc::not_enough_memory);
                    }
                }
                if (!ec) next = open_directory_beneath(s.base->native_handle(), from_base.native(), ec);
                if (ec == std::errc::cross_device_link)
                    s.step =
                        "follow symbolic link (it leads out of the directory handle, which keeps names "
                        "beneath it)";
            } else {
                const native_handle_type from = link.absolute ? sys::current_directory : s.dir;
                next = open_directory_at(from, link.parent, ec);
            }
            if (ec) return {};
            try {
                s.resolved_dir =
                    link.absolute ? std::filesystem::path(link.parent) : s.target_directory() / link.parent;
            } catch (...) {  // only the paths in messages miss the hop
            }
            std::error_code ignored;
            if (s.owns_dir) sys::close(s.dir, ignored);
            s.dir = next;
            s.owns_dir = true;
        }
        copy_c_string(s.name, link.name);
        sys::file_status st = sys::stat_at(s.dir, s.name, ec);
        if (ec || st.kind != sys::file_kind::symlink) return st;
        link_status = st;
    }
    ec = std::make_error_code(std::errc::too_many_symbolic_link_levels);
    return {};
}

/// Looks at the target (s.dir, s.name) as the options say, following links with
/// symlink_mode::follow. Returns its status; a link that is to be replaced reads as
/// a default status of kind symlink (a link has no mode of its own). Always looks, also
/// for a fresh file that may replace whatever is there: only a status tells a FIFO or a
/// device node, which a rename would replace without a word, from a regular file.
/// System calls: fstatat, and follow_links'.
/// A regular file of another user whose metadata would be kept goes through
/// check_planted (refused, or read as a new file: with owner_mode::require, refused).
/// Errors: too_many_symbolic_link_levels (symlink_mode::refuse and a link),
/// is_a_directory, invalid_argument (neither a regular file nor a link), file_exists
/// (!s.overwrite and something is there), permission_denied (fs.protected_regular and
/// fs.protected_symlinks), and those of the calls.
inline sys::file_status inspect_target(writer_state& s, const write_options& options, std::error_code& ec) noexcept {
    s.step = "inspect target";
    sys::file_status st = sys::stat_at(s.dir, s.name, ec);
    if (ec) return st;
    if (st.kind == sys::file_kind::symlink) {
        if (options.symlinks == symlink_mode::refuse) {
            s.step = "inspect target (a symbolic link, and symlink_mode::refuse)";
            ec = std::make_error_code(std::errc::too_many_symbolic_link_levels);
            return st;
        }
        if (options.symlinks == symlink_mode::follow) {
            st = follow_links(s, st, ec);
            if (ec) return st;
        } else {
            st = {};
            st.kind = sys::file_kind::symlink;
        }
    }
    if (st.kind == sys::file_kind::directory) {
        s.step = "inspect target";
        ec = std::make_error_code(std::errc::is_a_directory);
    } else if (st.kind == sys::file_kind::other) {
        s.step = "inspect target (not a regular file)";
        ec = std::make_error_code(std::errc::invalid_argument);
    } else if (st.kind != sys::file_kind::none && !s.overwrite) {
        s.step = "inspect target (it exists and overwrite is false)";
        ec = std::make_error_code(std::errc::file_exists);
    } else if (st.kind == sys::file_kind::regular && options.metadata == metadata_mode::preserve) {
        st = check_planted(s, st, ec);
        if (!ec && st.kind == sys::file_kind::none && options.owner == owner_mode::require) {
            // Read as a new file: its owner is never kept, which require refuses.
            s.step =
                "inspect target (another user's file in a sticky directory: its owner is never kept, and "
                "owner_mode::require)";
            ec = std::make_error_code(std::errc::permission_denied);
        }
    }
    return st;
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_TARGET_HPP
