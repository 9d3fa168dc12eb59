// SPDX-License-Identifier: MIT
// A directory handle opened with name_scope::beneath is a boundary: names that lead out
// of it ("..", absolute links, links that lead out) are refused before anything is made,
// and names that stay beneath it work. Both routes are proven on real directories: the
// kernel's openat2(2) with RESOLVE_BENEATH, and, in a child whose seccomp filter answers
// openat2 with ENOSYS (as an old kernel or a container's filter does), the walk.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstddef>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>
#if ATOMICWRITES_LINUX
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#endif

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

/// A handle on `inside`, with a sibling directory `outside` that holds a file the
/// names below try to reach, and some links.
struct boundary {
    test::temp_dir dir;
    fs::path inside = dir / "inside";
    fs::path outside = dir / "outside";
    boundary() {
        fs::create_directories(inside / "sub");
        fs::create_directory(outside);
        test::write_plain(outside / "secret", "outside\n");
        fs::create_directory_symlink(outside, inside / "absolute-out");  // an absolute link out
        fs::create_directory_symlink("../outside", inside / "relative-out");
        fs::create_directory_symlink("sub", inside / "alias");  // stays beneath
        fs::create_symlink("../../outside/secret", inside / "sub" / "to-secret");
        fs::create_symlink(fs::absolute(outside / "secret"), inside / "abs-secret");
        fs::create_symlink("sub/file", inside / "to-sub-file");
    }
    /// Nothing outside changed, and no temporary file was left anywhere.
    void check_untouched() const {
        CHECK(test::read_file(outside / "secret") == "outside\n");
        CHECK(test::temp_dir::list(outside) == std::vector<std::string>{"secret"});
        CHECK(test::temp_dir::list(inside / "sub").size() <= 2);  // to-secret and, at most, file
        for (const auto& e : fs::recursive_directory_iterator(dir.path()))
            CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
    }
};

/// What a write of `name` through a confining handle on `b.inside` threw (or not).
test::thrown_error write_beneath(const boundary& b, const fs::path& name,
                                 aw::symlink_mode links = aw::symlink_mode::replace) {
    aw::directory d(b.inside, aw::name_scope::beneath);
    return test::catch_error([&] { aw::write_file(d, name, "new\n", {.overwrite = true, .symlinks = links}); });
}

/// Whether this kernel resolves names beneath a directory itself (openat2, Linux 5.6).
bool kernel_confines() {
#if ATOMICWRITES_LINUX && defined(SYS_openat2)
    errno = 0;
    const long r = ::syscall(SYS_openat2, AT_FDCWD, ".", nullptr, 0);
    return !(r < 0 && (errno == ENOSYS || errno == EPERM));
#else
    return false;
#endif
}

/// The checks both routes share: escapes refused with the named step and nothing made,
/// names that stay beneath written. `links_beneath_followed`: the route follows a link
/// among a name's directories that stays beneath (openat2 does, the walk refuses it).
void check_boundary(bool links_beneath_followed) {
    SECTION("\"..\" out of the handle is refused, with the step named and nothing made") {
        boundary b;
        for (const char* name : {"../outside/secret", "sub/../../outside/secret", "sub/../../inside/../outside/x"}) {
            INFO(name);
            const auto e = write_beneath(b, name);
            REQUIRE(e.threw);
            CHECK(e.code == std::errc::cross_device_link);
            CHECK_THAT(e.what, Catch::Contains("leads out of the directory handle"));
            CHECK(e.path1 == b.inside / name);
        }
        b.check_untouched();
    }
    SECTION("\"..\" that stays beneath is followed") {
        boundary b;
        CHECK_FALSE(write_beneath(b, "sub/../sub/file").threw);
        CHECK(test::read_file(b.inside / "sub" / "file") == "new\n");
    }
    SECTION("a directory link that leads out is refused") {
        boundary b;
        for (const char* name : {"absolute-out/secret", "relative-out/secret"}) {
            INFO(name);
            const auto e = write_beneath(b, name);
            REQUIRE(e.threw);
            // openat2 says it leads out; the walk refuses every link on the way.
            CHECK((e.code == std::errc::cross_device_link || e.code == std::errc::too_many_symbolic_link_levels));
            if (links_beneath_followed) CHECK(e.code == std::errc::cross_device_link);
        }
        b.check_untouched();
    }
    SECTION("a directory link that stays beneath: followed by the kernel, refused by the walk") {
        boundary b;
        const auto e = write_beneath(b, "alias/file");
        if (links_beneath_followed) {
            CHECK_FALSE(e.threw);
            CHECK(test::read_file(b.inside / "sub" / "file") == "new\n");
        } else {
            REQUIRE(e.threw);
            CHECK(e.code == std::errc::too_many_symbolic_link_levels);
            CHECK_THAT(e.what, Catch::Contains("symbolic link on the way"));
        }
    }
    SECTION("with symlink_mode::follow, a target link that leads out is refused") {
        boundary b;
        for (const char* name : {"sub/to-secret", "abs-secret"}) {
            INFO(name);
            const auto e = write_beneath(b, name, aw::symlink_mode::follow);
            REQUIRE(e.threw);
            CHECK(e.code == std::errc::cross_device_link);
            CHECK_THAT(e.what, Catch::Contains("follow symbolic link"));
        }
        b.check_untouched();
        CHECK(fs::is_symlink(b.inside / "sub" / "to-secret"));
    }
    SECTION("with symlink_mode::follow, a target link that stays beneath is followed") {
        boundary b;
        CHECK_FALSE(write_beneath(b, "to-sub-file", aw::symlink_mode::follow).threw);
        CHECK(test::read_file(b.inside / "sub" / "file") == "new\n");
        CHECK(fs::is_symlink(b.inside / "to-sub-file"));
    }
    SECTION("a link at the target itself is replaced, as always: it never leads the write out") {
        boundary b;
        CHECK_FALSE(write_beneath(b, "abs-secret").threw);
        CHECK(test::read_file(b.inside / "abs-secret") == "new\n");
        CHECK_FALSE(fs::is_symlink(b.inside / "abs-secret"));
        b.check_untouched();
    }
    SECTION("an absolute name is refused as with any handle") {
        boundary b;
        const auto e = write_beneath(b, b.outside / "secret");
        REQUIRE(e.threw);
        CHECK(e.code == std::errc::invalid_argument);
        b.check_untouched();
    }
}

}  // namespace

TEST_CASE("a confining directory handle keeps names beneath it (the kernel's openat2 where it has one)",
          "[confinement][directory]") {
    if (!test::can_make_symlinks(test::base_dir())) {
        WARN("skipped: this filesystem has no symbolic links");
        return;
    }
    check_boundary(kernel_confines());
}

TEST_CASE("a handle without confinement resolves names as openat(2) does (the default)", "[confinement][directory]") {
    if (!test::can_make_symlinks(test::base_dir())) {
        WARN("skipped: this filesystem has no symbolic links");
        return;
    }
    boundary b;
    aw::directory d(b.inside);
    CHECK(d.scope() == aw::name_scope::anywhere);
    aw::write_file(d, "../outside/other", "new\n");
    CHECK(test::read_file(b.outside / "other") == "new\n");
    aw::write_file(d, "relative-out/third", "new\n");
    CHECK(test::read_file(b.outside / "third") == "new\n");
}

TEST_CASE("a confining handle keeps its scope when moved", "[confinement][directory]") {
    test::temp_dir dir;
    aw::directory a(dir.path(), aw::name_scope::beneath);
    aw::directory b(std::move(a));
    CHECK(b.scope() == aw::name_scope::beneath);
    aw::directory c;
    c = std::move(b);
    CHECK(c.scope() == aw::name_scope::beneath);
    std::error_code ec;
    aw::directory e(dir.path(), aw::name_scope::beneath, ec);
    CHECK_FALSE(ec);
    CHECK(e.scope() == aw::name_scope::beneath);
}

TEST_CASE("a confining handle's open fails cleanly at every error", "[confinement][faults]") {
    test::temp_dir dir;
    fs::create_directory(dir / "sub");
    test::write_plain(dir / "sub" / "file", "old\n");
    aw::directory d(dir.path(), aw::name_scope::beneath);
    for (int error : {EACCES, ENOENT, ENOTDIR, EXDEV, ELOOP, EMFILE, ENOMEM, EIO}) {
        INFO("errno " << error);
        test::scripted_hook hook;
        hook.fail_every(sysop::open_beneath, error);
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(d, "sub/file", "new\n", {.overwrite = true}, ec);
        }
        CHECK(ec.value() == error);
        CHECK(hook.count(sysop::open_beneath) == (error == EACCES ? 2u : 1u));  // EACCES: then search-only
        CHECK(hook.count(sysop::create_file) + hook.count(sysop::create_anonymous) == 0);
        CHECK(test::read_file(dir / "sub" / "file") == "old\n");
        CHECK(test::temp_dir::list(dir / "sub") == std::vector<std::string>{"file"});
    }
    SECTION("a bare name costs nothing more") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(d, "top", "new\n");
        }
        CHECK(hook.count(sysop::open_beneath) == 0);
        CHECK(hook.count(sysop::open_directory) == 0);
    }
    SECTION("a name in a subdirectory: one open_beneath in place of the openat") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(d, "sub/file", "new\n", {.overwrite = true});
        }
        CHECK(hook.count(sysop::open_beneath) == 1);
        CHECK(hook.count(sysop::open_directory) == 0);
        CHECK(test::read_file(dir / "sub" / "file") == "new\n");
    }
}

#if ATOMICWRITES_LINUX && defined(SYS_openat2) && defined(SECCOMP_RET_ERRNO)
TEST_CASE("without openat2 (a seccomp filter answers ENOSYS) the walk keeps names beneath the handle",
          "[confinement][directory]") {
    if (!test::can_make_symlinks(test::base_dir())) {
        WARN("skipped: this filesystem has no symbolic links");
        return;
    }
    // Catch2 runs in the child as it does here; the child reports through its status.
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog program = {static_cast<unsigned short>(std::size(filter)), filter};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
            ::_exit(77);
        if (kernel_confines()) ::_exit(78);
        int failed = 0;
        auto check = [&failed](bool ok) { failed += ok ? 0 : 1; };
        {
            boundary b;
            for (const char* name : {"../outside/secret", "sub/../../outside/secret"}) {
                const auto e = write_beneath(b, name);
                check(e.threw && e.code == std::errc::cross_device_link);
            }
            for (const char* name : {"absolute-out/secret", "relative-out/secret", "alias/file"}) {
                const auto e = write_beneath(b, name);
                check(e.threw && e.code == std::errc::too_many_symbolic_link_levels);
            }
            for (const char* name : {"sub/to-secret", "abs-secret"}) {
                const auto e = write_beneath(b, name, aw::symlink_mode::follow);
                check(e.threw && e.code == std::errc::cross_device_link);
            }
            check(!write_beneath(b, "sub/../sub/file").threw);
            check(test::read_file(b.inside / "sub" / "file") == "new\n");
            check(!write_beneath(b, "to-sub-file", aw::symlink_mode::follow).threw);
            check(test::read_file(b.outside / "secret") == "outside\n");
            check(test::temp_dir::list(b.outside) == std::vector<std::string>{"secret"});
        }
        ::_exit(failed == 0 ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        WARN("skipped: no seccomp filter could be installed here");
        return;
    }
    CHECK(WEXITSTATUS(status) == 0);
}
#endif
