// SPDX-License-Identifier: MIT
/// \file
/// The one list of OS operations every platform implements, in namespace
/// atomicwrites::detail::sys. Not API. Every operation reports through std::error_code
/// and goes through the thread's syscall_hook (see <atomicwrites/syscall_hook.hpp>).
///
/// Operations: open_directory, open_directory_beneath (a name kept beneath a directory),
/// open_file, stat_at, stat_handle, read_link, create_file,
/// create_anonymous + link_anonymous (where has_anonymous_files), write_all, fsync,
/// fdatasync, full_fsync, set_mode, set_owner, rename, rename_noreplace (where
/// has_rename_noreplace), link, unlink, close, process_owner, current_owner, kernel_protection, random_seed;
/// for remove_stale_temps(): directory_reader, try_read_lease (used where
/// has_read_lease), open_for_removal and remove_open_file (used where
/// has_open_for_removal); syncfs (used where has_syncfs, by group::syncfs); a
/// platform without one of these declares it answering "not
/// supported", so that portable code can choose with `if constexpr`. Windows adds
/// rename_open_file (a rename through the open file's handle). For links and trees
/// (detail/posix/links.hpp, detail/windows/links.hpp): symlink, rename_exchange (where
/// has_rename_exchange; ATOMICWRITES_HAS_RENAME_EXCHANGE on POSIX), make_directory,
/// remove_directory. For write_options::start and editing in place (detail/posix/copy.hpp,
/// detail/windows/copy.hpp): clone, copy_range, read, pwrite_all, truncate,
/// seek, allocate, filesystem_type, open_to_copy. For versions.hpp (detail/posix/lock.hpp,
/// detail/windows/lock.hpp): open_for_reading, read_some, open_lock_file, lock, lock_busy,
/// unlock. For write_options::create_mode with owner_ids: read_umask.
///
/// And what a platform says about names: current_directory, max_name, max_path,
/// is_separator, root_length, to_native (a UTF-8 string into the system's characters),
/// text_newline, is_unsupported_error.
///
/// Feature probes, 0 or 1, defined by each layer after the OS headers they probe:
/// ATOMICWRITES_HAS_O_TMPFILE (has_anonymous_files), ATOMICWRITES_HAS_RENAME_NOREPLACE
/// (renameat2's flag; has_rename_noreplace is also true on Windows, through MoveFileExW),
/// ATOMICWRITES_HAS_READ_LEASE (has_read_lease), ATOMICWRITES_HAS_FULL_FSYNC
/// (has_full_fsync). Outside the sys layer a macro is read only where a policy is
/// declared; code in function bodies branches on the constant with `if constexpr`.
///
/// Where it is: the answer types in detail/sys_types.hpp (file_kind, file_status,
/// owner_ids, removal_candidate); on POSIX, detail/posix/file.hpp (the probes, names,
/// files, sync, rename, link, owners) and detail/posix/sweep.hpp (for
/// remove_stale_temps()); on Windows, detail/windows/path.hpp (names, paths in an open
/// directory), retry.hpp (the hook, errors, transient answers), file.hpp (open, create,
/// stat, read_link, write, flush, mode, owners), rename.hpp (rename, rename_open_file,
/// link, unlink) and sweep.hpp (for remove_stale_temps()).
#ifndef ATOMICWRITES_DETAIL_SYS_HPP
#define ATOMICWRITES_DETAIL_SYS_HPP

#include <atomicwrites/config.hpp>
#include <atomicwrites/detail/sys_types.hpp>

#if ATOMICWRITES_WINDOWS
#include <atomicwrites/detail/windows/sys.hpp>
#else
#include <atomicwrites/detail/posix/sys.hpp>
#endif

#endif  // ATOMICWRITES_DETAIL_SYS_HPP
