// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on POSIX systems, by role. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_POSIX_SYS_HPP
#define ATOMICWRITES_DETAIL_POSIX_SYS_HPP

#include <atomicwrites/detail/posix/copy.hpp>   // clone, copy_range, read, pwrite_all, truncate, seek, allocate
#include <atomicwrites/detail/posix/file.hpp>   // names, files, sync, rename, link, owners, the probes
#include <atomicwrites/detail/posix/links.hpp>  // symlink, rename_exchange, make/remove_directory
#include <atomicwrites/detail/posix/lock.hpp>   // open_for_reading, read_some, lock files
#include <atomicwrites/detail/posix/sweep.hpp>  // directory_reader, try_read_lease, removal stubs
#include <atomicwrites/detail/posix/xattr.hpp>  // list_xattrs, get_xattr, set_xattr
#include <atomicwrites/detail/sys_types.hpp>

#endif  // ATOMICWRITES_DETAIL_POSIX_SYS_HPP
