// SPDX-License-Identifier: MIT
// Where the system refuses to set an owner or mode that the write only keeps (a user
// namespace with unmapped ids, a FUSE filesystem that denies chown and chmod), the write
// succeeds with a file never wider than the old one; a requested mode is still an error.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace test;

namespace {

/// Writes `text` to a /proc file of this process; false on failure.
bool write_proc(const char* path, const char* text) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const auto n = static_cast<ssize_t>(std::char_traits<char>::length(text));
    const bool ok = ::write(fd, text, static_cast<std::size_t>(n)) == n;
    ::close(fd);
    return ok;
}

/// Exit statuses of in_user_namespace().
constexpr int no_namespace = 77;  // no user namespace here: skip
constexpr int write_failed = 1;

/// Runs `fn` (returning an exit status) in a child in a new user namespace where only
/// root is mapped (to root): every other id is unmapped, as other host users' files
/// are in a rootless container. Returns the exit status, or -1.
template <class F>
int in_user_namespace(F&& fn) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (::unshare(CLONE_NEWUSER) != 0) ::_exit(no_namespace);
        if (!write_proc("/proc/self/setgroups", "deny") || !write_proc("/proc/self/uid_map", "0 0 1") ||
            !write_proc("/proc/self/gid_map", "0 0 1"))
            ::_exit(no_namespace);
        int code = 0;
        try {
            code = fn();
        } catch (...) {
            code = 60;
        }
        ::_exit(code);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/// A bindfs view of a directory for the object's lifetime (root, bindfs installed).
class bindfs_mount {
public:
    bindfs_mount(const fs::path& source, const fs::path& where, const std::string& options) : where_(where) {
        fs::create_directory(where_);
        if (std::system("command -v bindfs >/dev/null 2>&1") != 0) {
            why_ = "bindfs is not installed (scripts/install-deps installs it)";
            return;
        }
        const std::string cmd = "bindfs " + options + " '" + source.string() + "' '" + where_.string() + "' 2>&1";
        mounted_ = std::system(cmd.c_str()) == 0;
        if (!mounted_) why_ = "bindfs could not mount (no /dev/fuse?)";
    }
    ~bindfs_mount() {
        if (!mounted_) return;
        const std::string cmd =
            "fusermount -u '" + where_.string() + "' 2>/dev/null || umount -l '" + where_.string() + "' 2>/dev/null";
        (void)std::system(cmd.c_str());
    }
    bindfs_mount(const bindfs_mount&) = delete;
    bindfs_mount& operator=(const bindfs_mount&) = delete;
    bool mounted() const { return mounted_; }
    const std::string& why_not() const { return why_; }

private:
    fs::path where_;
    bool mounted_ = false;
    std::string why_;
};

struct ::stat stat_of(const fs::path& p) {
    struct ::stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

}  // namespace

TEST_CASE("in a user namespace, a file of an unmapped owner is replaced: EINVAL of fchown keeps no owner",
          "[refused][userns][root]") {
    if (!is_root()) {
        WARN("skipped: needs root (to give the old file to another user)");
        return;
    }
    temp_dir dir;
    const fs::path f = dir / "f";
    write_plain(f, "old");
    REQUIRE(::chown(f.c_str(), 1000, 1000) == 0);
    REQUIRE(::chmod(f.c_str(), 0640) == 0);

    const int code = in_user_namespace([&f] {
        // Inside, the old file belongs to the overflow ids (unmapped): fchown to them
        // answers EINVAL.
        std::error_code ec;
        aw::write_file(f, std::string("new"), {.overwrite = true}, ec);
        if (ec) {
            std::fprintf(stderr, "write_file: %s\n", ec.message().c_str());
            return write_failed;
        }
        return 0;
    });
    if (code == no_namespace) {
        WARN("skipped: no user namespaces here");
        return;
    }
    REQUIRE(code == 0);
    CHECK(read_file(f) == "new");
    const struct ::stat st = stat_of(f);
    CHECK((st.st_mode & 07777) == 0640);  // the mode is kept
    CHECK(st.st_uid == 0);                // the owner is not: the file is ours
    CHECK(st.st_gid == 0);
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("on FUSE that denies chown and chmod, a kept mode is no error and never wider", "[refused][fuse][root]") {
    if (!is_root()) {
        WARN("skipped: needs root (to mount bindfs)");
        return;
    }
    temp_dir base;
    fs::create_directory(base / "src");
    for (const char* options : {"--chmod-deny --chown-deny --xattr-none", "--chmod-deny --chown-deny"}) {
        INFO("bindfs " << options);
        bindfs_mount m(base / "src", base / "view", options);
        if (!m.mounted()) {
            WARN("skipped: " << m.why_not());
            return;
        }
        const fs::path f = base / "view" / "f";
        write_plain(base / "src" / "f", "old");
        REQUIRE(::chmod((base / "src" / "f").c_str(), 0640) == 0);
        REQUIRE(::chown((base / "src" / "f").c_str(), 1000, 1000) == 0);

        std::error_code ec;
        aw::write_file(f, std::string("new"), {.overwrite = true}, ec);
        CHECK_FALSE(ec);
        CHECK(read_file(f) == "new");
        // Created 0640 & 0700 & ~umask while the owner was to be another's: never wider.
        const struct ::stat st = stat_of(base / "src" / "f");
        CHECK((st.st_mode & 0077 & ~0640u) == 0);
        CHECK((st.st_mode & 07000) == 0);

        // A requested mode that cannot be set is an error, and changes nothing. (Where
        // the view passes ACLs through, the minimal ACL sets it: then it is exact.)
        const bool passes_xattrs = std::string_view(options).find("xattr-none") == std::string_view::npos;
        aw::write_file(f, std::string("newer"), {.overwrite = true, .mode = fs::perms(0600)}, ec);
        if (passes_xattrs && !ec) {
            CHECK((stat_of(base / "src" / "f").st_mode & 07777) == 0600);
            CHECK(read_file(f) == "newer");
        } else {
            CHECK(ec == std::errc::operation_not_permitted);
            CHECK(read_file(f) == "new");
        }
        CHECK(temp_dir::list(base / "src") == std::vector<std::string>{"f"});
        fs::remove(base / "src" / "f");
    }
}
