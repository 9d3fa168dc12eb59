// SPDX-License-Identifier: MIT
// Shared helpers of the test suite: fresh directories, file reading, the policy
// combinations, and hooks on the library's system-call seam. The suite runs on POSIX
// and on Windows; what differs between them is kept in this file (and marked), so that
// the tests themselves read the same on both.
#ifndef ATOMICWRITES_TESTS_SUPPORT_HPP
#define ATOMICWRITES_TESTS_SUPPORT_HPP

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include "support/policy_lists.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

#include <cerrno>
#include <cstdio>
#include <exception>

#if defined(__GNUG__)
#include <cxxabi.h>
#endif
#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace test {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// The UTF-8 form of a path (its bytes as they are on POSIX), for names in messages and
/// comparisons: path::string() may fail on Windows for names outside the code page.
inline std::string utf8(const fs::path& p) {
    const std::u8string s = p.u8string();
    return std::string(s.begin(), s.end());
}

/// A fresh directory under $TMPDIR (or /tmp; on Windows the user's temporary directory),
/// removed with everything in it afterwards.
class temp_dir {
public:
#if defined(_WIN32)
    temp_dir() : temp_dir(fs::temp_directory_path()) {}
    explicit temp_dir(const fs::path& parent) {
        for (int attempt = 0; attempt < 100; ++attempt) {
            LARGE_INTEGER counter{};
            ::QueryPerformanceCounter(&counter);
            const fs::path p = parent / ("atomicwrites-test." + std::to_string(::GetCurrentProcessId()) + "." +
                                         std::to_string(counter.QuadPart % 1000000007));
            if (::CreateDirectoryW(p.c_str(), nullptr)) {
                path_ = p;
                return;
            }
            if (::GetLastError() != ERROR_ALREADY_EXISTS) break;
        }
        throw std::runtime_error("cannot make a test directory in " + utf8(parent));
    }
    ~temp_dir() {
        std::error_code ec;
        // Read-only files (and directories) would stop the clean-up on Windows.
        for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            ::SetFileAttributesW(it->path().c_str(), FILE_ATTRIBUTE_NORMAL);
        fs::remove_all(path_, ec);
    }
#else
    temp_dir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern =
            std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/atomicwrites-test.XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    /// A fresh directory inside `parent` (to test on a particular filesystem).
    explicit temp_dir(const fs::path& parent) {
        std::string pattern = (parent / "atomicwrites-test.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        // Make sure a test that removed permissions does not stop the clean-up.
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
#endif
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path operator/(const fs::path& name) const { return path_ / name; }

    /// The names in the directory, sorted.
    std::vector<std::string> names() const { return list(path_); }

    static std::vector<std::string> list(const fs::path& dir) {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(utf8(e.path().filename()));
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    fs::path path_;
};

/// The whole content of a file.
inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + utf8(p));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Writes a file the ordinary, non-atomic way (to set up a target).
inline void write_plain(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + utf8(p));
}

#if !defined(_WIN32)
/// The permission bits (07777) of a path, not following a final symbolic link.
inline unsigned mode_of(const fs::path& p) {
    struct ::stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + p.string());
    return static_cast<unsigned>(st.st_mode) & 07777u;
}

/// Sets the umask for the lifetime of the object (tests only: the library never does).
class scoped_umask {
public:
    explicit scoped_umask(unsigned mask) : old_(::umask(static_cast<mode_t>(mask))) {}
    ~scoped_umask() { ::umask(old_); }
    scoped_umask(const scoped_umask&) = delete;
    scoped_umask& operator=(const scoped_umask&) = delete;

private:
    mode_t old_;
};
#endif  // !_WIN32

/// Changes the current directory for the lifetime of the object.
class scoped_cwd {
public:
    explicit scoped_cwd(const fs::path& p) : old_(fs::current_path()) { fs::current_path(p); }
    ~scoped_cwd() {
        std::error_code ec;
        fs::current_path(old_, ec);
    }
    scoped_cwd(const scoped_cwd&) = delete;
    scoped_cwd& operator=(const scoped_cwd&) = delete;

private:
    fs::path old_;
};

// --- the policy combinations --------------------------------------------------------

/// Runs one check of a typed suite with the name of the policy combination in every
/// failure. `kind` describes the writer type under test (each suite has its own kind
/// type, made by its kind_of<W>()); the check is compiled once, not once per type.
template <class Kind>
void run_check(const Kind& kind, void (*check)(const Kind&)) {
    INFO(kind.name);
    check(kind);
}

/// Whether writer W can honour overwrite = true / false.
template <class W>
inline constexpr bool can_replace = W::commit_type::can_replace;
template <class W>
inline constexpr bool can_keep = W::commit_type::can_keep;

// --- hooks on the seam ---------------------------------------------------------------

/// Records every operation made (and refused) on this thread while installed.
class recording_hook : public aw::syscall_hook {
public:
    struct call {
        aw::sysop op;
        int error;  // 0, or the errno it failed with
    };
    std::vector<call> calls;

    void after(const aw::syscall_info& info, int error) noexcept override { calls.push_back({info.op, error}); }

    std::size_t count(aw::sysop op) const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [op](const call& c) { return c.op == op; }));
    }
    std::vector<aw::sysop> ops() const {
        std::vector<aw::sysop> out;
        for (const auto& c : calls) out.push_back(c.op);
        return out;
    }
};

/// Fails the `nth` (0-based) call of operation `op` with `error`; every other call is
/// made. Counts how many calls of each operation were seen.
class fail_nth_hook : public aw::syscall_hook {
public:
    fail_nth_hook(aw::sysop op, int error, unsigned nth = 0) : op_(op), error_(error), nth_(nth) {}

    int before(aw::syscall_info& info) noexcept override {
        if (info.op != op_) return 0;
        if (seen_++ == nth_) {
            fired = true;
            return error_;
        }
        return 0;
    }
    bool fired = false;

private:
    aw::sysop op_;
    int error_;
    unsigned nth_;
    unsigned seen_ = 0;
};

// --- names, errors, files and descriptors -------------------------------------------

/// A readable name of a type, without the library's namespaces
/// ("basic_atomic_writer<sync::none, commit::rename, temp::mkstemp>"), for INFO().
template <class T>
std::string type_name() {
#if defined(__GNUG__)
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status),
                                             std::free);
    std::string name = status == 0 && d ? d.get() : typeid(T).name();
#else
    std::string name = typeid(T).name();
#endif
    for (std::string_view ns : {"atomicwrites::v1::", "atomicwrites::"}) {
        for (auto at = name.find(ns); at != name.npos; at = name.find(ns)) name.erase(at, ns.size());
    }
    return name;
}

/// What a call threw: the code, message and paths of a std::system_error (a
/// std::filesystem::filesystem_error is one). `threw` is false if the call returned.
/// Exceptions of other types propagate.
struct thrown_error {
    bool threw = false;
    std::error_code code;
    std::string what;
    fs::path path1;
    fs::path path2;
};

template <class F>
thrown_error catch_error(F&& fn) {
    thrown_error out;
    try {
        std::forward<F>(fn)();
    } catch (const fs::filesystem_error& e) {
        out = {true, e.code(), e.what(), e.path1(), e.path2()};
    } catch (const std::system_error& e) {
        out = {true, e.code(), e.what(), {}, {}};
    }
    return out;
}

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

/// Closes a handle the library would have closed (a refused close still releases it).
inline void release_handle(aw::native_handle_type h) { ::CloseHandle(h); }

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

/// Closes a descriptor the library would have closed (Linux releases it whatever close
/// reports).
inline void release_handle(int fd) { ::close(fd); }

/// The process umask, read from /proc/self/status (Linux 4.7+) so that reading it does
/// not change it; -1 where the line is missing.
inline int current_umask() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Umask:", 0) == 0) return static_cast<int>(std::stoul(line.substr(6), nullptr, 8));
    }
    return -1;
}
#endif

/// The contents most tests put in a target before and during a replacement.
inline const std::string old_content = "old content\n";
inline const std::string new_content = "new content\n";

/// The bytes of a string, as the span overloads take them.
inline std::vector<std::byte> as_bytes(std::string_view s) {
    std::vector<std::byte> out(s.size());
    std::transform(s.begin(), s.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
    return out;
}

/// `size` bytes of deterministic, NUL-containing binary content that differs with `seed`.
inline std::string pattern(std::size_t size, std::uint32_t seed = 1) {
    std::string out(size, '\0');
    std::uint32_t x = seed * 2654435761u + 12345u;
    for (auto& c : out) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return out;
}

/// Records what the library syncs on this thread (fsync, fdatasync, F_FULLFSYNC): the
/// inode of every directory and file synced, so a test can tell which ones were.
class sync_recording_hook : public aw::syscall_hook {
public:
    std::vector<std::uint64_t> dirs;
    std::vector<std::uint64_t> files;

    void after(const aw::syscall_info& info, int error) noexcept override {
        if (error != 0) return;
        if (info.op != aw::sysop::fsync && info.op != aw::sysop::fdatasync && info.op != aw::sysop::full_fsync) return;
        try {
            (is_directory_handle(info.file) ? dirs : files).push_back(file_id_of(info.file));
        } catch (...) {
        }
    }
    /// Whether the directory or file at `p` (its inode: a renamed file counts) was synced.
    bool synced(const fs::path& p) const {
        const std::uint64_t ino = inode_of(p);
        return std::find(dirs.begin(), dirs.end(), ino) != dirs.end() ||
               std::find(files.begin(), files.end(), ino) != files.end();
    }
};

// --- scripted faults ----------------------------------------------------------------

/// Records every operation of this thread, made or refused, and refuses the ones it is
/// told to: by position in the whole sequence, or by operation. A refused close(2)
/// still releases the descriptor (or handle), as Linux does whatever close reports, so
/// injecting a close error leaks nothing.
class scripted_hook : public aw::syscall_hook {
public:
    struct call {
        aw::sysop op;
        int error = 0;                                     ///< the errno injected, or the one the call reported
        bool injected = false;                             ///< refused by this hook: the call was not made
        aw::native_handle_type file = aw::invalid_handle;  ///< info.file
        aw::native_handle_type dir = aw::invalid_handle;   ///< info.dir
        aw::native_handle_type dir2 = aw::invalid_handle;  ///< info.dir2
        std::string name;                                  ///< info.name, if any (UTF-8)
        std::string name2;                                 ///< info.name2, if any (UTF-8)
        std::size_t size = 0;                              ///< info.size as the call was made (after any shortening)
    };
    std::vector<call> calls;

    /// Fails the `index`-th operation (0-based, counting every operation) with `error`.
    scripted_hook& fail_call(std::size_t index, int error) {
        rules_.push_back({rule::by_index, index, aw::sysop::close, error});
        return *this;
    }
    /// Fails the `nth` operation `op` (0-based, counting only `op`) with `error`.
    scripted_hook& fail_op(aw::sysop op, int error, std::size_t nth = 0) {
        rules_.push_back({rule::by_op, nth, op, error});
        return *this;
    }
    /// Fails every operation `op` with `error`.
    scripted_hook& fail_every(aw::sysop op, int error) {
        rules_.push_back({rule::every, 0, op, error});
        return *this;
    }
    /// Makes every write transfer at most `bytes` bytes (short writes).
    scripted_hook& limit_writes(std::size_t bytes) {
        max_write_ = bytes;
        return *this;
    }

    std::size_t count(aw::sysop op) const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [op](const call& c) { return c.op == op; }));
    }
    std::size_t injected() const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [](const call& c) { return c.injected; }));
    }
    std::vector<aw::sysop> ops() const {
        std::vector<aw::sysop> out;
        for (const auto& c : calls) out.push_back(c.op);
        return out;
    }
    /// The operations, by name, separated by spaces (for INFO()).
    std::string trace() const {
        std::string out;
        for (const auto& c : calls) {
            if (!out.empty()) out += ' ';
            out += aw::to_string(c.op);
            if (c.error != 0) {
                out += '!';
                out += std::to_string(c.error);
            }
        }
        return out;
    }

    int before(aw::syscall_info& info) noexcept override {
        const std::size_t index = calls.size();
        const std::size_t nth = seen_[static_cast<unsigned>(info.op)]++;
        int error = 0;
        for (const rule& r : rules_) {
            const bool hit =
                r.kind == rule::by_index ? r.n == index : r.op == info.op && (r.kind == rule::every || r.n == nth);
            if (hit) {
                error = r.error;
                break;
            }
        }
        if (info.op == aw::sysop::write && max_write_ != 0 && info.size > max_write_) info.size = max_write_;
        calls.push_back({info.op, error, error != 0, info.file, info.dir, info.dir2,
                         info.name != nullptr ? utf8(info.name) : "", info.name2 != nullptr ? utf8(info.name2) : "",
                         info.size});
        if (error != 0 && info.op == aw::sysop::close && info.file != aw::invalid_handle) release_handle(info.file);
        return error;
    }
    void after(const aw::syscall_info& info, int error) noexcept override {
        (void)info;
        calls.back().error = error;
    }

private:
    struct rule {
        enum kind_t { by_index, by_op, every } kind;
        std::size_t n;
        aw::sysop op;
        int error;
    };
    std::vector<rule> rules_;
    std::size_t seen_[aw::sysop_count] = {};
    std::size_t max_write_ = 0;
};

}  // namespace test

namespace atomicwrites {
inline namespace v1 {
/// Prints an operation by name in test output (found by argument-dependent lookup).
inline std::ostream& operator<<(std::ostream& out, sysop op) { return out << to_string(op); }
}  // namespace v1
}  // namespace atomicwrites

namespace test {

#if defined(_WIN32)
/// The number of handles open in this process (to find leaks).
inline std::size_t open_descriptor_count() {
    DWORD n = 0;
    if (!::GetProcessHandleCount(::GetCurrentProcess(), &n)) throw std::runtime_error("GetProcessHandleCount failed");
    return n;
}

/// Windows has no root: tests that need one (mounts, other users' files) skip.
inline bool is_root() { return false; }
#else
/// The number of descriptors open in this process (to find leaks).
inline std::size_t open_descriptor_count() {
    std::size_t n = 0;
    for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it) ++n;
    return n;
}

/// Whether the process runs as root (some tests need to mount or change ids).
inline bool is_root() { return ::geteuid() == 0; }
#endif

/// Error numbers the tests inject and expect, in the platform's own numbering (errno on
/// POSIX, GetLastError() values on Windows), named for what they mean.
namespace err {
#if defined(_WIN32)
inline constexpr int io = ERROR_IO_DEVICE;
inline constexpr int no_space = ERROR_DISK_FULL;
inline constexpr int read_only = ERROR_WRITE_PROTECT;
#else
inline constexpr int io = EIO;
inline constexpr int no_space = ENOSPC;
inline constexpr int read_only = EROFS;
#endif
}  // namespace err

/// Whether symbolic links can be made in `dir` by this process: Windows gives the right
/// to administrators and in developer mode only, and Wine's CreateSymbolicLinkW makes
/// none while reporting success; the link is checked, not the answer.
inline bool can_make_symlinks(const fs::path& dir) {
    const fs::path probe = dir / "symlink-probe";
    std::error_code ec;
    fs::create_symlink("symlink-probe-target", probe, ec);
    const bool made = !ec && fs::is_symlink(fs::symlink_status(probe, ec));
    fs::remove(probe, ec);
    return made;
}

/// 0 if writing `target` (default writer) fails before publication with `expected`, at
/// a step whose name contains `step`, in the error_code and the throwing form, the
/// message and path1() naming the target; else the number of the first check that
/// failed. No assertions: usable in a child process.
inline int failure_check(const fs::path& target, const aw::write_options& options, std::errc expected,
                         std::string_view step) {
    std::error_code ec;
    if (aw::write_file(target, new_content, options, ec) != aw::commit_state::unchanged) return 1;
    if (ec != expected || ec.category() != std::system_category()) return 2;
    try {
        aw::write_file(target, new_content, options);
        return 3;
    } catch (const aw::durability_error&) {
        return 4;
    } catch (const fs::filesystem_error& e) {
        const std::string what = e.what();
        if (e.code() != expected) return 5;
        if (what.find(step) == std::string::npos) return 6;
        if (what.find(target.string()) == std::string::npos || e.path1() != target) return 7;
    }
    return 0;
}

#if !defined(_WIN32)
/// Exit statuses of as_nobody() that are not the check's own.
inline constexpr int nobody_threw = 60;        ///< the check threw
inline constexpr int nobody_no_ids = 70;       ///< the ids could not be dropped
inline constexpr int nobody_unreachable = 77;  ///< `reach` is out of nobody's reach: skip

/// Runs `check` (which returns an exit status, 0 for success) in a child process with
/// the ids of nobody (65534) and no supplementary groups, once access(2) says `reach`
/// allows `access_mode`; returns the child's exit status, or -1 if it could not be run.
/// Root only.
template <class F>
int as_nobody(const fs::path& reach, int access_mode, F&& check) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(nobody_no_ids);
        if (::access(reach.c_str(), access_mode) != 0) ::_exit(nobody_unreachable);
        int code = 0;
        try {
            code = check();
        } catch (...) {
            code = nobody_threw;
        }
        ::_exit(code);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}
#endif  // !_WIN32

// --- long runs, fast directories and figures ---------------------------------------------

/// Whether the long variants were asked for (ATOMICWRITES_LONG_TESTS=1, set by
/// scripts/test-long): more kills, more racing operations, longer time limits.
inline bool long_run() {
    const char* v = std::getenv("ATOMICWRITES_LONG_TESTS");
    return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

/// Whether the tests run under ThreadSanitizer, which makes every operation 5 to 15
/// times slower.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool thread_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool thread_sanitizer = true;
#else
inline constexpr bool thread_sanitizer = false;
#endif
#else
inline constexpr bool thread_sanitizer = false;
#endif

/// `normal` in the ordinary suite, `long_value` in the long variant. Under
/// ThreadSanitizer the ordinary count is quartered: the races it looks for show within
/// a few hundred operations, and its run stays within the CI budget.
template <class T>
T scaled(T normal, T long_value) {
    if (long_run()) return long_value;
    return thread_sanitizer && normal >= T(4) ? normal / 4 : normal;
}

#if !defined(_WIN32)
/// A directory on a tmpfs (/dev/shm) where there is one, else under $TMPDIR: for tests
/// whose syscalls are scripted through the seam and that run thousands of writes, so
/// that a disk's fsync does not set their pace. Still a real filesystem.
inline fs::path fast_base() {
    struct ::stat st {};
    if (::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && ::access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    const char* base = std::getenv("TMPDIR");
    return base != nullptr && *base != '\0' ? base : "/tmp";
}
#else
/// Where test::temp_dir makes its directories by default: Windows has no tmpfs to prefer.
inline fs::path fast_base() { return fs::temp_directory_path(); }
#endif  // !_WIN32

/// Prints one measured figure of a suite ("figure: <text>") on standard output, where
/// the test log keeps it: counts that the suites' summaries report.
inline void report_figure(const std::string& text) {
    std::printf("figure: %s\n", text.c_str());
    std::fflush(stdout);
}

// --- versions that carry their own checksum ----------------------------------------------

/// FNV-1a, to tell a complete version from a torn one.
inline std::uint64_t checksum(std::string_view s) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

/// One version of a file: a header line with the payload's length and checksum, then
/// the payload (1 byte to `max_size` bytes, so a torn file would show).
inline std::string version(int writer, int n, std::size_t max_size = 96 * 1024) {
    const std::size_t size =
        1 + (static_cast<std::size_t>(n) * 7919u + static_cast<std::size_t>(writer) * 104729u) % max_size;
    const std::string payload = pattern(size, static_cast<std::uint32_t>(writer * 100000 + n));
    return "v " + std::to_string(payload.size()) + " " + std::to_string(checksum(payload)) + "\n" + payload;
}

/// Whether `s` is one complete version.
inline bool is_complete(const std::string& s) {
    const std::size_t eol = s.find('\n');
    if (s.rfind("v ", 0) != 0 || eol == std::string::npos) return false;
    const std::size_t space = s.find(' ', 2);
    if (space == std::string::npos || space > eol) return false;
    try {
        const std::size_t size = std::stoull(s.substr(2, space - 2));
        const std::uint64_t sum = std::stoull(s.substr(space + 1, eol - space - 1));
        const std::string_view payload = std::string_view(s).substr(eol + 1);
        return payload.size() == size && checksum(payload) == sum;
    } catch (const std::exception&) {  // not numbers: a torn header
        return false;
    }
}

#if !defined(_WIN32)
/// Reads a whole file with plain system calls (no exceptions, usable in a child process
/// or a racing thread); false if it cannot be opened.
inline bool read_whole(const fs::path& p, std::string& out) {
    out.clear();
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}
#else
/// Reads a whole file as a well-behaved Windows reader does: sharing reading, writing
/// and deletion, so that a writer may replace the file while it is open (with POSIX
/// rename semantics; without them the writer's rename waits for the handle to close).
/// False if it cannot be opened; `error` then holds GetLastError().
inline bool read_whole(const fs::path& p, std::string& out, unsigned long* error = nullptr) {
    out.clear();
    HANDLE h = ::CreateFileW(p.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        if (error != nullptr) *error = ::GetLastError();
        return false;
    }
    char buf[16384];
    DWORD n = 0;
    while (::ReadFile(h, buf, sizeof buf, &n, nullptr) != 0 && n > 0) out.append(buf, n);
    ::CloseHandle(h);
    return true;
}
#endif  // !_WIN32

// --- real filesystems --------------------------------------------------------------------

#if !defined(_WIN32)
/// Mounts a small tmpfs on a new directory for the object's lifetime (root only).
class tmpfs_mount {
public:
    /// Mounts a tmpfs of `size` (mount(8) syntax: "1m", "64k") at `where` (created), if
    /// the process is root.
    explicit tmpfs_mount(const fs::path& where, const std::string& size = "1m") : where_(where), size_(size) {
        fs::create_directory(where_);
        if (!is_root()) return;
        const std::string options = "size=" + size_ + ",mode=0755";
        mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
        if (!mounted_) error_ = errno;
    }
    ~tmpfs_mount() {
        if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;

    bool mounted() const { return mounted_; }
    const fs::path& path() const { return where_; }
    /// Why there is no mount, for the message of a skipped test.
    std::string why_not() const {
        if (error_ == 0) return "mounting a tmpfs needs root";
        return "cannot mount a tmpfs here: " + std::error_code(error_, std::system_category()).message();
    }
    bool remount_read_only() { return remount(MS_RDONLY); }
    bool remount_read_write() { return remount(0); }

private:
    bool remount(unsigned long flags) {
        const std::string options = "size=" + size_;
        return ::mount("tmpfs", where_.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV | flags, options.c_str()) ==
               0;
    }
    fs::path where_;
    std::string size_;
    bool mounted_ = false;
    int error_ = 0;
};
#endif  // !_WIN32

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_HPP
