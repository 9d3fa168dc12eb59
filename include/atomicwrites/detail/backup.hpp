// SPDX-License-Identifier: MIT
/// \file
/// write_options::backup: the replaced file kept under a second name. Not API.
///
/// The sequence, made by the commit before it publishes (the temporary file is complete
/// and synced by then):
///   1. linkat(2) the target to a random temporary name in the backup's directory: the
///      old file now has two names (a missing target: no backup, nothing else done);
///   2. renameat(2) the temporary name over the backup name: the backup name switches
///      from the previous backup to the old file in one step;
///   3. fsync(2) the backup's directory: both changes are on disk before
///   4. the publication (the commit policy) replaces the target, and the writer syncs
///      the target's directory.
/// At every crash point the old file is under the target's name, the backup's, or both:
/// before 3 completes, the target still names it (nothing replaced it yet); after 3,
/// the backup name does, durably. Without step 3 a crash could keep the publication and
/// lose the backup's name (directory entries persist independently of each other until
/// their directory is flushed). Cost over a plain replace: linkat, renameat, fsync.
/// An exchange (renameat2 RENAME_EXCHANGE of the temporary and the target, then a
/// rename to the backup name) costs the same flush and would leave the old file, at one
/// crash point, under the temporary name only.
#ifndef ATOMICWRITES_DETAIL_BACKUP_HPP
#define ATOMICWRITES_DETAIL_BACKUP_HPP

#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/writer_state.hpp>
#include <atomicwrites/sync.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>

#include <filesystem>
#include <string_view>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// Takes write_options::backup when a writer is made (before anything is opened).
/// Errors: invalid_argument (without `overwrite`; a backup that names the target
/// itself), is_a_directory (ends in a separator, "." or ".."), filename_too_long,
/// not_enough_memory.
inline bool take_backup(writer_state& s, const write_options& options, std::error_code& ec) noexcept {
    if (options.backup.empty()) return true;
    if (!options.overwrite) {
        s.step = "check options (backup needs overwrite = true: a write that may not replace has nothing to keep)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    native_char_type name[sys::max_name + 1];
    s.step = "check options (backup must name a file)";
    file_name(options.backup, name, ec);
    if (ec) return false;
    const native_string_view target(s.target);
    if (!options.backup.has_root_path() && parent_view(options.backup) == native_string_view(current_directory_name) &&
        target.substr(name_offset(target)) == native_string_view(name)) {
        s.step = "check options (backup names the target itself)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    try {
        s.backup = options.backup;
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return false;
    }
    return true;
}

/// Gives the target's current file the backup name, durably, before the publication
/// (see the file comment). On failure sets s.step and `ec` and leaves no temporary name
/// (the backup name may already hold the current file: it is then a correct backup of a
/// target that did not change). System calls: openat of the backup's directory unless
/// it is the target's; linkat; renameat; the sync policy's directory sync; close.
template <class Sync>
void make_backup(const Sync& sync, writer_state& s, std::error_code& ec) noexcept {
    native_char_type name[sys::max_name + 1];
    file_name(s.backup, name, ec);  // checked by take_backup
    if (ec) return;
    native_handle_type dir = s.dir;
    const native_string_view parent = parent_view(s.backup);
    const bool own_dir = parent != native_string_view(current_directory_name);
    std::error_code ignored;
    if (own_dir) {
        // Relative to the target's directory (an absolute path ignores it).
        s.step = "open backup directory";
        dir = open_directory_at(s.dir, parent, ec);
        if (ec) return;
        if (native_string_view(name) == native_string_view(s.name)) {
            // Another spelling of the target's own directory would make the rename below
            // a no-op between two names of one file, leaving the temporary name behind.
            s.step = "check options (backup names the target itself)";
            const sys::file_status a = sys::stat_handle(dir, ec);
            const sys::file_status b = ec ? a : sys::stat_handle(s.dir, ec);
            if (!ec && a.device == b.device && a.inode == b.inode)
                ec = std::make_error_code(std::errc::invalid_argument);
            if (ec) {
                sys::close(dir, ignored);
                return;
            }
        }
    }
    auto done = [&] {
        if (own_dir) {
            std::error_code e;
            sys::close(dir, e);
            if (e && !ec) {
                s.step = "close backup directory";
                ec = e;
            }
        }
    };
    native_char_type temp[sys::max_name + 1];
    s.step = "back up target (link the old file to a temporary name)";
    with_random_name(temp, native_string_view(s.prefix), native_string_view(name), native_string_view(s.suffix), ec,
                     [&](const native_char_type* n, std::error_code& e) { sys::link(s.dir, s.name, dir, n, e); });
    if (ec == std::errc::no_such_file_or_directory) {
        ec.clear();  // no target: nothing to keep
        s.step = nullptr;
        return done();
    }
    if (ec) {
        if (ec == std::errc::cross_device_link)
            s.step = "back up target (the backup must be on the target's filesystem)";
        else if (ec == std::errc::operation_not_permitted || ec == std::errc::operation_not_supported)
            s.step =
                "back up target (a hard link of the old file was refused: by this filesystem, which then cannot "
                "keep a backup without a window, or by the kernel's protection of other users' files)";
        if (own_dir) sys::close(dir, ignored);
        return;
    }
    s.step = "back up target (rename to the backup name)";
    sys::rename(dir, temp, dir, name, ec);
    if (ec) {
        sys::unlink(dir, temp, ignored);
        if (own_dir) sys::close(dir, ignored);
        return;
    }
    const char* step = sync_target_directory(sync, dir, name, ec);
    if (ec) {
        s.step = std::string_view(step) == "sync directory" ? "sync backup directory" : step;
        if (own_dir) sys::close(dir, ignored);
        return;
    }
    s.step = nullptr;
    done();
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_BACKUP_HPP
