// SPDX-License-Identifier: MIT
// The library on NFS, where the test directory is on NFS (scripts/test-nfs runs it in a
// guest on v4.2 and v3; elsewhere it skips): the sweep removes stale temporary files and
// never a fresh one; two clients sweeping one directory remove each leftover once,
// without an error; two clients replacing one file end with one complete version, and
// every commit that failed said so; a temporary file a process of this client holds open
// is kept by the sweep. The second client is the same directory through a second mount
// with its own caches (nosharecache), named by ATOMICWRITES_NFS_PEER_DIR (the base
// directory as ATOMICWRITES_TEST_DIR is, through that mount). On an export with
// root_squash (ATOMICWRITES_NFS_SQUASH_DIR, a directory there that anyone may write),
// root's replacement of a user's file does what docs/nfs.md says.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/stale_temps.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using namespace std::chrono_literals;

/// Whether `dir` is on NFS.
bool on_nfs(const fs::path& dir) {
    struct ::statfs st {};
    return ::statfs(dir.c_str(), &st) == 0 && st.f_type == 0x6969;
}

/// The same directory as `dir` through the second client's mount, or empty.
fs::path through_peer(const test::temp_dir& dir) {
    const char* peer = std::getenv("ATOMICWRITES_NFS_PEER_DIR");
    if (peer == nullptr || *peer == '\0') return {};
    const fs::path p = fs::path(peer) / dir.path().filename();
    std::error_code ec;
    return fs::is_directory(p, ec) ? p : fs::path();
}

/// Leaves `n` closed temporary files of `target` named as the library names them.
void leave_temps(const test::temp_dir& dir, const std::string& target, int n) {
    for (int i = 0; i < n; ++i) {
        std::string random = "AAAAAAAA";
        random[0] = static_cast<char>('A' + i % 26);
        random[1] = static_cast<char>('a' + i / 26 % 26);
        random[2] = static_cast<char>('0' + i / 676 % 10);
        test::write_plain(dir / ("." + target + "." + random + ".tmp"), "partial");
    }
}

/// Reads the whole file `p` into `out`; false if opening or reading it fails (on NFS a
/// reader on another client may get ENOENT or ESTALE while the name is replaced).
bool read_or_fail(const fs::path& p, std::string& out) {
    out.clear();
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[16384];
    bool ok = true;
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = false;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return ok;
}

/// Runs `fn` (returning an exit status, 0 for success) in a child process with the user
/// and group ids `id`, and returns its exit status.
template <class F>
int as_user(unsigned id, F&& fn) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(id) != 0 || ::setuid(id) != 0) ::_exit(70);
        int code = 71;
        try {
            code = fn();
        } catch (...) {
        }
        ::_exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 72;
}

/// The type of the filesystem mounted where `p` is ("nfs4", "nfs", ...): the longest
/// mount point in /proc/self/mounts that holds it.
std::string mount_type(const fs::path& p) {
    std::ifstream mounts("/proc/self/mounts");
    std::string device, point, type, rest;
    std::string found;
    std::size_t longest = 0;
    const std::string where = p.string() + "/";
    while (mounts >> device >> point >> type && std::getline(mounts, rest)) {
        const std::string prefix = point == "/" ? point : point + "/";
        if (where.rfind(prefix, 0) == 0 && prefix.size() >= longest) {
            longest = prefix.size();
            found = type;
        }
    }
    return found;
}

/// The names in `p`, without the NFS client's own ".nfs..." files (a file removed while
/// still open lingers under such a name until its last close).
std::vector<std::string> names_in(const fs::path& p) {
    std::vector<std::string> out;
    for (const auto& n : test::temp_dir::list(p))
        if (n.rfind(".nfs", 0) != 0) out.push_back(n);
    return out;
}

}  // namespace

TEST_CASE("on NFS the sweep removes stale temporary files and never a fresh one", "[nfs][stale_temps]") {
    test::temp_dir dir;
    if (!on_nfs(dir.path())) {
        WARN("skipped: the test directory is not on NFS (scripts/test-nfs runs this test there)");
        return;
    }
    leave_temps(dir, "data", 3);
    std::this_thread::sleep_for(2200ms);
    // A live writer: its file is younger than older_than, and it commits afterwards.
    aw::atomic_writer live(dir / "data", {.overwrite = true});
    live.write(test::new_content);
    live.flush();
    const std::string live_name = live.temp_path().filename().string();
    std::error_code ec;
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 2s}, ec) == 3);
    CHECK_FALSE(ec);
    CHECK(dir.names() == std::vector<std::string>{live_name});
    live.commit();
    CHECK(test::read_file(dir / "data") == test::new_content);
    CHECK(dir.names() == std::vector<std::string>{"data"});
}

TEST_CASE("two NFS clients sweeping one directory remove each leftover once", "[nfs][stale_temps]") {
    test::temp_dir dir;
    const fs::path peer = through_peer(dir);
    if (!on_nfs(dir.path()) || peer.empty()) {
        WARN("skipped: needs the test directory on NFS and ATOMICWRITES_NFS_PEER_DIR (scripts/test-nfs)");
        return;
    }
    constexpr int leftovers = 150;
    leave_temps(dir, "f", leftovers);
    // Both clients know every name (their caches hold them) before the sweeps.
    CHECK(test::temp_dir::list(peer).size() == leftovers);
    CHECK(dir.names().size() == leftovers);
    std::this_thread::sleep_for(1500ms);
    std::atomic<std::size_t> removed{0};
    std::error_code ec[2];
    std::thread a([&] { removed += aw::remove_stale_temps(dir.path(), {.older_than = 1s}, ec[0]); });
    std::thread b([&] { removed += aw::remove_stale_temps(peer, {.older_than = 1s}, ec[1]); });
    a.join();
    b.join();
    INFO("errors: " << ec[0].message() << " / " << ec[1].message());
    CHECK_FALSE(ec[0]);
    CHECK_FALSE(ec[1]);
    CHECK(removed == leftovers);
    CHECK(dir.names().empty());
}

TEST_CASE("two NFS clients replacing one file end with one complete version", "[nfs][concurrency]") {
    test::temp_dir dir;
    const fs::path peer = through_peer(dir);
    if (!on_nfs(dir.path()) || peer.empty()) {
        WARN("skipped: needs the test directory on NFS and ATOMICWRITES_NFS_PEER_DIR (scripts/test-nfs)");
        return;
    }
    test::write_plain(dir / "data", test::version(9, 0, 4096));
    const fs::path paths[2] = {dir / "data", peer / "data"};
    std::atomic<bool> stop{false};
    std::atomic<int> commits{0}, failures{0}, unexplained{0}, torn{0}, reads{0}, refused{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            for (int n = 1; !stop; ++n) {
                std::error_code ec;
                aw::write_file(paths[w], test::version(w, n, 32 * 1024), {.overwrite = true}, ec);
                if (!ec) {
                    ++commits;
                    continue;
                }
                ++failures;
                // What NFS answers in a race, reported (after the retries): nothing else.
                if (ec.value() != ETXTBSY && ec.value() != ESTALE && ec.value() != ENOENT) ++unexplained;
            }
        });
    }
    for (int r = 0; r < 2; ++r) {
        // A reader on each client (one holds the file open in turn, as readers do).
        threads.emplace_back([&, r] {
            while (!stop) {
                std::string s;
                if (!read_or_fail(paths[r], s)) {
                    ++refused;  // ENOENT, ESTALE: another client's view, for a moment
                    continue;
                }
                ++reads;
                if (!test::is_complete(s)) ++torn;
            }
        });
    }
    std::this_thread::sleep_for(4s);
    stop = true;
    for (auto& t : threads) t.join();
    INFO("commits " << commits << ", failures " << failures << ", reads " << reads << ", refused " << refused);
    test::report_figure("nfs: two clients, " + std::to_string(commits) + " commits, " + std::to_string(failures) +
                        " reported failures, " + std::to_string(reads) + " complete reads, " + std::to_string(refused) +
                        " reads refused (ENOENT, ESTALE)");
    CHECK(commits > 0);
    CHECK(unexplained == 0);
    CHECK(torn == 0);
    CHECK(test::is_complete(test::read_file(dir / "data")));
    CHECK(test::is_complete(test::read_file(peer / "data")));
    // No temporary file outlives its writer (silly-renamed ".nfs" files are the client's).
    for (const auto& name : dir.names()) {
        INFO(name);
        CHECK((name == "data" || name.rfind(".nfs", 0) == 0));
    }
}

// --- On any filesystem, through the seam: what NFS answers for a moment is retried.

TEST_CASE("a transient ETXTBSY or ESTALE on the rename into place is retried", "[nfs][faults]") {
    using rename_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::mkstemp>;
    test::temp_dir dir;
    test::write_plain(dir / "data", test::old_content);
    for (int error : {ETXTBSY, ESTALE}) {
        INFO("error " << error);
        SECTION("once: the commit succeeds") {
            test::scripted_hook hook;
            hook.fail_op(aw::sysop::rename, error);
            aw::scoped_syscall_hook scope(hook);
            rename_writer w(dir / "data", {.overwrite = true});
            w.write(test::new_content);
            w.commit();
            CHECK(hook.count(aw::sysop::rename) == 2);
            CHECK(test::read_file(dir / "data") == test::new_content);
            CHECK(dir.names() == std::vector<std::string>{"data"});
        }
        SECTION("always: reported after a bounded number of attempts, naming NFS") {
            test::scripted_hook hook;
            hook.fail_every(aw::sysop::rename, error);
            aw::scoped_syscall_hook scope(hook);
            const auto started = std::chrono::steady_clock::now();
            const test::thrown_error e = test::catch_error([&] {
                rename_writer w(dir / "data", {.overwrite = true});
                w.write(test::new_content);
                w.commit();
            });
            const auto took = std::chrono::steady_clock::now() - started;
            CHECK(e.threw);
            CHECK(e.code == std::error_code(error, std::system_category()));
            CHECK(test::contains(e.what, "rename into place"));
            CHECK(test::contains(e.what, "NFS"));
            CHECK(hook.count(aw::sysop::rename) == 6);
            CHECK(took < 2s);
            CHECK(test::read_file(dir / "data") == test::old_content);
            CHECK(dir.names() == std::vector<std::string>{"data"});
        }
    }
}

TEST_CASE("a transient ESTALE on a lookup is retried, a lasting one reported", "[nfs][faults]") {
    test::temp_dir dir;
    test::write_plain(dir / "data", test::old_content);
    SECTION("once") {
        test::scripted_hook hook;
        hook.fail_op(aw::sysop::stat, ESTALE);
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "data", test::new_content, {.overwrite = true});
        CHECK(test::read_file(dir / "data") == test::new_content);
    }
    SECTION("always") {
        test::scripted_hook hook;
        hook.fail_every(aw::sysop::stat, ESTALE);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        CHECK(aw::write_file(dir / "data", test::new_content, {.overwrite = true}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::error_code(ESTALE, std::system_category()));
        CHECK(test::read_file(dir / "data") == test::old_content);
        CHECK(dir.names() == std::vector<std::string>{"data"});
    }
}

TEST_CASE("on NFS a temporary file a process of this client holds open is kept", "[nfs][stale_temps][processes]") {
    test::temp_dir dir;
    if (!on_nfs(dir.path())) {
        WARN("skipped: the test directory is not on NFS (scripts/test-nfs runs this test there)");
        return;
    }
    leave_temps(dir, "held", 1);
    leave_temps(dir, "free", 1);
    const std::string held = dir.names().at(1);  // ".free..." sorts first
    const std::string free = dir.names().at(0);
    REQUIRE(held.rfind(".held.", 0) == 0);
    // A writer of another program, idle longer than older_than, with the file open.
    int go[2];
    int ready[2];
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(ready) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(go[1]);
        const int fd = ::open((dir / held).c_str(), O_WRONLY | O_CLOEXEC);
        char c = fd >= 0 ? 'o' : 'e';
        if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) < 0) ::_exit(1);
        ::_exit(0);
    }
    ::close(go[0]);
    ::close(ready[1]);
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    REQUIRE(c == 'o');
    std::this_thread::sleep_for(2200ms);
    aw::sweep_report report;
    std::error_code ec;
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 2s}, report, ec) == 1);
    CHECK_FALSE(ec);
    CHECK(report.removed == std::vector<fs::path>{free});
    CHECK(report.in_use == std::vector<fs::path>{held});
    CHECK(report.undecided.empty());
    // Nothing was removed under the holder: no ".nfs..." file took its place.
    CHECK(dir.names() == std::vector<std::string>{held});
    ::close(go[1]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    ::close(ready[0]);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 2s}, report, ec) == 1);
    CHECK(report.removed == std::vector<fs::path>{held});
    CHECK(names_in(dir.path()).empty());
}

TEST_CASE("on a root_squash export root's replacement of a user's file belongs to nobody", "[nfs][root_squash]") {
    const char* squash = std::getenv("ATOMICWRITES_NFS_SQUASH_DIR");
    if (squash == nullptr || *squash == '\0' || !test::is_root()) {
        WARN("skipped: needs root and ATOMICWRITES_NFS_SQUASH_DIR, a root_squash export (scripts/test-nfs)");
        return;
    }
    // Root is nobody (65534) there. The user 1000 is not squashed: it owns two
    // directories, one open to all, one sticky, and the file in each that root replaces.
    const std::string run = std::to_string(::getpid());
    const fs::path open_dir = fs::path(squash) / ("open." + run);
    const fs::path sticky_dir = fs::path(squash) / ("sticky." + run);
    for (const auto& [d, mode] : {std::pair{open_dir, 0777}, std::pair{sticky_dir, 01777}}) {
        REQUIRE(as_user(1000, [&] {
                    return ::mkdir(d.c_str(), 0700) == 0 && ::chmod(d.c_str(), static_cast<mode_t>(mode)) == 0 ? 0 : 1;
                }) == 0);
    }
    const auto user_writes = [](const fs::path& p) {
        return as_user(1000, [&] {
            const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
            if (fd < 0) return 1;
            const bool ok = ::write(fd, "OLD-CONTENT", 11) == 11 && ::fchmod(fd, 0640) == 0;
            return ::close(fd) == 0 && ok ? 0 : 2;
        });
    };
    // What the user reads of `p`: the content, or "errno N".
    const auto user_reads = [](const fs::path& p) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        const int code = as_user(1000, [&] {
            ::close(out[0]);
            const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
            std::string s = "errno " + std::to_string(errno);
            if (fd >= 0) {
                char buf[256];
                const ssize_t n = ::read(fd, buf, sizeof buf);
                s = n >= 0 ? std::string(buf, static_cast<std::size_t>(n)) : "errno " + std::to_string(errno);
            }
            return ::write(out[1], s.data(), s.size()) == static_cast<ssize_t>(s.size()) ? 0 : 3;
        });
        ::close(out[1]);
        std::string s;
        char buf[256];
        for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) s.append(buf, static_cast<std::size_t>(n));
        ::close(out[0]);
        CHECK(code == 0);
        return s;
    };
    // The default writer copies the replaced file's extended attributes. NFS v4 has
    // them (its ACL), and reading them as nobody is refused: the commit fails before
    // anything is published, and the user keeps the file. NFS v3 has none: the commit
    // succeeds; fchown is refused, and owner_mode::preserve goes on without it: the file
    // is nobody's, with the old mode, and its owner can no longer read it. The same
    // happens on v4 without the attributes (xattrs = false).
    const bool v4 = mount_type(open_dir) == "nfs4";
    const std::string refused_step = "copy extended attributes";
    struct ::stat st {};
    for (const bool xattrs : {true, false}) {
        const fs::path file = open_dir / (xattrs ? "data" : "data2");
        REQUIRE(user_writes(file) == 0);
        INFO((v4 ? "v4" : "v3") << (xattrs ? ", default writer" : ", xattrs = false"));
        const test::thrown_error e =
            test::catch_error([&] { aw::write_file(file, test::new_content, {.overwrite = true, .xattrs = xattrs}); });
        INFO("what(): " << e.what);
        REQUIRE(::stat(file.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640u);
        if (v4 && xattrs) {
            CHECK(e.threw);
            CHECK(e.code == std::errc::permission_denied);
            CHECK(test::contains(e.what, refused_step));
            CHECK(st.st_uid == 1000u);
            CHECK(user_reads(file) == "OLD-CONTENT");
        } else {
            CHECK_FALSE(e.threw);
            CHECK(st.st_uid == 65534u);
            CHECK(st.st_gid == 65534u);
            CHECK(user_reads(file) == "errno " + std::to_string(EACCES));
        }
    }
    CHECK(names_in(open_dir) == std::vector<std::string>{"data", "data2"});

    // Sticky: the rename over another user's file is refused (v4's default writer stops
    // earlier, as above); the file is unchanged and the temporary file removed.
    const fs::path sticky_file = sticky_dir / "data";
    REQUIRE(user_writes(sticky_file) == 0);
    for (const bool xattrs : {true, false}) {
        INFO((v4 ? "v4" : "v3") << (xattrs ? ", default writer" : ", xattrs = false"));
        const test::thrown_error e = test::catch_error(
            [&] { aw::write_file(sticky_file, test::new_content, {.overwrite = true, .xattrs = xattrs}); });
        INFO("what(): " << e.what);
        CHECK(e.threw);
        if (v4 && xattrs) {
            CHECK(e.code == std::errc::permission_denied);
            CHECK(test::contains(e.what, refused_step));
        } else {
            CHECK(e.code == std::errc::operation_not_permitted);
            CHECK(test::contains(e.what, "rename into place"));
        }
        REQUIRE(::stat(sticky_file.c_str(), &st) == 0);
        CHECK(st.st_uid == 1000u);
        CHECK((st.st_mode & 07777) == 0640u);
        CHECK(user_reads(sticky_file) == "OLD-CONTENT");
        CHECK(names_in(sticky_dir) == std::vector<std::string>{"data"});
    }
}
