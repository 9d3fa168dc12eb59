// SPDX-License-Identifier: MIT
// Open files as the operating system sees them: identities, sizes, link counts, flags
// and attributes of descriptors (POSIX) or handles (Windows), and how many are open.
#ifndef ATOMICWRITES_TESTS_SUPPORT_HANDLES_HPP
#define ATOMICWRITES_TESTS_SUPPORT_HANDLES_HPP

#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fs.hpp"

#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace test {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

#if defined(_WIN32)
/// An open handle's file identity (its file index, Windows' inode number).
inline std::uint64_t file_id_of(aw::native_handle_type h) {
    BY_HANDLE_FILE_INFORMATION info{};
    if (!::GetFileInformationByHandle(h, &info)) throw std::runtime_error("cannot query an open handle");
    return (static_cast<std::uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
}

/// The file identity of a path, not following a final reparse point.
inline std::uint64_t inode_of(const fs::path& p) {
    HANDLE h =
        ::CreateFileW(p.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                      OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (h == INVALID_HANDLE_VALUE) throw std::runtime_error("cannot open " + utf8(p));
    const std::uint64_t id = file_id_of(h);
    ::CloseHandle(h);
    return id;
}

/// The size of an open file.
inline std::uint64_t size_of(aw::native_handle_type h) {
    LARGE_INTEGER size{};
    if (!::GetFileSizeEx(h, &size)) throw std::runtime_error("cannot query an open handle");
    return static_cast<std::uint64_t>(size.QuadPart);
}

/// The number of names an open file has.
inline std::uint64_t link_count(aw::native_handle_type h) {
    BY_HANDLE_FILE_INFORMATION info{};
    if (!::GetFileInformationByHandle(h, &info)) throw std::runtime_error("cannot query an open handle");
    return info.nNumberOfLinks;
}

/// Whether an open handle names a directory.
inline bool is_directory_handle(aw::native_handle_type h) {
    BY_HANDLE_FILE_INFORMATION info{};
    return ::GetFileInformationByHandle(h, &info) && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

/// Whether `h` names an open handle of this process.
inline bool is_open_fd(aw::native_handle_type h) {
    DWORD flags = 0;
    return h != aw::invalid_handle && ::GetHandleInformation(h, &flags) != 0;
}

/// Whether child processes inherit the handle.
inline bool is_inherited(aw::native_handle_type h) {
    DWORD flags = 0;
    return ::GetHandleInformation(h, &flags) != 0 && (flags & HANDLE_FLAG_INHERIT) != 0;
}

/// Writes through a handle directly; returns the number of bytes written.
inline std::size_t write_handle(aw::native_handle_type h, std::string_view data) {
    DWORD written = 0;
    if (!::WriteFile(h, data.data(), static_cast<DWORD>(data.size()), &written, nullptr)) return 0;
    return written;
}

/// Whether a file is read-only (FILE_ATTRIBUTE_READONLY), Windows' only permission bit.
inline bool is_read_only(const fs::path& p) {
    const DWORD a = ::GetFileAttributesW(p.c_str());
    if (a == INVALID_FILE_ATTRIBUTES) throw std::runtime_error("cannot read the attributes of " + utf8(p));
    return (a & FILE_ATTRIBUTE_READONLY) != 0;
}

/// Makes a file read-only, or writable again.
inline void set_read_only(const fs::path& p, bool read_only) {
    const DWORD a = ::GetFileAttributesW(p.c_str());
    if (a == INVALID_FILE_ATTRIBUTES ||
        !::SetFileAttributesW(p.c_str(), read_only ? (a | FILE_ATTRIBUTE_READONLY) : (a & ~FILE_ATTRIBUTE_READONLY)))
        throw std::runtime_error("cannot change the attributes of " + utf8(p));
}
#else
/// The inode number of a path, not following a final symbolic link.
inline std::uint64_t inode_of(const fs::path& p) {
    struct ::stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + p.string());
    return static_cast<std::uint64_t>(st.st_ino);
}

/// fstat(2) of an open descriptor.
inline struct ::stat stat_of(int fd) {
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) throw std::runtime_error("cannot fstat descriptor " + std::to_string(fd));
    return st;
}

/// An open descriptor's inode number.
inline std::uint64_t file_id_of(int fd) { return static_cast<std::uint64_t>(stat_of(fd).st_ino); }

/// The size of an open file.
inline std::uint64_t size_of(int fd) { return static_cast<std::uint64_t>(stat_of(fd).st_size); }

/// The number of names an open file has.
inline std::uint64_t link_count(int fd) { return static_cast<std::uint64_t>(stat_of(fd).st_nlink); }

/// Whether an open descriptor names a directory.
inline bool is_directory_handle(int fd) { return S_ISDIR(stat_of(fd).st_mode); }

/// The permission bits (07777) of an open descriptor.
inline unsigned mode_of_fd(int fd) { return static_cast<unsigned>(stat_of(fd).st_mode) & 07777u; }

/// Whether `fd` names an open descriptor of this process.
inline bool is_open_fd(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) != -1; }

/// Whether child processes inherit the descriptor (it lacks FD_CLOEXEC).
inline bool is_inherited(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0; }

/// Writes through a descriptor directly; returns the number of bytes written.
inline std::size_t write_handle(int fd, std::string_view data) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

#endif

#if defined(_WIN32)
/// The number of handles open in this process (to find leaks).
inline std::size_t open_descriptor_count() {
    DWORD n = 0;
    if (!::GetProcessHandleCount(::GetCurrentProcess(), &n)) throw std::runtime_error("GetProcessHandleCount failed");
    return n;
}
#else
/// The number of descriptors open in this process (to find leaks).
inline std::size_t open_descriptor_count() {
    std::size_t n = 0;
    for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it) ++n;
    return n;
}
#endif

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_HANDLES_HPP
