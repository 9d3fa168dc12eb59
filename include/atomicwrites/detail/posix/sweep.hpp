// SPDX-License-Identifier: MIT
/// \file
/// The OS operations remove_stale_temps() needs on POSIX systems: reading a directory,
/// telling whether a file is open for writing, and (Linux) listing the files the
/// processes of this machine have open. Not API: include <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_POSIX_SWEEP_HPP
#define ATOMICWRITES_DETAIL_POSIX_SWEEP_HPP

#include <atomicwrites/detail/posix/file.hpp>
#include <atomicwrites/detail/sys_types.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#if ATOMICWRITES_HAS_READ_LEASE
#include <sys/vfs.h>
#endif
#if ATOMICWRITES_HAS_READ_LEASE
#include <csignal>
#endif
#if ATOMICWRITES_LINUX
#include <sys/stat.h>
#include <sys/sysmacros.h>
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// The names in a directory, one at a time, from a descriptor of it (which must stay open
/// while the reader is used). Includes "." and "..". Each refill of the reader is one
/// call of `op` (sysop::read_directory; sysop::read_processes in /proc, with `name`
/// telling the hook which directory it is).
#if ATOMICWRITES_LINUX
class directory_reader {
public:
    explicit directory_reader(handle dir, sysop op = sysop::read_directory, const char* name = nullptr) noexcept
        : dir_(dir), op_(op), name_(name) {}
    directory_reader(const directory_reader&) = delete;
    directory_reader& operator=(const directory_reader&) = delete;

    /// The next name, or null at the end or on an error (`ec` set).
    const char* next(std::error_code& ec) noexcept {
        if (at_ >= filled_) {
            // getdents64(2) on the descriptor itself: no second descriptor, no DIR*.
            syscall_info info{.op = op_, .dir = dir_, .name = name_, .size = sizeof buffer_};
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
    sysop op_;
    const char* name_;
    std::size_t filled_ = 0;
    std::size_t at_ = 0;
    alignas(8) char buffer_[8192];
};
#else
class directory_reader {
public:
    /// readdir(3) needs a DIR* of its own: the descriptor is duplicated for it (and closed
    /// with it, outside the seam).
    explicit directory_reader(handle dir, sysop op = sysop::read_directory, const char* name = nullptr) noexcept
        : op_(op), name_(name) {
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
        syscall_info info{.op = op_, .name = name_};
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
    sysop op_;
    const char* name_;
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

/// True where list_open_files() can tell which files the processes of this machine have
/// open (Linux: /proc).
inline constexpr bool has_open_file_list = ATOMICWRITES_LINUX;

#if ATOMICWRITES_LINUX
/// Opens a directory of /proc: "/proc" itself (`at` unused), or "PID/fd" in `at`, the
/// /proc handle. Sysop: open_processes.
inline handle open_processes(handle at, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_processes, .dir = at, .name = name};
    const long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(::openat(i.dir, i.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

/// The device and inode of the file that the descriptor link "PID/fd/N" (`name`, in the
/// /proc handle `proc`) refers to: statx(2) following the link, with AT_STATX_DONT_SYNC
/// so that a file on a network filesystem (NFS, FUSE) is not asked of its server: the
/// device and inode numbers are the client's own. False and `ec` set on an error.
/// Sysop: stat_open_file.
inline bool stat_open_file(handle proc, const char* name, std::pair<std::uint64_t, std::uint64_t>& id,
                           std::error_code& ec) noexcept {
    struct ::statx sx {};
    syscall_info info{.op = sysop::stat_open_file, .dir = proc, .name = name};
    const long r = through_hook(
        info, [&sx](syscall_info& i) -> long { return ::statx(i.dir, i.name, AT_STATX_DONT_SYNC, STATX_INO, &sx); });
    if (r < 0) {
        set_error(ec);
        return false;
    }
    // dev_t as fstat(2) gives it, which file_status::device holds.
    const std::uint64_t device = ::makedev(sx.stx_dev_major, sx.stx_dev_minor);
    id = {device, static_cast<std::uint64_t>(sx.stx_ino)};
    return true;
}

/// Whether `s` is a non-empty string of decimal digits (a process or descriptor number).
inline bool all_digits(const char* s) noexcept {
    if (*s == '\0') return false;
    for (; *s != '\0'; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

/// Adds to `ids` the (device, inode) of every file a process of this machine (of this
/// /proc: this PID namespace) has open through a descriptor, this process's descriptor
/// `exclude` excepted: /proc, each /proc/PID/fd and a statx() of each link in it. A
/// process or descriptor that goes away meanwhile (ENOENT, ESRCH) had nothing open that
/// matters; a descriptor whose file answers ESTALE refers to a file its server no
/// longer has. Any other error (EACCES, EPERM: another user's process; EMFILE, ENOMEM,
/// EIO), and processes hidden from this one (/proc mounted with hidepid=invisible: no
/// pid 1 listed, answered as EACCES), leave the list `incomplete` with the first such
/// error: a file not in it may be open in a process that could not be looked into.
/// Mappings without a descriptor (mmap(2) and close) are not listed.
/// Sysops: open_processes, read_processes, stat_open_file, close.
inline void list_open_files(handle exclude, std::vector<std::pair<std::uint64_t, std::uint64_t>>& ids,
                            std::error_code& incomplete) noexcept {
    const auto note = [&incomplete](const std::error_code& e) {
        if (!incomplete) incomplete = e;
    };
    const auto ended = [](const std::error_code& e) {
        return e == std::errc::no_such_file_or_directory || e.value() == ESRCH;
    };
    std::error_code ec;
    const handle proc = open_processes(current_directory, "/proc", ec);
    if (ec) {
        note(ec);
        return;
    }
    std::error_code ignored;
    const long self = static_cast<long>(::getpid());
    bool saw_first = false;
    try {
        directory_reader processes(proc, sysop::read_processes);
        for (;;) {
            const char* pid = processes.next(ec);
            if (pid == nullptr) {
                if (ec) note(ec);
                break;
            }
            const std::size_t length = std::strlen(pid);
            if (!all_digits(pid) || length > 20) continue;
            if (std::strcmp(pid, "1") == 0) saw_first = true;
            // "PID/fd", then "PID/fd/N" for each descriptor N.
            char path[48];
            std::memcpy(path, pid, length);
            std::memcpy(path + length, "/fd", 4);
            std::error_code e;
            const handle fds = open_processes(proc, path, e);
            if (e) {
                if (!ended(e)) note(e);
                continue;
            }
            const bool own = std::strtol(pid, nullptr, 10) == self;
            {
                directory_reader descriptors(fds, sysop::read_processes, path);
                for (;;) {
                    const char* fd = descriptors.next(e);
                    if (fd == nullptr) {
                        if (e && !ended(e)) note(e);
                        break;
                    }
                    const std::size_t n = std::strlen(fd);
                    if (!all_digits(fd) || n > 20) continue;
                    if (own && std::strtol(fd, nullptr, 10) == static_cast<long>(exclude)) continue;
                    char link[48];
                    std::memcpy(link, path, length + 3);
                    link[length + 3] = '/';
                    std::memcpy(link + length + 4, fd, n + 1);
                    std::pair<std::uint64_t, std::uint64_t> id;
                    std::error_code s;
                    if (stat_open_file(proc, link, id, s))
                        ids.push_back(id);
                    else if (!ended(s) && s.value() != ESTALE)
                        note(s);
                }
            }
            close(fds, ignored);
        }
    } catch (...) {
        note(std::make_error_code(std::errc::not_enough_memory));
    }
    close(proc, ignored);
    if (!saw_first) note(std::make_error_code(std::errc::permission_denied));
}
#else
/// Not made (has_open_file_list is false): answers ENOTSUP.
inline void list_open_files(handle exclude, std::vector<std::pair<std::uint64_t, std::uint64_t>>& ids,
                            std::error_code& incomplete) noexcept {
    (void)exclude;
    (void)ids;
    incomplete = std::make_error_code(std::errc::not_supported);
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
