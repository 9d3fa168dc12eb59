// SPDX-License-Identifier: MIT
/// \file
/// The types every platform layer answers in, defined once. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_SYS_TYPES_HPP
#define ATOMICWRITES_DETAIL_SYS_TYPES_HPP

#include <cstdint>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// What is at a name.
enum class file_kind : unsigned char { none, regular, directory, symlink, other };

/// A name's status. Windows keeps no POSIX mode: a read-only file reads as 0444, any
/// other as 0666; its owners are security descriptors, so both ids read as 0 (as
/// process_owner() does there), and the writer never tries to change them.
struct file_status {
    file_kind kind = file_kind::none;
    unsigned mode = 0;  ///< permission bits, including set-id and sticky (07777)
    unsigned uid = 0;
    unsigned gid = 0;
    std::uint64_t device = 0;   ///< with `inode`, what the name refers to (Windows: the volume's serial number)
    std::uint64_t inode = 0;    ///< Windows: the file index (NTFS: the file reference number)
    std::int64_t modified = 0;  ///< last change of the content (st_mtim; LastWriteTime), ns since the Unix epoch
    std::int64_t changed = 0;   ///< last change of the content or status (st_ctim; ChangeTime), ns since the Unix epoch
    std::uint64_t size = 0;     ///< bytes (st_size; the end of file). Windows: by stat_at() and stat_handle()
};

/// A file's owner and group.
struct owner_ids {
    unsigned uid;
    unsigned gid;
};

/// What open_for_removal() found at a name.
enum class removal_candidate : unsigned char {
    opened,   ///< open: nobody else has it open for writing or deleting
    missing,  ///< no such name (any more)
    in_use,   ///< open elsewhere for writing or deleting, or without sharing its deletion
    refused,  ///< not for us to open: access denied (its security, a directory, a deletion pending)
};

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_SYS_TYPES_HPP
