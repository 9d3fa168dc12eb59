// SPDX-License-Identifier: MIT
/// \file
/// Vocabulary types shared by the writer, the policies and the system-call seam.
#ifndef ATOMICWRITES_TYPES_HPP
#define ATOMICWRITES_TYPES_HPP

#include <atomicwrites/config.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace atomicwrites {
inline namespace v1 {

#if ATOMICWRITES_POSIX
/// An open file or directory as the operating system names it: a file descriptor (a
/// HANDLE, void*, on Windows).
using native_handle_type = int;
#else
using native_handle_type = void*;
#endif

/// The character type of file names as the operating system takes them: char (bytes,
/// usually UTF-8) on POSIX, wchar_t (UTF-16) on Windows. The same as
/// std::filesystem::path::value_type.
using native_char_type = std::filesystem::path::value_type;

/// A file name in the system's own characters.
using native_string_view = std::basic_string_view<native_char_type>;

#if ATOMICWRITES_POSIX
/// The value of a native_handle_type that names no file: -1 (INVALID_HANDLE_VALUE on
/// Windows).
inline constexpr native_handle_type invalid_handle = -1;
#else
inline native_handle_type const invalid_handle = reinterpret_cast<void*>(~static_cast<unsigned long long>(0));
#endif

/// What to do when the target path names a symbolic link.
enum class symlink_mode : unsigned char {
    /// Replace the link itself with the new file (what rename(2) does; the default).
    replace,
    /// Write the file the link points to (following every link in the chain), in that
    /// file's directory, which is the one synced. A link is followed only where the
    /// kernel would follow it (Linux's fs.protected_symlinks): one in a sticky
    /// world-writable directory that belongs to neither the caller nor the directory's
    /// owner fails with permission_denied.
    follow,
    /// Refuse: the operation fails with std::errc::too_many_symbolic_link_levels (ELOOP),
    /// like open(2) with O_NOFOLLOW.
    refuse,
};

/// Ownership handling for a file that replaces an existing one. Platforms: POSIX; on
/// Windows the new file gets the security its directory gives any new file, either way.
enum class owner_mode : unsigned char {
    /// Give the new file the old file's owner and group where the process may set them
    /// (a refusal is not an error: EPERM, or EINVAL, ENOSYS, EOPNOTSUPP for ids unmapped in
    /// a user namespace and filesystems without owners), also in a set-group-ID directory
    /// and after setegid(2). The default.
    preserve,
    /// The new file belongs to the writing process, like any file it creates.
    process,
    /// As preserve, but a replaced file whose owner or group the process may not give
    /// the new file (fchown refused: EPERM, EINVAL, ENOSYS, EOPNOTSUPP) fails the write
    /// with the refusal's error, the message naming the step and the target; the target
    /// is untouched and the temporary file removed. A new file (or metadata_mode::fresh)
    /// has no owner to keep: as preserve. Windows: not_supported (its files have no
    /// POSIX owner to keep).
    require,
};

/// An owner and a group for the new file (write_options::owner_ids), as fchown(2) takes
/// them: `unchanged` (chown's -1) leaves that id as the file would have it otherwise.
struct file_owner {
    /// "Leave this id alone".
    static constexpr unsigned unchanged = static_cast<unsigned>(-1);
    /// The user id, or unchanged.
    unsigned uid = unchanged;
    /// The group id, or unchanged.
    unsigned gid = unchanged;

    /// Equal when both ids are.
    friend bool operator==(const file_owner&, const file_owner&) = default;
};

/// What a file that replaces another takes from it.
enum class metadata_mode : unsigned char {
    /// The old file's permission bits, and its owner as owner_mode says. The target is
    /// looked at (one fstatat) before the temporary file is made. The default.
    /// Exception: a file of neither the caller nor the directory's owner, in a sticky
    /// directory others may write, gives nothing to the new file: it is refused with
    /// permission_denied where Linux's fs.protected_regular makes open(2) refuse it,
    /// else written as a new file (docs/guarantees.md). One fstat of the directory then.
    /// A kept mode the filesystem refuses (FUSE, FAT) leaves the creation mode, never
    /// wider: no error.
    preserve,
    /// Nothing: the new file is made as open(2) makes a new file (write_options::mode,
    /// else 0666 & ~umask; owned by the process). The target is still looked at (one
    /// fstatat: nothing else tells a FIFO or a device node from a regular file), but no
    /// mode is set on a replace, one call fewer. Errors: is_a_directory, and
    /// invalid_argument for a target that is neither a regular file nor a link.
    fresh,
};

/// How far a commit got: a failure after the new content became visible at the target
/// is not the same as one before it.
enum class commit_state : unsigned char {
    /// The target was not changed (nothing was published).
    unchanged,
    /// The new content is visible at the target; if an error is reported with this state,
    /// it happened afterwards (the directory sync, say) and the new content may not
    /// survive a crash.
    published,
};

/// What the temporary file holds when the writer is made (write_options::start).
enum class start_mode : unsigned char {
    /// Nothing: the new content is written from scratch. The default.
    empty,
    /// A copy of the target (a regular file, or with symlink_mode::follow the file a link
    /// leads to), made by the cheapest method that works: a clone sharing the target's
    /// blocks (FICLONE: btrfs, XFS with reflink), else a copy in the kernel
    /// (copy_file_range), else reads and writes. Writes then continue after the copied
    /// content; pwrite(), truncate() and append() edit it (see edit.hpp). A missing
    /// target (or, with symlink_mode::replace, a link) starts empty. As for any write, an
    /// existing target is replaced only with `overwrite`.
    /// On Windows: block cloning on ReFS (FSCTL_DUPLICATE_EXTENTS_TO_FILE), else reads
    /// and writes.
    copy_of_target,
    /// As copy_of_target, but a missing target is an error (no_such_file_or_directory).
    copy_of_existing_target,
};

/// Whether a writer reserves the file's space (fallocate) before writing, when it knows
/// the size: write_file(), a batch's writes, basic_atomic_writer::reserve(). The space is
/// reserved without changing the file's size (FALLOC_FL_KEEP_SIZE), so fewer bytes
/// written than reserved leave no zeros. Linux (fallocate) and Windows (FileAllocationInfo,
/// never chosen by automatic there); elsewhere nothing is reserved.
enum class prealloc_mode : unsigned char {
    /// Where it was measured to pay: on ext4, for 16 MiB and more (one fstatfs to know
    /// the filesystem, at that size only). Not on XFS, btrfs or tmpfs, nor for smaller
    /// files, where it did not help or made writes slower (docs/big-files.md). The
    /// default.
    automatic,
    /// Always, whatever the size and the filesystem.
    always,
    /// Never.
    never,
};

/// What a file was, at one moment: its identity (device and inode; Windows: volume
/// serial number and file index), size, and last modification and change times in ns
/// (POSIX st_mtim and st_ctim; Windows LastWriteTime and ChangeTime). Any replacement
/// (a new inode), write (size, mtime), chmod or chown (ctime) gives another version.
/// A default-constructed version is "no file": `exists` false, every field 0.
/// Taken by read_file() and version_of() (versions.hpp); write_options::expect makes a
/// commit conditional on it.
struct file_version {
    /// False for "no file at that name".
    bool exists = false;
    /// The filesystem (st_dev; Windows: the volume serial number).
    std::uint64_t device = 0;
    /// The file on it (st_ino; Windows: the file index).
    std::uint64_t inode = 0;
    /// Its size in bytes.
    std::uint64_t size = 0;
    /// Last change of the content, ns since the Unix epoch.
    std::int64_t modified = 0;
    /// Last change of the content or status, ns since the Unix epoch.
    std::int64_t changed = 0;

    /// Equal when every field is.
    friend bool operator==(const file_version&, const file_version&) = default;
};

/// Whether a writer serialises itself with other writers of the same target.
enum class lock_mode : unsigned char {
    /// No lock (the default).
    none,
    /// Hold the target's lock file exclusively from the writer's construction until its
    /// commit or rollback is complete (see versions.hpp and docs/updates.md). Cooperative:
    /// it excludes only writers that ask for it too.
    exclusive,
};

/// Options for one atomic write. An aggregate: `{.overwrite = true}` works.
///
/// The string views are read while the writer is constructed and not kept.
struct write_options {
    /// Replace an existing target. When false (the default, as in python-atomicwrites)
    /// the write fails with std::errc::file_exists if the target exists, whether it
    /// existed when the writer was made or was created by someone else before the commit.
    bool overwrite = false;
    /// The permission bits of the new file, set exactly (the umask does not apply).
    /// perms::unknown (the default) means: a replaced regular file keeps its mode; a new
    /// file gets 0666 & ~umask, as open(2) would give it. On Windows only the write bits
    /// count: none of them set makes the file read-only (FILE_ATTRIBUTE_READONLY), as
    /// std::filesystem::permissions does there.
    std::filesystem::perms mode = std::filesystem::perms::unknown;
    /// Ownership of a file that replaces another.
    owner_mode owner = owner_mode::preserve;
    /// What the new file takes from the file it replaces (mode and owner, or nothing).
    metadata_mode metadata = metadata_mode::preserve;
    /// Whether a file that replaces another takes its extended attributes (Linux): its
    /// POSIX ACL always, its SELinux label, user.* and trusted.* attributes where the
    /// process may set them; never file capabilities (security.capability). A filesystem
    /// without them is not an error. Without an ACL of its own, the new file does not
    /// keep one from its directory's default ACL. Off with metadata_mode::fresh. See
    /// docs/guarantees.md.
    bool xattrs = true;
    /// What to do when the target is a symbolic link.
    symlink_mode symlinks = symlink_mode::replace;
    /// The start of the temporary file's name, before the target's name. UTF-8; it must
    /// not contain a directory separator ('/', and on Windows also '\\').
    std::string_view temp_prefix = ".";
    /// The end of the temporary file's name.
    std::string_view temp_suffix = ".tmp";
    /// Where the temporary file is made; empty (the default) means the target's
    /// directory. It must be on the target's filesystem: the writer refuses another one
    /// when it is made, before any data is written (std::errc::cross_device_link, the
    /// message naming both directories).
    std::filesystem::path temp_directory{};
    /// Text mode: on Windows every '\n' written becomes "\r\n"; on POSIX text and binary
    /// are the same. False (binary) by default.
    bool text = false;
    /// Keep the file a commit replaces under this name: after commit() the target holds
    /// the new content and `backup` the previous one (a previous backup is replaced), and
    /// at no crash point is the previous content under neither name. A relative path is
    /// relative to the target's directory; empty (the default) makes no backup; no
    /// target, no backup. Needs `overwrite`, and a filesystem with hard links (the old
    /// file is given the backup name before the new one is published: see
    /// docs/links-and-sets.md).
    std::filesystem::path backup{};
    /// What the temporary file starts as: empty (the default) or a copy of the target.
    start_mode start = start_mode::empty;
    /// Whether the file's space is reserved before it is written, when the size is known.
    prealloc_mode prealloc = prealloc_mode::automatic;
    /// Compare-and-swap: the commit publishes only if the target is still this version
    /// (a default file_version{}: only if there is still no file), else it fails with
    /// atomicwrites::errc::target_changed and the target is untouched. Checked when the
    /// writer is made and right before the publication (one fstatat); a version of an
    /// existing file needs `overwrite`. The window left is in docs/updates.md. Empty
    /// (the default): no condition.
    std::optional<file_version> expect{};
    /// Serialise with other writers of the target that ask for it (lock_mode::exclusive):
    /// the lock file ".NAME.lock" beside the target is locked while the writer is open.
    lock_mode lock = lock_mode::none;
    /// How long to wait for the lock: milliseconds::max() (the default) or any negative
    /// value waits as long as it takes, zero tries once; then the write fails with
    /// atomicwrites::errc::lock_timeout.
    std::chrono::milliseconds lock_timeout = std::chrono::milliseconds::max();
    /// The owner and group the new file is given (fchown(2) of the temporary file before
    /// the commit, before its mode is set: fchown clears set-id bits), whether it is new
    /// or replaces another; an id left `unchanged` is what owner_mode gives it (on a
    /// replace with owner_mode::preserve, the old file's). A refusal (EPERM, EINVAL for
    /// an id not mapped, ENOSYS, EOPNOTSUPP) is an error naming the step and the target;
    /// the target is untouched and the temporary file removed. Empty (the default): the
    /// owner is owner_mode's. Windows: not_supported.
    std::optional<file_owner> owner_ids{};
    /// The permission bits of a new file, narrowed by the umask exactly as open(2)'s
    /// mode argument is (the temporary file is created with them: the kernel applies the
    /// umask). Only the bits 0777 (set-id and sticky bits need `mode`). A replaced
    /// regular file still keeps its own mode under metadata_mode::preserve; with
    /// metadata_mode::fresh a replaced file counts as new and gets create_mode.
    /// perms::unknown (the default) is 0666. Giving both `mode` and create_mode is
    /// invalid_argument. Windows: as `mode` (only the write bits count; no umask).
    std::filesystem::perms create_mode = std::filesystem::perms::unknown;
};

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_TYPES_HPP
