// SPDX-License-Identifier: MIT
/// \file
/// With the sys layer (detail/sys.hpp), the only header that reads operating-system and
/// compiler macros. The feature probes (ATOMICWRITES_HAS_O_TMPFILE, ...) are made in the
/// sys layer, after the system headers that define what they probe.
#ifndef ATOMICWRITES_CONFIG_HPP
#define ATOMICWRITES_CONFIG_HPP

/// The major version number.
#define ATOMICWRITES_VERSION_MAJOR 0
/// The minor version number.
#define ATOMICWRITES_VERSION_MINOR 1
/// The patch version number.
#define ATOMICWRITES_VERSION_PATCH 0

#if defined(_WIN32)
#define ATOMICWRITES_WINDOWS 1
#define ATOMICWRITES_POSIX 0
#else
/// 1 on Windows, else 0.
#define ATOMICWRITES_WINDOWS 0
/// 1 on POSIX systems (all but Windows), else 0.
#define ATOMICWRITES_POSIX 1
#endif

#if defined(__linux__)
#define ATOMICWRITES_LINUX 1
#else
/// 1 on Linux, else 0.
#define ATOMICWRITES_LINUX 0
#endif

#if defined(__APPLE__)
#define ATOMICWRITES_APPLE 1
#else
/// 1 on Apple systems, else 0.
#define ATOMICWRITES_APPLE 0
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define ATOMICWRITES_NO_UNIQUE_ADDRESS [[msvc::no_unique_address]]
#else
/// [[no_unique_address]], spelled as the compiler honours it (MSVC ignores the standard
/// spelling and keeps its own).
#define ATOMICWRITES_NO_UNIQUE_ADDRESS [[no_unique_address]]
#endif

#if __cplusplus < 202002L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 202002L)
#error "atomicwrites needs C++20"
#endif

#endif  // ATOMICWRITES_CONFIG_HPP
