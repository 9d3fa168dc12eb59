// SPDX-License-Identifier: MIT
/// \file
/// Reading a file, and cooperative locks on a lock file beside a target (versions.hpp),
/// on Windows. Not API: include <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_LOCK_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_LOCK_HPP

#include <atomicwrites/detail/windows/file.hpp>
#include <atomicwrites/detail/windows/path.hpp>
#include <atomicwrites/detail/windows/retry.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <cstddef>
#include <string>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// Opens a file to read it, sharing everything (a writer may replace it meanwhile),
/// following symbolic links as any reader does (sysop::open_file). `attributes_only`
/// asks for no data access: enough for stat_handle(), and allowed on any file.
inline handle open_for_reading(handle dir, const wchar_t* name, std::error_code& ec,
                               bool attributes_only = false) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result, attributes_only](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            result = ::CreateFileW(full.c_str(), attributes_only ? FILE_READ_ATTRIBUTES : GENERIC_READ,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                   FILE_ATTRIBUTE_NORMAL, nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// ReadFile of up to `size` bytes; 0 at the end of the file.
inline std::size_t read_some(handle file, char* buf, std::size_t size, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::read, .file = file, .size = size};
    DWORD got = 0;
    const bool ok = through_hook(info, [buf, &got](syscall_info& i) {
        const DWORD n = i.size > 0x40000000u ? 0x40000000u : static_cast<DWORD>(i.size);
        return ::ReadFile(i.file, buf, n, &got, nullptr) != 0;
    });
    if (!ok) {
        set_error(ec);
        return 0;
    }
    return got;
}

/// Opens (creating it if needed) the lock file `name` in `dir` for reading and writing,
/// sharing everything: the lock is a byte-range lock (LockFileEx), not a sharing mode.
/// A reparse point at the name is opened itself, not followed.
inline handle open_lock_file(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_lock_file, .dir = dir, .name = name, .size = 0666};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            result = ::CreateFileW(full.c_str(), GENERIC_READ | GENERIC_WRITE,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_ALWAYS,
                                   FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// LockFileEx of the whole range, exclusive: waiting for it (`wait`), or failing with
/// ERROR_LOCK_VIOLATION at once. The system releases it when the handle is closed,
/// also when the process dies.
inline void lock(handle file, bool wait, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::lock, .file = file, .size = wait ? 1u : 0u};
    const bool ok = through_hook(info, [](syscall_info& i) {
        OVERLAPPED at{};
        const DWORD flags =
            LOCKFILE_EXCLUSIVE_LOCK | (i.size != 0 ? 0u : static_cast<DWORD>(LOCKFILE_FAIL_IMMEDIATELY));
        return ::LockFileEx(i.file, flags, 0, MAXDWORD, MAXDWORD, &at) != 0;
    });
    if (!ok) set_error(ec);
}

/// Whether lock() without waiting found the lock held by another handle.
inline bool lock_busy(const std::error_code& ec) noexcept {
    return ec.category() == std::system_category() &&
           (ec.value() == ERROR_LOCK_VIOLATION || ec.value() == ERROR_IO_PENDING);
}

/// UnlockFileEx of the range lock() took.
inline void unlock(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::unlock, .file = file};
    const bool ok = through_hook(info, [](syscall_info& i) {
        OVERLAPPED at{};
        return ::UnlockFileEx(i.file, 0, MAXDWORD, MAXDWORD, &at) != 0;
    });
    if (!ok) set_error(ec);
}

/// Releases the lock of `file` and closes it. The lock is released explicitly first:
/// LockFileEx's documentation says the system releases the locks of a closed handle
/// only after a delay that depends on its resources.
inline void release_lock(handle file, std::error_code& ec) noexcept {
    std::error_code ignored;
    unlock(file, ignored);
    close(file, ec);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_LOCK_HPP
