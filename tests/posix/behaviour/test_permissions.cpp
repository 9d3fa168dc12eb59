// SPDX-License-Identifier: MIT
// Modes and owners: a new file gets what a plain open(2) would give it, a replaced file
// keeps its mode (and owner, where the process may set it), write_options::mode sets
// the mode exactly, the temporary file is never more permissive than the final file,
// set-id bits never reach a file whose owner could not be kept, and the umask is never
// changed.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

using names = std::vector<std::string>;

/// An id no account on a test machine uses, and the conventional "nobody".
constexpr unsigned other_id = 4242;
constexpr unsigned nobody = 65534;

// --- the writers under test -----------------------------------------------------------

/// One policy combination, behind plain functions: the general kind, and a write that
/// shows its open temporary file.
struct writer_kind : test::writer_kind {
    /// Opens a writer for `target`, hands its open temporary file to `inspect` (if set),
    /// writes `data` and commits.
    void (*write_inspected)(const fs::path& target, std::string_view data, const aw::write_options& options,
                            const std::function<void(int)>& inspect);
};

template <class W>
void write_with(const fs::path& target, std::string_view data, const aw::write_options& options,
                const std::function<void(int)>& inspect) {
    W w(target, options);
    if (inspect) inspect(w.native_handle());
    w.write(data);
    w.commit();
}

template <class W>
writer_kind kind_of() {
    return {test::kind_of<W>(), &write_with<W>};
}

/// Every kind of temporary file (named, random, anonymous, with fallback) and every
/// way of publishing it.
using mode_writers =
    test::type_list<aw::atomic_writer,
                    aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous>,
                    aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::named>,
                    aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::anonymous>,
                    aw::basic_atomic_writer<aw::sync::fdatasync, aw::commit::renameat2,
                                            aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>,
                    aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::mkstemp>>;

/// The overwrite value to create a new file with.
bool new_file_overwrite(const writer_kind& k) { return k.new_file_overwrite(); }

/// The mode a plain open(O_CREAT, 0666) gives a new file in `dir` under the current umask.
unsigned plain_open_mode(const fs::path& dir) {
    const fs::path p = dir / "plain-open";
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    REQUIRE(fd >= 0);
    const unsigned mode = test::mode_of_fd(fd);
    ::close(fd);
    fs::remove(p);
    return mode;
}

/// Sets an exact mode on a path (chmod(2): the umask does not apply).
void set_mode(const fs::path& p, unsigned mode) { REQUIRE(::chmod(p.c_str(), static_cast<mode_t>(mode)) == 0); }

struct ids {
    unsigned uid;
    unsigned gid;
};
ids owner_of(const fs::path& p) {
    struct ::stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return {static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid)};
}

/// Permission bits of `actual` that `limit` does not have.
unsigned wider_bits(unsigned actual, unsigned limit) { return actual & ~limit & 07777u; }

/// Records the modes the library asks for: at creation and at every fchmod, in order,
/// and whether an fchown came before the last fchmod.
class mode_hook : public aw::syscall_hook {
public:
    std::vector<unsigned> created;  // the mode given to open(2), before the umask
    std::vector<unsigned> chmods;
    int chowns = 0;
    bool chown_after_chmod = false;

    void after(const aw::syscall_info& info, int error) noexcept override {
        if (error != 0) return;
        switch (info.op) {
            case aw::sysop::create_file:
            case aw::sysop::create_anonymous:
                created.push_back(static_cast<unsigned>(info.size));
                break;
            case aw::sysop::chmod:
                chmods.push_back(static_cast<unsigned>(info.size));
                break;
            case aw::sysop::chown:
                ++chowns;
                if (!chmods.empty()) chown_after_chmod = true;
                break;
            default:
                break;
        }
    }
};

// --- the checks ---------------------------------------------------------------------------

void new_files_get_what_open_gives(const writer_kind& k) {
    for (unsigned mask : {022u, 027u, 077u, 0u, 002u, 0777u}) {
        INFO("umask = 0" << std::oct << mask);
        test::temp_dir dir;
        const test::scoped_umask umask(mask);
        const unsigned expected = plain_open_mode(dir.path());
        CHECK(expected == (0666u & ~mask));
        for (bool overwrite : {false, true}) {
            if (overwrite ? !k.can_replace : !k.can_keep) continue;
            INFO("overwrite = " << overwrite);
            const fs::path target = dir / (overwrite ? "replacing" : "keeping");
            unsigned temp_mode = 07777;
            k.write_inspected(target, "content", {.overwrite = overwrite},
                              [&](int fd) { temp_mode = test::mode_of_fd(fd); });
            CHECK(test::mode_of(target) == expected);
            CHECK(wider_bits(temp_mode, expected) == 0);
            CHECK(test::current_umask() == static_cast<int>(mask));
            CHECK(fs::file_size(target) == 7);  // (a mode may forbid reading it back)
        }
    }
}

void replaced_files_keep_their_mode(const writer_kind& k) {
    if (!k.can_replace) {
        // Nothing to replace with this commit policy; new files are checked elsewhere.
        CHECK(k.can_keep);
        return;
    }
    for (unsigned mask : {022u, 077u}) {
        const test::scoped_umask umask(mask);
        for (unsigned mode : {0600u, 0640u, 0755u, 0604u, 0444u, 0700u, 0666u, 0777u, 0000u, 01644u, 04755u, 02755u}) {
            INFO("umask = 0" << std::oct << mask << ", mode = 0" << mode);
            test::temp_dir dir;
            const fs::path target = dir / "target";
            test::write_plain(target, "old");
            set_mode(target, mode);
            unsigned temp_mode = 07777;
            k.write_inspected(target, "new", {.overwrite = true}, [&](int fd) { temp_mode = test::mode_of_fd(fd); });
            CHECK(test::mode_of(target) == mode);
            CHECK(wider_bits(temp_mode, mode) == 0);
            CHECK(fs::file_size(target) == 3);
            CHECK(dir.names() == names{"target"});
        }
    }
}

void explicit_modes_are_exact(const writer_kind& k) {
    const test::scoped_umask umask(077);
    for (unsigned mode : {0644u, 0640u, 0777u, 0600u, 0444u, 0000u, 0751u}) {
        INFO("mode = 0" << std::oct << mode);
        const aw::write_options options{.overwrite = new_file_overwrite(k), .mode = static_cast<fs::perms>(mode)};
        SECTION("a new file, mode 0" + std::to_string(mode)) {
            test::temp_dir dir;
            const fs::path target = dir / "target";
            unsigned temp_mode = 07777;
            k.write_inspected(target, "explicit", options, [&](int fd) { temp_mode = test::mode_of_fd(fd); });
            CHECK(test::mode_of(target) == mode);
            CHECK(wider_bits(temp_mode, mode) == 0);
            CHECK(fs::file_size(target) == 8);
        }
        if (k.can_replace) {
            SECTION("a replaced file, mode 0" + std::to_string(mode)) {
                test::temp_dir dir;
                const fs::path target = dir / "target";
                test::write_plain(target, "old");
                set_mode(target, mode == 0600u ? 0644u : 0600u);  // differs from the requested one
                unsigned temp_mode = 07777;
                k.write_inspected(target, "explicit", {.overwrite = true, .mode = static_cast<fs::perms>(mode)},
                                  [&](int fd) { temp_mode = test::mode_of_fd(fd); });
                CHECK(test::mode_of(target) == mode);
                CHECK(wider_bits(temp_mode, mode) == 0);
            }
        }
    }
    CHECK(test::current_umask() == 077);
}

void temp_is_never_wider(const writer_kind& k) {
    // The modes asked of the system, not only the one seen after construction: the
    // creation mode (after the umask) and every fchmod stay within the final mode.
    struct scenario {
        const char* what;
        unsigned umask;
        int existing;  // mode of an existing target, or -1
        int explicit_mode;
        unsigned final_mode;
    };
    const std::vector<scenario> scenarios = {
        {"new file, umask 077", 077, -1, -1, 0600},
        {"new file, umask 022", 022, -1, -1, 0644},
        {"new file, umask 0", 0, -1, -1, 0666},
        {"replaced 0600 file, umask 0", 0, 0600, -1, 0600},
        {"replaced 0604 file, umask 0", 0, 0604, -1, 0604},
        {"replaced 0640 file, umask 022", 022, 0640, -1, 0640},
        {"explicit 0600, umask 0", 0, -1, 0600, 0600},
        {"explicit 0640 over a 0666 file, umask 0", 0, 0666, 0640, 0640},
    };
    for (const scenario& s : scenarios) {
        INFO(s.what);
        if (s.existing >= 0 && !k.can_replace) continue;
        test::temp_dir dir;
        const fs::path target = dir / "target";
        const test::scoped_umask umask(s.umask);
        if (s.existing >= 0) {
            test::write_plain(target, "old");
            set_mode(target, static_cast<unsigned>(s.existing));
        }
        aw::write_options options{.overwrite = s.existing >= 0 || new_file_overwrite(k)};
        if (s.explicit_mode >= 0) options.mode = static_cast<fs::perms>(s.explicit_mode);
        mode_hook hook;
        unsigned temp_mode = 07777;
        {
            aw::scoped_syscall_hook installed(hook);
            k.write_inspected(target, "x", options, [&](int fd) { temp_mode = test::mode_of_fd(fd); });
        }
        REQUIRE(hook.created.size() == 1);
        CHECK(wider_bits(hook.created[0] & ~s.umask, s.final_mode) == 0);  // the umask applies at creation
        for (unsigned m : hook.chmods) CHECK(wider_bits(m, s.final_mode) == 0);
        CHECK(wider_bits(temp_mode, s.final_mode) == 0);
        CHECK(test::mode_of(target) == s.final_mode);
    }
}

void owner_is_kept_when_root(const writer_kind& k) {
    if (!k.can_replace) {
        CHECK(k.can_keep);
        return;
    }
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, "old");

    SECTION("owner and group") {
        set_mode(target, 0640);
        REQUIRE(::chown(target.c_str(), nobody, nobody) == 0);
        mode_hook hook;
        unsigned temp_mode = 07777;
        ids temp_ids{0, 0};
        {
            aw::scoped_syscall_hook installed(hook);
            k.write_inspected(target, "new", {.overwrite = true}, [&](int fd) {
                const auto st = test::stat_of(fd);
                temp_mode = static_cast<unsigned>(st.st_mode) & 07777u;
                temp_ids = {static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_gid)};
            });
        }
        // Until the owner is set, the temporary file is the process's: nobody else's bits.
        REQUIRE(hook.created.size() == 1);
        CHECK(wider_bits(hook.created[0], 0600) == 0);
        CHECK_FALSE(hook.chown_after_chmod);
        CHECK(temp_ids.uid == nobody);
        CHECK(temp_ids.gid == nobody);
        CHECK(wider_bits(temp_mode, 0640) == 0);
        CHECK(owner_of(target).uid == nobody);
        CHECK(owner_of(target).gid == nobody);
        CHECK(test::mode_of(target) == 0640);
        CHECK(test::read_file(target) == "new");
    }
    SECTION("the group only") {
        REQUIRE(::chown(target.c_str(), 0, other_id) == 0);
        k.write_inspected(target, "new", {.overwrite = true}, {});
        CHECK(owner_of(target).uid == 0);
        CHECK(owner_of(target).gid == other_id);
    }
    SECTION("set-id bits survive, since the owner is kept") {
        set_mode(target, 0755);
        REQUIRE(::chown(target.c_str(), other_id, other_id) == 0);
        set_mode(target, 06755);  // after chown, which clears set-id bits
        k.write_inspected(target, "new", {.overwrite = true}, {});
        CHECK(owner_of(target).uid == other_id);
        CHECK(owner_of(target).gid == other_id);
        CHECK(test::mode_of(target) == 06755);
    }
    SECTION("set-id bits of our own file survive") {
        set_mode(target, 04750);
        k.write_inspected(target, "new", {.overwrite = true}, {});
        CHECK(test::mode_of(target) == 04750);
        CHECK(owner_of(target).uid == 0);
    }
    SECTION("owner_mode::process: the new file is the process's") {
        REQUIRE(::chown(target.c_str(), nobody, nobody) == 0);
        set_mode(target, 0644);
        mode_hook hook;
        {
            aw::scoped_syscall_hook installed(hook);
            k.write_inspected(target, "new", {.overwrite = true, .owner = aw::owner_mode::process}, {});
        }
        CHECK(hook.chowns == 0);
        CHECK(owner_of(target).uid == ::geteuid());
        CHECK(owner_of(target).gid == ::getegid());
        CHECK(test::mode_of(target) == 0644);
    }
    CHECK(dir.names() == names{"target"});
}

/// In a child process that runs as `nobody`, replaces `target` with `content`; returns
/// the child's exit status: 0 on success, or one of test::as_nobody()'s
/// (test::nobody_unreachable if the directory is out of the child's reach).
int replace_as_nobody(const writer_kind& k, const fs::path& target, std::string_view content) {
    return test::as_nobody(target.parent_path(), W_OK | X_OK, [&] {
        k.write_inspected(target, content, {.overwrite = true}, {});
        return 0;
    });
}

void set_id_bits_dropped_when_owner_cannot_be_kept(const writer_kind& k) {
    if (!k.can_replace) {
        CHECK(k.can_keep);
        return;
    }
    // A world-writable directory (no sticky bit): the unprivileged child may replace
    // files of other users in it.
    test::temp_dir dir;
    set_mode(dir.path(), 0777);
    const fs::path target = dir / "target";
    test::write_plain(target, "old");
    {
        const test::scoped_umask umask(022);
        const fs::path probe = dir / "probe";
        test::write_plain(probe, "");
        REQUIRE(::chown(probe.c_str(), other_id, other_id) == 0);
        const int status = replace_as_nobody(k, probe, "");
        fs::remove(probe);
        if (status == test::nobody_unreachable) {
            WARN("skipped: the test directory is out of reach of an unprivileged user");
            return;
        }
        REQUIRE(status == 0);
    }
    // Empty content: write(2) by an unprivileged process clears set-id bits by itself
    // (the kernel's file_remove_privs), which would hide what the library does.
    std::string content;
    SECTION("owned by another user") {
        REQUIRE(::chown(target.c_str(), other_id, other_id) == 0);
        set_mode(target, 06755);
        CHECK(replace_as_nobody(k, target, content) == 0);
        CHECK(owner_of(target).uid == nobody);
        CHECK(test::mode_of(target) == 0755);
    }
    SECTION("owned by the ids the process started with") {
        // The child started as root: a root-owned set-id file looks like its own unless
        // the current ids are asked for.
        set_mode(target, 04755);
        CHECK(replace_as_nobody(k, target, content) == 0);
        CHECK(owner_of(target).uid == nobody);
        CHECK(test::mode_of(target) == 0755);
    }
    SECTION("only setgid, group of another user") {
        REQUIRE(::chown(target.c_str(), other_id, other_id) == 0);
        set_mode(target, 02775);
        CHECK(replace_as_nobody(k, target, content) == 0);
        CHECK(owner_of(target).uid == nobody);
        CHECK(owner_of(target).gid != other_id);
        CHECK(test::mode_of(target) == 0775);
    }
    SECTION("no set-id bits: the mode is kept, the owner cannot be") {
        content = "written by nobody";
        REQUIRE(::chown(target.c_str(), other_id, other_id) == 0);
        set_mode(target, 0644);
        CHECK(replace_as_nobody(k, target, content) == 0);
        CHECK(owner_of(target).uid == nobody);
        CHECK(test::mode_of(target) == 0644);
    }
    SECTION("the user's own set-id file keeps its set-id bits, content and all") {
        content = "written by nobody";
        REQUIRE(::chown(target.c_str(), nobody, nobody) == 0);
        set_mode(target, 06755);
        CHECK(replace_as_nobody(k, target, content) == 0);
        CHECK(owner_of(target).uid == nobody);
        CHECK(owner_of(target).gid == nobody);
        CHECK(test::mode_of(target) == 06755);
    }
    CHECK(test::read_file(target) == content);
    CHECK(dir.names() == names{"target"});
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("a new file gets 0666 & ~umask, as open(2) gives it", "[permissions]", mode_writers) {
    test::run_check(kind_of<TestType>(), new_files_get_what_open_gives);
}

TEMPLATE_LIST_TEST_CASE("a replaced file keeps its mode", "[permissions]", mode_writers) {
    test::run_check(kind_of<TestType>(), replaced_files_keep_their_mode);
}

TEMPLATE_LIST_TEST_CASE("write_options::mode sets the mode exactly, whatever the umask", "[permissions]",
                        mode_writers) {
    test::run_check(kind_of<TestType>(), explicit_modes_are_exact);
}

TEMPLATE_LIST_TEST_CASE("the temporary file is never more permissive than the final file", "[permissions]",
                        mode_writers) {
    test::run_check(kind_of<TestType>(), temp_is_never_wider);
}

TEMPLATE_LIST_TEST_CASE("a replaced file keeps its owner and group where the process may set them",
                        "[permissions][owner]", mode_writers) {
    if (!test::is_root()) {
        WARN("skipped: changing a file's owner needs root");
        return;
    }
    test::run_check(kind_of<TestType>(), owner_is_kept_when_root);
}

TEMPLATE_LIST_TEST_CASE("set-id bits are dropped when the owner cannot be kept", "[permissions][owner]", mode_writers) {
    if (!test::is_root()) {
        WARN("skipped: a child process that drops to another user needs root");
        return;
    }
    test::run_check(kind_of<TestType>(), set_id_bits_dropped_when_owner_cannot_be_kept);
}

TEST_CASE("the library never changes the umask", "[permissions][umask]") {
    // umask(2) is per process: a thread watching it would see any temporary change.
    test::temp_dir dir;
    const test::scoped_umask umask(027);
    REQUIRE(test::current_umask() == 027);
    std::atomic<bool> done{false};
    std::atomic<int> changed{-1};
    std::atomic<long> looks{0};
    std::thread watcher([&] {
        while (!done.load()) {
            const int now = test::current_umask();
            if (now != 027) changed.store(now);
            ++looks;
        }
    });
    // The writes start once the watcher is looking: on a fast filesystem they can be
    // over before a new thread is first scheduled.
    while (looks.load() == 0) std::this_thread::yield();
    const fs::path target = dir / "target";
    for (int i = 0; i < 200; ++i) {
        const auto mode = i % 3 == 0 ? fs::perms::unknown : static_cast<fs::perms>(0640);
        aw::write_file<aw::basic_atomic_writer<aw::sync::none>>(target, "round " + std::to_string(i),
                                                                {.overwrite = true, .mode = mode});
        if (i % 50 == 0) fs::remove(target);
    }
    aw::atomic_write(dir / "other", [](std::ostream& out) { out << "x"; });
    done.store(true);
    watcher.join();
    CHECK(looks.load() > 0);
    CHECK(changed.load() == -1);
    CHECK(test::current_umask() == 027);
    CHECK(test::mode_of(dir / "other") == 0640);
}
