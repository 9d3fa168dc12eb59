// SPDX-License-Identifier: MIT
/// \file
/// Opt-in overloads of atomic_write(), write_file(), replace_atomic() and move_atomic()
/// for boost::filesystem::path, and to_std_path() to build a writer from one. The only
/// header of the library that includes Boost; a program that includes it links
/// Boost.Filesystem.
///
/// The paths are converted through their native strings, byte for byte: no character
/// conversion, so every name a boost::filesystem::path can hold reaches the system
/// unchanged. Errors are reported exactly as by the std::filesystem::path forms
/// (std::filesystem::filesystem_error, durability_error, std::error_code), with the
/// converted paths in the exception.
///
/// The overloads take the path as a template parameter constrained to be exactly
/// boost::filesystem::path. Both path types convert implicitly from strings, so plain
/// overloads would make `write_file("a.txt", data)` ambiguous as soon as this header is
/// included; constrained, they are chosen only for a boost::filesystem::path argument.
/// The Writer / SyncPolicy parameter stays first, as in the std forms:
/// `write_file<my_writer>(boost_path, data)` works.
#ifndef ATOMICWRITES_BOOST_FILESYSTEM_HPP
#define ATOMICWRITES_BOOST_FILESYSTEM_HPP

#include <atomicwrites/atomic_writer.hpp>

#include <boost/filesystem/path.hpp>

#include <concepts>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

/// Satisfied by boost::filesystem::path only (not by the strings it converts from).
template <class P>
concept boost_path = std::same_as<P, boost::filesystem::path>;

/// The std::filesystem::path with the same native string as `p`: the same bytes on
/// POSIX, the same UTF-16 units on Windows. For building a writer from a Boost path:
///
///     atomicwrites::atomic_writer w(atomicwrites::to_std_path(p), {.overwrite = true});
inline std::filesystem::path to_std_path(const boost::filesystem::path& p) { return std::filesystem::path(p.native()); }

namespace detail {
/// Runs `f`, which converts paths and calls an error_code form; a conversion that runs
/// out of memory reports std::errc::not_enough_memory instead of throwing.
template <class F>
commit_state converting(F&& f, std::error_code& ec) noexcept {
    try {
        return f();
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return commit_state::unchanged;
    }
}
}  // namespace detail

/// atomic_write() for a boost::filesystem::path: runs `fn` on a writer for `path` and
/// commits when it returns; rolls back and rethrows if it throws.
template <class Writer = atomic_writer, boost_path BoostPath, class F>
void atomic_write(const BoostPath& path, F&& fn, const write_options& options = {}) {
    atomicwrites::atomic_write<Writer>(to_std_path(path), std::forward<F>(fn), options);
}

/// write_file() for a boost::filesystem::path: replaces or creates `path` with `data`.
/// Throws filesystem_error naming the failed step; durability_error after publication.
template <class Writer = atomic_writer, boost_path BoostPath>
void write_file(const BoostPath& path, std::span<const std::byte> data, const write_options& options = {}) {
    atomicwrites::write_file<Writer>(to_std_path(path), data, options);
}
/// \overload
template <class Writer = atomic_writer, boost_path BoostPath>
void write_file(const BoostPath& path, std::string_view data, const write_options& options = {}) {
    atomicwrites::write_file<Writer>(to_std_path(path), data, options);
}

/// The error_code forms of write_file() for a boost::filesystem::path: return
/// commit_state::published if the new content is at `path` (with `ec` set if a later
/// step failed), otherwise commit_state::unchanged. A path that cannot be converted
/// (out of memory) reports std::errc::not_enough_memory.
template <class Writer = atomic_writer, boost_path BoostPath>
commit_state write_file(const BoostPath& path, std::span<const std::byte> data, const write_options& options,
                        std::error_code& ec) noexcept {
    return detail::converting([&] { return atomicwrites::write_file<Writer>(to_std_path(path), data, options, ec); },
                              ec);
}
/// \overload
template <class Writer = atomic_writer, boost_path BoostPath>
commit_state write_file(const BoostPath& path, std::string_view data, const write_options& options,
                        std::error_code& ec) noexcept {
    return detail::converting([&] { return atomicwrites::write_file<Writer>(to_std_path(path), data, options, ec); },
                              ec);
}

/// replace_atomic() for boost::filesystem::path: moves `src` over `dst` in one step.
/// Errors in `ec`; never throws (an unconvertible path reports not_enough_memory).
template <class SyncPolicy = default_sync, boost_path BoostPath>
commit_state replace_atomic(const BoostPath& src, const BoostPath& dst, std::error_code& ec) noexcept {
    return detail::converting(
        [&] { return atomicwrites::replace_atomic<SyncPolicy>(to_std_path(src), to_std_path(dst), ec); }, ec);
}

/// replace_atomic() for boost::filesystem::path, throwing filesystem_error (or
/// durability_error) naming the step and both paths.
template <class SyncPolicy = default_sync, boost_path BoostPath>
void replace_atomic(const BoostPath& src, const BoostPath& dst) {
    atomicwrites::replace_atomic<SyncPolicy>(to_std_path(src), to_std_path(dst));
}

/// move_atomic() for boost::filesystem::path: moves `src` to `dst`, failing with
/// std::errc::file_exists if `dst` exists. Errors in `ec`; never throws.
template <class SyncPolicy = default_sync, boost_path BoostPath>
commit_state move_atomic(const BoostPath& src, const BoostPath& dst, std::error_code& ec) noexcept {
    return detail::converting(
        [&] { return atomicwrites::move_atomic<SyncPolicy>(to_std_path(src), to_std_path(dst), ec); }, ec);
}

/// move_atomic() for boost::filesystem::path, throwing filesystem_error naming the step
/// and both paths.
template <class SyncPolicy = default_sync, boost_path BoostPath>
void move_atomic(const BoostPath& src, const BoostPath& dst) {
    atomicwrites::move_atomic<SyncPolicy>(to_std_path(src), to_std_path(dst));
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_BOOST_FILESYSTEM_HPP
