// SPDX-License-Identifier: MIT
// Creating a file without replacing (overwrite = false, the default) on a filesystem
// with neither RENAME_NOREPLACE nor hard links (FAT, exFAT, many FUSE filesystems) cannot
// be done atomically: the write fails with an error that says so, with the link's errno,
// and leaves nothing behind. Checked through the seam with the errnos those filesystems
// give (renameat2: EINVAL, ENOSYS or EOPNOTSUPP; linkat: EPERM), and on a real FUSE
// filesystem without hard links (fuse-zip) where it can be mounted.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "support.hpp"

#if ATOMICWRITES_HAS_RENAME_NOREPLACE
namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("no-overwrite creation without RENAME_NOREPLACE and hard links fails saying no atomic step exists",
          "[commit][filesystems]") {
    test::temp_dir dir;
    const struct {
        int refused;
        const char* named;
    } cases[] = {{EINVAL, "neither RENAME_NOREPLACE (EINVAL) nor hard links"},
                 {EOPNOTSUPP, "neither RENAME_NOREPLACE (EOPNOTSUPP) nor hard links"},
                 {ENOSYS, "RENAME_NOREPLACE answered ENOSYS and hard links are refused"}};
    for (const auto& c : cases) {
        for (int link_error : {EPERM, EOPNOTSUPP}) {
            INFO("renameat2: " << c.refused << ", linkat: " << link_error);
            test::scripted_hook hook;
            hook.fail_every(sysop::rename_noreplace, c.refused).fail_every(sysop::link, link_error);
            test::thrown_error e;
            {
                aw::scoped_syscall_hook installed(hook);
                e = test::catch_error([&] { aw::write_file(dir / "new", "data"); });
            }
            REQUIRE(e.threw);
            // The original errno, and why: before, "link into place: Operation not
            // permitted", which named neither cause.
            CHECK(e.code.value() == link_error);
            CHECK(e.code.category() == std::system_category());
            CHECK(contains(e.what, "no atomic no-replace step exists here"));
            CHECK(contains(e.what, c.named));
            CHECK(contains(e.what, "overwrite = true"));
            CHECK(dir.names().empty());  // nothing published, nothing left behind
        }
    }
    // The error_code form, and commit::renameat2 chosen explicitly, say the same.
    test::scripted_hook hook;
    hook.fail_every(sysop::rename_noreplace, EINVAL).fail_every(sysop::link, EPERM);
    std::error_code ec;
    aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2> w(dir / "new", {}, ec);
    REQUIRE(!ec);
    w.write("data");
    {
        aw::scoped_syscall_hook installed(hook);
        CHECK(w.commit(ec) == aw::commit_state::unchanged);
    }
    CHECK(ec.value() == EPERM);
    CHECK(contains(w.failed_step(), "no atomic no-replace step exists here"));
    CHECK(dir.names().empty());
}

TEST_CASE("other link errors after a refused RENAME_NOREPLACE keep their own meaning", "[commit][filesystems]") {
    test::temp_dir dir;
    for (int link_error : {EEXIST, EMLINK, EACCES, ENOSPC}) {
        INFO("linkat: " << link_error);
        test::scripted_hook hook;
        hook.fail_every(sysop::rename_noreplace, EINVAL).fail_every(sysop::link, link_error);
        test::thrown_error e;
        {
            aw::scoped_syscall_hook installed(hook);
            e = test::catch_error([&] { aw::write_file(dir / "new", "data"); });
        }
        REQUIRE(e.threw);
        CHECK(e.code.value() == link_error);
        CHECK(contains(e.what, "link into place"));
        CHECK(!contains(e.what, "no atomic no-replace step"));
        CHECK(dir.names().empty());
    }
}

TEST_CASE("no-overwrite creation on a real FUSE filesystem without hard links says why it fails",
          "[commit][filesystems][fuse]") {
    if (!test::is_root() || ::access("/dev/fuse", R_OK | W_OK) != 0 ||
        std::system("command -v fuse-zip >/dev/null") != 0) {
        WARN("skipped: needs root, /dev/fuse and fuse-zip (scripts/install-deps fuse)");
        return;
    }
    test::temp_dir dir;
    const fs::path mnt = dir / "m";
    fs::create_directory(mnt);
    const std::string mount = "fuse-zip '" + (dir / "a.zip").string() + "' '" + mnt.string() + "' 2>/dev/null";
    if (std::system(mount.c_str()) != 0) {
        WARN("skipped: fuse-zip cannot mount here");
        return;
    }
    struct unmount {
        fs::path where;
        ~unmount() { (void)std::system(("fusermount -u '" + where.string() + "' 2>/dev/null").c_str()); }
    } unmounting{mnt};

    const test::thrown_error e = test::catch_error([&] { aw::write_file(mnt / "new.txt", "data"); });
    REQUIRE(e.threw);
    CHECK(e.code.value() == EPERM);
    CHECK(contains(e.what, "no atomic no-replace step exists here"));
    CHECK(test::temp_dir::list(mnt).empty());
    // Replacing is atomic there (rename), and works.
    aw::write_file(mnt / "new.txt", "data", {.overwrite = true});
    CHECK(test::read_file(mnt / "new.txt") == "data");
}
#endif
