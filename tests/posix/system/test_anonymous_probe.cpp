// SPDX-License-Identifier: MIT
// temp::anonymous says "not supported" when it makes its file, not at the commit, where
// the file could never be linked: no /proc mounted, and linkat(2) with AT_EMPTY_PATH
// refused (Linux before 6.10 without CAP_DAC_READ_SEARCH). first_of then falls back to
// a named file before any data is written.
//
// Each case runs in a child process of its own (the answer is asked once per process
// and remembered, so the parent never makes an anonymous file): the child unmounts /proc
// in a private mount namespace, and emulates the older kernel's rule with a seccomp
// filter that answers ENOENT to every linkat(2) with AT_EMPTY_PATH. Root only (mounts).
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstddef>
#include <string>
#include <system_error>

#if defined(__linux__)
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "support.hpp"

#if ATOMICWRITES_HAS_O_TMPFILE && defined(__linux__)
namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

using anonymous_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous>;
using falling_back_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic,
                                                    aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>;

// Exit statuses of the child: 0 for success, else the first check that failed.
constexpr int could_not_set_up = 90;

/// Makes every linkat(2) with AT_EMPTY_PATH in this process fail with ENOENT, as Linux
/// before 6.10 does for a caller without CAP_DAC_READ_SEARCH.
bool refuse_empty_path_links() {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_linkat, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, AT_EMPTY_PATH, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOENT),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

/// Hides /proc from this process only (a private mount namespace).
bool hide_proc() {
    return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           ::umount2("/proc", MNT_DETACH) == 0 && ::access("/proc/self/fd", F_OK) != 0;
}

enum class world { no_proc_old_kernel, no_proc, old_kernel };

/// Runs `check` (returning an exit status) in a child set up as `w` says; returns its
/// exit status, or -1.
template <class F>
int in_child(world w, F&& check) {
    const pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (w != world::old_kernel && !hide_proc()) ::_exit(could_not_set_up);
        if (w != world::no_proc && !refuse_empty_path_links()) ::_exit(could_not_set_up);
        int code = 0;
        try {
            code = check();
        } catch (...) {
            code = 80;
        }
        ::_exit(code);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/// Writes `target` with `Writer`: 0 on success with the content in place; 1 if the
/// write failed at `expected_step` with ENOTSUP before any data went in, 2 for any
/// other failure, 3 for a wrong result.
template <class Writer>
int write_and_report(const fs::path& target, const char* expected_step) {
    std::error_code ec;
    Writer w(target, {.overwrite = true}, ec);
    if (ec) {
        const bool expected = expected_step != nullptr && w.failed_step() != nullptr &&
                              std::string(w.failed_step()) == expected_step && ec == std::errc::not_supported &&
                              aw::is_not_supported(ec);
        return expected && test::temp_dir::list(target.parent_path()).size() == 1 ? 1 : 2;
    }
    w.write("new");
    w.commit(ec);
    if (ec) return 2;
    return test::read_file(target) == "new" && test::temp_dir::list(target.parent_path()).size() == 1 ? 0 : 3;
}

}  // namespace

TEST_CASE("temp::anonymous is not supported at creation without /proc where AT_EMPTY_PATH links are refused",
          "[temp][anonymous][environment]") {
    if (!test::is_root()) {
        WARN("skipped: hiding /proc in a mount namespace needs root");
        return;
    }
    test::temp_dir dir;
    test::write_plain(dir / "f", "old");
    // Before: the file was made, all data written, and the commit failed at "name
    // temporary file" or "link into place"; first_of had no chance to fall back.
    CHECK(in_child(world::no_proc_old_kernel,
                   [&] { return write_and_report<anonymous_writer>(dir / "f", "create temporary file"); }) == 1);
    CHECK(test::read_file(dir / "f") == "old");
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("first_of<anonymous, mkstemp> falls back to a named file without /proc on an older kernel",
          "[temp][anonymous][environment]") {
    if (!test::is_root()) {
        WARN("skipped: hiding /proc in a mount namespace needs root");
        return;
    }
    test::temp_dir dir;
    test::write_plain(dir / "f", "old");
    CHECK(in_child(world::no_proc_old_kernel,
                   [&] { return write_and_report<falling_back_writer>(dir / "f", nullptr); }) == 0);
    CHECK(test::read_file(dir / "f") == "new");
    // A new file too (no overwrite: linked straight to the target when anonymous).
    CHECK(in_child(world::no_proc_old_kernel, [&] {
              std::error_code ec;
              falling_back_writer w(dir / "g", {}, ec);
              if (ec) return 2;
              w.write("g");
              w.commit(ec);
              return ec ? 2 : 0;
          }) == 0);
    CHECK(test::read_file(dir / "g") == "g");
    CHECK(dir.names() == std::vector<std::string>{"f", "g"});
}

TEST_CASE("temp::anonymous still works where only one of /proc and AT_EMPTY_PATH links is missing",
          "[temp][anonymous][environment]") {
    if (!test::is_root()) {
        WARN("skipped: hiding /proc in a mount namespace needs root");
        return;
    }
    test::temp_dir dir;
    test::write_plain(dir / "f", "old");
    // /proc present: linked through /proc/self/fd, whatever the kernel allows otherwise.
    CHECK(in_child(world::old_kernel, [&] { return write_and_report<anonymous_writer>(dir / "f", nullptr); }) == 0);
    CHECK(test::read_file(dir / "f") == "new");
    // No /proc, and a kernel (or capability) that allows AT_EMPTY_PATH: this kernel as
    // root has CAP_DAC_READ_SEARCH, and 6.10+ allows it for everyone.
    test::write_plain(dir / "f", "old");
    CHECK(in_child(world::no_proc, [&] { return write_and_report<anonymous_writer>(dir / "f", nullptr); }) == 0);
    CHECK(test::read_file(dir / "f") == "new");
    CHECK(dir.names() == std::vector<std::string>{"f"});
}
#endif
