// SPDX-License-Identifier: MIT
// Real faults on real filesystems, no seam involved (as root; each test says why it
// skips otherwise): a full tmpfs, ext4, XFS and btrfs (ENOSPC, for data and for inodes),
// a mount turned read-only between the write and the commit (EROFS), a process without
// permission on the target's directory or in a sticky directory (EACCES, EPERM), a
// move across filesystems (EXDEV) and a low RLIMIT_NOFILE (EMFILE). Each failure names
// the step and the path, leaves the target as it was, and removes the temporary file
// (where the filesystem still lets anything be removed; otherwise the error names it and
// remove_stale_temps() takes it later). EROFS, EACCES for a new temporary file and EXDEV
// for temp_directory are in test_bad_input.cpp.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using namespace std::chrono_literals;
using names = std::vector<std::string>;

using test::new_content;
using test::old_content;

using test::contains;

/// A filesystem image of `size` made with mkfs.`type` and loop-mounted at `where` for
/// the object's lifetime (root, and the mkfs tool, needed).
class loop_mount {
public:
    loop_mount(const fs::path& image, const fs::path& where, const std::string& type, const std::string& size)
        : where_(where) {
        fs::create_directory(where_);
        if (!test::is_root()) {
            why_ = "mounting needs root";
            return;
        }
        const std::string mkfs = "mkfs." + type;
        if (std::system(("command -v " + mkfs + " >/dev/null 2>&1").c_str()) != 0) {
            why_ = mkfs + " is not installed (scripts/install-deps xfsprogs btrfs-progs)";
            return;
        }
        const std::string make = "truncate -s " + size + " '" + image.string() + "' && " + mkfs + " -q " +
                                 (type == "ext4" ? "-F " : "-f ") + "'" + image.string() + "' >/dev/null 2>&1";
        if (std::system(make.c_str()) != 0) {
            why_ = mkfs + " failed";
            return;
        }
        mounted_ =
            std::system(("mount -o loop '" + image.string() + "' '" + where_.string() + "' 2>/dev/null").c_str()) == 0;
        if (!mounted_) why_ = "cannot loop-mount a " + type + " image here";
    }
    ~loop_mount() {
        if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
    }
    loop_mount(const loop_mount&) = delete;
    loop_mount& operator=(const loop_mount&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& why_not() const { return why_; }

private:
    fs::path where_;
    bool mounted_ = false;
    std::string why_;
};

/// Free blocks of the filesystem at `p`.
unsigned long long free_blocks(const fs::path& p) {
    struct ::statvfs s {};
    REQUIRE(::statvfs(p.c_str(), &s) == 0);
    return s.f_bfree;
}

using test::kind_of;
using test::writer_kind;

std::vector<writer_kind> writers() {
    return {kind_of<aw::atomic_writer>(),
            kind_of<aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::named>>(),
            kind_of<aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::anonymous>>(),
            kind_of<aw::basic_atomic_writer<aw::sync::fdatasync, aw::commit::automatic,
                                            aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>>()};
}

/// Writes `content` over `dir`/existing (and to `dir`/new) with every writer, expecting
/// `expected` at a step containing `step`; the directory must be as before each time.
void expect_failure(const fs::path& dir, const std::string& content, std::errc expected, const std::string& step,
                    std::size_t& faults) {
    for (const writer_kind& k : writers()) {
        for (const bool overwrite : {true, false}) {
            INFO(k.name << ", overwrite = " << overwrite);
            const fs::path target = dir / (overwrite ? "existing" : "new");
            const names before = test::temp_dir::list(dir);
            std::error_code ec;
            CHECK(k.write(target, content, {.overwrite = overwrite}, ec) == aw::commit_state::unchanged);
            CHECK(ec == expected);
            CHECK(ec.category() == std::system_category());
            const auto e = test::catch_error([&] { k.write_throwing(target, content, {.overwrite = overwrite}); });
            INFO("what(): " << e.what);
            CHECK(e.threw);
            CHECK(e.code == expected);
            CHECK(contains(e.what, step));
            CHECK(contains(e.what, target.string()));
            CHECK(test::temp_dir::list(dir) == before);
            CHECK(test::read_file(dir / "existing") == old_content);
            faults += 2;
        }
    }
}

}  // namespace

TEST_CASE("ENOSPC on real filesystems: the write fails cleanly and frees what it took", "[real_faults][root]") {
    if (!test::is_root()) {
        WARN("skipped: mounting filesystems needs root");
        return;
    }
    std::size_t faults = 0;
    std::vector<std::string> covered;
    test::temp_dir dir;
    struct case_t {
        std::string type;
        std::string size;
    };
    for (const case_t& c :
         {case_t{"tmpfs", "256k"}, case_t{"ext4", "8M"}, case_t{"xfs", "320M"}, case_t{"btrfs", "128M"}}) {
        INFO(c.type);
        const fs::path where = dir / ("mnt-" + c.type);
        std::unique_ptr<test::tmpfs_mount> tmpfs;
        std::unique_ptr<loop_mount> loop;
        if (c.type == "tmpfs") {
            tmpfs = std::make_unique<test::tmpfs_mount>(where, c.size);
            if (!tmpfs->mounted()) {
                WARN("skipped on tmpfs: " << tmpfs->why_not());
                continue;
            }
        } else {
            loop = std::make_unique<loop_mount>(dir / ("image." + c.type), where, c.type, c.size);
            if (!loop->mounted()) {
                WARN("skipped on " << c.type << ": " << loop->why_not());
                continue;
            }
        }
        test::write_plain(where / "existing", old_content);
        // Leave a little room: preallocate nearly all the free space to a filler file
        // (fast, no data written), so that a modest write runs out.
        {
            struct ::statvfs s {};
            REQUIRE(::statvfs(where.c_str(), &s) == 0);
            const long long room = 1024 * 1024;
            const long long fill = static_cast<long long>(s.f_bavail) * static_cast<long long>(s.f_frsize) - room;
            const int fd = ::open((where / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            REQUIRE(fd >= 0);
            if (fill > 0) REQUIRE(::posix_fallocate(fd, 0, fill) == 0);
            ::fsync(fd);
            ::close(fd);
        }
        ::sync();
        const unsigned long long free_before = free_blocks(where);
        const std::string big = test::pattern(4 * 1024 * 1024, 3);
        expect_failure(where, big, std::errc::no_space_on_device, "write temporary file", faults);
        ::sync();
        // Whatever the failed writes took is free again (btrfs frees asynchronously, and
        // may show a little less: the check there is that a small write still fits).
        if (c.type != "btrfs") CHECK(free_blocks(where) >= free_before);
        aw::write_file(where / "existing", new_content, {.overwrite = true});
        CHECK(test::read_file(where / "existing") == new_content);
        test::write_plain(where / "existing", old_content);
        covered.push_back(c.type);
    }
    // No inodes left (tmpfs nr_inodes): creating the temporary file fails.
    {
        const fs::path where = dir / "mnt-inodes";
        fs::create_directory(where);
        if (::mount("tmpfs", where.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=2,mode=0755") == 0) {
            test::write_plain(where / "existing", old_content);  // the root and this: no inode left
            std::size_t before = faults;
            for (const writer_kind& k : writers()) {
                INFO(k.name);
                std::error_code ec;
                CHECK(k.write(where / "existing", new_content, {.overwrite = true}, ec) == aw::commit_state::unchanged);
                CHECK(ec == std::errc::no_space_on_device);
                const auto e =
                    test::catch_error([&] { k.write_throwing(where / "existing", new_content, {.overwrite = true}); });
                CHECK(contains(e.what, "create temporary file"));
                CHECK(test::temp_dir::list(where) == names{"existing"});
                CHECK(test::read_file(where / "existing") == old_content);
                faults += 2;
            }
            CHECK(faults > before);
            ::umount2(where.c_str(), MNT_DETACH);
            covered.push_back("tmpfs without inodes");
        } else {
            WARN("skipped: cannot mount a tmpfs with nr_inodes=2");
        }
    }
    std::string list;
    for (const auto& c : covered) list += (list.empty() ? "" : ", ") + c;
    test::report_figure("real faults: ENOSPC: " + std::to_string(faults) + " failed writes on " + list);
}

TEST_CASE("a mount turned read-only before the commit: EROFS, the target unchanged", "[real_faults][root]") {
    if (!test::is_root()) {
        WARN("skipped: mounting needs root");
        return;
    }
    // A bind mount of a directory, made read-only between the write and the rename (the
    // named temporary file is closed by then; a file open for writing would keep the
    // mount writable). The temporary file cannot be removed on a read-only mount: the
    // error names it, and a sweep takes it once the mount is writable again.
    using writer = aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::mkstemp>;
    test::temp_dir dir;
    fs::create_directory(dir / "data");
    fs::create_directory(dir / "view");
    test::write_plain(dir / "data" / "existing", old_content);
    if (::mount((dir / "data").c_str(), (dir / "view").c_str(), nullptr, MS_BIND, nullptr) != 0) {
        WARN("skipped: cannot bind-mount here: " << std::error_code(errno, std::system_category()).message());
        return;
    }
    struct remount_before_rename : aw::syscall_hook {
        fs::path where;
        bool done = false;
        int before(aw::syscall_info& info) noexcept override {
            if ((info.op == aw::sysop::rename || info.op == aw::sysop::rename_noreplace) && !done) {
                done = ::mount(nullptr, where.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
            }
            return 0;
        }
    } hook;
    hook.where = dir / "view";
    const fs::path target = dir / "view" / "existing";
    test::thrown_error e;
    {
        aw::scoped_syscall_hook scope(hook);
        e = test::catch_error([&] { aw::write_file<writer>(target, new_content, {.overwrite = true}); });
    }
    REQUIRE(hook.done);
    INFO("what(): " << e.what);
    CHECK(e.threw);
    CHECK(e.code == std::errc::read_only_file_system);
    CHECK(contains(e.what, "rename into place"));
    CHECK(e.path1 == target);
    CHECK(test::read_file(target) == old_content);
    const names left = test::temp_dir::list(dir / "data");
    REQUIRE(left.size() == 2);
    CHECK(e.path2 == dir / "view" / left[0]);
    CHECK(aw::is_temp_name(left[0], {.target_name = "existing"}));
    REQUIRE(::mount(nullptr, (dir / "view").c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr) == 0);
    CHECK(aw::remove_stale_temps(dir / "view", {.older_than = 0s, .target_name = "existing"}) == 1);
    CHECK(test::temp_dir::list(dir / "data") == names{"existing"});
    ::umount2((dir / "view").c_str(), MNT_DETACH);
}

TEST_CASE("permission faults of an unprivileged process: EACCES at the rename, EPERM in a sticky directory",
          "[real_faults][root]") {
    if (!test::is_root()) {
        WARN("skipped: dropping privileges needs root");
        return;
    }
    test::temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    SECTION("temp_directory writable, the target's directory not: EACCES at the rename") {
        fs::create_directory(dir / "ro");
        fs::create_directory(dir / "scratch");
        test::write_plain(dir / "ro" / "existing", old_content);
        REQUIRE(::chmod((dir / "ro").c_str(), 0555) == 0);
        REQUIRE(::chown((dir / "scratch").c_str(), 65534, 65534) == 0);
        const int code = test::as_nobody(dir / "ro", X_OK, [&] {
            const aw::write_options o{.overwrite = true, .temp_directory = dir / "scratch"};
            return test::failure_check(dir / "ro" / "existing", o, std::errc::permission_denied, "rename into place");
        });
        if (code == test::nobody_unreachable) {
            WARN("skipped: the test directory is not reachable for uid 65534");
            return;
        }
        INFO("the child's failed check: " << code);
        CHECK(code == 0);
        CHECK(test::temp_dir::list(dir / "scratch").empty());
        CHECK(test::temp_dir::list(dir / "ro") == names{"existing"});
        CHECK(test::read_file(dir / "ro" / "existing") == old_content);
    }
    SECTION("another user's file in a sticky directory: EPERM at the rename") {
        fs::create_directory(dir / "shared");
        REQUIRE(::chmod((dir / "shared").c_str(), 01777) == 0);
        test::write_plain(dir / "shared" / "theirs", old_content);
        REQUIRE(::chmod((dir / "shared" / "theirs").c_str(), 0666) == 0);
        const int code = test::as_nobody(dir / "shared", X_OK, [&] {
            return test::failure_check(dir / "shared" / "theirs", {.overwrite = true},
                                       std::errc::operation_not_permitted, "rename into place");
        });
        if (code == test::nobody_unreachable) {
            WARN("skipped: the test directory is not reachable for uid 65534");
            return;
        }
        INFO("the child's failed check: " << code);
        CHECK(code == 0);
        CHECK(test::temp_dir::list(dir / "shared") == names{"theirs"});
        CHECK(test::read_file(dir / "shared" / "theirs") == old_content);
    }
}

TEST_CASE("replace_atomic and move_atomic across filesystems: EXDEV, nothing moved", "[real_faults][root]") {
    test::temp_dir dir;
    test::tmpfs_mount mnt(dir / "mnt");
    if (!mnt.mounted()) {
        WARN("skipped: " << mnt.why_not());
        return;
    }
    test::write_plain(dir / "src", new_content);
    test::write_plain(dir / "mnt" / "dst", old_content);
    for (const bool replace : {true, false}) {
        INFO((replace ? "replace_atomic" : "move_atomic"));
        const fs::path dst = dir / "mnt" / (replace ? "dst" : "fresh");
        std::error_code ec;
        const aw::commit_state s =
            replace ? aw::replace_atomic(dir / "src", dst, ec) : aw::move_atomic(dir / "src", dst, ec);
        CHECK(s == aw::commit_state::unchanged);
        CHECK(ec == std::errc::cross_device_link);
        const auto e = test::catch_error([&] {
            if (replace)
                aw::replace_atomic(dir / "src", dst);
            else
                aw::move_atomic(dir / "src", dst);
        });
        CHECK(e.code == std::errc::cross_device_link);
        CHECK(contains(e.what, "into place"));
        CHECK(e.path1 == dir / "src");
        CHECK(e.path2 == dst);
    }
    CHECK(test::read_file(dir / "src") == new_content);
    CHECK(test::temp_dir::list(dir / "mnt") == names{"dst"});
    CHECK(test::read_file(dir / "mnt" / "dst") == old_content);
}

TEST_CASE("EMFILE under a low RLIMIT_NOFILE: each step that opens fails cleanly", "[real_faults]") {
    // No root needed: lowering one's own soft limit is always allowed. The limit is
    // raised step by step from "no descriptor free" until the write succeeds; every
    // failure on the way must be EMFILE at an opening step, with nothing left behind.
    test::temp_dir dir;
    test::write_plain(dir / "existing", old_content);
    struct ::rlimit saved {};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    // The lowest free descriptor: every limit below it leaves none free.
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(probe >= 0);
    ::close(probe);
    std::size_t faults = 0;
    for (const writer_kind& k : writers()) {
        std::vector<std::string> steps;
        bool succeeded = false;
        for (rlim_t extra = 0; extra < 6 && !succeeded; ++extra) {
            struct ::rlimit low = saved;
            low.rlim_cur = static_cast<rlim_t>(probe) + extra;
            REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
            std::error_code ec;
            const aw::commit_state st = k.write(dir / "existing", new_content, {.overwrite = true}, ec);
            std::string what;
            if (ec) {
                const auto e =
                    test::catch_error([&] { k.write_throwing(dir / "existing", new_content, {.overwrite = true}); });
                what = e.what;
            }
            REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
            INFO(k.name << ", " << extra << " descriptors free: " << (ec ? ec.message() + ": " + what : "success"));
            if (ec) {
                ++faults;
                CHECK(ec == std::errc::too_many_files_open);
                CHECK(st == aw::commit_state::unchanged);
                CHECK((contains(what, "open directory") || contains(what, "create temporary file")));
                CHECK(test::read_file(dir / "existing") == old_content);
                steps.push_back(what);
            } else {
                succeeded = true;
                CHECK(test::read_file(dir / "existing") == new_content);
                test::write_plain(dir / "existing", old_content);
            }
            CHECK(dir.names() == names{"existing"});
        }
        INFO(k.name);
        CHECK(succeeded);
        CHECK(steps.size() == 2);  // none free: the directory; one free: the temporary file
    }
    test::report_figure("real faults: EMFILE: " + std::to_string(faults) + " failed writes under a low RLIMIT_NOFILE");
}
