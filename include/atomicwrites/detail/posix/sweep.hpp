// SPDX-License-Identifier: MIT
/// \file
/// The OS operations remove_stale_temps() needs on POSIX systems: reading a directory,
/// and telling whether a file is open for writing. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_POSIX_SWEEP_HPP
#define ATOMICWRITES_DETAIL_POSIX_SWEEP_HPP

#include <atomicwrites/detail/posix/file.hpp>
#include <atomicwrites/detail/sys_types.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <system_error>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#if ATOMICWRITES_HAS_READ_LEASE
#include <sys/vfs.h>
#endif
#if ATOMICWRITES_HAS_READ_LEASE
#include <csignal>
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// The names in a directory, one at a time, from a descriptor of it (which must stay open
/// while the reader is used). Includes "." and "..". Each refill of the reader is one
/// sysop::read_directory call.
#if ATOMICWRITES_LINUX
class directory_reader {
public:
    explicit directory_reader(handle dir) noexcept : dir_(dir) {}
    directory_reader(const directory_reader&) = delete;
    directory_reader& operator=(const directory_reader&) = delete;

    /// The next name, or null at the end or on an error (`ec` set).
    const char* next(std::error_code& ec) noexcept {
        if (at_ >= filled_) {
            // getdents64(2) on the descriptor itself: no second descriptor, no DIR*.
            syscall_info info{.op = sysop::read_directory, .dir = dir_, .size = sizeof buffer_};
            long r =
                through_hook(info, [this](syscall_info& i) -> long { return ::getdents64(i.dir, buffer_, i.size); });
            if (r < 0) {
                set_error(ec);
                return nullptr;
            }
            if (r == 0) return nullptr;
            filled_ = static_cast<std::size_t>(r);
            at_ = 0;
        }
        // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
        const char* entry = buffer_ + at_;
        unsigned short length = 0;
        std::memcpy(&length, entry + 16, sizeof length);
        at_ += length;
        return entry + 19;
    }

private:
    handle dir_;
    std::size_t filled_ = 0;
    std::size_t at_ = 0;
    alignas(8) char buffer_[8192];
};
#else
class directory_reader {
public:
    /// readdir(3) needs a DIR* of its own: the descriptor is duplicated for it (and closed
    /// with it, outside the seam).
    explicit directory_reader(handle dir) noexcept {
        const int own = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (own >= 0) {
            stream_ = ::fdopendir(own);
            if (stream_ == nullptr) {
                error_ = errno;
                ::close(own);
            }
        } else {
            error_ = errno;
        }
    }
    ~directory_reader() {
        if (stream_ != nullptr) ::closedir(stream_);
    }
    directory_reader(const directory_reader&) = delete;
    directory_reader& operator=(const directory_reader&) = delete;

    const char* next(std::error_code& ec) noexcept {
        if (stream_ == nullptr) {
            ec.assign(error_, std::system_category());
            return nullptr;
        }
        struct ::dirent* e = nullptr;
        syscall_info info{.op = sysop::read_directory};
        long r = through_hook(info, [this, &e](syscall_info&) -> long {
            errno = 0;
            e = ::readdir(stream_);
            return e == nullptr && errno != 0 ? -1 : 0;
        });
        if (r < 0) {
            set_error(ec);
            return nullptr;
        }
        return e != nullptr ? e->d_name : nullptr;
    }

private:
    DIR* stream_ = nullptr;
    int error_ = 0;
};
#endif

/// True where try_read_lease() can tell whether a file is open for writing.
inline constexpr bool has_read_lease = ATOMICWRITES_HAS_READ_LEASE;

#if ATOMICWRITES_HAS_READ_LEASE
/// Takes a read lease on `file` (opened read-only), which the kernel grants only while no
/// descriptor anywhere has the file open for writing (fcntl(2), "Leases"): EAGAIN means
/// some process has it open for writing. EACCES: not the file's owner and no
/// CAP_LEASE; EINVAL: the filesystem has no leases (NFS v3, FUSE, ...); NFS v4 answers
/// EAGAIN for every file it holds no read delegation for (see on_nfs()). The lease lasts
/// until `file` is closed. Whoever opens the file for writing meanwhile waits until
/// then: hold it for as short a time as possible.
///
/// A lease break signals the lease holder, SIGIO by default, whose default action ends
/// the process. The signal is set to SIGURG (ignored by default) before the lease is
/// taken and no one is set to receive it afterwards, so that a break never signals.
inline void try_read_lease(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::lease, .file = file};
    long r = through_hook(info, [](syscall_info& i) -> long {
        if (::fcntl(i.file, F_SETSIG, SIGURG) < 0) return -1;
        if (::fcntl(i.file, F_SETLEASE, F_RDLCK) < 0) return -1;
        // Taking the lease made this process the receiver of the break signal.
        if (::fcntl(i.file, F_SETOWN, 0) < 0) {
            const int e = errno;
            ::fcntl(i.file, F_SETLEASE, F_UNLCK);
            errno = e;
            return -1;
        }
        return 0;
    });
    if (r < 0) set_error(ec);
}

/// Whether the directory `dir` is on NFS (fstatfs(2): NFS_SUPER_MAGIC), whose client
/// answers a read lease without telling whether a file is in use: v4 refuses it with
/// EAGAIN unless it holds a read delegation, open or not; v3 answers EINVAL. Sysop:
/// statfs.
inline bool on_nfs(handle dir, std::error_code& ec) noexcept {
    constexpr long nfs_super_magic = 0x6969;
    struct ::statfs st {};
    syscall_info info{.op = sysop::statfs, .file = dir};
    const long r = through_hook(info, [&st](syscall_info& i) -> long { return ::fstatfs(i.file, &st); });
    if (r < 0) {
        set_error(ec);
        return false;
    }
    return static_cast<long>(st.f_type) == nfs_super_magic;
}
#else
/// Never called (has_read_lease is false): answers ENOTSUP.
inline void try_read_lease(handle file, std::error_code& ec) noexcept {
    (void)file;
    ec = std::make_error_code(std::errc::not_supported);
}

/// Never called (has_read_lease is false): answers ENOTSUP.
inline bool on_nfs(handle dir, std::error_code& ec) noexcept {
    (void)dir;
    ec = std::make_error_code(std::errc::not_supported);
    return false;
}
#endif

/// POSIX cannot keep others from opening a file, nor remove a file by its descriptor:
/// remove_stale_temps() looks at the file, then checks that the name still refers to it
/// before unlink(2). open_for_removal() and remove_open_file() are never called.
inline constexpr bool has_open_for_removal = false;

/// Never called (has_open_for_removal is false): answers ENOTSUP.
inline handle open_for_removal(handle dir, const char* name, removal_candidate& found, std::error_code& ec) noexcept {
    (void)dir;
    (void)name;
    found = removal_candidate::refused;
    ec = std::make_error_code(std::errc::not_supported);
    return invalid_handle;
}

/// Never called (has_open_for_removal is false): answers ENOTSUP.
inline void remove_open_file(handle file, handle dir, const char* name, std::error_code& ec) noexcept {
    (void)file;
    (void)dir;
    (void)name;
    ec = std::make_error_code(std::errc::not_supported);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_POSIX_SWEEP_HPP
