// SPDX-License-Identifier: MIT
// Directories and files of the tests: fresh directories, reading and writing files the
// plain way, the umask and the current directory.
#ifndef ATOMICWRITES_TESTS_SUPPORT_FS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_FS_HPP

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace test {

namespace fs = std::filesystem;

/// The UTF-8 form of a path (its bytes as they are on POSIX), for names in messages and
/// comparisons: path::string() may fail on Windows for names outside the code page.
inline std::string utf8(const fs::path& p) {
    const std::u8string s = p.u8string();
    return std::string(s.begin(), s.end());
}

#if !defined(_WIN32)
/// Where every test works: $ATOMICWRITES_TEST_DIR if set (to run the whole suite on
/// another filesystem: an overlay, a FUSE mount, a loop image), else $TMPDIR, else /tmp.
/// A relative value is taken relative to the directory the first test started in.
inline fs::path base_dir() {
    static const fs::path start = fs::current_path();
    for (const char* name : {"ATOMICWRITES_TEST_DIR", "TMPDIR"}) {
        const char* v = std::getenv(name);
        if (v != nullptr && *v != '\0') return start / v;  // an absolute v replaces start
    }
    return fs::path("/tmp");
}

/// Whether ATOMICWRITES_TEST_DIR chose the filesystem the tests run on.
inline bool test_dir_chosen() {
    const char* v = std::getenv("ATOMICWRITES_TEST_DIR");
    return v != nullptr && *v != '\0';
}
#else
/// The user's temporary directory, or $ATOMICWRITES_TEST_DIR if set.
inline fs::path base_dir() {
    const char* v = std::getenv("ATOMICWRITES_TEST_DIR");
    return v != nullptr && *v != '\0' ? fs::absolute(v) : fs::temp_directory_path();
}
#endif

/// A fresh directory under base_dir() ($ATOMICWRITES_TEST_DIR, else $TMPDIR or /tmp; on
/// Windows the user's temporary directory), removed with everything in it afterwards.
class temp_dir {
public:
#if defined(_WIN32)
    temp_dir() : temp_dir(base_dir()) {}
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
    temp_dir() : temp_dir(base_dir()) {}
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

/// The owner, group and permission bits (07777) of a path.
struct ownership {
    unsigned uid;
    unsigned gid;
    unsigned mode;
};

/// The ownership of a path, not following a final symbolic link.
inline ownership ownership_of(const fs::path& p) {
    struct ::stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + p.string());
    return {st.st_uid, st.st_gid, static_cast<unsigned>(st.st_mode) & 07777u};
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

#if !defined(_WIN32)
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
#endif  // !_WIN32

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

#if !defined(_WIN32)
/// A directory on a tmpfs (/dev/shm) where there is one, else base_dir(): for tests
/// whose syscalls are scripted through the seam and that run thousands of writes, so
/// that a disk's fsync does not set their pace. Still a real filesystem.
/// $ATOMICWRITES_TEST_DIR, when set, wins: the suite then runs on that filesystem only.
inline fs::path fast_base() {
    if (test_dir_chosen()) return base_dir();
    struct ::stat st {};
    if (::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && ::access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    return base_dir();
}
#else
/// Where test::temp_dir makes its directories by default: Windows has no tmpfs to prefer.
inline fs::path fast_base() { return base_dir(); }
#endif  // !_WIN32

#if !defined(_WIN32)
/// What the filesystem of base_dir() can do, probed once with raw system calls (a FUSE
/// passthrough has no O_TMPFILE; FAT and fuse-zip have no hard links; exFAT ignores
/// modes), so that tests that need a feature skip with the reason where it is missing.
struct filesystem_features {
    bool anonymous_files = false;   ///< open(2) with O_TMPFILE
    bool rename_noreplace = false;  ///< renameat2(2) with RENAME_NOREPLACE
    bool hard_links = false;        ///< linkat(2)
    bool modes = false;             ///< fchmod(2) sets the bits exactly
    bool symlinks = false;          ///< symlink(2)
    bool rename_exchange = false;   ///< renameat2(2) with RENAME_EXCHANGE
};

inline const filesystem_features& features() {
    static const filesystem_features f = [] {
        filesystem_features out;
        std::string pattern = (base_dir() / "atomicwrites-probe.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) return out;
        const std::string d = pattern;
        const int dir = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#if defined(O_TMPFILE)
        const int anon = ::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        out.anonymous_files = anon >= 0;
        if (anon >= 0) ::close(anon);
#endif
        const int f = ::openat(dir, "a", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (f >= 0) {
            out.modes = ::fchmod(f, 0640) == 0;
            struct ::stat st {};
            out.modes = out.modes && ::fstat(f, &st) == 0 && (st.st_mode & 07777) == 0640;
            ::close(f);
        }
        out.hard_links = ::linkat(dir, "a", dir, "b", 0) == 0;
#if defined(RENAME_NOREPLACE)
        out.rename_noreplace = ::renameat2(dir, "a", dir, "c", RENAME_NOREPLACE) == 0;
#endif
        out.symlinks = ::symlinkat("a", dir, "l") == 0;
#if defined(RENAME_EXCHANGE)
        for (const char* n : {"x", "y"}) {
            const int made = ::openat(dir, n, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
            if (made >= 0) ::close(made);
        }
        out.rename_exchange = ::renameat2(dir, "x", dir, "y", RENAME_EXCHANGE) == 0;
#endif
        for (const char* n : {"a", "b", "c", "l", "x", "y"}) ::unlinkat(dir, n, 0);
        ::close(dir);
        ::rmdir(d.c_str());
        return out;
    }();
    return f;
}

/// Why a test that needs the features asked for cannot run on this filesystem, or
/// nullptr if it can.
inline const char* missing_feature(bool anonymous_files, bool hard_links = false, bool modes = false,
                                   bool symlinks = false) {
    const filesystem_features& f = features();
    if (anonymous_files && !f.anonymous_files) return "the test directory's filesystem has no O_TMPFILE";
    if (hard_links && !f.hard_links) return "the test directory's filesystem has no hard links";
    if (modes && !f.modes) return "the test directory's filesystem does not keep modes";
    if (symlinks && !f.symlinks) return "the test directory's filesystem has no symbolic links";
    return nullptr;
}

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

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_FS_HPP
