// SPDX-License-Identifier: MIT
// The system-call seam itself: installing, nesting, per-thread scope, what before() and
// after() see, and the exact sequence of calls of the common writes.
#include <catch2/catch.hpp>

#include <atomicwrites/syscall_hook.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using ops = std::vector<sysop>;

const std::string content = "some content\n";

/// Writes `target` with writer W under `hook`.
template <class W = aw::atomic_writer>
void write_with(aw::syscall_hook& hook, const fs::path& target, const aw::write_options& options) {
    aw::scoped_syscall_hook scope(hook);
    aw::write_file<W>(target, content, options);
}

/// The calls a write makes, as the seam sees them.
template <class W = aw::atomic_writer>
ops calls_of(const fs::path& target, const aw::write_options& options) {
    test::recording_hook hook;
    write_with<W>(hook, target, options);
    return hook.ops();
}

/// Whether the filesystem of `dir` makes O_TMPFILE files (temp::first_of falls back if not).
bool makes_anonymous_files(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

/// What the sequence of a writer type depends on (gathered per type, checked once).
struct writer_traits {
    std::string name;
    bool can_replace;
    bool can_keep;
    bool durable;
    bool fdatasync;         // the sync policy uses fdatasync(2) for the file
    bool may_be_anonymous;  // the temp policy may make an O_TMPFILE file
    bool links_anonymous;   // the commit policy links an anonymous file straight onto the target
    bool link_unlink;       // the commit policy is link + unlink
    ops (*calls)(const fs::path&, const aw::write_options&);
};

template <class W>
writer_traits traits_of() {
    using sync_t = typename W::sync_type;
    using commit_t = typename W::commit_type;
    return {test::type_name<W>(),
            test::can_replace<W>,
            test::can_keep<W>,
            sync_t::durable,
            std::is_same_v<sync_t, aw::sync::fdatasync>,
            W::temp_type::may_be_anonymous,
            commit_t::links_anonymous,
            std::is_same_v<commit_t, aw::commit::link_unlink>,
            &calls_of<W>};
}

/// The sequence a writer must make for a new file (or a replacement keeping the mode and
/// extended attributes), derived from its policies' documentation.
ops expected_calls(const writer_traits& w, bool overwrite, bool replacing, bool anonymous_files) {
    const bool anonymous = w.may_be_anonymous && anonymous_files;
    ops out{sysop::open_directory, sysop::stat, anonymous ? sysop::create_anonymous : sysop::create_file};
    // The new file as created (under the umask that made the old one: its mode is already
    // right), the old file's extended attributes (none), and the mode as a minimal ACL
    // (refused where the filesystem has no ACLs; no fchmod either way).
    if (replacing) out.insert(out.end(), {sysop::stat, sysop::list_xattrs, sysop::set_xattr});
    out.push_back(sysop::write);
    if (w.durable) out.push_back(w.fdatasync ? sysop::fdatasync : sysop::fsync);
    const bool direct_link = anonymous && w.links_anonymous && !overwrite;
    if (anonymous && !direct_link) out.push_back(sysop::link_anonymous);  // name it first
    if (!direct_link) out.push_back(sysop::close);                        // close before publishing
    if (direct_link) {
        out.push_back(sysop::link_anonymous);
    } else if (overwrite) {
        out.push_back(sysop::rename);
    } else if (w.link_unlink) {
        out.insert(out.end(), {sysop::link, sysop::unlink});
    } else {
        out.push_back(sysop::rename_noreplace);
    }
    if (direct_link) out.push_back(sysop::close);  // the anonymous file, once published
    if (w.durable) out.push_back(sysop::fsync);    // the directory
    out.push_back(sysop::close);                   // the directory
    return out;
}

void check_documented_sequence(const writer_traits& w) {
    for (bool overwrite : {true, false}) {
        if (overwrite ? !w.can_replace : !w.can_keep) continue;
        for (bool replacing : {false, true}) {
            if (replacing && !overwrite) continue;
            test::temp_dir dir;
            if (replacing) test::write_plain(dir / "f", "old\n");
            const ops got = w.calls(dir / "f", {.overwrite = overwrite});
            INFO(w.name << (overwrite ? ", overwrite" : ", no overwrite")
                        << (replacing ? ", replacing" : ", new file"));
            CHECK(got == expected_calls(w, overwrite, replacing, makes_anonymous_files(dir.path())));
            CHECK(got.size() <= (w.durable ? 10u : 8u) + (replacing ? 3u : 0u));
            CHECK(test::read_file(dir / "f") == content);
            CHECK(dir.names() == std::vector<std::string>{"f"});
        }
    }
}

}  // namespace

TEST_CASE("a hook sees every call of its thread and nothing once removed", "[hook]") {
    test::temp_dir dir;
    test::recording_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        CHECK(aw::detail::current_hook == &hook);
        aw::write_file(dir / "a", content);
    }
    CHECK(aw::detail::current_hook == nullptr);
    CHECK(hook.calls.size() == 9);
    aw::write_file(dir / "b", content);
    CHECK(hook.calls.size() == 9);
    CHECK(test::read_file(dir / "b") == content);
}

TEST_CASE("hooks nest: the innermost sees the calls, the outer one is restored", "[hook]") {
    test::temp_dir dir;
    test::recording_hook outer;
    test::recording_hook inner;
    {
        aw::scoped_syscall_hook outer_scope(outer);
        aw::write_file(dir / "a", content);
        CHECK(outer.calls.size() == 9);
        {
            aw::scoped_syscall_hook inner_scope(inner);
            CHECK(aw::detail::current_hook == &inner);
            aw::write_file(dir / "b", content);
        }
        CHECK(inner.calls.size() == 9);
        CHECK(outer.calls.size() == 9);  // the inner write was not seen by the outer hook
        CHECK(aw::detail::current_hook == &outer);
        aw::write_file(dir / "c", content);
        CHECK(outer.calls.size() == 18);
        CHECK(inner.calls.size() == 9);
    }
    CHECK(aw::detail::current_hook == nullptr);
}

TEST_CASE("a failing inner hook fails calls only while installed", "[hook]") {
    test::temp_dir dir;
    test::recording_hook outer;
    aw::scoped_syscall_hook outer_scope(outer);
    {
        test::fail_nth_hook fail(sysop::create_file, EACCES);
        aw::scoped_syscall_hook scope(fail);
        std::error_code ec;
        aw::write_file(dir / "a", content, {}, ec);
        CHECK(ec == std::error_code(EACCES, std::system_category()));
        CHECK(fail.fired);
    }
    std::error_code ec;
    aw::write_file(dir / "a", content, {}, ec);
    CHECK_FALSE(ec);
    CHECK(test::read_file(dir / "a") == content);
}

TEST_CASE("hooks are per thread", "[hook][threads]") {
    test::temp_dir dir;
    SECTION("a hook on one thread does not see another thread's calls") {
        test::recording_hook mine;
        aw::scoped_syscall_hook scope(mine);
        std::thread other([&] {
            CHECK(aw::detail::current_hook == nullptr);
            aw::write_file(dir / "other", content);
        });
        other.join();
        CHECK(mine.calls.empty());
        CHECK(test::read_file(dir / "other") == content);
        aw::write_file(dir / "mine", content);
        CHECK(mine.calls.size() == 9);
    }
    SECTION("a failing hook on one thread does not fail another thread's calls") {
        test::scripted_hook failing;
        failing.fail_every(sysop::create_file, EROFS);
        aw::scoped_syscall_hook scope(failing);
        std::error_code other_ec;
        std::thread other([&] { aw::write_file(dir / "other", content, {}, other_ec); });
        other.join();
        CHECK_FALSE(other_ec);
        std::error_code ec;
        aw::write_file(dir / "mine", content, {}, ec);
        CHECK(ec == std::error_code(EROFS, std::system_category()));
        CHECK(dir.names() == std::vector<std::string>{"other"});
    }
    SECTION("threads writing at once each see exactly their own calls") {
        constexpr int threads = 4;
        constexpr int writes = 25;
        std::vector<test::recording_hook> hooks(threads);
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                aw::scoped_syscall_hook scope(hooks[static_cast<std::size_t>(t)]);
                for (int i = 0; i < writes; ++i) aw::write_file(dir / std::to_string(t * writes + i), content);
            });
        }
        for (auto& th : pool) th.join();
        for (const auto& h : hooks) {
            CHECK(h.calls.size() == 9u * writes);
            CHECK(h.count(sysop::create_file) == writes);
        }
        CHECK(dir.names().size() == threads * writes);
    }
}

TEST_CASE("after() reports the errno of each call made", "[hook]") {
    test::temp_dir dir;
    SECTION("a missing target: stat reports ENOENT, the rest succeed") {
        test::recording_hook hook;
        write_with(hook, dir / "new", {});
        REQUIRE(hook.calls.size() == 9);
        for (std::size_t i = 0; i < hook.calls.size(); ++i) {
            INFO("call " << i << ": " << aw::to_string(hook.calls[i].op));
            CHECK(hook.calls[i].error == (hook.calls[i].op == sysop::stat ? ENOENT : 0));
        }
    }
    SECTION("a missing parent: open_directory reports ENOENT and is the only call") {
        test::recording_hook hook;
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        aw::write_file(dir / "missing" / "f", content, {}, ec);
        CHECK(ec == std::errc::no_such_file_or_directory);
        REQUIRE(hook.calls.size() == 1);
        CHECK(hook.calls[0].op == sysop::open_directory);
        CHECK(hook.calls[0].error == ENOENT);
    }
    SECTION("a target created meanwhile: renameat2 reports EEXIST") {
        test::recording_hook hook;
        aw::scoped_syscall_hook scope(hook);
        aw::atomic_writer w(dir / "raced");
        w.write(content);
        test::write_plain(dir / "raced", "someone else's\n");
        std::error_code ec;
        CHECK(w.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        REQUIRE(hook.count(sysop::rename_noreplace) == 1);
        for (const auto& c : hook.calls)
            if (c.op == sysop::rename_noreplace) CHECK(c.error == EEXIST);
        CHECK(test::read_file(dir / "raced") == "someone else's\n");
    }
    SECTION("a call the hook refuses is not made, so after() does not see it") {
        // The scripted hook records refused calls itself (injected = true); after()
        // must not have overwritten that entry's error with a result.
        test::scripted_hook hook;
        hook.fail_op(sysop::fsync, EIO);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        aw::write_file(dir / "f", content, {}, ec);
        CHECK(ec == std::error_code(EIO, std::system_category()));
        REQUIRE(hook.count(sysop::fsync) == 1);
        for (const auto& c : hook.calls) {
            if (c.op != sysop::fsync) continue;
            CHECK(c.injected);
            CHECK(c.error == EIO);
        }
    }
}

/// Counts before() and after() calls separately.
class counting_hook : public aw::syscall_hook {
public:
    int befores = 0;
    int afters = 0;
    int refuse_first = 0;  // errno for the first call, if nonzero
    int before(aw::syscall_info&) noexcept override {
        ++befores;
        if (befores == 1 && refuse_first != 0) return refuse_first;
        return 0;
    }
    void after(const aw::syscall_info&, int) noexcept override { ++afters; }
};

TEST_CASE("before() is called for every call, after() only for calls made", "[hook]") {
    test::temp_dir dir;
    counting_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "f", content);
    }
    CHECK(hook.befores == 9);
    CHECK(hook.afters == 9);

    counting_hook refusing;
    refusing.refuse_first = EMFILE;
    std::error_code ec;
    {
        aw::scoped_syscall_hook scope(refusing);
        aw::write_file(dir / "g", content, {}, ec);
    }
    CHECK(ec == std::error_code(EMFILE, std::system_category()));
    CHECK(refusing.befores == 1);
    CHECK(refusing.afters == 0);
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("an injected close failure still releases the descriptor", "[hook][close]") {
    test::temp_dir dir;
    test::write_plain(dir / "f", "old\n");
    for (const int error : {EIO, EINTR, ENOSPC}) {
        for (unsigned nth = 0; nth < 3; ++nth) {
            INFO("close #" << nth << " fails with errno " << error);
            const std::size_t before = test::open_descriptor_count();
            test::fail_nth_hook hook(sysop::close, error, nth);
            std::error_code ec;
            {
                aw::scoped_syscall_hook scope(hook);
                aw::write_file(dir / "f", content, {.overwrite = true}, ec);
                aw::write_file(dir / ("new" + std::to_string(error) + "." + std::to_string(nth)), content, {}, ec);
            }
            CHECK(hook.fired);
            CHECK(test::open_descriptor_count() == before);
        }
    }
    // And one closed directly: the descriptor is gone, the error reported.
    const int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    test::fail_nth_hook hook(sysop::close, EIO);
    std::error_code ec;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::detail::sys::close(fd, ec);
    }
    CHECK(ec == std::error_code(EIO, std::system_category()));
    errno = 0;
    CHECK(::fcntl(fd, F_GETFD) == -1);
    CHECK(errno == EBADF);
}

TEST_CASE("the hook sees the arguments of each call", "[hook]") {
    test::temp_dir dir;
    const test::scoped_umask umask(022);
    test::write_plain(dir / "target", "old\n");
    REQUIRE(::chmod((dir / "target").c_str(), 0644) == 0);
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "target", content, {.overwrite = true, .xattrs = false});
    }
    REQUIRE(hook.ops() == ops{sysop::open_directory, sysop::stat, sysop::create_file, sysop::stat, sysop::write,
                              sysop::fsync, sysop::close, sysop::rename, sysop::fsync, sysop::close});
    const auto& c = hook.calls;
    const int dirfd = c[1].dir;
    CHECK(c[0].name == dir.path().string());  // the parent, opened by path
    CHECK(dirfd >= 0);
    CHECK(c[1].name == "target");
    CHECK(c[2].dir == dirfd);
    const std::string temp = c[2].name;
    CHECK(temp.rfind(".target.", 0) == 0);
    CHECK(c[2].size == 0644);  // the creation mode: never wider than the final one
    const int file = c[3].file;
    CHECK(file >= 0);
    CHECK(file != dirfd);
    CHECK(c[3].name.empty());  // fstat of the new file (0644 as created: no fchmod)
    CHECK(c[4].file == file);
    CHECK(c[4].size == content.size());
    CHECK(c[5].file == file);
    CHECK(c[6].file == file);
    CHECK(c[7].dir == dirfd);
    CHECK(c[7].name == temp);
    CHECK(c[7].dir2 == dirfd);
    CHECK(c[7].name2 == "target");
    CHECK(c[8].file == dirfd);
    CHECK(c[9].file == dirfd);
    CHECK(test::read_file(dir / "target") == content);

    // With extended attributes: the old file's are listed by directory and name, and
    // the mode goes to the temporary file as an ACL (or by fchmod where there are none).
    test::scripted_hook with_xattrs;
    {
        aw::scoped_syscall_hook scope(with_xattrs);
        aw::write_file(dir / "target", content, {.overwrite = true});
    }
    const auto& x = with_xattrs.calls;
    REQUIRE(x.size() >= 7);
    CHECK(x[3].op == sysop::stat);  // the new file as created
    CHECK(x[4].op == sysop::list_xattrs);
    CHECK(x[4].dir == x[1].dir);
    CHECK(x[4].name == std::string("target"));
    CHECK(x[4].file == aw::invalid_handle);
    CHECK(x[5].op == sysop::set_xattr);
    CHECK(x[5].file == x[3].file);
    CHECK(x[5].name2 == std::string("system.posix_acl_access"));
    CHECK(x[6].file == x[3].file);
    CHECK(test::mode_of(dir / "target") == 0644);
}

TEST_CASE("a hook may shorten writes", "[hook]") {
    test::temp_dir dir;
    test::scripted_hook hook;
    hook.limit_writes(1);
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "f", content);
    }
    CHECK(hook.count(sysop::write) == content.size());
    CHECK(test::read_file(dir / "f") == content);
}

TEST_CASE("operation names", "[hook]") {
    CHECK(aw::sysop_count == 44);
    const char* names[] = {"open_directory", "open_file",
                           "stat",           "readlink",
                           "create_file",    "create_anonymous",
                           "write",          "fsync",
                           "fdatasync",      "full_fsync",
                           "chmod",          "chown",
                           "rename",         "rename_noreplace",
                           "link",           "link_anonymous",
                           "unlink",         "close",
                           "read_directory", "lease",
                           "list_xattrs",    "get_xattr",
                           "set_xattr",      "open_beneath",
                           "symlink",        "rename_exchange",
                           "make_directory", "remove_directory",
                           "syncfs",         "clone",
                           "copy_range",     "read",
                           "pwrite",         "truncate",
                           "seek",           "fallocate",
                           "statfs",         "open_lock_file",
                           "lock",           "unlock",
                           "read_umask",     "open_processes",
                           "read_processes", "stat_open_file"};
    REQUIRE(aw::sysop_count == std::size(names));
    for (unsigned i = 0; i < aw::sysop_count; ++i) CHECK(aw::to_string(static_cast<sysop>(i)) == names[i]);
    static_assert(aw::to_string(sysop::rename) == "rename");
}

TEST_CASE("a default write_file of a new file makes exactly 9 calls", "[hook][sequence]") {
    test::temp_dir dir;
    const ops expected{sysop::open_directory, sysop::stat,   sysop::create_file, sysop::write, sysop::fsync,
                       sysop::close,          sysop::rename, sysop::fsync,       sysop::close};
    CHECK(calls_of(dir / "a", {.overwrite = true}) == expected);
    // And the same the second time (nothing is initialised lazily on the seam).
    CHECK(calls_of(dir / "b", {.overwrite = true}) == expected);
    CHECK(test::read_file(dir / "b") == content);
}

TEST_CASE("a default write_file replacing a file makes exactly 12 calls", "[hook][sequence]") {
    test::temp_dir dir;
    test::write_plain(dir / "a", "old\n");
    const ops expected{sysop::open_directory, sysop::stat,      sysop::create_file, sysop::stat,
                       sysop::list_xattrs,    sysop::set_xattr, sysop::write,       sysop::fsync,
                       sysop::close,          sysop::rename,    sysop::fsync,       sysop::close};
    CHECK(calls_of(dir / "a", {.overwrite = true}) == expected);
    CHECK(calls_of(dir / "a", {.overwrite = true}) == expected);
    CHECK(test::read_file(dir / "a") == content);
}

TEST_CASE("a default write_file without overwrite publishes with renameat2", "[hook][sequence]") {
    test::temp_dir dir;
    const ops expected{sysop::open_directory, sysop::stat,  sysop::create_file,      sysop::write,
                       sysop::fsync,          sysop::close, sysop::rename_noreplace, sysop::fsync,
                       sysop::close};
    CHECK(calls_of(dir / "a", {}) == expected);
}

TEST_CASE("sequences of other policy combinations", "[hook][sequence]") {
    using aw::basic_atomic_writer;
    namespace sync = aw::sync;
    namespace commit = aw::commit;
    namespace temp = aw::temp;
    test::temp_dir dir;

    SECTION("sync::none drops both fsyncs") {
        using W = basic_atomic_writer<sync::none>;
        const ops expected{sysop::open_directory, sysop::stat,   sysop::create_file, sysop::write,
                           sysop::close,          sysop::rename, sysop::close};
        CHECK(calls_of<W>(dir / "a", {.overwrite = true}) == expected);
    }
    SECTION("sync::fdatasync syncs the file's data, then fsyncs the directory") {
        using W = basic_atomic_writer<sync::fdatasync>;
        const ops expected{sysop::open_directory, sysop::stat,   sysop::create_file, sysop::write, sysop::fdatasync,
                           sysop::close,          sysop::rename, sysop::fsync,       sysop::close};
        CHECK(calls_of<W>(dir / "a", {.overwrite = true}) == expected);
    }
    SECTION("temp::anonymous with overwrite names the file before renaming it: 10 calls") {
        using W = basic_atomic_writer<sync::fsync, commit::automatic, temp::anonymous>;
        const ops expected{sysop::open_directory, sysop::stat,  sysop::create_anonymous, sysop::write, sysop::fsync,
                           sysop::link_anonymous, sysop::close, sysop::rename,           sysop::fsync, sysop::close};
        CHECK(calls_of<W>(dir / "a", {.overwrite = true}) == expected);
    }
    SECTION("temp::anonymous without overwrite links straight onto the target: 9 calls") {
        using W = basic_atomic_writer<sync::fsync, commit::automatic, temp::anonymous>;
        const ops expected{sysop::open_directory, sysop::stat,  sysop::create_anonymous,
                           sysop::write,          sysop::fsync, sysop::link_anonymous,
                           sysop::close,          sysop::fsync, sysop::close};
        CHECK(calls_of<W>(dir / "a", {}) == expected);
    }
    SECTION("commit::link_unlink links, then removes the temporary name: 10 calls") {
        using W = basic_atomic_writer<sync::fsync, commit::link_unlink>;
        const ops expected{sysop::open_directory, sysop::stat, sysop::create_file, sysop::write, sysop::fsync,
                           sysop::close,          sysop::link, sysop::unlink,      sysop::fsync, sysop::close};
        CHECK(calls_of<W>(dir / "a", {}) == expected);
    }
    SECTION("commit::renameat2 uses rename_noreplace") {
        using W = basic_atomic_writer<sync::fsync, commit::renameat2>;
        const ops got = calls_of<W>(dir / "a", {});
        CHECK(std::count(got.begin(), got.end(), sysop::rename_noreplace) == 1);
        CHECK(std::count(got.begin(), got.end(), sysop::rename) == 0);
        CHECK(std::count(got.begin(), got.end(), sysop::link) == 0);
        CHECK(got.size() == 9);
    }
    SECTION("a temporary directory is opened, checked against the target's, synced and closed too") {
        fs::create_directory(dir / "tmp");
        using W = basic_atomic_writer<>;
        // Two more stats: the temporary directory must be on the target's filesystem.
        const ops expected{sysop::open_directory, sysop::stat,  sysop::open_directory, sysop::stat,  sysop::stat,
                           sysop::create_file,    sysop::write, sysop::fsync,          sysop::close, sysop::rename,
                           sysop::fsync,          sysop::fsync, sysop::close,          sysop::close};
        CHECK(calls_of<W>(dir / "a", {.overwrite = true, .temp_directory = dir / "tmp"}) == expected);
        CHECK(test::read_file(dir / "a") == content);
        CHECK(test::temp_dir::list(dir / "tmp").empty());
    }
}

TEMPLATE_LIST_TEST_CASE("every policy combination makes the documented sequence", "[hook][sequence]",
                        test::all_writers) {
    check_documented_sequence(traits_of<TestType>());
}
