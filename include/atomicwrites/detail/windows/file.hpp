// SPDX-License-Identifier: MIT
/// \file
/// Windows: opening, creating, inspecting, writing and flushing files. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_FILE_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_FILE_HPP

#include <atomicwrites/detail/sys_types.hpp>
#include <atomicwrites/detail/windows/retry.hpp>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// Opens the directory at the path `full` for name-relative work and flushing, sharing
/// reading and writing (not deletion: nobody can rename or remove it while it is open);
/// without the right to add files where that is refused. INVALID_HANDLE_VALUE with the
/// last error set on failure (ERROR_DIRECTORY for a file).
inline HANDLE open_directory_handle(const wchar_t* full) noexcept {
    constexpr DWORD read = FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    HANDLE h = ::CreateFileW(full, read | FILE_ADD_FILE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                             FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE && ::GetLastError() == ERROR_ACCESS_DENIED)
        h = ::CreateFileW(full, read, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                          FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE) return h;
    FILE_BASIC_INFO basic{};
    if (!::GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic)) {
        close_keeping_error(h);
        return INVALID_HANDLE_VALUE;
    }
    if ((basic.FileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0) {
        ::CloseHandle(h);
        ::SetLastError(ERROR_DIRECTORY);
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

/// Opens a directory (for name-relative work and for FlushFileBuffers), without
/// FILE_SHARE_DELETE: it cannot be renamed or removed while open. With write access
/// (FILE_ADD_FILE, which FlushFileBuffers needs) where the user has it, else without.
/// A name that is not a directory fails with ERROR_DIRECTORY (ENOTDIR).
inline handle open_directory(handle at, const wchar_t* path, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_directory, .dir = at, .name = path};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = through_hook(info, [&result](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        result = open_directory_handle(full.c_str());
        return result != INVALID_HANDLE_VALUE;
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// Whether `path` is `dir` or lies beneath it: `dir` ends with a separator, and the two
/// are final paths of one volume, compared without case as NTFS names are.
inline bool is_beneath(std::wstring_view path, std::wstring_view dir) noexcept {
    if (path.size() + 1 == dir.size())
        dir.remove_suffix(1);  // the directory itself
    else if (path.size() < dir.size())
        return false;
    return ::CompareStringOrdinal(path.data(), static_cast<int>(dir.size()), dir.data(), static_cast<int>(dir.size()),
                                  TRUE) == CSTR_EQUAL;
}

/// Opens the directory `path` relative to `at` without leaving `at`: the name is
/// resolved (".." by name) and must stay beneath `at`'s final path, and so must the final
/// path of what was opened (a junction or symbolic link on the way that leads out is
/// refused). ERROR_NOT_SAME_DEVICE (cross_device_link, as Linux's EXDEV) when it leaves.
/// `search_only` is for POSIX. Sysop: open_beneath.
inline handle open_directory_beneath(handle at, const wchar_t* path, bool search_only, std::error_code& ec) noexcept {
    (void)search_only;
    syscall_info info{.op = sysop::open_beneath, .dir = at, .name = path};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = through_hook(info, [&result](syscall_info& i) {
        std::wstring base, full, reached;
        if (!path_in(i.dir, L"", base) || !path_in(i.dir, i.name, full)) return false;
        if (root_length(i.name) != 0 || !normalize(full) || !is_beneath(full, base)) {
            ::SetLastError(ERROR_NOT_SAME_DEVICE);
            return false;
        }
        result = open_directory_handle(full.c_str());
        if (result == INVALID_HANDLE_VALUE) return false;
        if (!path_in(result, L"", reached) || !is_beneath(reached, base)) {
            const DWORD error = ::GetLastError();
            ::CloseHandle(result);
            result = INVALID_HANDLE_VALUE;
            ::SetLastError(reached.empty() && error != 0 ? error : ERROR_NOT_SAME_DEVICE);
            return false;
        }
        return true;
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// Windows has no open for searching only (open_directory already does without the
/// right to add files where that is refused): answers access denied without a call.
inline handle open_directory_path_only(handle, const wchar_t*, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::permission_denied);
    return invalid_handle;
}

/// Opens an existing file to sync it: with write access, which FlushFileBuffers needs,
/// sharing everything. A symbolic link is opened itself, not followed.
inline handle open_file(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            result = ::CreateFileW(full.c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                   FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// A file time (100 ns units since 1601-01-01 UTC) as ns since 1970-01-01 UTC, the unit of
/// the POSIX layer's times; saturated beyond year 2262.
constexpr std::int64_t unix_ns(std::int64_t filetime) noexcept {
    constexpr std::int64_t epoch = 116444736000000000;  // 1970-01-01 in file time
    constexpr std::int64_t limit = INT64_MAX / 100;
    const std::int64_t since = filetime - epoch;
    return since > limit ? INT64_MAX : since < -limit ? INT64_MIN : since * 100;
}

/// What the attributes and reparse tag of an open file say it is. Name surrogates
/// (symbolic links, junctions, WSL's links) are links; WSL's sockets, FIFOs and
/// devices, and FILE_ATTRIBUTE_DEVICE, are "other"; a file whose data has another kind
/// of reparse point (deduplicated, a cloud placeholder) is a regular file.
constexpr file_kind kind_of(DWORD attributes, DWORD tag) noexcept {
    if ((attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
        if (tag == IO_REPARSE_TAG_SYMLINK || (tag & 0x20000000u) != 0) return file_kind::symlink;  // name surrogate
        if (tag >= 0x80000023u && tag <= 0x80000026u) return file_kind::other;  // AF_UNIX, LX_FIFO, LX_CHR, LX_BLK
    }
    if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) return file_kind::directory;
    if ((attributes & FILE_ATTRIBUTE_DEVICE) != 0) return file_kind::other;
    return file_kind::regular;
}

/// GetFileAttributesExW, which does not follow a final reparse point; its tag (from
/// FindFirstFileExW) tells a symbolic link from a file whose data has a reparse point
/// (deduplicated, cloud placeholder), which is a regular file. A missing name is not an
/// error: kind == none. Identity and times are filled by stat_handle() only.
inline file_status stat_at(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::stat, .dir = dir, .name = name};
    WIN32_FILE_ATTRIBUTE_DATA data{};
    DWORD tag = 0;
    const bool ok = through_hook(info, [&data, &tag](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        if (!::GetFileAttributesExW(full.c_str(), GetFileExInfoStandard, &data)) return false;
        if ((data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
            WIN32_FIND_DATAW found{};
            HANDLE f = ::FindFirstFileExW(full.c_str(), FindExInfoBasic, &found, FindExSearchNameMatch, nullptr, 0);
            if (f == INVALID_HANDLE_VALUE) return false;
            ::FindClose(f);
            tag = found.dwReserved0;
        }
        return true;
    });
    file_status s;
    if (!ok) {
        if (::GetLastError() != ERROR_FILE_NOT_FOUND) set_error(ec);
        return s;
    }
    if ((data.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
        s.kind = file_kind::directory;
    else if ((data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 && tag == IO_REPARSE_TAG_SYMLINK)
        s.kind = file_kind::symlink;
    else if ((data.dwFileAttributes & FILE_ATTRIBUTE_DEVICE) != 0)
        s.kind = file_kind::other;
    else
        s.kind = file_kind::regular;
    s.mode = (data.dwFileAttributes & FILE_ATTRIBUTE_READONLY) != 0 ? 0444u : 0666u;
    s.size = (static_cast<std::uint64_t>(data.nFileSizeHigh) << 32) | data.nFileSizeLow;
    return s;
}

/// The status of an open file, with its identity and times (sysop::stat with `file` set
/// and no name): GetFileInformationByHandle for the attributes and the identity,
/// GetFileInformationByHandleEx(FileBasicInfo) for the times, and (FileAttributeTagInfo)
/// the reparse tag of a reparse point.
inline file_status stat_handle(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::stat, .file = file};
    BY_HANDLE_FILE_INFORMATION by_handle{};
    FILE_BASIC_INFO basic{};
    FILE_ATTRIBUTE_TAG_INFO tag{};
    const bool ok = through_hook(info, [&](syscall_info& i) {
        if (!::GetFileInformationByHandle(i.file, &by_handle)) return false;
        if (!::GetFileInformationByHandleEx(i.file, FileBasicInfo, &basic, sizeof basic)) return false;
        if ((by_handle.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 &&
            !::GetFileInformationByHandleEx(i.file, FileAttributeTagInfo, &tag, sizeof tag))
            return false;
        return true;
    });
    file_status s;
    if (!ok) {
        set_error(ec);
        return s;
    }
    s.kind = kind_of(by_handle.dwFileAttributes, tag.ReparseTag);
    s.mode = (by_handle.dwFileAttributes & FILE_ATTRIBUTE_READONLY) != 0 ? 0444u : 0666u;
    s.device = by_handle.dwVolumeSerialNumber;
    s.inode = (static_cast<std::uint64_t>(by_handle.nFileIndexHigh) << 32) | by_handle.nFileIndexLow;
    s.modified = unix_ns(basic.LastWriteTime.QuadPart);
    s.changed = unix_ns(basic.ChangeTime.QuadPart);
    s.size = (static_cast<std::uint64_t>(by_handle.nFileSizeHigh) << 32) | by_handle.nFileSizeLow;
    return s;
}

/// The layout of a symbolic link's reparse data (REPARSE_DATA_BUFFER, declared in the
/// driver kit's ntifs.h, not in the SDK's headers).
struct symlink_reparse_data {
    DWORD tag;
    WORD data_length;
    WORD reserved;
    WORD substitute_offset;  // bytes, from path_buffer
    WORD substitute_length;  // bytes
    WORD print_offset;
    WORD print_length;
    ULONG flags;  // 1: SYMLINK_FLAG_RELATIVE
    WCHAR path_buffer[1];
};

/// Reads a symbolic link's target into buf (not terminated); returns its length, or 0
/// with ec set. An absolute target ("\??\C:\x") is given in the "\\?\C:\x" form. A
/// target that does not fit reports ENAMETOOLONG; a name that is not a symbolic link,
/// ERROR_NOT_A_REPARSE_POINT.
inline std::size_t read_link(handle dir, const wchar_t* name, wchar_t* buf, std::size_t size,
                             std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::readlink, .dir = dir, .name = name, .size = size};
    std::size_t length = 0;
    bool too_long = false;
    const bool ok = through_hook(info, [&](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        HANDLE h =
            ::CreateFileW(full.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                          nullptr, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
        if (h == INVALID_HANDLE_VALUE) return false;
        constexpr DWORD capacity = 16 * 1024;  // MAXIMUM_REPARSE_DATA_BUFFER_SIZE
        std::unique_ptr<unsigned char[]> data(new (std::nothrow) unsigned char[capacity]);
        if (!data) {
            ::CloseHandle(h);
            ::SetLastError(ERROR_NOT_ENOUGH_MEMORY);
            return false;
        }
        DWORD got = 0;
        if (!::DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, nullptr, 0, data.get(), capacity, &got, nullptr)) {
            close_keeping_error(h);
            return false;
        }
        ::CloseHandle(h);
        symlink_reparse_data head{};
        constexpr std::size_t path_at = offsetof(symlink_reparse_data, path_buffer);
        if (got < path_at) {
            ::SetLastError(ERROR_NOT_A_REPARSE_POINT);
            return false;
        }
        std::memcpy(&head, data.get(), path_at);
        if (head.tag != IO_REPARSE_TAG_SYMLINK ||
            path_at + std::size_t{head.substitute_offset} + head.substitute_length > got) {
            ::SetLastError(ERROR_NOT_A_REPARSE_POINT);
            return false;
        }
        std::wstring target(head.substitute_length / sizeof(wchar_t), L'\0');
        std::memcpy(target.data(), data.get() + path_at + head.substitute_offset, head.substitute_length);
        if (target.compare(0, 4, L"\\??\\") == 0) target[1] = L'\\';  // NT "\??\" -> Win32 "\\?\"
        if (target.size() >= i.size) {
            too_long = true;
            return true;
        }
        std::memcpy(buf, target.data(), target.size() * sizeof(wchar_t));
        length = target.size();
        return true;
    });
    if (!ok) {
        set_error(ec);
        return 0;
    }
    if (too_long) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return 0;
    }
    return length;
}

/// Creates a new file exclusively for writing: CreateFileW with CREATE_NEW, which fails
/// with ERROR_FILE_EXISTS on any existing name (a link is never followed). Access:
/// write, attributes, and DELETE, so that the open file can be renamed through its
/// handle. Sharing: readers, and renames by others (MoveFileExW of the open file); no
/// other writer. Not inherited by child processes. A `mode` without write bits makes
/// the file read-only (the handle can still write, as with open(2)).
inline handle create_file(handle dir, const wchar_t* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::create_file, .dir = dir, .name = name, .size = mode};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            const DWORD attributes = (i.size & 0222u) != 0 ? FILE_ATTRIBUTE_NORMAL : FILE_ATTRIBUTE_READONLY;
            result = ::CreateFileW(full.c_str(), GENERIC_WRITE | FILE_READ_ATTRIBUTES | DELETE,
                                   FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, CREATE_NEW, attributes, nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// Windows has no unnamed files.
inline constexpr bool has_anonymous_files = ATOMICWRITES_HAS_O_TMPFILE;

/// Never called (has_anonymous_files is false): answers ERROR_NOT_SUPPORTED.
inline handle create_anonymous(handle dir, unsigned mode, std::error_code& ec) noexcept {
    (void)dir;
    (void)mode;
    ec.assign(ERROR_NOT_SUPPORTED, std::system_category());
    return invalid_handle;
}

/// Never called (has_anonymous_files is false): answers ERROR_NOT_SUPPORTED.
inline void link_anonymous(handle file, handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    (void)file;
    (void)dir;
    (void)name;
    ec.assign(ERROR_NOT_SUPPORTED, std::system_category());
}

/// Writes all of [data, data+size) with WriteFile, continuing short writes.
inline void write_all(handle file, const void* data, std::size_t size, std::error_code& ec) noexcept {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        syscall_info info{.op = sysop::write, .file = file, .size = size < 0x7ffff000u ? size : 0x7ffff000u};
        DWORD written = 0;
        const bool ok = through_hook(info, [p, &written](syscall_info& i) {
            return ::WriteFile(i.file, p, static_cast<DWORD>(i.size), &written, nullptr) != 0;
        });
        if (!ok) {
            set_error(ec);
            return;
        }
        if (written == 0) {  // no progress and no error: do not spin
            ec = std::make_error_code(std::errc::io_error);
            return;
        }
        p += written;
        size -= written;
    }
}

inline void flush_call(sysop op, handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = op, .file = file};
    if (!through_hook(info, [](syscall_info& i) { return ::FlushFileBuffers(i.file) != 0; })) set_error(ec);
}

/// FlushFileBuffers: the file's data and metadata, and the drive's cache.
inline void fsync(handle file, std::error_code& ec) noexcept { flush_call(sysop::fsync, file, ec); }

/// FlushFileBuffers too: Windows offers no lighter flush outside the driver kit.
inline void fdatasync(handle file, std::error_code& ec) noexcept { flush_call(sysop::fdatasync, file, ec); }

/// FlushFileBuffers already asks the drive to flush its cache.
inline constexpr bool has_full_fsync = ATOMICWRITES_HAS_FULL_FSYNC;
inline void full_fsync(handle file, std::error_code& ec) noexcept { flush_call(sysop::fsync, file, ec); }

/// Windows has no call that flushes one volume for an unprivileged program: syncfs
/// answers not_supported (group::syncfs flushes the files concurrently instead).
inline constexpr bool has_syncfs = false;
inline void syncfs(handle, std::error_code& ec) noexcept { ec = std::make_error_code(std::errc::not_supported); }

/// The attributes a POSIX mode stands for: read-only when no write bit is set.
inline DWORD attributes_for(DWORD attributes, unsigned mode) noexcept {
    attributes &= ~static_cast<DWORD>(FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_NORMAL);
    if ((mode & 0222u) == 0) attributes |= FILE_ATTRIBUTE_READONLY;
    return attributes != 0 ? attributes : FILE_ATTRIBUTE_NORMAL;  // 0 would mean "unchanged"
}

/// Sets the read-only attribute of an open file from a mode (no write bit: read-only),
/// with SetFileInformationByHandle(FileBasicInfo); times are left as they are.
inline void set_mode(handle file, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chmod, .file = file, .size = mode};
    const bool ok = through_hook(info, [](syscall_info& i) {
        FILE_BASIC_INFO basic{};
        if (!::GetFileInformationByHandleEx(i.file, FileBasicInfo, &basic, sizeof basic)) return false;
        const DWORD wanted = attributes_for(basic.FileAttributes, static_cast<unsigned>(i.size));
        if (wanted == basic.FileAttributes) return true;
        FILE_BASIC_INFO change{};  // zero times: unchanged
        change.FileAttributes = wanted;
        return ::SetFileInformationByHandle(i.file, FileBasicInfo, &change, sizeof change) != 0;
    });
    if (!ok) set_error(ec);
}

/// Sets the read-only attribute of the file `name` in `dir` from a mode, by name
/// (SetFileAttributesW): for a file about to be replaced or removed.
inline void set_mode_at(handle dir, const wchar_t* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chmod, .dir = dir, .name = name, .size = mode};
    const bool ok = through_hook(info, [](syscall_info& i) {
        std::wstring full;
        if (!path_in(i.dir, i.name, full)) return false;
        const DWORD attributes = ::GetFileAttributesW(full.c_str());
        if (attributes == INVALID_FILE_ATTRIBUTES) return false;
        return ::SetFileAttributesW(full.c_str(), attributes_for(attributes, static_cast<unsigned>(i.size))) != 0;
    });
    if (!ok) set_error(ec);
}

/// Windows has no owner ids (see file_status): the writer never asks for a change, and
/// a request fails with ERROR_NOT_SUPPORTED.
inline void set_owner(handle file, unsigned uid, unsigned gid, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chown, .file = file, .size = (static_cast<std::size_t>(uid) << 32) | gid};
    const bool ok = through_hook(info, [](syscall_info&) {
        ::SetLastError(ERROR_NOT_SUPPORTED);
        return false;
    });
    if (!ok) set_error(ec);
}

/// CloseHandle, never retried.
/// A failure the hook injects releases the handle too: the real CloseHandle is made,
/// then the hook's error reported (see sysop::close).
inline void close(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::close, .file = file};
    if (syscall_hook* hook = current_hook; hook != nullptr) {
        if (const int e = hook->before(info); e != 0) {
            ::CloseHandle(file);
            ec.assign(e, std::system_category());
            return;
        }
        const bool ok = ::CloseHandle(info.file) != 0;
        const DWORD saved = ok ? 0 : ::GetLastError();
        hook->after(info, static_cast<int>(saved));
        if (!ok) ec.assign(static_cast<int>(saved), std::system_category());
        return;
    }
    if (!::CloseHandle(file)) set_error(ec);
}

/// False: Windows has no owner ids (see file_status).
inline constexpr bool has_owners = false;

/// Windows has no umask: not_supported (never called there, create_mode is not narrowed).
inline unsigned read_umask(std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}

/// Windows has no owner ids (see file_status).
inline owner_ids process_owner() noexcept { return {0, 0}; }
inline owner_ids current_owner() noexcept { return {0, 0}; }

/// Windows has no sticky directories, and so no protection of them: always 0.
inline int kernel_protection(const char*, int) noexcept { return 0; }

/// Windows has no fork(2): a process never holds a copy of another's writer.
inline std::uint64_t process_generation() noexcept { return 0; }

/// open_file() already opens for writing (FlushFileBuffers needs it), so a file that
/// may be written but not read is opened the same way.
inline handle open_file_writable(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    return open_file(dir, name, ec);
}

/// 64 bits for seeding the generator of temporary names, from the performance counter,
/// the process and thread ids and the address space layout. The names need to be
/// unlikely to collide, not secret: CREATE_NEW makes creation exclusive, and a taken
/// name is answered by another one. (A system random source would need bcrypt.lib,
/// which a header-only library cannot make its users link.)
inline std::uint64_t random_seed() noexcept {
    LARGE_INTEGER counter{};
    ::QueryPerformanceCounter(&counter);
    std::uint64_t seed = static_cast<std::uint64_t>(counter.QuadPart);
    seed ^= (static_cast<std::uint64_t>(::GetCurrentProcessId()) << 32) ^ ::GetCurrentThreadId();
    seed ^= reinterpret_cast<std::uintptr_t>(&seed) * 0x9e3779b97f4a7c15ull;
    return seed ^ static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_FILE_HPP
