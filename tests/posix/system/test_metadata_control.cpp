// SPDX-License-Identifier: MIT
// The metadata controls, with real users and real umasks: write_options::owner_ids
// gives the new file an owner and a group (and a refusal is an error), owner_mode::require
// fails rather than hand a replaced file to the writer, write_options::create_mode is
// narrowed by the umask exactly as open(2)'s mode. The owner cases need root; the
// refused ones run in a child process with the ids of nobody (65534).
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <string>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace test;

namespace {

constexpr unsigned nobody = 65534;
constexpr unsigned users = 100;  // any group other than root's and nobody's
constexpr unsigned keep = aw::file_owner::unchanged;

void make_old(const fs::path& p, unsigned uid, unsigned gid, unsigned mode) {
    write_plain(p, old_content);
    REQUIRE(::chown(p.c_str(), uid, gid) == 0);
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

/// A directory nobody may write in (nobody's own, 0755), inside `dir` made reachable.
fs::path nobodys_directory(const temp_dir& dir) {
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const fs::path d = dir / "n";
    fs::create_directory(d);
    REQUIRE(::chown(d.c_str(), nobody, nobody) == 0);
    REQUIRE(::chmod(d.c_str(), 0755) == 0);
    return d;
}

aw::write_options with_owner(unsigned uid, unsigned gid, bool overwrite = false) {
    aw::write_options o;
    o.overwrite = overwrite;
    o.owner_ids = aw::file_owner{uid, gid};
    return o;
}

}  // namespace

TEST_CASE("owner_ids gives a new file the owner and group asked for", "[owner][root][metadata-control]") {
    if (!is_root()) {
        WARN("skipped: giving files to other users needs root");
        return;
    }
    temp_dir dir;
    const scoped_umask mask(022);
    SECTION("both ids") {
        aw::write_file(dir / "f", new_content, with_owner(nobody, nobody));
        const test::ownership s = test::ownership_of(dir / "f");
        CHECK(s.uid == nobody);
        CHECK(s.gid == nobody);
        CHECK(s.mode == 0644);
    }
    SECTION("the group only: the owner is the process's") {
        aw::write_file(dir / "f", new_content, with_owner(keep, users));
        const test::ownership s = test::ownership_of(dir / "f");
        CHECK(s.uid == 0);
        CHECK(s.gid == users);
        CHECK(s.mode == 0644);
    }
    SECTION("the owner only: the group is the process's") {
        aw::write_file(dir / "f", new_content, with_owner(nobody, keep));
        const test::ownership s = test::ownership_of(dir / "f");
        CHECK(s.uid == nobody);
        CHECK(s.gid == 0);
    }
    SECTION("neither: as without owner_ids") {
        aw::write_file(dir / "f", new_content, with_owner(keep, keep));
        CHECK(test::ownership_of(dir / "f").uid == 0);
    }
    SECTION("with mode: the set-id bits survive the fchown (the mode is set after it)") {
        aw::write_options o = with_owner(nobody, users);
        o.mode = fs::perms(06750);
        aw::write_file(dir / "f", new_content, o);
        const test::ownership s = test::ownership_of(dir / "f");
        CHECK(s.uid == nobody);
        CHECK(s.gid == users);
        CHECK(s.mode == 06750);
    }
    SECTION("replacing: ids left unchanged are the old file's (owner_mode::preserve)") {
        make_old(dir / "f", nobody, nobody, 0640);
        aw::write_file(dir / "f", new_content, with_owner(keep, users, true));
        const test::ownership s = test::ownership_of(dir / "f");
        CHECK(read_file(dir / "f") == new_content);
        CHECK(s.uid == nobody);
        CHECK(s.gid == users);
        CHECK(s.mode == 0640);
    }
    SECTION("replacing with owner_mode::process: ids left unchanged are the process's") {
        make_old(dir / "f", nobody, nobody, 0640);
        aw::write_options o = with_owner(keep, users, true);
        o.owner = aw::owner_mode::process;
        aw::write_file(dir / "f", new_content, o);
        const test::ownership s = test::ownership_of(dir / "f");
        CHECK(s.uid == 0);
        CHECK(s.gid == users);
        CHECK(s.mode == 0640);
    }
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("an owner the process may not give is an error, and nothing is left", "[owner][root][metadata-control]") {
    if (!is_root()) {
        WARN("skipped: needs root to run a writer as another user");
        return;
    }
    temp_dir dir;
    const fs::path d = nobodys_directory(dir);
    SECTION("a new file") {
        const int code = as_nobody(d, W_OK | X_OK, [&] {
            return failure_check(d / "f", with_owner(0, 0), std::errc::operation_not_permitted,
                                 "set owner of temporary file (write_options::owner_ids)");
        });
        if (code == nobody_unreachable) return;
        CHECK(code == 0);
        CHECK_FALSE(fs::exists(d / "f"));
    }
    SECTION("a replaced file") {
        make_old(d / "f", nobody, nobody, 0644);
        const int code = as_nobody(d, W_OK | X_OK, [&] {
            return failure_check(d / "f", with_owner(keep, users, true), std::errc::operation_not_permitted,
                                 "write_options::owner_ids");
        });
        if (code == nobody_unreachable) return;
        CHECK(code == 0);
        CHECK(read_file(d / "f") == old_content);
        CHECK(test::ownership_of(d / "f").gid == nobody);
    }
    CHECK(temp_dir::list(d).size() == (fs::exists(d / "f") ? 1u : 0u));
}

TEST_CASE("owner_mode::require fails rather than hand a replaced file to the writer",
          "[owner][root][metadata-control]") {
    if (!is_root()) {
        WARN("skipped: needs root to run a writer as another user");
        return;
    }
    temp_dir dir;
    const fs::path d = nobodys_directory(dir);
    make_old(d / "f", 0, 0, 0644);
    SECTION("nobody replacing root's file: permission denied, the target as it was") {
        const int code = as_nobody(d, W_OK | X_OK, [&] {
            return failure_check(d / "f", {.overwrite = true, .owner = aw::owner_mode::require},
                                 std::errc::operation_not_permitted,
                                 "set owner of temporary file (owner_mode::require");
        });
        if (code == nobody_unreachable) return;
        CHECK(code == 0);
        CHECK(read_file(d / "f") == old_content);
        const test::ownership s = test::ownership_of(d / "f");
        CHECK(s.uid == 0);
        CHECK(s.gid == 0);
        CHECK(temp_dir::list(d) == std::vector<std::string>{"f"});
    }
    SECTION("with owner_mode::preserve the same write hands the file to nobody") {
        const int code = as_nobody(d, W_OK | X_OK, [&] {
            std::error_code ec;
            aw::write_file(d / "f", new_content, {.overwrite = true}, ec);
            return ec ? 1 : 0;
        });
        if (code == nobody_unreachable) return;
        CHECK(code == 0);
        CHECK(read_file(d / "f") == new_content);
        CHECK(test::ownership_of(d / "f").uid == nobody);
    }
    SECTION("root may keep any owner: require succeeds") {
        make_old(d / "g", nobody, users, 0640);
        aw::write_file(d / "g", new_content, {.overwrite = true, .owner = aw::owner_mode::require});
        const test::ownership s = test::ownership_of(d / "g");
        CHECK(s.uid == nobody);
        CHECK(s.gid == users);
        CHECK(s.mode == 0640);
    }
    SECTION("a file planted in a sticky directory: its owner is never kept, so require refuses") {
        // Refused by fs.protected_regular, or, where that is off, because the file is
        // written as new: permission_denied either way, the target as it was.
        const fs::path sticky = dir / "t";
        fs::create_directory(sticky);
        REQUIRE(::chmod(sticky.c_str(), 01777) == 0);
        make_old(sticky / "p", nobody, nobody, 0644);
        const thrown_error e = catch_error(
            [&] { aw::write_file(sticky / "p", new_content, {.overwrite = true, .owner = aw::owner_mode::require}); });
        CHECK(e.threw);
        CHECK(e.code == std::errc::permission_denied);
        CHECK(e.what.find("sticky directory") != std::string::npos);
        CHECK(read_file(sticky / "p") == old_content);
        CHECK(temp_dir::list(sticky) == std::vector<std::string>{"p"});
    }
    SECTION("nobody replacing its own file: nothing to refuse") {
        make_old(d / "h", nobody, nobody, 0600);
        const int code = as_nobody(d, W_OK | X_OK, [&] {
            std::error_code ec;
            aw::write_file(d / "h", new_content, {.overwrite = true, .owner = aw::owner_mode::require}, ec);
            return ec ? 1 : 0;
        });
        if (code == nobody_unreachable) return;
        CHECK(code == 0);
        CHECK(read_file(d / "h") == new_content);
        CHECK(test::ownership_of(d / "h").mode == 0600);
    }
}

TEST_CASE("create_mode is narrowed by the umask as open(2)'s mode is", "[mode][metadata-control]") {
    temp_dir dir;
    for (const unsigned mask : {0u, 02u, 022u, 027u, 077u}) {
        const scoped_umask scoped(mask);
        for (const unsigned cm : {0600u, 0640u, 0644u, 0664u, 0755u, 0777u, 0400u}) {
            INFO("umask " << std::oct << mask << ", create_mode " << cm);
            fs::remove(dir / "f");
            aw::write_file(dir / "f", new_content, {.create_mode = fs::perms(cm)});
            CHECK(mode_of(dir / "f") == (cm & ~mask));
            // The same on a replace with metadata_mode::fresh (the file counts as new).
            aw::write_file(dir / "f", new_content,
                           {.overwrite = true, .metadata = aw::metadata_mode::fresh, .create_mode = fs::perms(cm)});
            CHECK(mode_of(dir / "f") == (cm & ~mask));
            if (is_root() && cm != 0400u) {
                // With another group, created narrower and set after the fchown: the
                // final mode is still create_mode narrowed by the umask (read, not set).
                fs::remove(dir / "f");
                aw::write_options o = with_owner(keep, users);
                o.create_mode = fs::perms(cm);
                aw::write_file(dir / "f", new_content, o);
                CHECK(mode_of(dir / "f") == (cm & ~mask));
                CHECK(test::ownership_of(dir / "f").gid == users);
                CHECK(current_umask() == static_cast<int>(mask));
            }
        }
    }
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("create_mode leaves a replaced file its mode", "[mode][metadata-control]") {
    temp_dir dir;
    const scoped_umask mask(022);
    write_plain(dir / "f", old_content);
    fs::permissions(dir / "f", fs::perms(0600));
    aw::write_file(dir / "f", new_content, {.overwrite = true, .create_mode = fs::perms(0644)});
    CHECK(read_file(dir / "f") == new_content);
    CHECK(mode_of(dir / "f") == 0600);
    // A replaced symbolic link counts as a missing file: create_mode applies.
    fs::create_symlink("elsewhere", dir / "l");
    aw::write_file(dir / "l", new_content, {.overwrite = true, .create_mode = fs::perms(0640)});
    CHECK(mode_of(dir / "l") == 0640);
}

TEST_CASE("create_mode with mode, or with other bits than 0777, is invalid_argument", "[mode][metadata-control]") {
    temp_dir dir;
    write_plain(dir / "f", old_content);
    const auto check_refused = [&](const aw::write_options& o, const std::string& step) {
        const thrown_error e = catch_error([&] { aw::write_file(dir / "f", new_content, o); });
        CHECK(e.threw);
        CHECK(e.code == std::errc::invalid_argument);
        CHECK(e.what.find(step) != std::string::npos);
        CHECK(e.path1 == dir / "f");
        CHECK(read_file(dir / "f") == old_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    };
    check_refused({.overwrite = true, .mode = fs::perms(0644), .create_mode = fs::perms(0644)},
                  "mode and create_mode both given");
    check_refused({.overwrite = true, .create_mode = fs::perms(04755)}, "create_mode takes the permission bits 0777");
    check_refused({.overwrite = true, .create_mode = fs::perms(01777)}, "create_mode takes the permission bits 0777");
}
