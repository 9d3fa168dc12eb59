// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on Windows for starting a file as a copy of another and editing it
/// in place: clone (block cloning, FSCTL_DUPLICATE_EXTENTS_TO_FILE, on ReFS), read
/// (ReadFile), pwrite_all (WriteFile at an offset), truncate and allocate
/// (SetFileInformationByHandle), seek (SetFilePointerEx), open_to_copy. Not API: include
/// <atomicwrites/detail/sys.hpp>. Every call goes through the thread's syscall_hook.
///
/// The copy when there is no clone is the portable loop of detail/edit.hpp: ReadFile from
/// the target, WriteFile into the temporary file's open handle. CopyFileExW cannot be
/// used: it copies to a path, creating or replacing the file there, never into a handle
/// already open, and the temporary file must stay the one the writer created (it holds
/// the handle that renames it and that no other writer may open).
#ifndef ATOMICWRITES_DETAIL_WINDOWS_COPY_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_COPY_HPP

#include <atomicwrites/detail/windows/retry.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// True: block cloning is tried (it works on ReFS volumes, from Windows Server 2016 and
/// Windows 10 1703; other filesystems answer that they cannot, and the copy is made by
/// reads and writes).
inline constexpr bool has_clone = true;

/// False: Windows has no call that copies a range between two open files in the kernel.
inline constexpr bool has_copy_range = false;

/// True: files are read, written at an offset, cut and positioned through their handles.
inline constexpr bool has_positioned_io = true;

/// True: FileAllocationInfo reserves space without changing the size.
inline constexpr bool has_allocate = true;

/// Whether an error of clone or allocate says that this method cannot be used here (a
/// filesystem other than ReFS, two volumes, a clone limit reached), so that the next one
/// should be tried; any other error is the copy's failure.
inline bool is_copy_unsupported(const std::error_code& ec) noexcept {
    if (ec == std::errc::not_supported) return true;
    if (is_unsupported_error(ec)) return true;
    if (ec.category() != std::system_category()) return false;
    switch (ec.value()) {
        case ERROR_NOT_SAME_DEVICE:  // two volumes
        case 347:                    // ERROR_BLOCK_TOO_MANY_REFERENCES: a block cloned too often
            return true;
        default:
            return false;
    }
}

/// Control codes and buffers of winioctl.h that MinGW's headers lack; the values are
/// those of the SDK.
inline constexpr DWORD duplicate_extents_code =
    CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 209, METHOD_BUFFERED, FILE_WRITE_DATA);
inline constexpr DWORD get_integrity_code = CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 159, METHOD_BUFFERED, FILE_ANY_ACCESS);
inline constexpr DWORD set_integrity_code =
    CTL_CODE(FILE_DEVICE_FILE_SYSTEM, 160, METHOD_BUFFERED, FILE_READ_DATA | FILE_WRITE_DATA);

/// DUPLICATE_EXTENTS_DATA.
struct duplicate_extents {
    HANDLE source;
    LARGE_INTEGER source_offset;
    LARGE_INTEGER target_offset;
    LARGE_INTEGER byte_count;
};

/// FSCTL_GET_INTEGRITY_INFORMATION_BUFFER.
struct integrity_information {
    WORD checksum_algorithm;
    WORD reserved;
    DWORD flags;
    DWORD checksum_chunk_size;
    DWORD cluster_size;
};

/// FSCTL_SET_INTEGRITY_INFORMATION_BUFFER.
struct integrity_setting {
    WORD checksum_algorithm;
    WORD reserved;
    DWORD flags;
};

/// The most bytes one FSCTL_DUPLICATE_EXTENTS_TO_FILE is given: a call must stay under
/// 4 GiB, and 1 GiB is a multiple of every cluster size.
inline constexpr std::uint64_t clone_chunk = std::uint64_t{1} << 30;

/// Sets the size of `file` (FileEndOfFileInfo); the position is not used or moved.
inline bool set_end_of_file(HANDLE file, std::uint64_t size) noexcept {
    FILE_END_OF_FILE_INFO eof{};
    eof.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
    return ::SetFileInformationByHandle(file, FileEndOfFileInfo, &eof, sizeof eof) != 0;
}

/// The clone itself, all in one seam call: the destination `to` (empty, just created)
/// becomes a copy of `from` sharing its clusters. ReFS's rules: both files on one
/// volume, with the same integrity-stream setting; a sparse source needs a sparse
/// destination; the destination is as long as the copy before the clusters are
/// duplicated (a clone never extends a file); every range starts and ends on a cluster
/// boundary (the last may end at the cluster holding the end of the file) and is under
/// 4 GiB. The cluster size and the integrity setting come from
/// FSCTL_GET_INTEGRITY_INFORMATION, which only ReFS answers: elsewhere it fails with an
/// unsupported answer before `to` was changed. A clone refused after `to` was lengthened
/// cuts it back to empty, so that the next method starts from the same state.
inline bool clone_extents(HANDLE to, HANDLE from) noexcept {
    FILE_STANDARD_INFO standard{};
    FILE_BASIC_INFO basic{};
    if (!::GetFileInformationByHandleEx(from, FileStandardInfo, &standard, sizeof standard)) return false;
    if (!::GetFileInformationByHandleEx(from, FileBasicInfo, &basic, sizeof basic)) return false;
    integrity_information integrity{};
    DWORD got = 0;
    if (!::DeviceIoControl(from, get_integrity_code, nullptr, 0, &integrity, sizeof integrity, &got, nullptr))
        return false;
    const std::uint64_t cluster = integrity.cluster_size;
    if (cluster == 0 || (cluster & (cluster - 1)) != 0 || cluster > clone_chunk) {
        ::SetLastError(ERROR_NOT_SUPPORTED);
        return false;
    }
    const std::uint64_t size = static_cast<std::uint64_t>(standard.EndOfFile.QuadPart);
    if (size == 0) return true;
    integrity_setting setting{integrity.checksum_algorithm, 0, integrity.flags};
    if (!::DeviceIoControl(to, set_integrity_code, &setting, sizeof setting, nullptr, 0, &got, nullptr)) return false;
    if ((basic.FileAttributes & FILE_ATTRIBUTE_SPARSE_FILE) != 0 &&
        !::DeviceIoControl(to, FSCTL_SET_SPARSE, nullptr, 0, nullptr, 0, &got, nullptr))
        return false;
    if (!set_end_of_file(to, size)) return false;
    const std::uint64_t end = (size + cluster - 1) / cluster * cluster;
    for (std::uint64_t at = 0; at < end; at += clone_chunk) {
        duplicate_extents range{};
        range.source = from;
        range.source_offset.QuadPart = static_cast<LONGLONG>(at);
        range.target_offset.QuadPart = static_cast<LONGLONG>(at);
        range.byte_count.QuadPart = static_cast<LONGLONG>(end - at < clone_chunk ? end - at : clone_chunk);
        if (!::DeviceIoControl(to, duplicate_extents_code, &range, sizeof range, nullptr, 0, &got, nullptr)) {
            const DWORD error = ::GetLastError();
            set_end_of_file(to, 0);
            ::SetLastError(error);
            return false;
        }
    }
    return true;
}

/// Block cloning: `to` (empty) becomes a copy of `from` sharing its clusters (ReFS).
/// Positions are unchanged. Other filesystems answer ERROR_INVALID_FUNCTION or
/// ERROR_NOT_SUPPORTED, two volumes ERROR_NOT_SAME_DEVICE (is_copy_unsupported).
/// `from` must be open for reading (open_to_copy), `to` for writing.
inline void clone(handle to, handle from, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::clone, .file = to, .dir = from};
    if (!through_hook(info, [](syscall_info& i) { return clone_extents(i.file, i.dir); })) set_error(ec);
}

/// Never called (has_copy_range is false): answers not_supported without a call.
inline std::size_t copy_range(handle, handle, std::size_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}

/// Opens the target of a copy (write_options::start) for reading, sharing everything, a
/// reparse point at the name opened itself (the caller found a regular file there).
/// open_file() will not do: it opens for writing, which FlushFileBuffers needs, and a
/// copy needs to read (FSCTL_DUPLICATE_EXTENTS_TO_FILE's source too). Sysop: open_file.
inline handle open_to_copy(handle dir, const wchar_t* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    HANDLE result = INVALID_HANDLE_VALUE;
    const bool ok = retry_transient([&] {
        return through_hook(info, [&result](syscall_info& i) {
            std::wstring full;
            if (!path_in(i.dir, i.name, full)) return false;
            result = ::CreateFileW(full.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   nullptr, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN,
                                   nullptr);
            return result != INVALID_HANDLE_VALUE;
        });
    });
    if (!ok) {
        set_error(ec);
        return invalid_handle;
    }
    return result;
}

/// ReadFile of up to `size` bytes (at most 1 GiB a call) at the position; returns the
/// bytes read (0 at the end).
inline std::size_t read(handle file, void* buffer, std::size_t size, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::read, .file = file, .size = size < 0x40000000u ? size : 0x40000000u};
    DWORD got = 0;
    const bool ok = through_hook(info, [buffer, &got](syscall_info& i) {
        return ::ReadFile(i.file, buffer, static_cast<DWORD>(i.size), &got, nullptr) != 0;
    });
    if (!ok) {
        set_error(ec);
        return 0;
    }
    return got;
}

/// The position of `file`, or false with the last error set.
inline bool position_of(HANDLE file, LARGE_INTEGER& at) noexcept {
    LARGE_INTEGER zero{};
    return ::SetFilePointerEx(file, zero, &at, FILE_CURRENT) != 0;
}

/// All of [data, data + size) written at `offset`, continuing short writes; the position
/// is unchanged. Each WriteFile is given the offset in an OVERLAPPED; on a handle opened
/// without FILE_FLAG_OVERLAPPED that also moves the position to the end of the write,
/// unlike pwrite(2), so each seam call puts it back where it was.
inline void pwrite_all(handle file, const void* data, std::size_t size, std::uint64_t offset,
                       std::error_code& ec) noexcept {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        syscall_info info{
            .op = sysop::pwrite, .file = file, .size = size < 0x7ffff000u ? size : 0x7ffff000u, .offset = offset};
        DWORD written = 0;
        const bool ok = through_hook(info, [p, &written](syscall_info& i) {
            LARGE_INTEGER before{};
            if (!position_of(i.file, before)) return false;
            OVERLAPPED at{};
            at.Offset = static_cast<DWORD>(i.offset & 0xffffffffu);
            at.OffsetHigh = static_cast<DWORD>(i.offset >> 32);
            const bool wrote = ::WriteFile(i.file, p, static_cast<DWORD>(i.size), &written, &at) != 0;
            const DWORD error = wrote ? 0 : ::GetLastError();
            if (!::SetFilePointerEx(i.file, before, nullptr, FILE_BEGIN)) return false;
            ::SetLastError(error);
            return wrote;
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
        offset += written;
    }
}

/// Cuts or extends (with zeros) `file` to `size` bytes: SetFileInformationByHandle
/// (FileEndOfFileInfo), which, unlike SetEndOfFile, leaves the position alone.
inline void truncate(handle file, std::uint64_t size, std::error_code& ec) noexcept {
    if (size > static_cast<std::uint64_t>(INT64_MAX)) {
        ec = std::make_error_code(std::errc::file_too_large);
        return;
    }
    syscall_info info{.op = sysop::truncate, .file = file};
    info.size = size;  // 64 bits: Windows builds are 64-bit
    if (!through_hook(info, [](syscall_info& i) { return set_end_of_file(i.file, i.size); })) set_error(ec);
}

/// Where seek() counts from.
enum class seek_from : unsigned char { start = 0, position = 1, end = 2 };

/// SetFilePointerEx; returns the new position. A position before the start fails with
/// ERROR_NEGATIVE_SEEK.
inline std::uint64_t seek(handle file, std::int64_t offset, seek_from from, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::seek,
                      .file = file,
                      .size = static_cast<std::size_t>(from),
                      .offset = static_cast<std::uint64_t>(offset)};
    LARGE_INTEGER position{};
    const bool ok = through_hook(info, [&position](syscall_info& i) {
        const DWORD method = i.size == 0 ? FILE_BEGIN : i.size == 1 ? FILE_CURRENT : FILE_END;
        LARGE_INTEGER distance{};
        distance.QuadPart = static_cast<LONGLONG>(i.offset);
        return ::SetFilePointerEx(i.file, distance, &position, method) != 0;
    });
    if (!ok) {
        set_error(ec);
        return 0;
    }
    return static_cast<std::uint64_t>(position.QuadPart);
}

/// Reserves space for the first `offset + size` bytes of `file` without changing its
/// size: SetFileInformationByHandle(FileAllocationInfo). An allocation below the size
/// would cut the file, so a file that already has that much is left alone
/// (FileStandardInfo first, in the same seam call). NTFS gives back what the file did not
/// use when its last handle closes.
inline void allocate(handle file, std::uint64_t offset, std::uint64_t size, std::error_code& ec) noexcept {
    if (offset > static_cast<std::uint64_t>(INT64_MAX) || size > static_cast<std::uint64_t>(INT64_MAX) - offset) {
        ec = std::make_error_code(std::errc::file_too_large);
        return;
    }
    syscall_info info{.op = sysop::fallocate, .file = file, .offset = offset};
    info.size = size;
    const bool ok = through_hook(info, [](syscall_info& i) {
        FILE_STANDARD_INFO standard{};
        if (!::GetFileInformationByHandleEx(i.file, FileStandardInfo, &standard, sizeof standard)) return false;
        const std::uint64_t wanted = i.offset + i.size;
        if (wanted <= static_cast<std::uint64_t>(standard.AllocationSize.QuadPart) ||
            wanted <= static_cast<std::uint64_t>(standard.EndOfFile.QuadPart))
            return true;
        FILE_ALLOCATION_INFO allocation{};
        allocation.AllocationSize.QuadPart = static_cast<LONGLONG>(wanted);
        return ::SetFileInformationByHandle(i.file, FileAllocationInfo, &allocation, sizeof allocation) != 0;
    });
    if (!ok) set_error(ec);
}

/// 0: the filesystem's type is not known here, so prealloc_mode::automatic never
/// reserves on Windows (nothing was measured there).
inline std::uint64_t filesystem_type(handle, std::error_code&) noexcept { return 0; }

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_COPY_HPP
