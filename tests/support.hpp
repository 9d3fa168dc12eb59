// SPDX-License-Identifier: MIT
// Shared helpers of the test suite, one header per role in support/. The suite runs on
// POSIX and on Windows; what differs between them is kept in those headers (and
// marked), so that the tests themselves read the same on both. This header includes
// them all.
#ifndef ATOMICWRITES_TESTS_SUPPORT_HPP
#define ATOMICWRITES_TESTS_SUPPORT_HPP

#include "support/content.hpp"    // old/new contents, patterns, checksummed versions, contains()
#include "support/errors.hpp"     // error numbers by meaning, what a call threw
#include "support/fs.hpp"         // fresh directories, plain reads and writes, umask, cwd
#include "support/handles.hpp"    // open descriptors and handles: ids, sizes, flags, counts
#include "support/hooks.hpp"      // hooks on the system-call seam: recording and refusing
#include "support/mounts.hpp"     // a tmpfs mounted for a test
#include "support/policies.hpp"   // the policy combinations, writer_kind and kind_of<W>()
#include "support/processes.hpp"  // root, another user, long runs, ThreadSanitizer, figures

#endif  // ATOMICWRITES_TESTS_SUPPORT_HPP
