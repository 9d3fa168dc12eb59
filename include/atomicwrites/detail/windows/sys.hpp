// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on Windows, by role. Not API: include <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_SYS_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_SYS_HPP

#include <atomicwrites/detail/sys_types.hpp>
#include <atomicwrites/detail/windows/copy.hpp>    // block cloning, read, pwrite, truncate, seek
#include <atomicwrites/detail/windows/file.hpp>    // open, create, stat, read_link, write, flush, mode
#include <atomicwrites/detail/windows/links.hpp>   // symlink, make/remove_directory; no exchange
#include <atomicwrites/detail/windows/lock.hpp>    // open_for_reading, read_some, lock files
#include <atomicwrites/detail/windows/path.hpp>    // names, paths in an open directory, <windows.h>
#include <atomicwrites/detail/windows/rename.hpp>  // rename, rename_open_file, link, unlink
#include <atomicwrites/detail/windows/retry.hpp>   // the hook, errors, transient answers
#include <atomicwrites/detail/windows/sweep.hpp>   // directory_reader, open_for_removal, remove_open_file

#endif  // ATOMICWRITES_DETAIL_WINDOWS_SYS_HPP
