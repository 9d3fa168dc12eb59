// SPDX-License-Identifier: MIT
/// \file
/// replace_atomic() and move_atomic(): an existing file moved to its target in one step.
#ifndef ATOMICWRITES_MOVE_HPP
#define ATOMICWRITES_MOVE_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/target.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/types.hpp>

#include <filesystem>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {

namespace detail {

/// Moves src to dst with a commit policy, syncing as SyncPolicy says: src's data before
/// (so that dst never names a file whose bytes are not on disk), both directories after.
template <class SyncPolicy, class CommitPolicy>
commit_state move_file(const std::filesystem::path& src, const std::filesystem::path& dst, bool overwrite,
                       const char*& step, std::error_code& ec) noexcept {
    ec.clear();
    native_char_type src_name[sys::max_name + 1];
    native_char_type dst_name[sys::max_name + 1];
    step = "check source path";
    file_name(src, src_name, ec);
    if (ec) return commit_state::unchanged;
    step = "check target path";
    file_name(dst, dst_name, ec);
    if (ec) return commit_state::unchanged;

    step = "open source directory";
    native_handle_type src_dir = open_target_parent(src, ec);  // a drop box: O_PATH
    if (ec) return commit_state::unchanged;
    const bool same_dir = parent_view(src) == parent_view(dst);
    native_handle_type dst_dir = src_dir;
    std::error_code ignored;
    auto close_dirs = [&](std::error_code& e) {
        if (dst_dir != src_dir) sys::close(dst_dir, e);
        sys::close(src_dir, e);
    };
    if (!same_dir) {
        step = "open target directory";
        dst_dir = open_target_parent(dst, ec);
        if (ec) {
            dst_dir = src_dir;
            close_dirs(ignored);
            return commit_state::unchanged;
        }
    }
    if constexpr (SyncPolicy::durable) {
        step = "open source file";
        native_handle_type f = sys::open_file(src_dir, src_name, ec);
        // A source that may be written but not read (mode 0200, a drop box's file) is
        // synced through a write-only descriptor: fsync(2) works on either, and rename(2)
        // itself never needed read access.
        if (ec == std::errc::permission_denied) {
            ec.clear();
            f = sys::open_file_writable(src_dir, src_name, ec);
        }
        // A symbolic link has no data of its own to sync (O_NOFOLLOW answers ELOOP).
        if (ec == std::errc::too_many_symbolic_link_levels) {
            ec.clear();
        } else if (!ec) {
            step = "sync source file";
            SyncPolicy{}.sync_file(f, ec);
            sys::close(f, ignored);
        }
        if (ec) {
            close_dirs(ignored);
            return commit_state::unchanged;
        }
    }
    const commit_request request{src_dir, src_name, invalid_handle, dst_dir, dst_name, overwrite};
    commit_result r = CommitPolicy{}.publish(request, ec);
    if (r.state == commit_state::unchanged) {
        step = r.failed_step;
        close_dirs(ignored);
        return commit_state::unchanged;
    }
    if (ec) {
        step = r.failed_step;
        close_dirs(ignored);
        return commit_state::published;
    }
    // A directory that cannot be read (a drop box, O_PATH) cannot be flushed (EBADF):
    // the filesystem is, through the moved file (one filesystem holds both directories).
    auto sync_directory = [&](native_handle_type dir, const char* name_of_step) {
        step = name_of_step;
        SyncPolicy{}.sync_directory(dir, ec);
        if (SyncPolicy::durable && ec == std::errc::bad_file_descriptor) {
            ec.clear();
            const char* flush_step = flush_filesystem_through(dst_dir, dst_name, ec);
            if (ec) step = flush_step;
        }
    };
    sync_directory(dst_dir, "sync target directory");
    if (!ec && dst_dir != src_dir) sync_directory(src_dir, "sync source directory");
    std::error_code close_ec;
    close_dirs(close_ec);
    if (!ec && close_ec) {
        step = "close directory";
        ec = close_ec;
    }
    return commit_state::published;
}

}  // namespace detail

/// Moves `src` to `dst`, replacing `dst` if it exists, in one step: readers of `dst` see
/// the old file or `src`'s. Returns how far it got (see commit_state).
/// Durability: with a durable SyncPolicy, `src`'s data is synced first and both
/// directories after.
/// Platforms: all; `src` and `dst` on one filesystem.
/// System calls: open of each directory, open and sync of `src` (durable: read-only, or
/// write-only when reading it is refused), the default_commit's publication, sync of
/// each directory (durable). A durable move needs read or write access to `src`.
/// Errors: cross_device_link (EXDEV: another filesystem, nothing moved), and those of
/// the calls; the error_code form never throws.
template <class SyncPolicy = default_sync>
commit_state replace_atomic(const std::filesystem::path& src, const std::filesystem::path& dst,
                            std::error_code& ec) noexcept {
    const char* step = nullptr;
    return detail::move_file<SyncPolicy, default_commit>(src, dst, true, step, ec);
}

/// replace_atomic(), throwing filesystem_error naming the step and both paths
/// (durability_error if `dst` already shows `src` when the error happened).
template <class SyncPolicy = default_sync>
void replace_atomic(const std::filesystem::path& src, const std::filesystem::path& dst) {
    const char* step = nullptr;
    std::error_code ec;
    commit_state s = detail::move_file<SyncPolicy, default_commit>(src, dst, true, step, ec);
    if (ec) detail::throw_error(step, src, dst, ec, s);
}

/// Moves `src` to `dst`, failing if `dst` exists. Syncs like replace_atomic().
/// Platforms: Linux: one renameat2(RENAME_NOREPLACE) step; where that is unavailable
/// (and on other systems) link then unlink, so for a moment both names exist. Same
/// filesystem only.
/// Errors: file_exists (`dst` exists), and those of replace_atomic().
template <class SyncPolicy = default_sync>
commit_state move_atomic(const std::filesystem::path& src, const std::filesystem::path& dst,
                         std::error_code& ec) noexcept {
    const char* step = nullptr;
    return detail::move_file<SyncPolicy, default_commit>(src, dst, false, step, ec);
}

/// move_atomic(), throwing filesystem_error naming the step and both paths.
template <class SyncPolicy = default_sync>
void move_atomic(const std::filesystem::path& src, const std::filesystem::path& dst) {
    const char* step = nullptr;
    std::error_code ec;
    commit_state s = detail::move_file<SyncPolicy, default_commit>(src, dst, false, step, ec);
    if (ec) detail::throw_error(step, src, dst, ec, s);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_MOVE_HPP
