// SPDX-License-Identifier: MIT
// Sticky directories others may write (/tmp and its kind), with the kernel's own
// protections set for real: a file another user planted there never receives the
// writer's content through its kept owner or mode (fs.protected_regular: refused where
// the kernel's open(2) with O_CREAT refuses it, else treated as a new file), and a link
// another user planted there is not followed where the kernel would not follow it
// (fs.protected_symlinks). Root only: the planted files belong to uid 65534; the
// settings are restored after every case, even a failed one.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

using namespace test;

namespace {

constexpr unsigned nobody = 65534;

/// Sets /proc/sys/fs/<name> for one scope and puts the old value back afterwards.
class scoped_sysctl {
public:
    scoped_sysctl(const std::string& name, int value) : path_("/proc/sys/fs/" + name) {
        std::ifstream in(path_);
        int old = 0;
        if (!(in >> old)) return;
        old_ = old;
        ok_ = write(value);
    }
    ~scoped_sysctl() {
        if (old_) write(*old_);
    }
    scoped_sysctl(const scoped_sysctl&) = delete;
    scoped_sysctl& operator=(const scoped_sysctl&) = delete;
    /// Whether the setting could be read and changed here.
    bool ok() const { return ok_; }

private:
    bool write(int value) const {
        std::ofstream out(path_);
        out << value << '\n';
        out.flush();
        return static_cast<bool>(out);
    }
    std::string path_;
    std::optional<int> old_;
    bool ok_ = false;
};

/// A file of uid 65534, mode 0666, with the old content: what an attacker plants.
void plant(const fs::path& p, unsigned uid = nobody) {
    write_plain(p, old_content);
    REQUIRE(::chown(p.c_str(), uid, uid) == 0);
    REQUIRE(::chmod(p.c_str(), 0666) == 0);
}

/// Writes `target` with the default options (overwrite) and checks that it is refused
/// with EACCES before anything changes, naming the protection.
void check_refused(const fs::path& target, const char* protection, const aw::write_options& o = {.overwrite = true}) {
    std::error_code ec;
    CHECK(aw::write_file(target, new_content, o, ec) == aw::commit_state::unchanged);
    CHECK(ec == std::errc::permission_denied);
    const thrown_error e = catch_error([&] { aw::write_file(target, new_content, o); });
    CHECK(e.threw);
    CHECK(e.code == std::errc::permission_denied);
    CHECK(contains(e.what, protection));
    CHECK(e.path1 == target);
}

}  // namespace

TEST_CASE("protected_regular 1 and 2: a planted file in a sticky o+w directory is refused", "[sticky][root]") {
    if (!is_root()) {
        WARN("skipped: planting another user's file needs root");
        return;
    }
    for (const int level : {1, 2}) {
        INFO("fs.protected_regular=" << level);
        scoped_sysctl setting("protected_regular", level);
        if (!setting.ok()) {
            WARN("skipped: fs.protected_regular cannot be set here");
            return;
        }
        temp_dir dir;
        REQUIRE(::chmod(dir.path().c_str(), 01777) == 0);
        plant(dir / "report");
        check_refused(dir / "report", "fs.protected_regular");
        // The owner is not handed anything, with any owner mode: owner_mode::process
        // would keep the planted 0666.
        check_refused(dir / "report", "fs.protected_regular", {.overwrite = true, .owner = aw::owner_mode::process});
        CHECK(read_file(dir / "report") == old_content);
        const test::ownership after = test::ownership_of(dir / "report");
        CHECK(after.uid == nobody);
        CHECK(after.mode == 0666);
        CHECK(temp_dir::list(dir.path()) == std::vector<std::string>{"report"});
    }
}

TEST_CASE("protected_regular 0: a planted file in a sticky o+w directory is written as new", "[sticky][root]") {
    if (!is_root()) {
        WARN("skipped: planting another user's file needs root");
        return;
    }
    scoped_sysctl setting("protected_regular", 0);
    if (!setting.ok()) {
        WARN("skipped: fs.protected_regular cannot be set here");
        return;
    }
    scoped_umask umask(022);
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 01777) == 0);
    plant(dir / "report");
    aw::write_file(dir / "report", new_content, {.overwrite = true});
    CHECK(read_file(dir / "report") == new_content);
    const test::ownership after = test::ownership_of(dir / "report");
    CHECK(after.uid == 0);      // not the planter's
    CHECK(after.mode == 0644);  // 0666 & ~umask, not the planted 0666
}

TEST_CASE("a planted file in a sticky g+w directory: refused at level 2, written as new below", "[sticky][root]") {
    if (!is_root()) {
        WARN("skipped: planting another user's file needs root");
        return;
    }
    scoped_umask umask(022);
    for (const int level : {2, 1, 0}) {
        INFO("fs.protected_regular=" << level);
        scoped_sysctl setting("protected_regular", level);
        if (!setting.ok()) {
            WARN("skipped: fs.protected_regular cannot be set here");
            return;
        }
        temp_dir dir;
        REQUIRE(::chown(dir.path().c_str(), 0, nobody) == 0);
        REQUIRE(::chmod(dir.path().c_str(), 01770) == 0);
        plant(dir / "report");
        if (level == 2) {
            check_refused(dir / "report", "fs.protected_regular");
            CHECK(read_file(dir / "report") == old_content);
            CHECK(test::ownership_of(dir / "report").uid == nobody);
        } else {
            aw::write_file(dir / "report", new_content, {.overwrite = true});
            CHECK(read_file(dir / "report") == new_content);
            const test::ownership after = test::ownership_of(dir / "report");
            CHECK(after.uid == 0);
            CHECK(after.mode == 0644);
        }
        CHECK(temp_dir::list(dir.path()) == std::vector<std::string>{"report"});
    }
}

TEST_CASE("another user's file keeps its owner and mode where it was not planted", "[sticky][root]") {
    if (!is_root()) {
        WARN("skipped: another user's file needs root");
        return;
    }
    scoped_sysctl setting("protected_regular", 2);
    if (!setting.ok()) {
        WARN("skipped: fs.protected_regular cannot be set here");
        return;
    }
    temp_dir dir;
    SECTION("a sticky directory of that user") {
        REQUIRE(::chown(dir.path().c_str(), nobody, nobody) == 0);
        REQUIRE(::chmod(dir.path().c_str(), 01777) == 0);
    }
    SECTION("a world-writable directory that is not sticky") { REQUIRE(::chmod(dir.path().c_str(), 0777) == 0); }
    plant(dir / "theirs");
    REQUIRE(::chmod((dir / "theirs").c_str(), 0640) == 0);
    aw::write_file(dir / "theirs", new_content, {.overwrite = true});
    CHECK(read_file(dir / "theirs") == new_content);
    const test::ownership after = test::ownership_of(dir / "theirs");
    CHECK(after.uid == nobody);
    CHECK(after.gid == nobody);
    CHECK(after.mode == 0640);
}

TEST_CASE("follow: a planted link is not followed where protected_symlinks forbids it", "[sticky][symlinks][root]") {
    if (!is_root()) {
        WARN("skipped: planting another user's link needs root");
        return;
    }
    temp_dir dir;
    fs::create_directory(dir / "sticky");
    REQUIRE(::chmod((dir / "sticky").c_str(), 01777) == 0);
    write_plain(dir / "victim", old_content);
    REQUIRE(::chmod((dir / "victim").c_str(), 0600) == 0);
    fs::create_symlink(dir / "victim", dir / "sticky" / "cfg");
    const aw::write_options follow{.overwrite = true, .symlinks = aw::symlink_mode::follow};

    SECTION("a link of another user, protection on: EACCES, the file it names untouched") {
        scoped_sysctl setting("protected_symlinks", 1);
        if (!setting.ok()) {
            WARN("skipped: fs.protected_symlinks cannot be set here");
            return;
        }
        REQUIRE(::lchown((dir / "sticky" / "cfg").c_str(), nobody, nobody) == 0);
        check_refused(dir / "sticky" / "cfg", "fs.protected_symlinks", follow);
        CHECK(read_file(dir / "victim") == old_content);
        CHECK(fs::is_symlink(fs::symlink_status(dir / "sticky" / "cfg")));
        CHECK(temp_dir::list(dir.path()) == std::vector<std::string>{"sticky", "victim"});

        SECTION("also as the second link of a chain") {
            fs::create_symlink(dir / "sticky" / "cfg", dir / "mine");
            check_refused(dir / "mine", "fs.protected_symlinks", follow);
            CHECK(read_file(dir / "victim") == old_content);
        }
    }
    SECTION("a link of another user, protection off: followed, as the kernel follows it") {
        scoped_sysctl setting("protected_symlinks", 0);
        if (!setting.ok()) {
            WARN("skipped: fs.protected_symlinks cannot be set here");
            return;
        }
        REQUIRE(::lchown((dir / "sticky" / "cfg").c_str(), nobody, nobody) == 0);
        aw::write_file(dir / "sticky" / "cfg", new_content, follow);
        CHECK(read_file(dir / "victim") == new_content);
    }
    SECTION("a link of the directory's owner, protection on: followed") {
        scoped_sysctl setting("protected_symlinks", 1);
        if (!setting.ok()) {
            WARN("skipped: fs.protected_symlinks cannot be set here");
            return;
        }
        REQUIRE(::chown((dir / "sticky").c_str(), nobody, nobody) == 0);
        REQUIRE(::lchown((dir / "sticky" / "cfg").c_str(), nobody, nobody) == 0);
        aw::write_file(dir / "sticky" / "cfg", new_content, follow);
        CHECK(read_file(dir / "victim") == new_content);
    }
    SECTION("the caller's own link, protection on: followed") {
        scoped_sysctl setting("protected_symlinks", 1);
        if (!setting.ok()) {
            WARN("skipped: fs.protected_symlinks cannot be set here");
            return;
        }
        aw::write_file(dir / "sticky" / "cfg", new_content, follow);
        CHECK(read_file(dir / "victim") == new_content);
    }
}

TEST_CASE("replacing another user's file in a sticky directory says why the kernel refused", "[sticky][root]") {
    if (!is_root()) {
        WARN("skipped: a child process that drops to another user needs root");
        return;
    }
    // Root's file in a 1777 directory: nobody may create files there, but not replace
    // root's (the sticky rule), and the bare EPERM of the rename did not say so.
    temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 01777) == 0);
    write_plain(dir / "root-file", old_content);
    REQUIRE(::chmod((dir / "root-file").c_str(), 0644) == 0);
    const int code = as_nobody(dir.path(), W_OK | X_OK, [&] {
        const thrown_error e =
            catch_error([&] { aw::write_file(dir / "root-file", new_content, {.overwrite = true}); });
        if (!e.threw || e.code != std::errc::operation_not_permitted) return 1;
        if (!contains(e.what, "rename into place (a sticky directory")) return 2;
        if (read_file(dir / "root-file") != old_content) return 3;
        if (dir.names() != std::vector<std::string>{"root-file"}) return 4;
        return 0;
    });
    if (code == nobody_unreachable) {
        WARN("skipped: nobody cannot reach the test directory");
        return;
    }
    CHECK(code == 0);
}
