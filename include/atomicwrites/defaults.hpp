// SPDX-License-Identifier: MIT
/// \file
/// The per-platform default policies, in one place.
#ifndef ATOMICWRITES_DEFAULTS_HPP
#define ATOMICWRITES_DEFAULTS_HPP

#include <atomicwrites/commit.hpp>
#include <atomicwrites/config.hpp>
#include <atomicwrites/sync.hpp>
#include <atomicwrites/temp.hpp>

namespace atomicwrites {
inline namespace v1 {

#if ATOMICWRITES_APPLE
// F_FULLFSYNC: Apple's fsync(2) does not flush the drive's cache (fsync(2) man page).
using default_sync = sync::full_fsync;
using default_commit = commit::automatic;
using default_temp = temp::mkstemp;
#elif ATOMICWRITES_POSIX
/// The default sync: fsync (full_fsync on Apple, sync::commit on Windows). Not fdatasync,
/// so that the mode and owner set on the temporary file are as durable as its bytes.
using default_sync = sync::fsync;
/// The default commit: commit::automatic (on Windows commit::posix_rename).
using default_commit = commit::automatic;
/// The default temp: temp::mkstemp, on every platform. Choose
/// temp::first_of<temp::anonymous, temp::mkstemp> to leave nothing behind on a crash
/// while writing, at one system call more per replace (see docs/design-notes.md).
using default_temp = temp::mkstemp;
#else
// FlushFileBuffers the file before the commit and the directory after it.
using default_sync = sync::commit;
// A rename of the open temporary file that replaces a target readers hold open, falling
// back to MoveFileExW where the system lacks it.
using default_commit = commit::posix_rename;
// CreateFileW with CREATE_NEW under a random name in the target's directory.
using default_temp = temp::mkstemp;
#endif

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DEFAULTS_HPP
