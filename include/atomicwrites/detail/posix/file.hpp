// SPDX-License-Identifier: MIT
/// \file
/// The OS operations on POSIX systems on files and names, and the feature probes. Not
/// API: include <atomicwrites/detail/sys.hpp>.
///
/// Discipline (see {fmt}'s os.h and the man pages cited): every descriptor is opened
/// with O_CLOEXEC; write(2), fsync(2) and fdatasync(2) are retried on EINTR and writes
/// loop over short counts; close(2) is never retried (on Linux the descriptor is gone
/// even when it reports EINTR, and a retry could close a descriptor another thread has
/// just been given). Every call goes through the thread's syscall_hook, if any.
#ifndef ATOMICWRITES_DETAIL_POSIX_FILE_HPP
#define ATOMICWRITES_DETAIL_POSIX_FILE_HPP

#include <atomicwrites/detail/sys_types.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if ATOMICWRITES_LINUX
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/syscall.h>
#endif

// The feature probes, 0 or 1, made here after the headers that define what they probe.
// Code outside the sys layer tests these macros only where a policy is declared, and
// the matching has_* constants (with `if constexpr`) everywhere else.
#if ATOMICWRITES_LINUX && defined(O_TMPFILE)
#define ATOMICWRITES_HAS_O_TMPFILE 1
#else
/// 1 where open(2) can make unnamed files (O_TMPFILE, Linux), else 0.
#define ATOMICWRITES_HAS_O_TMPFILE 0
#endif
#if ATOMICWRITES_LINUX && defined(RENAME_NOREPLACE)
#define ATOMICWRITES_HAS_RENAME_NOREPLACE 1
#else
/// 1 where renameat2(2) takes RENAME_NOREPLACE (Linux), else 0.
#define ATOMICWRITES_HAS_RENAME_NOREPLACE 0
#endif
#if ATOMICWRITES_LINUX && defined(F_SETLEASE)
#define ATOMICWRITES_HAS_READ_LEASE 1
#else
/// 1 where fcntl(2) can take a read lease (F_SETLEASE, Linux), else 0.
#define ATOMICWRITES_HAS_READ_LEASE 0
#endif
#if ATOMICWRITES_LINUX && defined(SYS_openat2) && defined(RESOLVE_BENEATH)
#define ATOMICWRITES_HAS_OPENAT2 1
#else
/// 1 where openat2(2) can keep a lookup beneath a directory (RESOLVE_BENEATH, Linux 5.6;
/// the headers are enough: a kernel without it answers ENOSYS), else 0.
#define ATOMICWRITES_HAS_OPENAT2 0
#endif
#if defined(F_FULLFSYNC)
#define ATOMICWRITES_HAS_FULL_FSYNC 1
#else
/// 1 where fcntl(2) has F_FULLFSYNC (Apple), else 0.
#define ATOMICWRITES_HAS_FULL_FSYNC 0
#endif

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

using handle = native_handle_type;

/// The directory handle that means "relative to the current directory".
inline constexpr handle current_directory = AT_FDCWD;

/// The largest file name the library makes (NAME_MAX on Linux and the BSDs).
inline constexpr std::size_t max_name = 255;

/// The longest path the library passes to a call (PATH_MAX on Linux).
inline constexpr std::size_t max_path = 4096;

/// Whether `c` separates the components of a path.
constexpr bool is_separator(char c) noexcept { return c == '/'; }

/// The length of the root of `path`: 1 for an absolute path ("/"), 0 otherwise.
constexpr std::size_t root_length(std::string_view path) noexcept { return !path.empty() && path[0] == '/' ? 1 : 0; }

/// What text mode writes for '\n': the same byte (POSIX has no newline translation).
inline constexpr std::string_view text_newline = "\n";

/// Copies a UTF-8 string given by the user (a temporary name's prefix or suffix) into a
/// name buffer of `capacity` characters, NUL-terminated; returns its length. POSIX names
/// are bytes: nothing is converted. Errors: filename_too_long.
inline std::size_t to_native(std::string_view s, char* out, std::size_t capacity, std::error_code& ec) noexcept {
    if (s.size() >= capacity) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return 0;
    }
    if (!s.empty()) std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return s.size();
}

/// Whether a system error says that a call or flag is not available here (for the
/// fallbacks of temp::first_of and the commit policies) beyond what std::errc names:
/// POSIX has nothing more.
constexpr bool is_unsupported_error(const std::error_code&) noexcept { return false; }

/// Makes one call through the hook. `call` receives the (possibly changed) info and
/// returns what the system call returned (negative with errno set on failure).
template <class Call>
inline long through_hook(syscall_info& info, Call&& call) noexcept {
    syscall_hook* hook = current_hook;
    if (hook == nullptr) [[likely]] {
        return call(info);
    }
    if (int e = hook->before(info); e != 0) {
        errno = e;
        return -1;
    }
    long r = call(info);
    int saved = errno;
    hook->after(info, r < 0 ? saved : 0);
    errno = saved;
    return r;
}

inline void set_error(std::error_code& ec) noexcept { ec.assign(errno, std::system_category()); }

/// Whether an answer may go away by itself: an NFS client answers ETXTBSY to a rename
/// while it is renaming the target away (a "silly rename" of a file open on this
/// client, which another client is replacing), and ESTALE for a name whose file
/// another client has just replaced or removed. No local filesystem answers either.
inline bool is_transient(int error) noexcept { return error == ETXTBSY || error == ESTALE; }

/// Attempts of a call that keeps answering a transient error: the first and 5 more,
/// after pauses of 1, 2, 4, 8 and 16 ms (31 ms in all): what a silly rename or a
/// cache's revalidation needs, with no cost where the answer never comes.
inline constexpr int transient_attempts = 6;

/// Makes `attempt` (which returns what the system call returned, negative with errno
/// set on failure) until it succeeds, fails with a lasting error, or has been made
/// transient_attempts times; the last answer is returned. Each attempt goes through
/// the hook, as Windows' retry_transient does.
template <class Attempt>
inline long retry_transient(Attempt&& attempt) noexcept {
    for (int made = 1;; ++made) {
        const long r = attempt();
        if (r >= 0) return r;
        const int error = errno;
        if (!is_transient(error) || made == transient_attempts) {
            errno = error;
            return r;
        }
        struct ::timespec pause {
            0, (1L << (made - 1)) * 1000000L
        };
        while (::nanosleep(&pause, &pause) < 0 && errno == EINTR) {
        }
    }
}

/// Opens a directory (for openat-relative work and for fsync): O_RDONLY|O_DIRECTORY.
inline handle open_directory(handle at, const char* path, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_directory, .dir = at, .name = path};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(::openat(i.dir, i.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

/// Opens a directory that the process may search and write but not read (a drop-box
/// directory, mode 1733 or 0733) for openat-relative work only: O_PATH|O_DIRECTORY
/// (Linux). Such a handle cannot be synced: fsync(2) answers EBADF. Where O_PATH is
/// missing, answers EACCES without a call. Sysop: open_directory.
inline handle open_directory_path_only(handle at, const char* path, std::error_code& ec) noexcept {
#if defined(O_PATH)
    syscall_info info{.op = sysop::open_directory, .dir = at, .name = path};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(::openat(i.dir, i.name, O_PATH | O_DIRECTORY | O_CLOEXEC));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
#else
    (void)at;
    (void)path;
    ec = std::make_error_code(std::errc::permission_denied);
    return invalid_handle;
#endif
}

/// Opens the directory `path` relative to `at` for openat-relative work, never leaving
/// `at`: "..", absolute symbolic links and links that lead out are refused (EXDEV).
/// Linux 5.6 and later: one openat2(2) with RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS (links
/// that stay beneath are followed). Elsewhere, and where openat2 is refused (ENOSYS,
/// EPERM from a seccomp filter): a walk, one openat(2) with O_NOFOLLOW per component,
/// ".." resolved by name (never above `at`: EXDEV), a symbolic link on the way refused
/// (ELOOP). `search_only`: O_PATH (a directory that may be written and searched, not
/// read). Sysop: open_beneath, once for the whole walk.
inline handle open_directory_beneath(handle at, const char* path, bool search_only, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_beneath, .dir = at, .name = path, .size = search_only ? 1u : 0u};
    long r = through_hook(info, [](syscall_info& i) -> long {
#if defined(O_PATH)
        const int access = i.size != 0 ? O_PATH : O_RDONLY;
#else
        const int access = O_RDONLY;
#endif
#if ATOMICWRITES_HAS_OPENAT2
        struct open_how how {};
        how.flags = static_cast<std::uint64_t>(access | O_DIRECTORY | O_CLOEXEC);
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        const long fd = ::syscall(SYS_openat2, i.dir, i.name, &how, sizeof how);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
#endif
        // The walk: the path made plain first (".." takes off the component before it,
        // never more than there are). Links on the way are refused, so a name is all
        // there is to resolve.
        const std::string_view whole(i.name);
        if (!whole.empty() && whole.front() == '/') {
            errno = EXDEV;
            return -1;
        }
        char plain[max_path + 1];
        std::size_t n = 0;
        for (std::size_t pos = 0; pos <= whole.size();) {
            std::size_t end = whole.find('/', pos);
            if (end == std::string_view::npos) end = whole.size();
            const std::string_view part = whole.substr(pos, end - pos);
            pos = end + 1;
            if (part.empty() || part == ".") continue;
            if (part == "..") {
                if (n == 0) {
                    errno = EXDEV;
                    return -1;
                }
                while (n > 0 && plain[n - 1] != '\0') --n;
                if (n > 0) --n;  // the separator before it
                continue;
            }
            if (n + 1 + part.size() > max_path) {
                errno = ENAMETOOLONG;
                return -1;
            }
            if (n > 0) plain[n++] = '\0';  // components are kept NUL-separated
            std::memcpy(plain + n, part.data(), part.size());
            n += part.size();
        }
        if (n == 0) return ::openat(i.dir, ".", access | O_DIRECTORY | O_CLOEXEC);
        plain[n] = '\0';
        int dir = i.dir;
        for (std::size_t k = 0; k < n;) {
            const char* component = plain + k;
            k += std::strlen(component) + 1;
            const bool last = k > n;
#if defined(O_PATH)
            const int flags = (last ? access : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
#else
            const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
#endif
            int next = ::openat(dir, component, flags);
            if (next < 0 && (errno == ENOTDIR || errno == ELOOP)) {
                struct stat st {};
                if (::fstatat(dir, component, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                    errno = ELOOP;
                else
                    errno = ENOTDIR;
            }
            const int saved = errno;
            if (dir != i.dir) ::close(dir);
            errno = saved;
            if (next < 0) return -1;
            dir = next;
        }
        return dir;
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

/// Opens an existing file read-only to sync it; never blocks (O_NONBLOCK, for FIFOs)
/// and never follows a final symbolic link (ELOOP).
inline handle open_file(handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(::openat(i.dir, i.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}
/// open_file() for writing (O_WRONLY), for a file that may be written but not read (a
/// drop box's mode 0200): fsync(2) works on any descriptor of the file. Nothing is
/// written (no O_TRUNC); FIFOs without a reader answer ENXIO.
inline handle open_file_writable(handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::open_file, .dir = dir, .name = name};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(::openat(i.dir, i.name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

inline file_status to_status(const struct ::stat& st) noexcept {
    file_status s;
    if (S_ISREG(st.st_mode))
        s.kind = file_kind::regular;
    else if (S_ISDIR(st.st_mode))
        s.kind = file_kind::directory;
    else if (S_ISLNK(st.st_mode))
        s.kind = file_kind::symlink;
    else
        s.kind = file_kind::other;
    s.mode = static_cast<unsigned>(st.st_mode) & 07777u;
    s.uid = static_cast<unsigned>(st.st_uid);
    s.gid = static_cast<unsigned>(st.st_gid);
    s.device = static_cast<std::uint64_t>(st.st_dev);
    s.inode = static_cast<std::uint64_t>(st.st_ino);
    s.size = static_cast<std::uint64_t>(st.st_size);
#if ATOMICWRITES_APPLE
    s.modified = static_cast<std::int64_t>(st.st_mtimespec.tv_sec) * 1000000000 + st.st_mtimespec.tv_nsec;
    s.changed = static_cast<std::int64_t>(st.st_ctimespec.tv_sec) * 1000000000 + st.st_ctimespec.tv_nsec;
#else
    s.modified = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.changed = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
#endif
    return s;
}

/// fstatat(2) with AT_SYMLINK_NOFOLLOW. A missing name is not an error: kind == none.
inline file_status stat_at(handle dir, const char* name, std::error_code& ec) noexcept {
    struct ::stat st {};
    // Retried on ESTALE (NFS: another client replaced the file meanwhile).
    long r = retry_transient([&] {
        syscall_info info{.op = sysop::stat, .dir = dir, .name = name};
        return through_hook(info, [&st](syscall_info& i) {
            return static_cast<long>(::fstatat(i.dir, i.name, &st, AT_SYMLINK_NOFOLLOW));
        });
    });
    if (r < 0) {
        if (errno != ENOENT) set_error(ec);
        return {};
    }
    return to_status(st);
}

/// fstat(2) of an open file (sysop::stat with `file` set and no name).
inline file_status stat_handle(handle file, std::error_code& ec) noexcept {
    struct ::stat st {};
    syscall_info info{.op = sysop::stat, .file = file};
    long r = through_hook(info, [&st](syscall_info& i) { return static_cast<long>(::fstat(i.file, &st)); });
    if (r < 0) {
        set_error(ec);
        return {};
    }
    return to_status(st);
}

/// readlinkat(2) into buf (not terminated); returns the length, or 0 with ec set.
/// A link whose target does not fit reports ENAMETOOLONG.
inline std::size_t read_link(handle dir, const char* name, char* buf, std::size_t size, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::readlink, .dir = dir, .name = name, .size = size};
    long r = through_hook(info, [buf](syscall_info& i) -> long { return ::readlinkat(i.dir, i.name, buf, i.size); });
    if (r < 0) {
        set_error(ec);
        return 0;
    }
    if (static_cast<std::size_t>(r) >= size) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return 0;
    }
    return static_cast<std::size_t>(r);
}

/// Creates a new file exclusively for writing: O_CREAT|O_EXCL|O_NOFOLLOW|O_WRONLY.
/// `mode` is filtered by the umask, as for any open(2).
inline handle create_file(handle dir, const char* name, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::create_file, .dir = dir, .name = name, .size = mode};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(
            ::openat(i.dir, i.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(i.size)));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

/// True if the system can make unnamed files (O_TMPFILE).
inline constexpr bool has_anonymous_files = ATOMICWRITES_HAS_O_TMPFILE;

#if ATOMICWRITES_HAS_O_TMPFILE
/// Creates an unnamed file in `dir` (open(2), O_TMPFILE): it has no name until linked,
/// and vanishes with its last descriptor. Filesystems or kernels without it answer
/// EOPNOTSUPP, EISDIR or EINVAL (open(2), "O_TMPFILE").
inline handle create_anonymous(handle dir, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::create_anonymous, .dir = dir, .name = ".", .size = mode};
    long r = through_hook(info, [](syscall_info& i) {
        return static_cast<long>(
            ::openat(i.dir, i.name, O_TMPFILE | O_WRONLY | O_CLOEXEC, static_cast<mode_t>(i.size)));
    });
    if (r < 0) {
        set_error(ec);
        return invalid_handle;
    }
    return static_cast<handle>(r);
}

/// Whether an anonymous file made by this process can be given a name later: through
/// /proc/self/fd (any user), or, where /proc is missing, through linkat(2) with
/// AT_EMPTY_PATH, which Linux before 6.10 allows only with CAP_DAC_READ_SEARCH (6.10
/// allows it for files the caller opened). `file` is an anonymous file just made.
/// Asked once per process and remembered: one faccessat(2) where /proc is mounted, one
/// more linkat(2) where it is not. The probe bypasses the syscall hook: it acts on no
/// name of the caller's and its answer outlives the call, so an injected failure would
/// change every later write of the process, not the one it was injected into.
inline bool can_link_anonymous(handle file) noexcept {
    // 0: not asked yet; 1: yes; 2: no. Racing first calls give the same answer.
    static std::atomic<int> answer{0};
    int a = answer.load(std::memory_order_relaxed);
    if (a != 0) [[likely]]
        return a == 1;
    const int saved = errno;
    bool yes = ::faccessat(AT_FDCWD, "/proc/self/fd", X_OK, 0) == 0;
    if (!yes) {
        // The check for AT_EMPTY_PATH comes before the new name is looked at: with an
        // invalid new directory the call fails with EBADF where the link would be
        // allowed, and with ENOENT where it would not (before 6.10, without the
        // capability). Nothing is created either way.
        yes = ::linkat(file, "", -1, "x", AT_EMPTY_PATH) != 0 && errno == EBADF;
    }
    errno = saved;
    answer.store(yes ? 1 : 2, std::memory_order_relaxed);
    return yes;
}

/// Gives an anonymous file a name; fails with EEXIST if the name exists. Uses the
/// /proc/self/fd link, which works for every user; where /proc is missing, linkat(2)
/// with AT_EMPTY_PATH (Linux 6.10+, or with CAP_DAC_READ_SEARCH: see
/// can_link_anonymous, which temp::anonymous asks before it makes such a file).
inline void link_anonymous(handle file, handle dir, const char* name, std::error_code& ec) noexcept {
    char proc[32] = "/proc/self/fd/";
    {
        char digits[12];
        int n = 0;
        for (unsigned v = static_cast<unsigned>(file); n == 0 || v != 0; v /= 10)
            digits[n++] = static_cast<char>('0' + v % 10);
        char* p = proc + 14;
        while (n > 0) *p++ = digits[--n];
        *p = '\0';
    }
    syscall_info info{
        .op = sysop::link_anonymous, .file = file, .dir = AT_FDCWD, .name = proc, .dir2 = dir, .name2 = name};
    long r = through_hook(info, [](syscall_info& i) {
        long rr = ::linkat(i.dir, i.name, i.dir2, i.name2, AT_SYMLINK_FOLLOW);
        if (rr < 0 && errno == ENOENT) {
            // No /proc: the name we gave does not exist (the target directory does,
            // we hold it open). AT_EMPTY_PATH is the only other way.
            rr = ::linkat(i.file, "", i.dir2, i.name2, AT_EMPTY_PATH);
        }
        return rr;
    });
    if (r < 0) set_error(ec);
}
#else
/// Never called (has_anonymous_files is false): answers ENOTSUP.
inline handle create_anonymous(handle dir, unsigned mode, std::error_code& ec) noexcept {
    (void)dir;
    (void)mode;
    ec = std::make_error_code(std::errc::not_supported);
    return invalid_handle;
}

/// Never called (has_anonymous_files is false): answers ENOTSUP.
inline void link_anonymous(handle file, handle dir, const char* name, std::error_code& ec) noexcept {
    (void)file;
    (void)dir;
    (void)name;
    ec = std::make_error_code(std::errc::not_supported);
}
#endif

/// Writes all of [data, data+size), retrying EINTR and short writes.
inline void write_all(handle file, const void* data, std::size_t size, std::error_code& ec) noexcept {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        // Linux transfers at most 0x7ffff000 bytes per call (write(2), NOTES).
        syscall_info info{.op = sysop::write, .file = file, .size = size < 0x7ffff000u ? size : 0x7ffff000u};
        long r = through_hook(info, [p](syscall_info& i) -> long { return ::write(i.file, p, i.size); });
        if (r < 0) {
            if (errno == EINTR) continue;
            set_error(ec);
            return;
        }
        if (r == 0) {  // no progress and no error: do not spin
            ec = std::make_error_code(std::errc::io_error);
            return;
        }
        p += r;
        size -= static_cast<std::size_t>(r);
    }
}
inline void sync_call(sysop op, handle file, std::error_code& ec) noexcept {
    for (;;) {
        syscall_info info{.op = op, .file = file};
        long r = through_hook(info, [](syscall_info& i) -> long {
            switch (i.op) {
#if ATOMICWRITES_LINUX || defined(_POSIX_SYNCHRONIZED_IO)
                case sysop::fdatasync:
                    return ::fdatasync(i.file);
#endif
#if ATOMICWRITES_HAS_FULL_FSYNC
                case sysop::full_fsync:
                    return ::fcntl(i.file, F_FULLFSYNC);
#endif
                default:
                    return ::fsync(i.file);
            }
        });
        if (r == 0) return;
        if (errno == EINTR) continue;
        set_error(ec);
        return;
    }
}

/// fsync(2): the file's data and all its metadata.
inline void fsync(handle file, std::error_code& ec) noexcept { sync_call(sysop::fsync, file, ec); }

/// fdatasync(2): the data and the metadata needed to read it back (the size), not times.
inline void fdatasync(handle file, std::error_code& ec) noexcept { sync_call(sysop::fdatasync, file, ec); }
/// syncfs(2) (Linux; sync(2) elsewhere): flushes the whole filesystem that holds
/// `file`, for a directory that cannot be flushed itself (opened O_PATH). Sysop: fsync,
/// with the file's handle.
inline void sync_filesystem(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::fsync, .file = file};
    long r = through_hook(info, [](syscall_info& i) -> long {
#if ATOMICWRITES_LINUX
        return ::syncfs(i.file);
#else
        (void)i;
        ::sync();
        return 0;
#endif
    });
    if (r < 0) set_error(ec);
}

/// True where syncfs(2) exists (Linux).
inline constexpr bool has_syncfs = ATOMICWRITES_LINUX;

/// syncfs(2): writes out and flushes everything dirty on the filesystem that holds
/// `file`, other programs' data included, and reports a write-back error that happened
/// there since `file` was opened (Linux 5.8 and later). Sysop: syncfs. Where has_syncfs
/// is false: not_supported, no call made.
inline void syncfs(handle file, std::error_code& ec) noexcept {
    if constexpr (has_syncfs) {
        syscall_info info{.op = sysop::syncfs, .file = file};
        long r = through_hook(info, [](syscall_info& i) -> long {
#if ATOMICWRITES_LINUX
            return ::syncfs(i.file);
#else
            (void)i;
            return -1;
#endif
        });
        if (r < 0) set_error(ec);
    } else {
        (void)file;
        ec = std::make_error_code(std::errc::not_supported);
    }
}

/// True where fcntl(F_FULLFSYNC) exists (Apple): it also flushes the drive's cache.
inline constexpr bool has_full_fsync = ATOMICWRITES_HAS_FULL_FSYNC;

/// fcntl(F_FULLFSYNC) where it exists, falling back to fsync(2) when the filesystem
/// refuses it (some network and FUSE filesystems answer ENOTSUP or EINVAL); fsync(2)
/// elsewhere.
inline void full_fsync(handle file, std::error_code& ec) noexcept {
    if constexpr (has_full_fsync) {
        sync_call(sysop::full_fsync, file, ec);
        if (!ec || (ec.value() != ENOTSUP && ec.value() != EINVAL && ec.value() != ENOTTY)) return;
        ec.clear();
    }
    sync_call(sysop::fsync, file, ec);
}

/// fchmod(2): sets the permission bits exactly.
inline void set_mode(handle file, unsigned mode, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chmod, .file = file, .size = mode};
    long r = through_hook(
        info, [](syscall_info& i) { return static_cast<long>(::fchmod(i.file, static_cast<mode_t>(i.size))); });
    if (r < 0) set_error(ec);
}

/// fchown(2); `unsigned(-1)` leaves that id unchanged.
inline void set_owner(handle file, unsigned uid, unsigned gid, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::chown, .file = file, .size = (static_cast<std::size_t>(uid) << 32) | gid};
    long r = through_hook(info, [uid, gid](syscall_info& i) {
        return static_cast<long>(::fchown(i.file, static_cast<uid_t>(uid), static_cast<gid_t>(gid)));
    });
    if (r < 0) set_error(ec);
}

/// renameat(2): atomically replaces `to` (if it exists) with `from`.
inline void rename(handle from_dir, const char* from, handle to_dir, const char* to, std::error_code& ec) noexcept {
    // Retried on ETXTBSY and ESTALE (NFS: another client replaces the same name).
    long r = retry_transient([&] {
        syscall_info info{.op = sysop::rename, .dir = from_dir, .name = from, .dir2 = to_dir, .name2 = to};
        return through_hook(
            info, [](syscall_info& i) { return static_cast<long>(::renameat(i.dir, i.name, i.dir2, i.name2)); });
    });
    if (r < 0) set_error(ec);
}
/// True where renameat2(2) with RENAME_NOREPLACE exists.
inline constexpr bool has_rename_noreplace = ATOMICWRITES_HAS_RENAME_NOREPLACE;

#if ATOMICWRITES_HAS_RENAME_NOREPLACE
/// renameat2(2) with RENAME_NOREPLACE: moves `from` to `to` unless `to` exists (EEXIST),
/// in one step. Filesystems without it answer EINVAL; kernels before 3.15, ENOSYS.
inline void rename_noreplace(handle from_dir, const char* from, handle to_dir, const char* to,
                             std::error_code& ec) noexcept {
    long r = retry_transient([&] {
        syscall_info info{.op = sysop::rename_noreplace, .dir = from_dir, .name = from, .dir2 = to_dir, .name2 = to};
        return through_hook(info, [](syscall_info& i) {
            return static_cast<long>(::renameat2(i.dir, i.name, i.dir2, i.name2, RENAME_NOREPLACE));
        });
    });
    if (r < 0) set_error(ec);
}
#else
/// Never called (has_rename_noreplace is false): answers ENOTSUP.
inline void rename_noreplace(handle from_dir, const char* from, handle to_dir, const char* to,
                             std::error_code& ec) noexcept {
    (void)from_dir;
    (void)from;
    (void)to_dir;
    (void)to;
    ec = std::make_error_code(std::errc::not_supported);
}
#endif

/// linkat(2) without following links: a second name for `from`; EEXIST if `to` exists.
inline void link(handle from_dir, const char* from, handle to_dir, const char* to, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::link, .dir = from_dir, .name = from, .dir2 = to_dir, .name2 = to};
    long r = through_hook(
        info, [](syscall_info& i) { return static_cast<long>(::linkat(i.dir, i.name, i.dir2, i.name2, 0)); });
    if (r < 0) set_error(ec);
}

/// unlinkat(2) of a file.
inline void unlink(handle dir, const char* name, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::unlink, .dir = dir, .name = name};
    long r = through_hook(info, [](syscall_info& i) { return static_cast<long>(::unlinkat(i.dir, i.name, 0)); });
    if (r < 0) set_error(ec);
}

/// close(2), never retried. EINTR is not an error: on Linux the descriptor is released
/// whatever close reports (close(2), "Dealing with error returns from close()").
/// A failure the hook injects releases the descriptor too: the real close(2) is made,
/// then the hook's error reported, as a real failure would be (see sysop::close).
inline void close(handle file, std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::close, .file = file};
    if (syscall_hook* hook = current_hook; hook != nullptr) [[unlikely]] {
        if (const int e = hook->before(info); e != 0) {
            ::close(file);
            if (e != EINTR) ec.assign(e, std::system_category());
            return;
        }
        const long r = ::close(info.file);
        const int saved = errno;
        hook->after(info, r < 0 ? saved : 0);
        if (r < 0 && saved != EINTR) ec.assign(saved, std::system_category());
        return;
    }
    if (::close(file) < 0 && errno != EINTR) set_error(ec);
}

/// True: files have an owner and a group (fchown, st_uid, st_gid).
inline constexpr bool has_owners = true;

/// The ids a file created by this process is given, as they were at exec time (the
/// auxiliary vector: asking costs no system call, where geteuid(2) and getegid(2) would
/// cost two on every replace). A target of other ids is given its owner at once; for
/// one of these ids the new file is looked at (fstat) before the fchown is skipped,
/// since a set-group-ID directory or a setegid(2) since exec gives it other ids.
/// Set-id targets are always checked against current_owner().
inline owner_ids process_owner() noexcept {
#if ATOMICWRITES_LINUX
    return {static_cast<unsigned>(::getauxval(AT_EUID)), static_cast<unsigned>(::getauxval(AT_EGID))};
#else
    static const owner_ids ids{static_cast<unsigned>(::geteuid()), static_cast<unsigned>(::getegid())};
    return ids;
#endif
}

/// The effective ids in force now (two system calls).
inline owner_ids current_owner() noexcept {
    const unsigned uid = ::geteuid();  // uid_t and gid_t: unsigned on the systems supported
    const unsigned gid = ::getegid();
    return {uid, gid};
}

/// The value (0, 1 or 2) of Linux's protection of sticky directories named `name`
/// under /proc/sys/fs ("protected_regular", "protected_symlinks"), read now, since an
/// administrator may change it at any time; `fallback` where it cannot be read (no
/// /proc: the distributions' default); 0 on other systems, whose kernels do not protect.
/// Asked only for another user's file or link in a sticky directory. Not through the
/// hook: it has no failure to report (the fallback is the answer).
inline int kernel_protection(const char* name, int fallback) noexcept {
#if ATOMICWRITES_LINUX
    char path[64] = "/proc/sys/fs/";
    if (std::strlen(name) >= sizeof path - std::strlen(path)) return fallback;
    std::strcat(path, name);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fallback;
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    ::close(fd);
    return n == 1 && c >= '0' && c <= '9' ? c - '0' : fallback;
#else
    (void)name;
    (void)fallback;
    return 0;
#endif
}

/// The process's umask, read without changing it: the "Umask:" line Linux (4.7 and
/// later) shows in /proc/self/status. umask(2) can only be read by setting it, and a
/// file another thread creates meanwhile would get the mask set: where there is no such
/// line (an older kernel, no /proc, another system) this answers not_supported instead.
/// Errors: those of open(2) and read(2) of the file, not_supported.
inline unsigned read_umask(std::error_code& ec) noexcept {
    syscall_info info{.op = sysop::read_umask, .name = "/proc/self/status"};
    unsigned mask = 0;
    const long r = through_hook(info, [&mask](syscall_info& i) -> long {
#if ATOMICWRITES_LINUX
        const int fd = ::open(i.name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        char text[4096];  // "Umask:" is the second line
        std::size_t got = 0;
        while (got < sizeof text - 1) {
            const ssize_t n = ::read(fd, text + got, sizeof text - 1 - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        const int error = errno;
        ::close(fd);
        text[got] = '\0';
        const char* line = std::strstr(text, "\nUmask:");
        if (line == nullptr) {
            errno = got == 0 && error != 0 ? error : ENOTSUP;
            return -1;
        }
        line += 7;
        while (*line == ' ' || *line == '\t') ++line;
        unsigned value = 0;
        for (; *line >= '0' && *line <= '7'; ++line) value = value * 8 + static_cast<unsigned>(*line - '0');
        mask = value & 0777u;
        return 0;
#else
        (void)i;
        errno = ENOTSUP;
        return -1;
#endif
    });
    if (r < 0) set_error(ec);
    return mask;
}

/// How many fork(2)s this process is away from the one that first asked (see
/// process_generation()); bumped in the child only, while it has a single thread.
inline std::uint64_t fork_count = 0;

inline void count_fork() noexcept { ++fork_count; }

/// A number that differs in every process a fork(2) makes from this one: a writer
/// copied into a child sees another number than the one it was made with. No system
/// call: a pthread_atfork(3) child handler, registered by the first call, counts the
/// forks. Where registering fails, the process id (getpid(2), a system call) stands in.
inline std::uint64_t process_generation() noexcept {
    static const bool counted = ::pthread_atfork(nullptr, nullptr, &count_fork) == 0;
    if (counted) [[likely]]
        return fork_count;
    return (std::uint64_t{1} << 63) | static_cast<std::uint64_t>(::getpid());
}

/// 64 bits from the system's random source, for seeding; falls back to a mix of the
/// address space layout and the clock if the source is unavailable.
inline std::uint64_t random_seed() noexcept {
    std::uint64_t seed = 0;
#if ATOMICWRITES_LINUX
    if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof seed)) return seed;
#endif
    seed = reinterpret_cast<std::uintptr_t>(&seed) ^ (static_cast<std::uint64_t>(::getpid()) << 32);
    return seed ^ static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_POSIX_FILE_HPP
