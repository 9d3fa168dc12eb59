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

#if ATOMICWRITES_WINDOWS
/// FlushFileBuffers the file before the commit and the directory after it.
using default_sync = sync::commit;
/// A rename of the open temporary file with POSIX semantics (it replaces a target that
/// readers hold open), falling back to MoveFileExW where the system lacks it.
using default_commit = commit::posix_rename;
/// CreateFileW with CREATE_NEW under a random name in the target's directory.
using default_temp = temp::mkstemp;
#elif ATOMICWRITES_APPLE
/// F_FULLFSYNC: Apple's fsync(2) does not flush the drive's cache (fsync(2) man page).
using default_sync = sync::full_fsync;
using default_commit = commit::automatic;
using default_temp = temp::mkstemp;
#else
/// fsync, not fdatasync, so that the mode and owner set on the temporary file are as
/// durable as its bytes.
using default_sync = sync::fsync;
/// rename when overwriting, an exclusive publish (renameat2 / link) otherwise.
using default_commit = commit::automatic;
/// A named temporary costs one system call less per replace than an anonymous one
/// (which needs a linkat before the rename): 9 calls for a new file, 10 for a
/// replacement. Choose temp::first_of<temp::anonymous, temp::mkstemp> to leave nothing
/// behind on a crash while writing (see temp::anonymous for the one exception).
using default_temp = temp::mkstemp;
#endif

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DEFAULTS_HPP
