// SPDX-License-Identifier: MIT
// remove_stale_temps() on POSIX, beyond the portable cases of unit/test_stale_temps.cpp:
// it removes what killed child processes left behind, and nothing else: not a file in
// use (by this process, another one, or any program: a lease tells), not a link,
// directory or FIFO named like a temporary file; a leftover second name of a published
// file goes, the file stays; several sweeps at once remove each leftover once; every
// failure of a call of the sweep is reported with the step and the path; a sweep as
// another user keeps what it cannot judge. Where no lease answers (NFS, filesystems
// without leases: forced here through the seam), the files open in the processes of
// this machine decide, listed once per sweep, each of its calls failed in turn.
#include <catch2/catch.hpp>

#include <atomicwrites/links.hpp>
#include <atomicwrites/stale_temps.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#include <sys/mount.h>
#endif

#include "support.hpp"
#include "support/stale_temps.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using test::stale::named_temp_writer;
using test::stale::names;
using test::stale::now_stale;
using test::stale::random_temp_writer;
using test::stale::starting_with;
using namespace std::chrono_literals;

/// Ends the calling process with SIGKILL, as a crash would: no destructor runs, nothing
/// is rolled back.
[[noreturn]] void die() {
    ::kill(::getpid(), SIGKILL);
    ::_exit(2);
}

/// Runs `fn`, which must end with die() in the scope of what it leaves behind, in a
/// child process.
template <class F>
void in_killed_child(F&& fn) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            fn();
        } catch (...) {
        }
        ::_exit(1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
}

/// Leaves the temporary file of a writer W for `target` behind, as a killed process does.
template <class W>
void leave_temp(const fs::path& target, const aw::write_options& options = {.overwrite = true}) {
    in_killed_child([&] {
        W w(target, options);
        w.write(test::new_content);
        w.flush();
        die();
    });
}

/// A FAT filesystem (case-insensitive names, no links, no RENAME_NOREPLACE) mounted
/// through FUSE (fusefat) on `dir`/m for the object's lifetime, where mkfs.vfat and
/// fusefat are installed and the process may mount.
class fat_mount {
public:
    explicit fat_mount(const test::temp_dir& dir) : image_(dir / "fat.img"), where_(dir / "m") {
        fs::create_directory(where_);
        const std::string make = "truncate -s 32M '" + image_.string() + "' && mkfs.vfat -F 32 '" + image_.string() +
                                 "' >/dev/null 2>&1 && fusefat -o rw+ '" + image_.string() + "' '" + where_.string() +
                                 "' >/dev/null 2>&1";
        mounted_ = test::is_root() && std::system("command -v mkfs.vfat fusefat >/dev/null 2>&1") == 0 &&
                   std::system(make.c_str()) == 0;
    }
    ~fat_mount() {
        if (mounted_) std::system(("fusermount -u '" + where_.string() + "' >/dev/null 2>&1").c_str());
    }
    fat_mount(const fat_mount&) = delete;
    fat_mount& operator=(const fat_mount&) = delete;
    bool mounted() const { return mounted_; }
    const fs::path& path() const { return where_; }

private:
    fs::path image_;
    fs::path where_;
    bool mounted_ = false;
};

#if defined(__linux__)
/// Runs `fn` (which returns an empty string for success, else what went wrong) as the
/// first process of a new PID namespace with a /proc of its own, mounted in a private
/// mount namespace that goes away with it (nothing outside sees the mount): the
/// processes a sweep lists there are `fn`'s and its children, all of them visible.
/// Root only; nullopt where namespaces cannot be made (a restricted container).
template <class F>
std::optional<std::string> in_own_processes(F&& fn) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    const pid_t outer = ::fork();
    REQUIRE(outer >= 0);
    if (outer == 0) {
        ::close(out[0]);
        if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            ::_exit(100);
        const pid_t inner = ::fork();
        if (inner == 0) {
            if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) ::_exit(100);
            std::string result;
            try {
                result = fn();
            } catch (const std::exception& e) {
                result = std::string("threw: ") + e.what();
            }
            if (result.empty()) result = "ok";
            const bool written = ::write(out[1], result.data(), result.size()) == static_cast<ssize_t>(result.size());
            ::_exit(written ? 0 : 1);
        }
        int status = 0;
        ::_exit(inner > 0 && ::waitpid(inner, &status, 0) == inner && WIFEXITED(status) ? WEXITSTATUS(status) : 1);
    }
    ::close(out[1]);
    std::string result;
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) result.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    REQUIRE(::waitpid(outer, &status, 0) == outer);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 100) return std::nullopt;
    return result.empty() ? std::string("the namespace's process failed") : result;
}

/// A child process that holds `p` open (with `flags`) until released.
class holder {
public:
    holder(const fs::path& p, int flags) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        REQUIRE(::pipe(go_) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            // Only its own ends of its own pipes: another holder's release must not
            // wait for this one.
            for (int fd = 3; fd < 1024; ++fd)
                if (fd != ready[1] && fd != go_[0]) ::close(fd);
            const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
            char c = fd >= 0 ? 'o' : 'e';
            if (::write(ready[1], &c, 1) != 1 || ::read(go_[0], &c, 1) < 0) ::_exit(1);
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(go_[0]);
        char c = 0;
        opened_ = ::read(ready[0], &c, 1) == 1 && c == 'o';
        ::close(ready[0]);
    }
    ~holder() { release(); }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
    bool opened() const { return opened_; }
    pid_t pid() const { return pid_; }
    /// Ends the child: the file is closed.
    void release() {
        if (pid_ <= 0) return;
        ::close(go_[1]);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

private:
    int go_[2] = {-1, -1};
    pid_t pid_ = -1;
    bool opened_ = false;
};

/// What a sweep found, in a line: "removed a b; in use c; young ; undecided d:13".
std::string summary(const aw::sweep_report& r) {
    std::string s = "removed";
    for (const auto& n : r.removed) s += " " + n.string();
    s += "; in use";
    for (const auto& n : r.in_use) s += " " + n.string();
    s += "; young";
    for (const auto& n : r.too_young) s += " " + n.string();
    s += "; undecided";
    for (const auto& u : r.undecided) s += " " + u.name.string() + ":" + std::to_string(u.reason.value());
    return s;
}
#endif

}  // namespace

TEST_CASE("leftovers of killed writers are removed; the targets and other files stay", "[stale_temps]") {
    test::temp_dir dir;
    test::write_plain(dir / "data", test::old_content);
    test::write_plain(dir / "notes.txt", "mine");
    for (int i = 0; i < 5; ++i) leave_temp<random_temp_writer>(dir / "data");
    leave_temp<random_temp_writer>(dir / "fresh", {});  // a first write that never committed
    leave_temp<named_temp_writer>(dir / "data");
    REQUIRE(starting_with(dir, ".data.").size() == 6);
    REQUIRE(starting_with(dir, ".fresh.").size() == 1);

    // Too young for the default bound of an hour: nothing is removed.
    CHECK(aw::remove_stale_temps(dir.path()) == 0);
    CHECK(dir.names().size() == 9);

    // For one target: its random and its fixed names.
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 6);
    CHECK(dir.names() == names{".fresh." + starting_with(dir, ".fresh.")[0].substr(7), "data", "notes.txt"});
    // For any target: the random names left.
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
    CHECK(dir.names() == names{"data", "notes.txt"});
    CHECK(test::read_file(dir / "data") == test::old_content);
    CHECK(test::read_file(dir / "notes.txt") == "mine");
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
}

TEST_CASE("a temporary file in use is never removed", "[stale_temps]") {
    test::temp_dir dir;
    SECTION("by a writer of this process") {
        random_temp_writer w(dir / "data", {.overwrite = true});
        w.write(test::new_content);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
        CHECK(fs::exists(w.temp_path()));
        w.commit();
        CHECK(test::read_file(dir / "data") == test::new_content);
    }
    SECTION("by a writer of another process") {
        int to_child[2];
        int from_child[2];
        REQUIRE(::pipe(to_child) == 0);
        REQUIRE(::pipe(from_child) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int code = 0;
            {
                std::error_code ec;
                named_temp_writer w(dir / "data", {.overwrite = true}, ec);
                if (!ec) w.write(test::new_content, ec);
                char c = ec ? 'e' : 'r';
                if (::write(from_child[1], &c, 1) != 1) code = 3;
                if (::read(to_child[0], &c, 1) != 1) code = 4;  // until the parent has swept
                if (!ec && w.commit(ec) != aw::commit_state::published) code = 5;
            }
            ::_exit(code);
        }
        char c = 0;
        REQUIRE(::read(from_child[0], &c, 1) == 1);
        CHECK(c == 'r');
        CHECK(dir.names() == names{".data.tmp"});
        CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 0);
        CHECK(dir.names() == names{".data.tmp"});
        REQUIRE(::write(to_child[1], "go", 1) == 1);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(test::read_file(dir / "data") == test::new_content);
        for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
    }
    SECTION("by another program that has it open for writing") {
        const fs::path lookalike = dir / ".data.ABCDEFGH.tmp";
        const int fd = ::open(lookalike.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
        CHECK(fs::exists(lookalike));
        ::close(fd);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
    }
    CHECK((dir.names() == names{"data"} || dir.names().empty()));
}

TEST_CASE("directories and FIFOs named like temporary files are left alone", "[stale_temps]") {
    test::temp_dir dir;
    fs::create_directory(dir / ".data.DIRECTOR.tmp");
    test::write_plain(dir / ".data.DIRECTOR.tmp" / "inside", "x");
    REQUIRE(::mkfifo((dir / ".data.FIFOFIFO.tmp").c_str(), 0600) == 0);
    const names before = dir.names();
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 0);
    CHECK(dir.names() == before);
    CHECK(test::read_file(dir / ".data.DIRECTOR.tmp" / "inside") == "x");
}

TEST_CASE("stale temporary links are removed, never what they point to; fresh ones stay", "[stale_temps][links]") {
    test::temp_dir dir;
    test::temp_dir other;
    test::write_plain(other / "victim", "not to be touched");
    fs::create_directory(other / "tree");
    test::write_plain(other / "tree" / "inside", "x");
    fs::create_symlink(other / "victim", dir / ".data.LINKLINK.tmp");
    fs::create_symlink(other / "missing", dir / ".data.DANGLING.tmp");
    fs::create_symlink(other / "tree", dir / ".site.TREETREE.tmp");
    test::write_plain(dir / "data", "target");
    // Made an hour ago, as a killed symlink_atomic or tree_writer leaves them.
    for (const char* n : {".data.LINKLINK.tmp", ".data.DANGLING.tmp", ".site.TREETREE.tmp"}) {
        const struct timespec old[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
        REQUIRE(::utimensat(AT_FDCWD, (dir / n).c_str(), old, AT_SYMLINK_NOFOLLOW) == 0);
    }
    // The age is the change time too, which utimensat sets to now: so only a sweep that
    // takes any age removes them here; the default hour keeps them.
    CHECK(aw::remove_stale_temps(dir.path()) == 0);
    CHECK(dir.names() == names{".data.DANGLING.tmp", ".data.LINKLINK.tmp", ".site.TREETREE.tmp", "data"});
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 3);
    CHECK(dir.names() == names{"data"});
    CHECK(test::read_file(dir / "data") == "target");
    CHECK(test::read_file(other / "victim") == "not to be touched");
    CHECK(test::read_file(other / "tree" / "inside") == "x");
    CHECK(other.names() == names{"tree", "victim"});
    // A link symlink_atomic left when killed between its two steps is swept too.
    aw::symlink_atomic("v1", dir / "current");
    fs::create_symlink("v2", dir / ".current.AbCdEfGh.tmp");
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
    CHECK(dir.names() == names{"current", "data"});
    CHECK(fs::read_symlink(dir / "current") == "v1");
}

TEST_CASE("a leftover second name of a published file is removed, the file stays", "[stale_temps]") {
    // commit::link_unlink publishes with a link and then removes the temporary name; if
    // that removal fails, the name is left as a second link of the target.
    using writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::mkstemp>;
    test::temp_dir dir;
    test::scripted_hook hook;
    hook.fail_op(sysop::unlink, EIO);
    std::error_code ec;
    {
        aw::scoped_syscall_hook scope(hook);
        CHECK(aw::write_file<writer>(dir / "data", test::new_content, {}, ec) == aw::commit_state::published);
    }
    CHECK(ec == std::error_code(EIO, std::system_category()));
    REQUIRE(dir.names().size() == 2);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 1);
    CHECK(dir.names() == names{"data"});
    CHECK(test::read_file(dir / "data") == test::new_content);
}

TEST_CASE("sweeps running at once remove each leftover of killed writers exactly once", "[stale_temps][concurrency]") {
    test::temp_dir dir;
    constexpr int leftovers = 60;
    in_killed_child([&] {
        // Writers that are never committed nor rolled back: their files stay.
        std::vector<std::unique_ptr<random_temp_writer>> writers;
        for (int i = 0; i < leftovers; ++i) {
            writers.push_back(std::make_unique<random_temp_writer>(dir / ("t" + std::to_string(i % 7)),
                                                                   aw::write_options{.overwrite = true}));
            writers.back()->write("partial");
            writers.back()->flush();
        }
        die();
    });
    REQUIRE(dir.names().size() == static_cast<std::size_t>(leftovers));
    const test::stale::sweeps_at_once swept = test::stale::sweep_at_once(dir);
    CHECK(swept.errors == 0);
    CHECK(swept.removed == static_cast<std::size_t>(leftovers));
    CHECK(dir.names().empty());
}

TEST_CASE("a sweep never removes a live writer's file that took a stale file's name meanwhile",
          "[stale_temps][concurrency]") {
    if (!test::features().rename_noreplace) {
        // Without RENAME_NOREPLACE (a FUSE passthrough) the claim is a plain rename to a
        // fresh name: a file in use is kept by the in-use test alone (docs/guarantees.md).
        WARN("skipped: the test directory's filesystem has no RENAME_NOREPLACE");
        return;
    }
    // Sweep A has judged the leftover ".cfg.tmp" and is about to act on its name (its
    // claim; an unlink by name before). Meanwhile sweep B removes the same leftover, and
    // a temp::named writer creates ".cfg.tmp" again and writes. The hook only widens
    // that window; the interleaving is the same in real runs, only rarer.
    test::temp_dir dir;
    test::write_plain(dir / "cfg", "old\n");
    leave_temp<named_temp_writer>(dir / "cfg");
    REQUIRE(dir.names() == names{".cfg.tmp", "cfg"});
    const aw::stale_temp_options options{.older_than = 0s, .target_name = "cfg"};
    std::optional<named_temp_writer> live;
    std::size_t second = 0;
    class meanwhile : public aw::syscall_hook {
    public:
        std::function<void()> run;
        bool done = false;
        int before(aw::syscall_info& info) noexcept override {
            const bool acts_on_name =
                info.op == sysop::unlink || info.op == sysop::rename || info.op == sysop::rename_noreplace;
            if (acts_on_name && !done) {
                done = true;
                std::thread(run).join();
            }
            return 0;
        }
    } hook;
    hook.run = [&] {
        second = aw::remove_stale_temps(dir.path(), options);
        live.emplace(dir / "cfg", aw::write_options{.overwrite = true});
        live->write("the new configuration\n");
    };
    std::size_t first = 0;
    std::error_code ec;
    {
        aw::scoped_syscall_hook scope(hook);
        first = aw::remove_stale_temps(dir.path(), options, ec);
    }
    CHECK_FALSE(ec);
    CHECK(hook.done);
    CHECK(second == 1);
    CHECK(first == 0);
    REQUIRE(live);
    live->commit(ec);
    CHECK_FALSE(ec);
    CHECK(test::read_file(dir / "cfg") == "the new configuration\n");
    CHECK(dir.names() == names{"cfg"});
}

TEST_CASE("a sweep's claim of a leftover is exclusive and leaves nothing behind", "[stale_temps]") {
    if (!test::features().rename_noreplace) {
        // Without RENAME_NOREPLACE (a FUSE passthrough) the claim is a plain rename to a
        // fresh name: a file in use is kept by the in-use test alone (docs/guarantees.md).
        WARN("skipped: the test directory's filesystem has no RENAME_NOREPLACE");
        return;
    }
    test::temp_dir dir;
    leave_temp<random_temp_writer>(dir / "data");
    leave_temp<named_temp_writer>(dir / "data");
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 2);
    }
    CHECK(dir.names().empty());
    // Each candidate is claimed by one exclusive rename to a random name of the same
    // target (which a later sweep would recognise), and that name is removed.
    std::size_t claims = 0;
    for (const auto& c : hook.calls) {
        if (c.op != sysop::rename_noreplace && c.op != sysop::rename) continue;
        ++claims;
        CHECK(c.op == sysop::rename_noreplace);
        CHECK(aw::is_temp_name(c.name2, {.target_name = "data"}));
        CHECK(aw::is_temp_name(c.name2));
        CHECK(c.name2 != c.name);
    }
    CHECK(claims == 2);
    CHECK(hook.count(sysop::unlink) == 2);
}

TEST_CASE("on a case-insensitive filesystem a leftover named in another case is swept and the writer goes on",
          "[stale_temps][case][mount]") {
    test::temp_dir dir;
    fat_mount fat(dir);
    if (!fat.mounted()) {
        WARN("skipped: needs root, mkfs.vfat and fusefat (Debian: dosfstools, fusefat) to mount a FAT filesystem");
        return;
    }
    const fs::path m = fat.path();
    leave_temp<named_temp_writer>(m / "N.TXT");
    REQUIRE(test::temp_dir::list(m) == names{".N.TXT.tmp"});
    // The leftover blocks a writer of "n.txt": the filesystem takes it for the same name.
    std::error_code ec;
    { named_temp_writer blocked(m / "n.txt", {.overwrite = true}, ec); }
    CHECK(ec == std::errc::file_exists);
    // A sweep for "n.txt" recognises it (claimed with rename(2): FUSE has no
    // RENAME_NOREPLACE here) and removes it.
    CHECK(aw::remove_stale_temps(m, {.older_than = 0s, .target_name = "n.txt"}) == 1);
    CHECK(test::temp_dir::list(m).empty());
    named_temp_writer w(m / "n.txt", {.overwrite = true});
    w.write("new\n");
    w.commit();
    CHECK(test::read_file(m / "N.TXT") == "new\n");
    // Overlapping sweeps on FUSE: a file another sweep removed is not an error.
    for (int i = 0; i < 20; ++i) leave_temp<random_temp_writer>(m / "data", {});
    std::atomic<int> errors{0};
    std::atomic<std::size_t> removed{0};
    std::vector<std::thread> sweeps;
    for (int t = 0; t < 3; ++t)
        sweeps.emplace_back([&] {
            std::error_code e;
            removed += aw::remove_stale_temps(m, now_stale, e);
            if (e) ++errors;
        });
    for (auto& t : sweeps) t.join();
    CHECK(errors.load() == 0);
    // FAT through FUSE has no stable inode numbers: a node the kernel forgot comes back
    // under another st_ino, and a sweep that cannot prove the file it claimed is the one
    // it judged gives it back rather than remove it. What must hold is that no sweep
    // errs or removes anything twice; one more sweep takes what was given back.
    removed += aw::remove_stale_temps(m, now_stale);
    CHECK(removed.load() == 20);
    CHECK(test::temp_dir::list(m) == names{"n.txt"});
}

TEST_CASE("remove_stale_temps reports errors with the step and the path", "[stale_temps][errors]") {
    test::temp_dir dir;
    SECTION("a missing directory") {
        std::error_code ec;
        CHECK(aw::remove_stale_temps(dir / "missing", now_stale, ec) == 0);
        CHECK(ec == std::errc::no_such_file_or_directory);
        const auto e = test::catch_error([&] { aw::remove_stale_temps(dir / "missing", now_stale); });
        CHECK(e.threw);
        CHECK(e.what.find("open directory") != std::string::npos);
        CHECK(e.path1 == dir / "missing");
    }
    SECTION("options that would match too much, or hold a '/'") {
        for (const aw::stale_temp_options& o :
             {aw::stale_temp_options{.temp_prefix = "", .temp_suffix = ""}, aw::stale_temp_options{.temp_prefix = "a/"},
              aw::stale_temp_options{.target_name = "a/b"}}) {
            std::error_code ec;
            CHECK(aw::remove_stale_temps(dir.path(), o, ec) == 0);
            CHECK(ec == std::errc::invalid_argument);
        }
        // With a target, empty affixes are precise enough ("data.XXXXXXXX").
        std::error_code ec;
        leave_temp<random_temp_writer>(dir / "data", {.overwrite = true, .temp_prefix = "", .temp_suffix = ""});
        test::write_plain(dir / "data", "target");
        CHECK(aw::remove_stale_temps(dir.path(),
                                     {.older_than = 0s, .target_name = "data", .temp_prefix = "", .temp_suffix = ""},
                                     ec) == 1);
        CHECK_FALSE(ec);
        CHECK(dir.names() == names{"data"});
    }
    SECTION("each system call of a sweep fails in turn") {
        const auto leave = [](const fs::path& target) { leave_temp<random_temp_writer>(target); };
        const std::vector<sysop> recorded = test::stale::sweep_calls(leave);
        INFO("recorded: " << test::stale::call_list(recorded));
        REQUIRE(std::count(recorded.begin(), recorded.end(), sysop::unlink) == 1);
        auto errnos = [](sysop op) -> std::vector<int> {
            switch (op) {
                case sysop::open_directory:
                    return {EACCES, ENOENT, ENOTDIR, EMFILE, ENFILE};
                case sysop::read_directory:
                    return {EIO, ENOENT};
                case sysop::stat:
                    return {EACCES, EIO, ENOMEM};
                case sysop::open_file:
                    return {EMFILE, ENFILE, EIO};
                case sysop::lease:
                    return {EAGAIN, EACCES, EINVAL};
                case sysop::unlink:
                    return {EROFS, EACCES, EPERM, EBUSY, EIO};
                default:
                    return {EIO};
            }
        };
        const std::size_t faults = test::stale::sweep_faults(
            recorded, leave, errnos, [](const test::stale::sweep_fault& f, const test::temp_dir& d) {
                const bool lease_refused = f.op == sysop::lease && (f.error == EAGAIN || f.error == EACCES);
                if (f.op == sysop::lease && !lease_refused) {
                    // No lease answer: the processes of this machine decide (the next
                    // test case, where all of them are visible).
                    if (f.removed == 1)
                        test::stale::check_removed_anyway(f, d);
                    else
                        test::stale::check_kept(f, d);
                } else if (f.op == sysop::close) {
                    // A failed close is not a step that matters (the file is removed or was
                    // never touched); no lease support: the age decides.
                    test::stale::check_removed_anyway(f, d);
                } else if (lease_refused) {
                    test::stale::check_kept(f, d);  // in use, or not ours to judge
                } else {
                    test::stale::check_reported(f, d);
                    if (f.throwing && f.op == sysop::unlink) {
                        CHECK(f.thrown.what.find("remove stale temporary file") != std::string::npos);
                        CHECK(f.thrown.path2 == d / f.before[0]);
                    }
                }
            });
        CHECK(faults >= 2 * recorded.size());
        test::report_figure("stale temps: " + std::to_string(faults) + " faults injected into a sweep");
    }
    SECTION("where leases are not supported, the processes of this machine decide") {
        // Here every process is visible or some are not (another user's, one with more
        // privileges than root has here): removed, or kept as undecided with EACCES.
        leave_temp<random_temp_writer>(dir / "data");
        const names before = dir.names();
        test::scripted_hook hook;
        hook.fail_every(sysop::lease, EINVAL);
        aw::sweep_report report;
        std::size_t removed = 0;
        {
            aw::scoped_syscall_hook scope(hook);
            removed = aw::remove_stale_temps(dir.path(), now_stale, report);
        }
        CHECK(hook.count(sysop::lease) == 1);
        CHECK(hook.count(sysop::open_processes) >= (aw::detail::sys::has_open_file_list ? 1u : 0u));
        if (removed == 1) {
            CHECK(report.removed == std::vector<fs::path>{before[0]});
            CHECK(dir.names().empty());
        } else {
            REQUIRE(report.undecided.size() == 1);
            CHECK(report.undecided[0].name == before[0]);
            CHECK(report.undecided[0].reason == std::errc::permission_denied);
            CHECK(dir.names() == before);
        }
    }
}

TEST_CASE("a sweep as another user keeps what it cannot judge", "[stale_temps][root]") {
    if (!test::is_root()) {
        WARN("skipped: changing ids needs root");
        return;
    }
    test::temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    leave_temp<random_temp_writer>(dir / "data");  // root's leftover, mode 0644
    const names before = dir.names();
    const int code = test::as_nobody(dir.path(), X_OK, [&] {
        std::error_code ec;
        const std::size_t removed = aw::remove_stale_temps(dir.path(), now_stale, ec);
        // No lease on root's file (EACCES without CAP_LEASE): kept, and not an error.
        return ec ? 10 : removed != 0 ? 11 : 0;
    });
    if (code == test::nobody_unreachable) {
        WARN("skipped: the test directory is not reachable for uid 65534");
        return;
    }
    CHECK(code == 0);
    CHECK(dir.names() == before);
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);  // root may judge it
}

TEST_CASE("remove_stale_temps through a directory handle sweeps the directory it names, moved or not",
          "[stale_temps][directory]") {
    test::temp_dir dir;
    fs::create_directory(dir / "a");
    aw::directory handle(dir / "a");
    leave_temp<random_temp_writer>(dir / "a" / "data");
    leave_temp<named_temp_writer>(dir / "a" / "data");
    test::write_plain(dir / "a" / "data", test::old_content);
    // Moved away: the handle still names it; a new directory at the old path is not it.
    fs::rename(dir / "a", dir / "b");
    fs::create_directory(dir / "a");
    leave_temp<random_temp_writer>(dir / "a" / "data");
    CHECK(aw::remove_stale_temps(handle, {.older_than = 0s, .target_name = "data"}) == 2);
    CHECK(test::temp_dir::list(dir / "b") == names{"data"});
    CHECK(test::temp_dir::list(dir / "a").size() == 1);
    // Sweeps of one handle from several threads each read the directory in full.
    in_killed_child([&] {
        std::vector<std::unique_ptr<random_temp_writer>> writers;
        for (int i = 0; i < 40; ++i) {
            writers.push_back(
                std::make_unique<random_temp_writer>(dir / "b" / "data", aw::write_options{.overwrite = true}));
            writers.back()->flush();
        }
        die();
    });
    std::atomic<std::size_t> removed{0};
    std::vector<std::thread> sweepers;
    for (int t = 0; t < 3; ++t) sweepers.emplace_back([&] { removed += aw::remove_stale_temps(handle, now_stale); });
    for (auto& t : sweepers) t.join();
    CHECK(removed.load() == 40);
    CHECK(test::temp_dir::list(dir / "b") == names{"data"});

    aw::directory closed;
    std::error_code ec;
    CHECK(aw::remove_stale_temps(closed, now_stale, ec) == 0);
    CHECK(ec == std::errc::bad_file_descriptor);
    const auto e = test::catch_error([&] { aw::remove_stale_temps(closed); });
    CHECK(e.code == std::errc::bad_file_descriptor);
}

#if defined(__linux__)
namespace {

/// Fails every lease with EINVAL, as a filesystem without leases answers (the path the
/// sweep takes on NFS too), and the calls of the list of open files it is told to: the
/// first of `op`, those of the process `pid` ("PID/fd..."), or every one.
class no_lease_hook : public aw::syscall_hook {
public:
    enum class where { first, of_process, every };
    std::optional<sysop> op;
    int error = 0;
    where at = where::first;
    pid_t pid = 0;
    std::size_t seen = 0;
    std::size_t failed = 0;
    std::size_t proc_opens = 0;

    int before(aw::syscall_info& info) noexcept override {
        if (info.op == sysop::lease) return EINVAL;
        if (info.op == sysop::open_processes && info.name != nullptr && std::string(info.name) == "/proc") ++proc_opens;
        if (!op || info.op != *op) return 0;
        const std::size_t nth = seen++;
        bool hit = at == where::every || (at == where::first && nth == 0);
        if (at == where::of_process && info.name != nullptr) {
            const std::string prefix = std::to_string(pid) + "/fd";
            hit = std::string(info.name).rfind(prefix, 0) == 0;
        }
        if (hit) ++failed;
        return hit ? error : 0;
    }
};

}  // namespace

TEST_CASE("where no lease answers, a file open in a process of this machine is kept", "[stale_temps][processes]") {
    if (!test::is_root()) {
        WARN("skipped: a PID namespace of its own needs root");
        return;
    }
    test::temp_dir dir;
    leave_temp<random_temp_writer>(dir / "held");
    leave_temp<random_temp_writer>(dir / "read");
    leave_temp<random_temp_writer>(dir / "free");
    const std::string held = starting_with(dir, ".held.").at(0);
    const std::string read = starting_with(dir, ".read.").at(0);
    const std::string free = starting_with(dir, ".free.").at(0);
    const auto result = in_own_processes([&]() -> std::string {
        holder writer(dir / held, O_WRONLY);
        holder reader(dir / read, O_RDONLY);
        if (!writer.opened() || !reader.opened()) return "the holders could not open their files";
        no_lease_hook hook;
        aw::sweep_report report;
        std::size_t removed = 0;
        {
            aw::scoped_syscall_hook scope(hook);
            removed = aw::remove_stale_temps(dir.path(), now_stale, report);
        }
        // Open for writing or only for reading: in use either way. One list per sweep.
        std::string expected = "removed " + free + "; in use ";
        const std::string first = std::min(held, read);
        const std::string second = std::max(held, read);
        const std::string got = summary(report);
        if (removed != 1 || report.removed != std::vector<fs::path>{free} || report.in_use.size() != 2 ||
            !report.undecided.empty() || !report.too_young.empty())
            return "first sweep: " + got;
        if (hook.proc_opens != 1) return "listed " + std::to_string(hook.proc_opens) + " times";
        if (dir.names() != names{read, held} && dir.names() != names{held, read}) return "left after the first sweep";
        // Closed: now they go.
        writer.release();
        reader.release();
        {
            aw::scoped_syscall_hook scope(hook);
            removed = aw::remove_stale_temps(dir.path(), now_stale, report);
        }
        if (removed != 2 || !report.in_use.empty() || !report.undecided.empty())
            return "second sweep: " + summary(report);
        if (!dir.names().empty()) return "left after the second sweep";
        return {};
    });
    if (!result) {
        WARN("skipped: no PID and mount namespaces here");
        return;
    }
    CHECK(*result == "ok");
}

TEST_CASE("a process the sweep cannot look into leaves a file undecided, and says why", "[stale_temps][processes]") {
    if (!test::is_root() || !aw::detail::sys::has_open_file_list) {
        WARN("skipped: changing ids needs root; the list of open files is Linux's");
        return;
    }
    test::temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    leave_temp<random_temp_writer>(dir / "data");
    const names before = dir.names();
    REQUIRE(::chown((dir / before[0]).c_str(), 65534, 65534) == 0);
    // As nobody, root's processes (this test's parent among them) cannot be looked into.
    const int code = test::as_nobody(dir.path(), X_OK, [&] {
        no_lease_hook hook;
        aw::sweep_report report;
        std::error_code ec;
        aw::scoped_syscall_hook scope(hook);
        const std::size_t removed = aw::remove_stale_temps(dir.path(), now_stale, report, ec);
        if (ec || removed != 0) return 10;
        if (report.undecided.size() != 1 || report.undecided[0].name != before[0]) return 11;
        return report.undecided[0].reason == std::errc::permission_denied ? 0 : 12;
    });
    if (code == test::nobody_unreachable) {
        WARN("skipped: the test directory is not reachable for uid 65534");
        return;
    }
    CHECK(code == 0);
    CHECK(dir.names() == before);
}

TEST_CASE("each call of the list of open files fails in turn", "[stale_temps][processes][errors]") {
    if (!test::is_root()) {
        WARN("skipped: a PID namespace of its own needs root");
        return;
    }
    struct fault {
        sysop op;
        int error;
        no_lease_hook::where at;
    };
    using where = no_lease_hook::where;
    std::vector<fault> faults;
    for (const int e : {EACCES, ENOENT, EMFILE, ENOMEM, EIO}) {
        for (const where at : {where::first, where::of_process, where::every}) {
            faults.push_back({sysop::open_processes, e, at});
            faults.push_back({sysop::read_processes, e, at});
            faults.push_back({sysop::stat_open_file, e, at});
        }
    }
    for (const int e : {ESRCH, ESTALE}) faults.push_back({sysop::stat_open_file, e, where::every});
    faults.push_back({sysop::open_processes, ESRCH, where::of_process});
    faults.push_back({sysop::read_processes, ESRCH, where::of_process});
    for (const where at : {where::first, where::every}) faults.push_back({sysop::close, EIO, at});

    std::size_t injected = 0;
    const auto result = in_own_processes([&]() -> std::string {
        std::string problems;
        for (const fault& f : faults) {
            for (const bool throwing : {false, true}) {
                test::temp_dir d;
                leave_temp<random_temp_writer>(d / "held");
                leave_temp<random_temp_writer>(d / "free");
                const std::string held = starting_with(d, ".held.").at(0);
                const std::string free = starting_with(d, ".free.").at(0);
                holder h(d / held, O_WRONLY);
                no_lease_hook hook;
                hook.op = f.op;
                hook.error = f.error;
                hook.at = f.at;
                hook.pid = h.pid();
                aw::sweep_report report;
                std::error_code ec;
                {
                    aw::scoped_syscall_hook scope(hook);
                    if (throwing) {
                        try {
                            aw::remove_stale_temps(d.path(), now_stale, report);
                        } catch (const std::exception& e) {
                            ec = std::make_error_code(std::errc::io_error);
                        }
                    } else {
                        aw::remove_stale_temps(d.path(), now_stale, report, ec);
                    }
                }
                if (hook.failed == 0) continue;  // no such call (a close of the first)
                ++injected;
                // What the failure means: the process (or its descriptor) is gone
                // (ENOENT, ESRCH; ESTALE: its file is gone from the server), so its
                // file counts as closed; a failed close changes nothing; anything
                // else leaves the list incomplete: whatever is not listed is undecided.
                const bool ended = f.error == ENOENT || f.error == ESRCH || f.error == ESTALE;
                const std::string both = std::min(free, held) + " " + std::max(free, held);
                std::string expected = "undecided";
                if (f.op == sysop::close || (f.op == sysop::stat_open_file && f.at == where::first && ended))
                    // Not the holder's descriptor (the first stat is of this process's).
                    expected = "removed " + free + "; in use " + held + "; young; undecided";
                else if (ended && f.at == where::of_process && f.op != sysop::stat_open_file && f.error != ESTALE)
                    expected = "removed " + both + "; in use; young; undecided";
                else if (ended && f.op == sysop::stat_open_file)
                    expected = "removed " + both + "; in use; young; undecided";
                std::string got = summary(report);
                bool ok = !ec;
                if (expected == "undecided") {
                    // Both kept, with the error; the first one the list met.
                    ok = ok && report.removed.empty() && report.undecided.size() + report.in_use.size() == 2 &&
                         !report.undecided.empty();
                    for (const auto& u : report.undecided) ok = ok && u.reason.value() == f.error;
                    ok = ok && d.names().size() == 2;
                } else {
                    // The order of the names is the directory's: compare as sets.
                    std::vector<fs::path> removed = report.removed;
                    std::sort(removed.begin(), removed.end());
                    std::string r = "removed";
                    for (const auto& n : removed) r += " " + n.string();
                    got = r + got.substr(got.find(';'));
                    ok = ok && got == expected;
                }
                if (!ok)
                    problems += std::string(aw::to_string(f.op)) + "!" + std::to_string(f.error) + " at " +
                                std::to_string(static_cast<int>(f.at)) + (throwing ? " (throwing)" : "") + ": got [" +
                                got + "], expected [" + expected + "]" + (ec ? " error " + ec.message() : "") + "\n";
            }
        }
        if (injected < faults.size()) problems += "only " + std::to_string(injected) + " faults injected\n";
        return problems;
    });
    if (!result) {
        WARN("skipped: no PID and mount namespaces here");
        return;
    }
    CHECK(*result == "ok");
    test::report_figure("stale temps: " + std::to_string(2 * faults.size()) +
                        " faults injected into the list of open files");
}
#endif
