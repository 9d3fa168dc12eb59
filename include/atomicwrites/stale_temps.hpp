// SPDX-License-Identifier: MIT
/// \file
/// remove_stale_temps(): removes the temporary files that writers which never reached
/// commit() or rollback() (a killed process, a power cut) left in a directory, and
/// nothing else.
///
/// Only temp::mkstemp and temp::named leave such files; temp::anonymous never does (its
/// file has no name until the commit). On POSIX and on Windows.
#ifndef ATOMICWRITES_STALE_TEMPS_HPP
#define ATOMICWRITES_STALE_TEMPS_HPP

#include <atomicwrites/config.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace atomicwrites {
inline namespace v1 {

/// What remove_stale_temps() takes for a leftover of this library.
struct stale_temp_options {
    /// Only files whose content and status have not changed for at least this long are
    /// candidates. It must exceed the longest time a writer may take between its last
    /// write and its commit on a system that cannot tell whether a file is in use (see
    /// remove_stale_temps()).
    std::chrono::seconds older_than = std::chrono::hours(1);
    /// The target whose temporary files to remove (a file name, no directory part). Empty:
    /// the random-named temporary files of any target. temp::named's fixed names
    /// (prefix + target + suffix) are recognised only for a given target.
    std::string_view target_name = {};
    /// The write_options::temp_prefix the writers used.
    std::string_view temp_prefix = ".";
    /// The write_options::temp_suffix the writers used.
    std::string_view temp_suffix = ".tmp";
};

/// What a sweep found (remove_stale_temps() with a report): the temporary files it
/// removed, and those it kept and why. Names are file names in the swept directory.
/// Files that are not candidates (other names; directories, FIFOs and devices named like
/// temporary files) and those another sweep took meanwhile are not listed.
struct sweep_report {
    /// A file whose use could not be told, and why.
    struct undecided_file {
        /// The file's name.
        std::filesystem::path name;
        /// EACCES or EPERM: another user's file (no lease), or a process of this
        /// machine that could not be looked into (another user's, or /proc with
        /// hidepid); ENOENT: no /proc; EMFILE, ENOMEM, EIO: listing the processes'
        /// files failed; ELOOP: replaced by a link meanwhile. On Windows: EACCES, a file
        /// the sweep may not open for removal.
        std::error_code reason;
    };
    std::vector<std::filesystem::path> removed;    ///< removed
    std::vector<std::filesystem::path> in_use;     ///< kept: open for writing, or open on this machine
    std::vector<std::filesystem::path> too_young;  ///< kept: changed within older_than (or replaced meanwhile)
    std::vector<undecided_file> undecided;         ///< kept: could not tell whether it is in use
};

namespace detail {

/// Whether the target's part of a temporary name is `expected`, ASCII letters compared
/// without regard to case: on a case-insensitive filesystem (FAT, exFAT, NTFS, a casefold
/// ext4 directory) ".N.TXT.tmp" is the name a writer of "n.txt" would make, and blocks
/// it. On a case-sensitive one, this also takes the leftovers of targets whose names
/// differ only in case: files of this library all the same, judged like any other.
inline bool same_target(native_string_view part, native_string_view expected) noexcept {
    if (part.size() != expected.size()) return false;
    for (std::size_t i = 0; i < part.size(); ++i) {
        native_char_type a = part[i];
        native_char_type b = expected[i];
        if (a >= 'A' && a <= 'Z') a = static_cast<native_char_type>(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = static_cast<native_char_type>(b - 'A' + 'a');
        if (a != b) return false;
    }
    return true;
}

/// is_temp_name() for a name, affixes and target in the system's characters (UTF-16 on
/// Windows, where the writer shortens a long target to fit max_name UTF-16 code units).
inline bool matches_temp_name(native_string_view name, native_string_view prefix, native_string_view suffix,
                              native_string_view target) noexcept {
    if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - suffix.size()) != suffix)
        return false;
    const native_string_view middle = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    native_char_type stem_of_target[sys::max_name + 1];
    if (!target.empty()) {
        const std::size_t named = temp_name_overhead(prefix, suffix, false);
        if (named + 1 <= sys::max_name && middle != name &&
            same_target(middle, native_string_view(stem_of_target, temp_stem(stem_of_target, named, target))))
            return true;
    }
    const std::size_t r = random_name_length;
    if (middle.size() < r + 2 || middle[middle.size() - r - 1] != '.') return false;
    for (native_char_type c : middle.substr(middle.size() - r)) {
        const auto code = static_cast<std::make_unsigned_t<native_char_type>>(c);
        if (code > 127u || random_name_alphabet.find(static_cast<char>(code)) == std::string_view::npos) return false;
    }
    const native_string_view stem = middle.substr(0, middle.size() - r - 1);
    if (target.empty()) return true;
    const std::size_t fixed = temp_name_overhead(prefix, suffix, true);
    return fixed + 1 <= sys::max_name &&
           same_target(stem, native_string_view(stem_of_target, temp_stem(stem_of_target, fixed, target)));
}

/// The options' affixes and target in the system's characters: views of the options on
/// POSIX, converted from UTF-8 on Windows. Not `valid` if one is not UTF-8; an affix or
/// target longer than a name can be is not `usable`: no name matches it.
struct native_temp_affixes {
    native_char_type buffer[3][sys::max_name + 1];
    native_string_view prefix;
    native_string_view suffix;
    native_string_view target;
    bool valid = true;
    bool usable = true;

    explicit native_temp_affixes(const stale_temp_options& options) noexcept {
        const std::string_view given[3] = {options.temp_prefix, options.temp_suffix, options.target_name};
        native_string_view* out[3] = {&prefix, &suffix, &target};
        for (int i = 0; i < 3; ++i) {
            if constexpr (std::is_same_v<native_char_type, char>) {
                *out[i] = same_chars<native_char_type>(given[i]);
            } else {
                std::error_code ec;
                const std::size_t n = sys::to_native(given[i], buffer[i], sys::max_name + 1, ec);
                if (ec == std::errc::filename_too_long)
                    usable = false;
                else if (ec)
                    valid = false;
                *out[i] = native_string_view(buffer[i], n);
            }
        }
    }
};

}  // namespace detail

/// Whether `name` is one this library gives its temporary files under `options`:
/// temp_prefix, the target's name (shortened as the writer shortens it to fit a name's
/// limit, 255 bytes on POSIX, 255 UTF-16 code units on Windows, with "~" and a hash of
/// the whole name), "." and 8 characters of
/// [A-Za-z0-9], temp_suffix ("config.json" -> ".config.json.Xy3kQ9aB.tmp"); or, when
/// options.target_name is given, temp::named's prefix + target + suffix
/// (".config.json.tmp"). The target's part is compared without regard to the case of
/// ASCII letters, as case-insensitive filesystems compare names (".N.TXT.tmp" is a
/// temporary name of "n.txt"); other characters, the affixes and the random part
/// byte for byte. `name` and the options are UTF-8 (on POSIX, the bytes of the names as
/// they are); on Windows, a name or option that is not UTF-8 matches nothing.
inline bool is_temp_name(std::string_view name, const stale_temp_options& options = {}) noexcept {
    const detail::native_temp_affixes affixes(options);
    if (!affixes.valid || !affixes.usable) return false;
    if constexpr (std::is_same_v<native_char_type, char>) {
        return detail::matches_temp_name(detail::same_chars<native_char_type>(name), affixes.prefix, affixes.suffix,
                                         affixes.target);
    } else {
        native_char_type native[detail::sys::max_name + 1];
        std::error_code ec;
        const std::size_t n = detail::sys::to_native(name, native, detail::sys::max_name + 1, ec);
        return !ec &&
               detail::matches_temp_name(native_string_view(native, n), affixes.prefix, affixes.suffix, affixes.target);
    }
}

namespace detail {

/// Why a candidate is kept, or what happened to it: removed; kept, not ours to judge (not
/// a regular file or link; or an error that stops the sweep); gone (another sweep took
/// it); in use (open for writing, or open in a process of this machine); too young
/// (changed within older_than, or replaced meanwhile); undecided (whether it is in use
/// could not be told: kept, with the reason).
enum class sweep_result : unsigned char { removed, kept, gone, in_use, too_young, undecided };

/// The files the processes of this machine have open (sys::list_open_files()), listed
/// at most once per sweep, when a candidate first needs it: where a lease cannot tell
/// (NFS, or a filesystem without leases on Linux).
struct open_files {
    bool listed = false;
    std::error_code incomplete;  ///< why a file not listed may still be open
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ids;

    /// Lists them, if not yet done, leaving out this process's descriptor `exclude`
    /// (the sweep's own of the candidate).
    void list(native_handle_type exclude) noexcept {
        if (listed) return;
        listed = true;
        sys::list_open_files(exclude, ids, incomplete);
        std::sort(ids.begin(), ids.end());
    }
    /// Whether a listed descriptor refers to the file `st`.
    bool holds(const sys::file_status& st) const noexcept {
        return std::binary_search(ids.begin(), ids.end(), std::make_pair(st.device, st.inode));
    }
};

/// Whether an error of looking at a file held open means that the file is gone: another
/// sweep removed it meanwhile (FUSE filesystems answer ENOENT, NFS ESTALE).
inline bool vanished(const std::error_code& ec) noexcept {
#if defined(ESTALE)
    if (ec.value() == ESTALE && ec.category() == std::system_category()) return true;
#endif
    return ec == std::errc::no_such_file_or_directory;
}

/// Whether an error says that a call or flag is not available on this filesystem.
inline bool unavailable(const std::error_code& ec) noexcept {
    return ec == std::errc::invalid_argument || ec == std::errc::function_not_supported ||
           ec == std::errc::operation_not_supported || ec == std::errc::not_supported;
}

/// Moves `from` to `to` unless `to` exists: renameat2(RENAME_NOREPLACE) where the system
/// and filesystem have it, else rename(2), which replaces `to` only if someone made that
/// same random name meanwhile (62^8 of them).
inline void rename_exclusive(native_handle_type dir, const native_char_type* from, const native_char_type* to,
                             std::error_code& ec) noexcept {
    if constexpr (sys::has_rename_noreplace) {
        sys::rename_noreplace(dir, from, dir, to, ec);
        if (!ec || !unavailable(ec)) return;
        ec.clear();
    }
    // Not link(2) and unlink(2): the unlink would remove whatever the name refers to by
    // then, the very race the claim is there to close.
    sys::rename(dir, from, dir, to, ec);
}

/// Renames a claimed file back to `name` without replacing a file made there since:
/// renameat2(RENAME_NOREPLACE), else a link and the removal of the claimed name (EEXIST
/// if `name` exists), else rename(2) where the filesystem has neither.
inline void give_back(native_handle_type dir, const native_char_type* claimed, const native_char_type* name,
                      std::error_code& ec) noexcept {
    if constexpr (sys::has_rename_noreplace) {
        sys::rename_noreplace(dir, claimed, dir, name, ec);
        if (!ec || !unavailable(ec)) return;
        ec.clear();
    }
    sys::link(dir, claimed, dir, name, ec);
    if (!ec) {
        sys::unlink(dir, claimed, ec);
        return;
    }
    if (!unavailable(ec) && ec != std::errc::operation_not_permitted) return;
    ec.clear();
    sys::rename(dir, claimed, dir, name, ec);
}

/// A name to claim the candidate `name` under: a random temporary name of the same
/// target (prefix + stem + "." + 8 random characters + suffix), which a later sweep
/// recognises should this one stop before removing it.
inline void claim_name(native_char_type* out, native_string_view name, const native_temp_affixes& affixes,
                       std::error_code& ec) noexcept {
    native_string_view stem = affixes.target;
    if (stem.empty()) {
        // A random name of any target: its stem, without "." and the random characters.
        stem = name.substr(affixes.prefix.size(),
                           name.size() - affixes.prefix.size() - affixes.suffix.size() - random_name_length - 1);
    }
    make_temp_name(out, affixes.prefix, stem, affixes.suffix, true, ec);
}

/// Claims the candidate `name` (held open as `held`, under a read lease where there
/// are leases: nobody can open it for writing meanwhile) by an exclusive rename to a
/// name of its own, checks that the claimed file is the one held and still unchanged,
/// and removes it; gives it back (renames it back, exclusively) if it is another.
inline sweep_result claim_and_remove(native_handle_type dir, const native_char_type* name, const sys::file_status& held,
                                     std::int64_t not_after, const native_temp_affixes& affixes, const char*& step,
                                     std::error_code& ec) noexcept {
    native_char_type claimed[sys::max_name + 1];
    const native_string_view candidate(name);
    step = "claim stale temporary file";
    for (int attempt = 0;; ++attempt) {
        claim_name(claimed, candidate, affixes, ec);
        if (!ec) rename_exclusive(dir, name, claimed, ec);
        if (!ec) break;
        // Another sweep took it first: not an error, and not ours to count.
        if (vanished(ec)) {
            ec.clear();
            return sweep_result::gone;
        }
        if (ec != std::errc::file_exists || attempt + 1 == name_attempts) return sweep_result::kept;
    }
    // The claim changed the file's status time, not its content: the content's time
    // and the identity tell whether it is still the file that was judged.
    // A failure from here on gives the file back under its name before it is reported.
    std::error_code ignored;
    step = "inspect stale temporary file";
    const sys::file_status now = sys::stat_at(dir, claimed, ec);
    if (ec && vanished(ec)) {
        ec.clear();
        return sweep_result::gone;  // claimed from us in turn (NFS: ESTALE)
    }
    if (ec) {
        give_back(dir, claimed, name, ignored);
        return sweep_result::kept;
    }
    if (now.kind == sys::file_kind::none) return sweep_result::gone;  // claimed from us in turn
    if (now.device != held.device || now.inode != held.inode || now.modified > not_after) {
        // Not the file that was judged: a writer made a new one under that name since.
        step = "give back a claimed temporary file";
        give_back(dir, claimed, name, ec);
        if (ec == std::errc::no_such_file_or_directory) ec.clear();
        return sweep_result::too_young;
    }
    step = "remove stale temporary file";
    sys::unlink(dir, claimed, ec);
    if (!ec) return sweep_result::removed;
    if (vanished(ec)) {
        ec.clear();
        return sweep_result::gone;
    }
    give_back(dir, claimed, name, ignored);
    return sweep_result::kept;
}

/// Looks at one name that is_temp_name() accepted and removes it if it is a regular
/// file, old enough and not open for writing, where the system can only look at a file
/// and then act on its name (POSIX). The file is first claimed: renamed, exclusively,
/// to a random name of its own, so that the name removed is one nobody else can have
/// given to another file meanwhile (a live writer of temp::named re-creates the same
/// name); a claimed file that turns out not to be the one looked at is given back.
/// `ec` is set only for errors that stop the sweep.
/// On NFS (`nfs`) no lease is asked (see sys::on_nfs()), and ESTALE, the answer for a
/// file another client removed, counts as gone. There, and where the lease cannot tell
/// (EINVAL: a filesystem without leases), the files open in the processes of this
/// machine (`open`, listed once) decide: a file open in one is in use; one not listed
/// while the list is incomplete is undecided (`why`: the list's error); else the age
/// alone decides.
inline sweep_result sweep_by_name(native_handle_type dir, const native_char_type* name, std::int64_t not_after,
                                  const native_temp_affixes& affixes, bool nfs, open_files& open, std::error_code& why,
                                  const char*& step, std::error_code& ec) noexcept {
    // Look before opening: a device or FIFO named like a temporary file is not opened.
    step = "inspect stale temporary file";
    sys::file_status st = sys::stat_at(dir, name, ec);
    if (ec && vanished(ec)) {
        ec.clear();
        return sweep_result::gone;
    }
    if (ec) return sweep_result::kept;
    if (st.kind == sys::file_kind::none) return sweep_result::gone;
    if (st.modified > not_after || st.changed > not_after) return sweep_result::too_young;
    if (st.kind == sys::file_kind::symlink) {
        // A temporary link (symlink_atomic's, a tree's switch) that a killed process
        // left: a live one lives for the instant between its symlinkat and its rename.
        // Only the link goes, never what it points to; claimed first, as a file is.
        return claim_and_remove(dir, name, st, not_after, affixes, step, ec);
    }
    if (st.kind != sys::file_kind::regular) return sweep_result::kept;
    // On NFS the list is made before this sweep opens any candidate: a sweep running at
    // once (another thread or process) then never sees this one's descriptor of a file
    // before this one judges it, and of several sweeps the first to open a file always
    // found it unheld, so each leftover is removed by one of them.
    if (nfs && sys::has_open_file_list) open.list(invalid_handle);

    native_handle_type f = sys::open_file(dir, name, ec);
    if (ec) {
        // Gone, replaced by a link, or not readable by us: not ours to judge.
        const bool gone = vanished(ec);
        if (gone || ec == std::errc::too_many_symbolic_link_levels || ec == std::errc::permission_denied ||
            ec == std::errc::operation_not_permitted) {
            why = ec;
            ec.clear();
            return gone ? sweep_result::gone : sweep_result::undecided;
        }
        return sweep_result::kept;
    }
    sweep_result result = sweep_result::kept;
    std::error_code ignored;
    const sys::file_status held = sys::stat_handle(f, ec);
    if (ec && vanished(ec)) {
        ec.clear();
        result = sweep_result::gone;
    }
    // The name may have been given to another file between the two looks.
    if (!ec && result == sweep_result::kept && held.kind == sys::file_kind::regular &&
        (held.device != st.device || held.inode != st.inode || held.modified > not_after || held.changed > not_after))
        result = sweep_result::too_young;
    if (!ec && result == sweep_result::kept && held.kind == sys::file_kind::regular) {
        bool unused = true;
        bool ask_processes = nfs;
        // Not on NFS: its answer tells nothing there (v4 refuses every lease without a
        // read delegation, v3 every lease), and a lease granted on top of a delegation
        // would block the claim's own rename: the server recalls the delegation, whose
        // return waits for this lease to be broken (lease-break-time, 45 s by default).
        if (sys::has_read_lease && !nfs) {
            std::error_code lease;
            sys::try_read_lease(f, lease);
            // EAGAIN: open for writing somewhere, a writer at work. EACCES, EPERM: another
            // user's file, which we cannot tell about. ENOENT, ESTALE: removed meanwhile.
            // Other errors (EINVAL: no leases on this filesystem): the processes of this
            // machine tell, as on NFS.
            if (lease == std::errc::resource_unavailable_try_again) {
                unused = false;
                result = sweep_result::in_use;
            } else if (lease == std::errc::permission_denied || lease == std::errc::operation_not_permitted) {
                unused = false;
                result = sweep_result::undecided;
                why = lease;
            } else if (vanished(lease)) {
                unused = false;
                result = sweep_result::gone;
            } else if (lease) {
                ask_processes = true;
            }
        }
        if (unused && ask_processes && sys::has_open_file_list) {
            // Not another client's processes (NFS has no such answer: the age decides
            // for them), nor a process that opens the file after the list was made.
            open.list(f);
            if (open.holds(held)) {
                unused = false;
                result = sweep_result::in_use;
            } else if (open.incomplete) {
                unused = false;
                result = sweep_result::undecided;
                why = open.incomplete;
            }
        }
        if (unused && nfs) {
            // An NFS client turns the unlink of a file open on it into a rename to a
            // ".nfs..." name until the last close: this sweep's own descriptor must not
            // be the one that keeps it.
            sys::close(f, ignored);
            return claim_and_remove(dir, name, held, not_after, affixes, step, ec);
        }
        if (unused) result = claim_and_remove(dir, name, held, not_after, affixes, step, ec);
    }
    sys::close(f, ignored);
    return result;
}

/// sweep_by_name() where a file can be opened so that nobody else may write, rename or
/// remove it, and removed through that handle (Windows): the open itself tells whether
/// it is in use, and the file removed is the one that was looked at.
inline sweep_result sweep_held(native_handle_type dir, const native_char_type* name, std::int64_t not_after,
                               std::error_code& why, const char*& step, std::error_code& ec) noexcept {
    step = "inspect stale temporary file";
    sys::removal_candidate found{};
    const native_handle_type f = sys::open_for_removal(dir, name, found, ec);
    if (ec) return sweep_result::kept;
    if (found == sys::removal_candidate::missing) return sweep_result::gone;
    // In use (a writer at work), or not ours to judge: kept, not an error.
    if (found == sys::removal_candidate::in_use) return sweep_result::in_use;
    if (found != sys::removal_candidate::opened) {
        why = std::make_error_code(std::errc::permission_denied);
        return sweep_result::undecided;
    }
    sweep_result result = sweep_result::kept;
    const sys::file_status held = sys::stat_handle(f, ec);
    if (!ec && held.kind == sys::file_kind::regular && (held.modified > not_after || held.changed > not_after))
        result = sweep_result::too_young;
    if (!ec && held.kind == sys::file_kind::regular && held.modified <= not_after && held.changed <= not_after) {
        step = "remove stale temporary file";
        sys::remove_open_file(f, dir, name, ec);
        if (!ec) result = sweep_result::removed;
    }
    std::error_code ignored;
    sys::close(f, ignored);
    return result;
}

/// Looks at one candidate the platform's way.
inline sweep_result sweep_one(native_handle_type dir, const native_char_type* name, std::int64_t not_after,
                              const native_temp_affixes& affixes, bool nfs, open_files& open, std::error_code& why,
                              const char*& step, std::error_code& ec) noexcept {
    if constexpr (sys::has_open_for_removal)
        return sweep_held(dir, name, not_after, why, step, ec);
    else
        return sweep_by_name(dir, name, not_after, affixes, nfs, open, why, step, ec);
}

/// Where a sweep stopped: the step and the file's name (empty if none).
struct sweep_failure {
    const char* step = nullptr;
    native_char_type name[sys::max_name + 1] = {};
};

/// Adds what became of the candidate `name` to `report`.
inline void note(sweep_report& report, const native_char_type* name, sweep_result result, const std::error_code& why) {
    switch (result) {
        case sweep_result::removed:
            report.removed.emplace_back(name);
            break;
        case sweep_result::in_use:
            report.in_use.emplace_back(name);
            break;
        case sweep_result::too_young:
            report.too_young.emplace_back(name);
            break;
        case sweep_result::undecided:
            report.undecided.push_back({std::filesystem::path(name), why});
            break;
        default:
            break;
    }
}

/// Sweeps the directory `name` names relative to `at`, telling `report` (if any) what
/// became of each candidate.
inline std::size_t sweep(native_handle_type at, const native_char_type* name, const stale_temp_options& options,
                         sweep_failure& failure, std::error_code& ec, sweep_report* report = nullptr) noexcept {
    ec.clear();
    failure.step = "check options";
    const native_temp_affixes affixes(options);
    if (has_separator_or_nul(options.temp_prefix) || has_separator_or_nul(options.temp_suffix) ||
        has_separator_or_nul(options.target_name) || !affixes.valid ||
        (options.temp_prefix.empty() && options.temp_suffix.empty() && options.target_name.empty())) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return 0;
    }
    using std::chrono::nanoseconds;
    const std::int64_t now =
        std::chrono::duration_cast<nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::int64_t not_after = now - std::chrono::duration_cast<nanoseconds>(options.older_than).count();

    // A descriptor of its own even for a directory handle: reading the entries moves
    // the descriptor's offset, which other sweeps of the same handle must not share.
    failure.step = "open directory";
    const native_handle_type dir = sys::open_directory(at, name, ec);
    if (ec) return 0;
    std::error_code ignored;
    bool nfs = false;
    if constexpr (sys::has_read_lease) {
        // Where leases are asked, whether their answer means anything.
        failure.step = "inspect the directory's filesystem";
        nfs = sys::on_nfs(dir, ec);
        if (ec) {
            sys::close(dir, ignored);
            return 0;
        }
    }
    std::size_t removed = 0;
    {
        open_files open;
        sys::directory_reader reader(dir);
        for (;;) {
            failure.step = "read directory";
            const native_char_type* entry = reader.next(ec);
            if (entry == nullptr) break;
            if (!affixes.usable || !matches_temp_name(entry, affixes.prefix, affixes.suffix, affixes.target)) continue;
            std::error_code why;
            const sweep_result result = sweep_one(dir, entry, not_after, affixes, nfs, open, why, failure.step, ec);
            if (result == sweep_result::removed) ++removed;
            if (report != nullptr) {
                try {
                    note(*report, entry, result, why);
                } catch (...) {
                    if (!ec) {
                        failure.step = "record the sweep's report";
                        ec = std::make_error_code(std::errc::not_enough_memory);
                    }
                }
            }
            if (ec) {
                copy_c_string(failure.name, entry);
                break;
            }
        }
    }
    sys::close(dir, ignored);
    return removed;
}

[[noreturn]] inline void throw_sweep_error(const std::filesystem::path& directory, const sweep_failure& failure,
                                           std::error_code ec) {
    const std::filesystem::path file = failure.name[0] != '\0' ? directory / failure.name : std::filesystem::path();
    throw_error(failure.step, directory, file, ec, commit_state::unchanged);
}

}  // namespace detail

/// Removes the temporary files this library's writers left in `directory` and returns
/// how many it removed: only files whose name is one of ours (is_temp_name()), that are
/// regular files, unchanged for options.older_than and not in use by a writer, and on
/// POSIX the temporary symbolic links of symlink_atomic() and tree_writer left as old
/// (the link itself: links are never followed). The file is checked while held open,
/// and a file that replaced it meanwhile is not removed. Several sweeps may run at once. How "in use" is told on
/// each system, and its limits, are in docs/design-notes.md.
///
/// Platforms: all; "in use" is exact on Linux (a read lease) and Windows (an exclusive
/// open), the age alone decides elsewhere. On NFS (Linux tells it by the directory's
/// filesystem) no lease is asked, and on Linux filesystems without leases none answers:
/// there a file that a process of this machine has open (a descriptor listed in
/// /proc/PID/fd, listed once per sweep) is in use, one that might be open in a process
/// the sweep cannot look into (another user's, when not root) is kept as undecided, and
/// for other NFS clients the age alone decides (docs/nfs.md).
/// On POSIX a candidate is first claimed: renamed, exclusively (renameat2 with
/// RENAME_NOREPLACE; rename(2) to a fresh random name where the filesystem lacks it), to
/// a random temporary name of its own, checked again under that name and removed, or
/// renamed back if a writer had made a new file under the old name meanwhile. So a
/// sweep never removes a name that a live writer re-created (temp::named does), even
/// with overlapping sweeps. A writer whose file is claimed and given back in that
/// instant would see its commit fail with ENOENT; a file in use is never claimed where
/// leases tell (Linux), so only a writer on another view of the same files (a FUSE
/// backing directory, an overlay's upper directory) can meet this, once its file is
/// older than options.older_than.
/// System calls: the directory's open, its fstatfs (Linux), reads and close; per candidate on POSIX a stat,
/// an open, an fstat, a lease (Linux, not on NFS), the claim's rename, a second stat and the
/// unlink; on Windows an open, a stat of the handle and the removal through it. Where
/// the processes' files decide, once per sweep: the open and reads of /proc, and per
/// process the open, reads and close of /proc/PID/fd and a statx per descriptor.
/// Errors: invalid_argument (a separator or NUL in the options; on Windows, not UTF-8;
/// or prefix and suffix both empty with no target), and those of opening, inspecting and reading
/// the directory (ENOENT, ENOTDIR, EACCES, EMFILE, EIO), of looking at a file (EACCES,
/// EMFILE, EIO), of claiming it (step "claim stale temporary file": EACCES, EPERM,
/// EROFS, EBUSY) and of removing it (EACCES, EPERM, EROFS, EBUSY), or their Windows
/// counterparts; a file claimed when an error stops the sweep is given back its name.
/// The sweep stops at the first error; what it removed stays removed. Files that vanish
/// meanwhile (another sweep took them: ENOENT, or ESTALE on NFS) are not an error.
inline std::size_t remove_stale_temps(const std::filesystem::path& directory, const stale_temp_options& options,
                                      std::error_code& ec) noexcept {
    detail::sweep_failure failure;
    return detail::sweep(detail::sys::current_directory, directory.c_str(), options, failure, ec);
}

/// remove_stale_temps(), throwing std::filesystem::filesystem_error naming the step, the
/// directory and, if the error concerns one, the file.
inline std::size_t remove_stale_temps(const std::filesystem::path& directory, const stale_temp_options& options = {}) {
    std::error_code ec;
    detail::sweep_failure failure;
    const std::size_t removed = detail::sweep(detail::sys::current_directory, directory.c_str(), options, failure, ec);
    if (ec) detail::throw_sweep_error(directory, failure, ec);
    return removed;
}

/// remove_stale_temps() in an open directory (see directory): the one its writers
/// write in, wherever it has been moved meanwhile. Errors: bad_file_descriptor (the
/// handle is not open), and as above.
inline std::size_t remove_stale_temps(const directory& dir, const stale_temp_options& options,
                                      std::error_code& ec) noexcept {
    if (!dir.is_open()) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return 0;
    }
    detail::sweep_failure failure;
    return detail::sweep(dir.native_handle(), detail::current_directory_name, options, failure, ec);
}

/// remove_stale_temps() in an open directory, throwing filesystem_error naming the step,
/// the directory's path() and, if the error concerns one, the file.
inline std::size_t remove_stale_temps(const directory& dir, const stale_temp_options& options = {}) {
    std::error_code ec;
    detail::sweep_failure failure;
    if (!dir.is_open()) {
        failure.step = "remove stale temporary files (the directory is not open)";
        ec = std::make_error_code(std::errc::bad_file_descriptor);
    }
    const std::size_t removed =
        ec ? 0 : detail::sweep(dir.native_handle(), detail::current_directory_name, options, failure, ec);
    if (ec) detail::throw_sweep_error(dir.path(), failure, ec);
    return removed;
}

/// remove_stale_temps(), filling `report` (emptied first) with what it removed and what
/// it kept and why: in use, too young, or undecided with the reason. Errors as for
/// remove_stale_temps(); also not_enough_memory (step "record the sweep's report"). On
/// an error the report holds what was found up to it.
inline std::size_t remove_stale_temps(const std::filesystem::path& directory, const stale_temp_options& options,
                                      sweep_report& report, std::error_code& ec) noexcept {
    report = sweep_report{};
    detail::sweep_failure failure;
    return detail::sweep(detail::sys::current_directory, directory.c_str(), options, failure, ec, &report);
}

/// remove_stale_temps() with a report, throwing filesystem_error naming the step, the
/// directory and, if the error concerns one, the file.
inline std::size_t remove_stale_temps(const std::filesystem::path& directory, const stale_temp_options& options,
                                      sweep_report& report) {
    report = sweep_report{};
    std::error_code ec;
    detail::sweep_failure failure;
    const std::size_t removed =
        detail::sweep(detail::sys::current_directory, directory.c_str(), options, failure, ec, &report);
    if (ec) detail::throw_sweep_error(directory, failure, ec);
    return removed;
}

/// remove_stale_temps() with a report in an open directory. Errors: bad_file_descriptor
/// (the handle is not open), and as above.
inline std::size_t remove_stale_temps(const directory& dir, const stale_temp_options& options, sweep_report& report,
                                      std::error_code& ec) noexcept {
    report = sweep_report{};
    if (!dir.is_open()) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return 0;
    }
    detail::sweep_failure failure;
    return detail::sweep(dir.native_handle(), detail::current_directory_name, options, failure, ec, &report);
}

/// remove_stale_temps() with a report in an open directory, throwing filesystem_error
/// naming the step, the directory's path() and, if the error concerns one, the file.
inline std::size_t remove_stale_temps(const directory& dir, const stale_temp_options& options, sweep_report& report) {
    report = sweep_report{};
    std::error_code ec;
    detail::sweep_failure failure;
    if (!dir.is_open()) {
        failure.step = "remove stale temporary files (the directory is not open)";
        ec = std::make_error_code(std::errc::bad_file_descriptor);
    }
    const std::size_t removed =
        ec ? 0 : detail::sweep(dir.native_handle(), detail::current_directory_name, options, failure, ec, &report);
    if (ec) detail::throw_sweep_error(dir.path(), failure, ec);
    return removed;
}

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_STALE_TEMPS_HPP
