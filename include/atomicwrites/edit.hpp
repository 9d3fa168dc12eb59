// SPDX-License-Identifier: MIT
/// \file
/// Atomic edits of big files: atomic_edit() starts the temporary file as a copy of the
/// target (write_options::start), lets `fn` change it in place (the writer's pwrite(),
/// truncate(), append(), write() and stream()) and publishes it as any write is
/// published. On btrfs and XFS the copy is a clone that shares the target's blocks, so an
/// edit costs about what it changes, not the size of the file. See docs/big-files.md.
#ifndef ATOMICWRITES_EDIT_HPP
#define ATOMICWRITES_EDIT_HPP

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/types.hpp>

#include <filesystem>
#include <system_error>
#include <utility>

namespace atomicwrites {
inline namespace v1 {

namespace detail {
/// The options of an edit: it replaces the target, and starts from it (a missing target
/// starts empty unless start_mode::copy_of_existing_target is asked).
inline write_options edit_options(write_options options) noexcept {
    options.overwrite = true;
    if (options.start == start_mode::empty) options.start = start_mode::copy_of_target;
    return options;
}
}  // namespace detail

/// Edits `path` atomically: a writer whose temporary file starts as a copy of `path` is
/// given to `fn` (which takes the writer, or a std::ostream& positioned at the end of
/// the copy), and committed when `fn` returns; if `fn` throws, nothing changes and the
/// exception propagates. Readers see the whole old file or the whole new one. `options`
/// as for atomic_write(), except that `overwrite` is always true and `start` is
/// start_mode::copy_of_target unless copy_of_existing_target is given.
/// Throws filesystem_error naming the failed step (durability_error after publication).
/// Platforms: POSIX and Windows (block cloning on ReFS, else reads and writes).
///
///     atomicwrites::atomic_edit("disk.img", [&](atomicwrites::atomic_writer& w) {
///         w.pwrite(4096 * 1000, block);  // one block changed; the rest is shared
///     });
template <writer_or_policy Writer = atomic_writer, class F>
void atomic_edit(const std::filesystem::path& path, F&& fn, const write_options& options = {}) {
    writer_for<Writer> w(path, detail::edit_options(options));
    detail::run_and_commit(w, std::forward<F>(fn));
}

/// The error_code form of atomic_edit(): a failed step sets `ec` and returns how far the
/// commit got, as write_file()'s error_code form does; what `fn` throws still propagates.
template <writer_or_policy Writer = atomic_writer, class F>
commit_state atomic_edit(const std::filesystem::path& path, F&& fn, const write_options& options, std::error_code& ec) {
    return detail::run_and_commit<writer_for<Writer>>(std::forward<F>(fn), detail::edit_options(options), ec, path);
}

/// atomic_edit() of the file `name` inside the open directory `dir` (see directory).
template <writer_or_policy Writer = atomic_writer, class F>
void atomic_edit(const directory& dir, const std::filesystem::path& name, F&& fn, const write_options& options = {}) {
    writer_for<Writer> w(dir, name, detail::edit_options(options));
    detail::run_and_commit(w, std::forward<F>(fn));
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_EDIT_HPP
