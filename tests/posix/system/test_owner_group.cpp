// SPDX-License-Identifier: MIT
// owner_mode::preserve keeps the old file's group wherever the process may set it, also
// where a new file gets another group than the process's at exec: in a set-group-ID
// directory (the directory's group) and after setegid(2) (the group in force now). Root
// only: the files and directories belong to other users and groups, and the writes
// that change ids run in a child process.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace test;

namespace {

constexpr unsigned nobody = 65534;
constexpr unsigned users = 100;  // any group other than root's and nobody's

/// A file with the old content, owned by uid:gid, with `mode`.
void make_old(const fs::path& p, unsigned uid, unsigned gid, unsigned mode) {
    write_plain(p, old_content);
    REQUIRE(::chown(p.c_str(), uid, gid) == 0);
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

/// A set-group-ID directory of nobody:users, mode 2770 (2775 so that nobody's child may
/// reach it through the test directory).
fs::path setgid_directory(const temp_dir& dir) {
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const fs::path sg = dir / "sg";
    fs::create_directory(sg);
    REQUIRE(::chown(sg.c_str(), nobody, users) == 0);
    REQUIRE(::chmod(sg.c_str(), 02770) == 0);
    return sg;
}

}  // namespace

TEST_CASE("in a set-group-ID directory a replaced file keeps its group, not the directory's", "[owner][root]") {
    if (!is_root()) {
        WARN("skipped: a directory of another group needs root");
        return;
    }
    temp_dir dir;
    const fs::path sg = setgid_directory(dir);

    SECTION("root replacing root:root 0640") {
        make_old(sg / "r", 0, 0, 0640);
        aw::write_file(sg / "r", new_content, {.overwrite = true});
        CHECK(read_file(sg / "r") == new_content);
        const test::ownership after = test::ownership_of(sg / "r");
        CHECK(after.uid == 0);
        CHECK(after.gid == 0);  // not users: its members must not read it
        CHECK(after.mode == 0640);
    }
    SECTION("nobody replacing nobody:nogroup 0640, a group nobody may set") {
        make_old(sg / "p", nobody, nobody, 0640);
        const int code = as_nobody(sg, W_OK | X_OK, [&] {
            std::error_code ec;
            aw::write_file(sg / "p", new_content, {.overwrite = true}, ec);
            return ec ? 1 : 0;
        });
        if (code == nobody_unreachable) {
            WARN("skipped: the test directory is not reachable for uid 65534");
            return;
        }
        CHECK(code == 0);
        CHECK(read_file(sg / "p") == new_content);
        const test::ownership after = test::ownership_of(sg / "p");
        CHECK(after.uid == nobody);
        CHECK(after.gid == nobody);
        CHECK(after.mode == 0640);
    }
    SECTION("until its group is set, the new file gives the directory's group nothing") {
        // The kernel gives the new file the directory's group (users); the old file gave
        // users nothing (0640 root:root, and others nothing). A member of users who
        // opened the temporary file in that moment would keep the descriptor, and read
        // the data written later.
        make_old(sg / "w", 0, 0, 0640);
        struct first_look : aw::syscall_hook {
            unsigned gid = 0, mode = 0;
            bool seen = false;
            int before(aw::syscall_info& info) noexcept override {
                if (info.op == aw::sysop::stat && info.file != aw::invalid_handle && !seen) {
                    struct ::stat st {};
                    if (::fstat(info.file, &st) == 0) {
                        seen = true;
                        gid = st.st_gid;
                        mode = static_cast<unsigned>(st.st_mode) & 07777u;
                    }
                }
                return 0;
            }
        } hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(sg / "w", new_content, {.overwrite = true});
        }
        REQUIRE(hook.seen);
        CHECK(hook.gid == users);
        CHECK((hook.mode & 0077u) == 0);
        const test::ownership after = test::ownership_of(sg / "w");
        CHECK(after.gid == 0);
        CHECK(after.mode == 0640);
    }
    SECTION("a file of the directory's group keeps it") {
        make_old(sg / "g", 0, users, 0640);
        aw::write_file(sg / "g", new_content, {.overwrite = true});
        const test::ownership after = test::ownership_of(sg / "g");
        CHECK(after.uid == 0);
        CHECK(after.gid == users);
        CHECK(after.mode == 0640);
    }
    CHECK(temp_dir::list(sg).size() == 1);
}

TEST_CASE("after setegid a replaced file keeps its group, not the one in force", "[owner][root]") {
    if (!is_root()) {
        WARN("skipped: changing the effective group needs root");
        return;
    }
    temp_dir dir;
    make_old(dir / "f", 0, 0, 0640);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setegid(users) != 0) ::_exit(70);
        std::error_code ec;
        aw::write_file(dir / "f", new_content, {.overwrite = true}, ec);
        ::_exit(ec ? 1 : 0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(read_file(dir / "f") == new_content);
    const test::ownership after = test::ownership_of(dir / "f");
    CHECK(after.uid == 0);
    CHECK(after.gid == 0);
    CHECK(after.mode == 0640);
}
