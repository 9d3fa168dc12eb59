// SPDX-License-Identifier: MIT
/// \file
/// symlink_atomic(): a symbolic link made or replaced in one step, durably; and
/// exchange_atomic(): two names swapped in one step (where the system can).
#ifndef ATOMICWRITES_LINKS_HPP
#define ATOMICWRITES_LINKS_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {

/// Options for symlink_atomic(). An aggregate: `{.overwrite = true}` works.
struct link_options {
    /// Replace whatever is at the link's name (a link or a file; never a directory).
    /// When false (the default, as for write_options) the call fails with
    /// std::errc::file_exists if the name exists, in one step with no window: the link
    /// is made at its name directly (symlinkat(2) refuses an existing name).
    bool overwrite = false;
    /// The start of the temporary link's name (overwrite only), before the link's name.
    std::string_view temp_prefix = ".";
    /// The end of the temporary link's name.
    std::string_view temp_suffix = ".tmp";
};

namespace detail {

/// The longest temp_prefix or temp_suffix of a temporary link, as for temporary files.
inline constexpr std::size_t max_link_affix = 64;

/// Closes `dir`, keeping the first error: a close error is reported only when nothing
/// failed before it.
inline void close_keeping_first(native_handle_type dir, const char*& step, std::error_code& ec) noexcept {
    std::error_code e;
    sys::close(dir, e);
    if (e && !ec) {
        step = "close directory";
        ec = e;
    }
}

/// The text of a link as the system takes it. Errors: invalid_argument (empty, or a
/// NUL inside), filename_too_long (longer than a path may be).
inline bool check_link_text(const std::filesystem::path& text, std::error_code& ec) noexcept {
    const native_string_view t(text.native());
    if (t.empty() || t.find(native_char_type{}) != native_string_view::npos) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    if (t.size() >= sys::max_path) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return false;
    }
    return true;
}

/// Makes `link` a symbolic link to `text`: with `overwrite`, a link under a random
/// temporary name beside it, renamed over the name; without, a link made at the name,
/// which fails if the name exists. Then the directory synced as Sync says. A failure
/// before the link is visible removes the temporary link.
template <class Sync>
commit_state make_symlink(const std::filesystem::path& text, const std::filesystem::path& link,
                          const link_options& options, const char*& step, std::error_code& ec) noexcept {
    ec.clear();
    native_char_type name[sys::max_name + 1];
    step = "check link path";
    file_name(link, name, ec);
    if (ec) return commit_state::unchanged;
    step = "check link target (not empty, no NUL, shorter than a path)";
    if (!check_link_text(text, ec)) return commit_state::unchanged;
    if constexpr (!sys::has_symlinks) {
        step = "create link (this platform has no symbolic links)";
        ec = std::make_error_code(std::errc::not_supported);
        return commit_state::unchanged;
    }
    native_char_type prefix[max_link_affix + 1];
    native_char_type suffix[max_link_affix + 1];
    step = "check options (temp_prefix and temp_suffix: at most 64 bytes of UTF-8, no separator or NUL)";
    if (options.temp_prefix.size() > max_link_affix || options.temp_suffix.size() > max_link_affix ||
        has_separator_or_nul(options.temp_prefix) || has_separator_or_nul(options.temp_suffix)) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return commit_state::unchanged;
    }
    sys::to_native(options.temp_prefix, prefix, max_link_affix + 1, ec);
    if (!ec) sys::to_native(options.temp_suffix, suffix, max_link_affix + 1, ec);
    if (ec) return commit_state::unchanged;

    step = "open directory";
    const native_handle_type dir = open_parent(link, ec);
    if (ec) return commit_state::unchanged;
    std::error_code ignored;
    if (!options.overwrite) {
        step = "create link (no replace)";
        sys::symlink(text.c_str(), dir, name, ec);
        if (ec) {
            if (ec == std::errc::file_exists) step = "create link (the name exists and overwrite is false)";
            sys::close(dir, ignored);
            return commit_state::unchanged;
        }
    } else {
        native_char_type temp[sys::max_name + 1];
        step = "create temporary link";
        with_random_name(temp, prefix, name, suffix, ec,
                         [&](const native_char_type* n, std::error_code& e) { sys::symlink(text.c_str(), dir, n, e); });
        if (ec) {
            sys::close(dir, ignored);
            return commit_state::unchanged;
        }
        step = "rename link into place";
        sys::rename(dir, temp, dir, name, ec);
        if (ec) {
            sys::unlink(dir, temp, ignored);
            sys::close(dir, ignored);
            return commit_state::unchanged;
        }
    }
    // A link's text is written with the link itself (it has no data of its own to
    // flush, and cannot be opened to be flushed): the directory's flush makes both
    // durable.
    step = "sync directory";
    Sync{}.sync_directory(dir, ec);
    close_keeping_first(dir, step, ec);
    if (!ec) step = nullptr;
    return commit_state::published;
}

/// Opens and syncs the file or directory `name` in `dir` before an exchange, so that
/// neither name ever refers to something whose own data is not on disk. A symbolic link
/// has nothing to sync (and cannot be opened: ELOOP).
template <class Sync>
void sync_object(native_handle_type dir, const native_char_type* name, std::error_code& ec) noexcept {
    native_handle_type f = sys::open_file(dir, name, ec);
    if (ec == std::errc::permission_denied) {
        ec.clear();
        f = sys::open_file_writable(dir, name, ec);
    }
    if (ec == std::errc::too_many_symbolic_link_levels) {
        ec.clear();
        return;
    }
    if (ec) return;
    Sync{}.sync_file(f, ec);
    std::error_code ignored;  // nothing written through it: nothing to lose at close
    sys::close(f, ignored);
}

/// Swaps the two names in one step, syncing as Sync says: each object before, each
/// directory after.
template <class Sync>
commit_state exchange_names(const std::filesystem::path& a, const std::filesystem::path& b, const char*& step,
                            std::error_code& ec) noexcept {
    ec.clear();
    native_char_type a_name[sys::max_name + 1];
    native_char_type b_name[sys::max_name + 1];
    step = "check first path";
    file_name(a, a_name, ec);
    if (ec) return commit_state::unchanged;
    step = "check second path";
    file_name(b, b_name, ec);
    if (ec) return commit_state::unchanged;
    if constexpr (!sys::has_rename_exchange) {
        // No emulation: any sequence of renames has a moment where one name is missing
        // or both name the same thing.
        step = "exchange (this platform cannot swap two names in one step)";
        ec = std::make_error_code(std::errc::not_supported);
        return commit_state::unchanged;
    }
    step = "open first directory";
    const native_handle_type a_dir = open_parent(a, ec);
    if (ec) return commit_state::unchanged;
    const bool same_dir = parent_view(a) == parent_view(b);
    native_handle_type b_dir = a_dir;
    std::error_code ignored;
    auto close_dirs = [&](std::error_code& e) {
        if (b_dir != a_dir) sys::close(b_dir, e);
        sys::close(a_dir, e);
    };
    if (!same_dir) {
        step = "open second directory";
        b_dir = open_parent(b, ec);
        if (ec) {
            b_dir = a_dir;
            close_dirs(ignored);
            return commit_state::unchanged;
        }
    }
    if constexpr (Sync::durable) {
        step = "sync first object";
        sync_object<Sync>(a_dir, a_name, ec);
        if (!ec) {
            step = "sync second object";
            sync_object<Sync>(b_dir, b_name, ec);
        }
        if (ec) {
            close_dirs(ignored);
            return commit_state::unchanged;
        }
    }
    step = "exchange";
    sys::rename_exchange(a_dir, a_name, b_dir, b_name, ec);
    if (ec) {
        // Linux before 3.15 answers ENOSYS; a filesystem without the flag, EINVAL (which
        // also means that one name is inside the other) or EOPNOTSUPP.
        if (ec == std::errc::function_not_supported || ec == std::errc::operation_not_supported ||
            ec == std::errc::invalid_argument) {
            step = ec == std::errc::invalid_argument
                       ? "exchange (renameat2 with RENAME_EXCHANGE answered EINVAL: this filesystem cannot swap two "
                         "names in one step, or one name is inside the other)"
                       : "exchange (this kernel or filesystem cannot swap two names in one step)";
            ec = std::make_error_code(std::errc::not_supported);
        }
        close_dirs(ignored);
        return commit_state::unchanged;
    }
    step = "sync first directory";
    Sync{}.sync_directory(a_dir, ec);
    if (!ec && b_dir != a_dir) {
        step = "sync second directory";
        Sync{}.sync_directory(b_dir, ec);
    }
    std::error_code close_ec;
    close_dirs(close_ec);
    if (!ec && close_ec) {
        step = "close directory";
        ec = close_ec;
    }
    if (!ec) step = nullptr;
    return commit_state::published;
}

}  // namespace detail

/// Makes `link_path` a symbolic link whose text is `link_target`, in one step: readers
/// that resolve the name see no link (if there was none), the old link, or the new one,
/// never a missing name once one existed. The text is not looked at: a relative one is
/// resolved by readers from the link's directory, and a link may dangle.
/// Returns how far it got (see commit_state).
/// Durability: with a durable SyncPolicy, the directory is synced once the link is in
/// place; a returned call survives a crash. A link has no data of its own to sync.
/// Platforms: POSIX; Windows where the process may make symbolic links (an
/// administrator, or Developer Mode on), else the system's ERROR_PRIVILEGE_NOT_HELD.
/// System calls: open of the directory; with `overwrite`, symlinkat of a temporary link
/// (a random name, as for temporary files: `.name.XXXXXXXX.tmp`) and renameat over the
/// name; without, one symlinkat at the name; the directory's sync (durable); close.
/// Errors: file_exists (`overwrite` is false and the name exists), is_a_directory (a
/// directory is at the name, or the path ends in a separator), invalid_argument (an
/// empty target or path, a NUL in the target, bad affixes), filename_too_long, and the
/// errors of the calls (EACCES, EROFS, ENOSPC, EDQUOT, EIO, ...); the step and both
/// paths are named. A failure before the link is in place removes the temporary link.
template <class SyncPolicy = default_sync>
commit_state symlink_atomic(const std::filesystem::path& link_target, const std::filesystem::path& link_path,
                            const link_options& options, std::error_code& ec) noexcept {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    const char* step = nullptr;
    return detail::make_symlink<SyncPolicy>(link_target, link_path, options, step, ec);
}

/// symlink_atomic() with the default options (`overwrite = false`).
template <class SyncPolicy = default_sync>
commit_state symlink_atomic(const std::filesystem::path& link_target, const std::filesystem::path& link_path,
                            std::error_code& ec) noexcept {
    return symlink_atomic<SyncPolicy>(link_target, link_path, link_options{}, ec);
}

/// symlink_atomic(), throwing filesystem_error naming the step, the link (path1) and its
/// target (path2); durability_error if the new link was already in place.
template <class SyncPolicy = default_sync>
void symlink_atomic(const std::filesystem::path& link_target, const std::filesystem::path& link_path,
                    const link_options& options = {}) {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    const char* step = nullptr;
    std::error_code ec;
    const commit_state s = detail::make_symlink<SyncPolicy>(link_target, link_path, options, step, ec);
    if (ec) detail::throw_error(step, link_path, link_target, ec, s);
}

/// Swaps what `a` and `b` refer to (files, directories, links, in any mix), in one
/// step: readers see both old or both swapped, never a missing name. Both must exist.
/// Returns how far it got (see commit_state).
/// Durability: with a durable SyncPolicy, each of the two objects is synced first (a
/// directory's own entries, not what is below them), and each directory after.
/// Platforms: Linux 3.15 and later, on filesystems with RENAME_EXCHANGE (ext4, XFS,
/// btrfs, tmpfs, f2fs, ...). Elsewhere, and on Windows, it fails with
/// std::errc::not_supported without changing anything: it is never emulated by a
/// sequence of renames, which would leave a moment where a name is missing.
/// System calls: open of each directory, open, sync and close of each object
/// (durable), renameat2(RENAME_EXCHANGE), sync of each directory (durable), close.
/// Errors: not_supported (see Platforms), no_such_file_or_directory (either is
/// missing), cross_device_link (two filesystems), and those of the calls.
template <class SyncPolicy = default_sync>
commit_state exchange_atomic(const std::filesystem::path& a, const std::filesystem::path& b,
                             std::error_code& ec) noexcept {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    const char* step = nullptr;
    return detail::exchange_names<SyncPolicy>(a, b, step, ec);
}

/// exchange_atomic(), throwing filesystem_error naming the step and both paths
/// (durability_error if the names were already swapped when the error happened).
template <class SyncPolicy = default_sync>
void exchange_atomic(const std::filesystem::path& a, const std::filesystem::path& b) {
    static_assert(sync_policy<SyncPolicy>, "SyncPolicy does not satisfy atomicwrites::sync_policy");
    const char* step = nullptr;
    std::error_code ec;
    const commit_state s = detail::exchange_names<SyncPolicy>(a, b, step, ec);
    if (ec) detail::throw_error(step, a, b, ec, s);
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_LINKS_HPP
