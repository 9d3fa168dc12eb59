// SPDX-License-Identifier: MIT
// The hand-written system-call sequences the library is measured against. No library
// code: these are what a careful programmer writes by hand, with nothing extra (no mode
// preservation, no random names, no symlink handling).
#ifndef ATOMICWRITES_BENCH_RAW_HPP
#define ATOMICWRITES_BENCH_RAW_HPP

#include <cerrno>
#include <cstddef>
#include <string>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace raw {

enum class file_sync { none, fdatasync, fsync };
enum class temp_kind { named, anonymous };
enum class publish { rename, renameat2_noreplace, link_unlink };

/// One hand-written sequence.
struct sequence {
    file_sync sync = file_sync::fsync;
    bool sync_directory = true;
    temp_kind temp = temp_kind::named;
    publish how = publish::rename;
    bool keep_directory = true;  // false: open and close the directory each time
    bool keep_mode = false;      // fstatat the target, create with its mode, fchmod exactly
    bool unique_name = false;    // a new random temporary name each time, not a fixed one

    bool operator==(const sequence&) const = default;

    /// The calls one write of `size` bytes makes, replacing a file or creating one.
    int calls(bool replacing = true, std::size_t size = 1) const {
        int n = 1 /* create */ + 1 /* close */;
        if (size > 0) ++n;  // one write: none is short on a local filesystem
        if (!keep_directory) n += 2;
        if (keep_mode) n += replacing ? 2 : 1;  // fstatat, and fchmod if there was a file
        if (sync != file_sync::none) ++n;
        if (sync_directory) ++n;
        if (temp == temp_kind::anonymous)
            n += how == publish::rename ? 2 : 1;  // link to a temp name + rename, or link in place
        else
            n += how == publish::link_unlink ? 2 : 1;
        return n;
    }

    /// What it does, in words.
    std::string describe() const {
        std::string s = temp == temp_kind::anonymous ? "O_TMPFILE" : "O_EXCL temp";
        s += sync == file_sync::fsync ? " + fsync" : sync == file_sync::fdatasync ? " + fdatasync" : "";
        if (temp == temp_kind::anonymous)
            s += how == publish::rename ? " + linkat + rename" : " + linkat in place";
        else
            s += how == publish::rename        ? " + rename"
                 : how == publish::link_unlink ? " + link + unlink"
                                               : " + renameat2 NOREPLACE";
        s += sync_directory ? " + fsync dir" : "";
        s += keep_mode ? " + fstatat/fchmod to keep the mode" : "";
        s += unique_name ? " + unique temp names" : "";
        s += keep_directory ? " (dir kept open)" : " (dir opened each time)";
        return s;
    }
};

/// The named baselines of the benchmark report.
inline sequence a() { return {}; }
inline sequence a_prime() { return {.keep_directory = false}; }
inline sequence b() { return {.sync = file_sync::fdatasync}; }
inline sequence c() { return {.temp = temp_kind::anonymous}; }
inline sequence d() { return {.sync = file_sync::none, .sync_directory = false}; }
inline sequence e() { return {.how = publish::renameat2_noreplace}; }
inline sequence f() { return {.how = publish::link_unlink}; }
inline sequence g() { return {.sync_directory = false}; }
/// (a') keeping the replaced file's mode, as a one-shot write by path does by default.
inline sequence a_prime_mode() { return {.keep_directory = false, .keep_mode = true}; }
/// (a) with a new random temporary name each time, as concurrent writers need.
inline sequence a_unique() { return {.unique_name = true}; }

/// Writes files in one directory with a sequence. Not thread-safe.
class writer {
public:
    writer(std::string dir, sequence s) : dir_(std::move(dir)), s_(s) {
        if (s_.keep_directory) kept_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    ~writer() {
        if (kept_ >= 0) ::close(kept_);
    }
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;

    const sequence& seq() const { return s_; }

    /// Writes `size` bytes to `name`. Returns 0 or the errno of the first failing call,
    /// after removing the temporary file.
    int write(const char* name, const char* data, std::size_t size) {
        char temp[32] = ".raw.tmp";
        if (s_.unique_name) {
            random_ = random_ * 6364136223846793005ull + 1442695040888963407ull;
            std::snprintf(temp, sizeof temp, ".raw.%08llx.tmp", static_cast<unsigned long long>(random_ >> 32));
        }
        const int dir = s_.keep_directory ? kept_ : ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) return s_.keep_directory ? EBADF : errno;
        const bool anonymous = s_.temp == temp_kind::anonymous;
        // Keeping the mode by hand: the old file's bits, set exactly after the umask.
        struct ::stat old {};
        const bool replacing = s_.keep_mode && ::fstatat(dir, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
        const mode_t mode = replacing ? old.st_mode & 0777 : 0666;
        const int fd = anonymous ? ::openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode)
                                 : ::openat(dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        int error = fd < 0 ? errno : 0;
        if (error == 0 && replacing && ::fchmod(fd, old.st_mode & 07777) != 0) error = errno;
        for (std::size_t done = 0; done < size && error == 0;) {
            const ssize_t n = ::write(fd, data + done, size - done);
            if (n < 0 && errno != EINTR) error = errno;
            if (n > 0) done += static_cast<std::size_t>(n);
        }
        if (error == 0 && s_.sync == file_sync::fsync && ::fsync(fd) != 0) error = errno;
        if (error == 0 && s_.sync == file_sync::fdatasync && ::fdatasync(fd) != 0) error = errno;
        if (anonymous) {
            if (error == 0) error = link_anonymous(fd, dir, s_.how == publish::rename ? temp : name);
            if (error == 0 && s_.how == publish::rename && ::renameat(dir, temp, dir, name) != 0) {
                error = errno;
                ::unlinkat(dir, temp, 0);
            }
            if (fd >= 0) ::close(fd);
        } else if (fd >= 0) {
            if (::close(fd) != 0 && error == 0) error = errno;
            if (error == 0) error = publish_named(dir, temp, name);
            if (error != 0) ::unlinkat(dir, temp, 0);
        }
        if (error == 0 && s_.sync_directory && ::fsync(dir) != 0) error = errno;
        if (!s_.keep_directory) ::close(dir);
        return error;
    }

private:
    static int link_anonymous(int fd, int dir, const char* name) {
        char proc[32];
        std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        return ::linkat(AT_FDCWD, proc, dir, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : errno;
    }

    int publish_named(int dir, const char* temp, const char* name) const {
        switch (s_.how) {
            case publish::rename:
                return ::renameat(dir, temp, dir, name) == 0 ? 0 : errno;
            case publish::renameat2_noreplace:
                return ::syscall(SYS_renameat2, dir, temp, dir, name, 1 /* RENAME_NOREPLACE */) == 0 ? 0 : errno;
            case publish::link_unlink:
                if (::linkat(dir, temp, dir, name, 0) != 0) return errno;
                return ::unlinkat(dir, temp, 0) == 0 ? 0 : errno;
        }
        return EINVAL;
    }

    std::string dir_;
    sequence s_;
    int kept_ = -1;
    unsigned long long random_ = 0x853c49e6748fea9bull;
};

}  // namespace raw

#endif  // ATOMICWRITES_BENCH_RAW_HPP
