// SPDX-License-Identifier: MIT
/// \file
/// What most users include: atomic_writer (and the aliases fast_writer, data_writer,
/// anonymous_writer), atomic_write(), write_file() and directory;
/// with replace_atomic() and move_atomic() (move.hpp) and remove_stale_temps()
/// (stale_temps.hpp).
#ifndef ATOMICWRITES_ATOMIC_WRITER_HPP
#define ATOMICWRITES_ATOMIC_WRITER_HPP

#include <atomicwrites/basic_atomic_writer.hpp>
#include <atomicwrites/commit.hpp>
#include <atomicwrites/concepts.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/move.hpp>
#include <atomicwrites/stale_temps.hpp>
#include <atomicwrites/sync.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>

#include <concepts>
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <ranges>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

/// \namespace atomicwrites
/// The whole library: the one-call functions write_file(), atomic_write(),
/// replace_atomic(), move_atomic() and remove_stale_temps(); the writer
/// basic_atomic_writer (atomic_writer and the other aliases); the directory handle
/// directory; write_options; and the policies in atomicwrites::sync,
/// atomicwrites::commit and atomicwrites::temp.
namespace atomicwrites {
inline namespace v1 {

/// The writer with the platform's durable defaults: what the free functions use unless
/// told otherwise.
using atomic_writer = basic_atomic_writer<>;

/// Atomic, not durable (sync::none): for caches and files that can be made again; after
/// a crash the target may hold the old content, or on some filesystems be empty.
using fast_writer = basic_atomic_writer<sync::none>;

#if ATOMICWRITES_POSIX
/// Durable content, at lower cost (sync::fdatasync): a crash may lose the new file's mode
/// and owner, never its bytes. POSIX only.
using data_writer = basic_atomic_writer<sync::fdatasync>;
#endif

#if ATOMICWRITES_HAS_O_TMPFILE
/// Durable, and leaves no temporary file behind even when killed while writing
/// (temp::first_of<temp::anonymous, temp::mkstemp>: an unnamed O_TMPFILE where the
/// filesystem can make one), at one system call more per replace. Linux only.
using anonymous_writer =
    basic_atomic_writer<default_sync, default_commit, temp::first_of<temp::anonymous, temp::mkstemp>>;
#endif

/// A writer type: basic_atomic_writer<...>, one of the aliases above, or a class shaped
/// like them.
template <class T>
concept writer_type = requires {
    typename T::sync_type;
    typename T::commit_type;
    typename T::temp_type;
}
&&std::is_constructible_v<T, const std::filesystem::path&, const write_options&>;

/// What write_file() and atomic_write() take as their template argument: a writer type,
/// or one sync, commit or temp policy, which replaces that policy in atomic_writer
/// (`write_file<sync::none>(path, data)` writes with basic_atomic_writer<sync::none>).
template <class T>
concept writer_or_policy = writer_type<T> ||
    (static_cast<int>(sync_policy<T>) + static_cast<int>(commit_policy<T>) + static_cast<int>(temp_policy<T>) == 1);

namespace detail {
template <class T>
auto writer_of() noexcept {
    if constexpr (writer_type<T>) {
        return std::type_identity<T>{};
    } else if constexpr (sync_policy<T>) {
        return std::type_identity<basic_atomic_writer<T>>{};
    } else if constexpr (commit_policy<T>) {
        return std::type_identity<basic_atomic_writer<default_sync, T>>{};
    } else {
        return std::type_identity<basic_atomic_writer<default_sync, default_commit, T>>{};
    }
}

template <class>
inline constexpr bool always_false = false;

template <class NotAWriter>
void reject_write_file() {
    static_assert(always_false<NotAWriter>,
                  "write_file<T>: T must be a writer type or ONE sync, commit or temp policy, as in "
                  "write_file<atomicwrites::sync::none>(path, data) or write_file<atomicwrites::fast_writer>(...); "
                  "for a policy of your own, static_assert(atomicwrites::sync_policy<T>) (or commit_policy, "
                  "temp_policy) shows what it lacks");
}

template <class NotAWriter>
void reject_atomic_write() {
    static_assert(always_false<NotAWriter>,
                  "atomic_write<T>: T must be a writer type or ONE sync, commit or temp policy, as in "
                  "atomic_write<atomicwrites::sync::none>(path, fn) or atomic_write<atomicwrites::fast_writer>(...); "
                  "for a policy of your own, static_assert(atomicwrites::sync_policy<T>) (or commit_policy, "
                  "temp_policy) shows what it lacks");
}
}  // namespace detail

/// The writer a writer_or_policy names: the writer itself, or atomic_writer with the one
/// policy replaced.
template <writer_or_policy T>
using writer_for = typename decltype(detail::writer_of<T>())::type;

/// Data that write_file() writes as it is: a contiguous, sized range of char,
/// unsigned char or std::byte (std::vector<unsigned char>, std::array<std::byte, N>,
/// std::span<const std::byte>, ...). Strings, string literals and std::string_view take
/// the std::string_view overloads (a literal without its terminating NUL).
template <class R>
concept byte_range = std::ranges::contiguous_range<const R> && std::ranges::sized_range<const R> &&
    (std::same_as<std::remove_cv_t<std::ranges::range_value_t<const R>>, char> ||
     std::same_as<std::remove_cv_t<std::ranges::range_value_t<const R>>, unsigned char> ||
     std::same_as<std::remove_cv_t<std::ranges::range_value_t<const R>>,
                  std::byte>)&&(!std::is_convertible_v<const R&, std::string_view>);

namespace detail {
/// The one-shot functions write straight to the file, without the writer's buffer.
struct writer_access {
    template <class Writer>
    static void write_through(Writer& w, const char* p, std::size_t n, std::error_code& ec) noexcept {
        ec.clear();
        if (!w.check_open(ec)) return;
        reserve(w.s_, n, ec);  // write_options::prealloc: the size is known (detail/edit.hpp)
        if (!ec) w.s_.write_through(p, n, ec);
    }
    /// Hands the writer a lock on its target's lock file that the caller took
    /// (update_file()): the writer holds it as with write_options::lock.
    template <class Writer>
    static void adopt_lock(Writer& w, native_handle_type lock) noexcept {
        w.s_.lock = lock;
    }
};

template <byte_range R>
const char* bytes_of(const R& r) noexcept {
    return reinterpret_cast<const char*>(std::ranges::data(r));
}

/// Writes [p, p + n) as the whole content of the target named by `where...` (a path, or
/// a directory handle and a name).
template <class Writer, class... Where>
commit_state write_whole(const char* p, std::size_t n, const write_options& options, std::error_code& ec,
                         const Where&... where) noexcept {
    Writer w(where..., options, ec);
    if (ec) return commit_state::unchanged;
    writer_access::write_through(w, p, n, ec);
    if (ec) return commit_state::unchanged;  // w's destructor rolls back
    return w.commit(ec);
}

template <class Writer, class... Where>
void write_whole(const char* p, std::size_t n, const write_options& options, const Where&... where) {
    Writer w(where..., options);
    std::error_code ec;
    writer_access::write_through(w, p, n, ec);
    if (ec)
        throw_error(w.failed_step() != nullptr ? w.failed_step() : "write temporary file", w.target(), w.temp_path(),
                    ec, commit_state::unchanged);
    w.commit();
}

template <class Writer, class F>
void run(Writer& w, F&& fn) {
    if constexpr (std::is_invocable_v<F&&, Writer&>) {
        std::forward<F>(fn)(w);
    } else {
        static_assert(std::is_invocable_v<F&&, std::ostream&>,
                      "atomic_write: fn must take std::ostream& or the writer");
        std::forward<F>(fn)(w.stream());
    }
}

template <class Writer, class F>
void run_and_commit(Writer& w, F&& fn) {
    run(w, std::forward<F>(fn));
    // fn may have committed or rolled back itself: then there is nothing left to do.
    if (w.is_open()) w.commit();
}

template <class Writer, class F, class... Where>
commit_state run_and_commit(F&& fn, const write_options& options, std::error_code& ec, const Where&... where) {
    Writer w(where..., options, ec);
    if (ec) return commit_state::unchanged;
    run(w, std::forward<F>(fn));         // if fn throws, w's destructor rolls back
    if (!w.is_open()) return w.state();  // fn committed or rolled back itself
    return w.commit(ec);
}
}  // namespace detail

/// Runs `fn` on a writer for `path` and commits when `fn` returns (unless `fn` committed
/// or rolled back the writer itself: that stands, without an error); if `fn` throws, the
/// write is rolled back and the exception propagates unchanged (python-atomicwrites'
/// `with atomic_write(path) as f:`). `fn` takes a std::ostream&, or the writer itself.
/// `Writer` is a writer type or one policy (see writer_or_policy).
/// Throws filesystem_error (durability_error after publication) on a failed step.
///
///     atomicwrites::atomic_write("config.json", [&](std::ostream& out) { out << config; },
///                                {.overwrite = true});
template <writer_or_policy Writer = atomic_writer, class F>
void atomic_write(const std::filesystem::path& path, F&& fn, const write_options& options = {}) {
    writer_for<Writer> w(path, options);
    detail::run_and_commit(w, std::forward<F>(fn));
}

/// atomic_write() for the file `name` inside the open directory `dir` (see directory).
template <writer_or_policy Writer = atomic_writer, class F>
void atomic_write(const directory& dir, const std::filesystem::path& name, F&& fn, const write_options& options = {}) {
    writer_for<Writer> w(dir, name, options);
    detail::run_and_commit(w, std::forward<F>(fn));
}

/// The error_code form of atomic_write(): a failed step sets `ec` and returns as
/// write_file()'s error_code form does; what `fn` throws still propagates (the write is
/// then rolled back).
template <writer_or_policy Writer = atomic_writer, class F>
commit_state atomic_write(const std::filesystem::path& path, F&& fn, const write_options& options,
                          std::error_code& ec) {
    return detail::run_and_commit<writer_for<Writer>>(std::forward<F>(fn), options, ec, path);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, class F>
commit_state atomic_write(const std::filesystem::path& path, F&& fn, std::error_code& ec) {
    return detail::run_and_commit<writer_for<Writer>>(std::forward<F>(fn), write_options{}, ec, path);
}
/// The error_code form of atomic_write() in a directory handle.
template <writer_or_policy Writer = atomic_writer, class F>
commit_state atomic_write(const directory& dir, const std::filesystem::path& name, F&& fn, const write_options& options,
                          std::error_code& ec) {
    return detail::run_and_commit<writer_for<Writer>>(std::forward<F>(fn), options, ec, dir, name);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, class F>
commit_state atomic_write(const directory& dir, const std::filesystem::path& name, F&& fn, std::error_code& ec) {
    return detail::run_and_commit<writer_for<Writer>>(std::forward<F>(fn), write_options{}, ec, dir, name);
}

/// Replaces or creates `path` with `data`, atomically (and durably with the default
/// policies). `data` is a string, or a byte_range (std::vector<unsigned char>, ...).
/// `Writer` is a writer type or one policy: `write_file<sync::none>(path, data)`.
/// Throws filesystem_error naming the failed step; durability_error if the new content
/// was published and a later step failed.
template <writer_or_policy Writer = atomic_writer>
void write_file(const std::filesystem::path& path, std::string_view data, const write_options& options = {}) {
    detail::write_whole<writer_for<Writer>>(data.data(), data.size(), options, path);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, byte_range Bytes>
void write_file(const std::filesystem::path& path, const Bytes& data, const write_options& options = {}) {
    detail::write_whole<writer_for<Writer>>(detail::bytes_of(data), std::ranges::size(data), options, path);
}

/// The error_code form of write_file(): returns commit_state::published if the new
/// content is at `path` (with `ec` set if a step after publication failed), otherwise
/// commit_state::unchanged and the target is as it was.
template <writer_or_policy Writer = atomic_writer>
commit_state write_file(const std::filesystem::path& path, std::string_view data, const write_options& options,
                        std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(data.data(), data.size(), options, ec, path);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, byte_range Bytes>
commit_state write_file(const std::filesystem::path& path, const Bytes& data, const write_options& options,
                        std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(detail::bytes_of(data), std::ranges::size(data), options, ec, path);
}
/// \overload
template <writer_or_policy Writer = atomic_writer>
commit_state write_file(const std::filesystem::path& path, std::string_view data, std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(data.data(), data.size(), write_options{}, ec, path);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, byte_range Bytes>
commit_state write_file(const std::filesystem::path& path, const Bytes& data, std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(detail::bytes_of(data), std::ranges::size(data), write_options{}, ec,
                                                   path);
}

/// write_file() for the file `name` inside the open directory `dir`: the directory is
/// neither opened nor closed, only synced (see directory). Throws like write_file().
template <writer_or_policy Writer = atomic_writer>
void write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                const write_options& options = {}) {
    detail::write_whole<writer_for<Writer>>(data.data(), data.size(), options, dir, name);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, byte_range Bytes>
void write_file(const directory& dir, const std::filesystem::path& name, const Bytes& data,
                const write_options& options = {}) {
    detail::write_whole<writer_for<Writer>>(detail::bytes_of(data), std::ranges::size(data), options, dir, name);
}

/// The error_code form of write_file() in a directory handle.
template <writer_or_policy Writer = atomic_writer>
commit_state write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                        const write_options& options, std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(data.data(), data.size(), options, ec, dir, name);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, byte_range Bytes>
commit_state write_file(const directory& dir, const std::filesystem::path& name, const Bytes& data,
                        const write_options& options, std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(detail::bytes_of(data), std::ranges::size(data), options, ec, dir,
                                                   name);
}
/// \overload
template <writer_or_policy Writer = atomic_writer>
commit_state write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                        std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(data.data(), data.size(), write_options{}, ec, dir, name);
}
/// \overload
template <writer_or_policy Writer = atomic_writer, byte_range Bytes>
commit_state write_file(const directory& dir, const std::filesystem::path& name, const Bytes& data,
                        std::error_code& ec) noexcept {
    return detail::write_whole<writer_for<Writer>>(detail::bytes_of(data), std::ranges::size(data), write_options{}, ec,
                                                   dir, name);
}

// A template argument that is neither a writer nor one policy stops at one of these,
// whose static_assert says what to write instead, rather than at a list of candidates.
// Three shapes, so that a braced write_options ({.overwrite = true}) as the third or
// fourth argument, which cannot be deduced, still lands here.

/// Rejects write_file<T> for a T that is not a writer_or_policy, naming the fix.
template <class NotAWriter, class... Args>
requires(!writer_or_policy<NotAWriter>) void write_file(Args&&...) { detail::reject_write_file<NotAWriter>(); }
/// \overload
template <class NotAWriter, class P1, class P2, class P3 = write_options, class... Rest>
requires(!writer_or_policy<NotAWriter>) void write_file(P1&&, P2&&, P3&&, Rest&&...) {
    detail::reject_write_file<NotAWriter>();
}
/// \overload
template <class NotAWriter, class P1, class P2, class P3, class P4 = write_options, class... Rest>
requires(!writer_or_policy<NotAWriter>) void write_file(P1&&, P2&&, P3&&, P4&&, Rest&&...) {
    detail::reject_write_file<NotAWriter>();
}

/// Rejects atomic_write<T> for a T that is not a writer_or_policy, naming the fix.
template <class NotAWriter, class... Args>
requires(!writer_or_policy<NotAWriter>) void atomic_write(Args&&...) { detail::reject_atomic_write<NotAWriter>(); }
/// \overload
template <class NotAWriter, class P1, class P2, class P3 = write_options, class... Rest>
requires(!writer_or_policy<NotAWriter>) void atomic_write(P1&&, P2&&, P3&&, Rest&&...) {
    detail::reject_atomic_write<NotAWriter>();
}
/// \overload
template <class NotAWriter, class P1, class P2, class P3, class P4 = write_options, class... Rest>
requires(!writer_or_policy<NotAWriter>) void atomic_write(P1&&, P2&&, P3&&, P4&&, Rest&&...) {
    detail::reject_atomic_write<NotAWriter>();
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_ATOMIC_WRITER_HPP
