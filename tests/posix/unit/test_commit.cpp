// SPDX-License-Identifier: MIT
// <atomicwrites/commit.hpp>: how each commit policy publishes, what it refuses, and
// renameat2's fall back to link + unlink.
#include <catch2/catch.hpp>

#include <atomicwrites/commit.hpp>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

using test::new_content;
using test::old_content;

template <class C, class T = aw::temp::mkstemp>
using writer = aw::basic_atomic_writer<aw::sync::fsync, C, T>;

using test::contains;

/// An open directory and a prepared temporary file in it, for calling publish() directly.
class publish_fixture {
public:
    publish_fixture() : fd_(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (fd_ < 0) throw std::runtime_error("cannot open the test directory");
        test::write_plain(dir / "temp", new_content);
    }
    ~publish_fixture() { ::close(fd_); }
    publish_fixture(const publish_fixture&) = delete;
    publish_fixture& operator=(const publish_fixture&) = delete;

    aw::commit_request request(bool overwrite) const {
        return {fd_, "temp", aw::invalid_handle, fd_, "target", overwrite};
    }

    test::temp_dir dir;

private:
    int fd_;
};

/// A no-overwrite writer W whose target is created by someone else before the commit:
/// the commit fails with file_exists at `step` and that file is kept.
template <class W>
void keeps_a_target_created_meanwhile(const fs::path& target, std::string_view step) {
    W w(target);
    w.write(new_content);
    test::write_plain(target, "someone else's\n");
    std::error_code ec;
    CHECK(w.commit(ec) == aw::commit_state::unchanged);
    CHECK(ec == std::errc::file_exists);
    REQUIRE(w.failed_step() != nullptr);
    CHECK(w.failed_step() == step);
    CHECK(test::read_file(target) == "someone else's\n");
}

/// publish() of a no-replace policy called directly: a new target gets the temporary's
/// content under one name; an existing target is left alone with EEXIST reported at
/// `refused_step`, and the temporary stays for the caller to remove.
template <class C>
void publishes_without_replacing(const publish_fixture& f, const char* refused_step) {
    std::error_code ec;
    SECTION("a new target: published, one name left") {
        const aw::commit_result r = C{}.publish(f.request(false), ec);
        CHECK_FALSE(ec);
        CHECK(r.state == aw::commit_state::published);
        CHECK(test::read_file(f.dir / "target") == new_content);
        CHECK(f.dir.names() == std::vector<std::string>{"target"});
    }
    SECTION("the target exists: unchanged, the temporary is the caller's to remove") {
        test::write_plain(f.dir / "target", old_content);
        const aw::commit_result r = C{}.publish(f.request(false), ec);
        CHECK(ec == std::error_code(EEXIST, std::system_category()));
        CHECK(r.state == aw::commit_state::unchanged);
        CHECK(std::string(r.failed_step) == refused_step);
        CHECK(test::read_file(f.dir / "target") == old_content);
        CHECK(f.dir.names() == std::vector<std::string>{"target", "temp"});
    }
}

}  // namespace

TEST_CASE("commit::rename replaces the target", "[commit]") {
    STATIC_REQUIRE(aw::commit::rename::can_replace);
    STATIC_REQUIRE_FALSE(aw::commit::rename::can_keep);
    test::temp_dir dir;
    test::write_plain(dir / "f", old_content);
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file<writer<aw::commit::rename>>(dir / "f", new_content, {.overwrite = true});
    }
    CHECK(test::read_file(dir / "f") == new_content);
    CHECK(dir.names() == std::vector<std::string>{"f"});
    CHECK(hook.count(sysop::rename) == 1);
    CHECK(hook.count(sysop::link) == 0);
}

TEST_CASE("commit::rename refuses overwrite = false before touching anything", "[commit]") {
    test::temp_dir dir;
    test::scripted_hook hook;
    aw::scoped_syscall_hook scope(hook);
    std::error_code ec;
    writer<aw::commit::rename> w(dir / "f", {.overwrite = false}, ec);
    CHECK(ec == std::errc::invalid_argument);
    CHECK_FALSE(w.is_open());
    REQUIRE(w.failed_step() != nullptr);
    CHECK(contains(w.failed_step(), "check options"));
    CHECK(hook.calls.empty());
    CHECK(dir.names().empty());
}

TEST_CASE("commit::rename called directly", "[commit]") {
    publish_fixture f;
    test::write_plain(f.dir / "target", old_content);
    std::error_code ec;
    const aw::commit_result r = aw::commit::rename{}.publish(f.request(true), ec);
    CHECK_FALSE(ec);
    CHECK(r.state == aw::commit_state::published);
    CHECK(r.failed_step == nullptr);
    CHECK(test::read_file(f.dir / "target") == new_content);
    CHECK(f.dir.names() == std::vector<std::string>{"target"});

    test::write_plain(f.dir / "temp", "again\n");
    test::scripted_hook hook;
    hook.fail_op(sysop::rename, EXDEV);
    aw::scoped_syscall_hook scope(hook);
    const aw::commit_result failed = aw::commit::rename{}.publish(f.request(true), ec);
    CHECK(ec == std::error_code(EXDEV, std::system_category()));
    CHECK(failed.state == aw::commit_state::unchanged);
    CHECK(std::string(failed.failed_step) == "rename into place");
    CHECK(test::read_file(f.dir / "target") == new_content);
}

TEST_CASE("commit::link_unlink keeps an existing target and leaves no temporary", "[commit]") {
    STATIC_REQUIRE(aw::commit::link_unlink::can_keep);
    STATIC_REQUIRE_FALSE(aw::commit::link_unlink::can_replace);
    test::temp_dir dir;
    using W = writer<aw::commit::link_unlink>;

    SECTION("a new file is linked, then the temporary name removed") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<W>(dir / "f", new_content);
        }
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
        REQUIRE(hook.count(sysop::link) == 1);
        REQUIRE(hook.count(sysop::unlink) == 1);
        std::string linked;
        for (const auto& c : hook.calls) {
            if (c.op == sysop::link) {
                linked = c.name;
                CHECK(c.name2 == "f");
            }
            if (c.op == sysop::unlink) CHECK(c.name == linked);
        }
        CHECK(linked.rfind(".f.", 0) == 0);
        struct ::stat st {};
        REQUIRE(::stat((dir / "f").c_str(), &st) == 0);
        CHECK(st.st_nlink == 1);
    }
    SECTION("an existing target is kept: file_exists") {
        test::write_plain(dir / "f", old_content);
        std::error_code ec;
        CHECK(aw::write_file<W>(dir / "f", new_content, {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(test::read_file(dir / "f") == old_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("a target created during the write is kept: file_exists at the link") {
        keeps_a_target_created_meanwhile<W>(dir / "f", "link into place");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("overwrite = true is refused") {
        std::error_code ec;
        W w(dir / "f", {.overwrite = true}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(dir.names().empty());
    }
    SECTION("an anonymous temporary is linked straight onto the target, with no second name") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<writer<aw::commit::link_unlink, aw::temp::anonymous>>(dir / "f", new_content);
        }
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
        CHECK(hook.count(sysop::link_anonymous) == 1);
        CHECK(hook.count(sysop::link) == 0);
        CHECK(hook.count(sysop::unlink) == 0);
        for (const auto& c : hook.calls)
            if (c.op == sysop::link_anonymous) CHECK(c.name2 == "f");
    }
}

TEST_CASE("commit::link_unlink called directly", "[commit]") {
    publish_fixture f;
    publishes_without_replacing<aw::commit::link_unlink>(f, "link into place");
    SECTION("the unlink fails: published, and the step says so") {
        std::error_code ec;
        test::scripted_hook hook;
        hook.fail_op(sysop::unlink, EIO);
        aw::scoped_syscall_hook scope(hook);
        const aw::commit_result r = aw::commit::link_unlink{}.publish(f.request(false), ec);
        CHECK(ec == std::error_code(EIO, std::system_category()));
        CHECK(r.state == aw::commit_state::published);
        CHECK(std::string(r.failed_step) == "remove temporary name");
        CHECK(test::read_file(f.dir / "target") == new_content);
    }
}

TEST_CASE("commit::renameat2 publishes with RENAME_NOREPLACE", "[commit]") {
    STATIC_REQUIRE(aw::commit::renameat2::can_keep);
    STATIC_REQUIRE_FALSE(aw::commit::renameat2::can_replace);
    using W = writer<aw::commit::renameat2>;
    test::temp_dir dir;
    SECTION("a new file: one rename_noreplace, nothing else") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<W>(dir / "f", new_content);
        }
        CHECK(hook.count(sysop::rename_noreplace) == 1);
        CHECK(hook.count(sysop::link) == 0);
        CHECK(hook.count(sysop::unlink) == 0);
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("a target created during the write is kept") {
        keeps_a_target_created_meanwhile<W>(dir / "f", "rename into place (no replace)");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
}

TEST_CASE("commit::renameat2 falls back to link + unlink where renameat2 is not supported", "[commit]") {
    using W = writer<aw::commit::renameat2>;
    for (int error : {EINVAL, ENOSYS, EOPNOTSUPP}) {
        INFO("rename_noreplace fails with " << std::error_code(error, std::system_category()).message());
        test::temp_dir dir;
        test::scripted_hook hook;
        hook.fail_op(sysop::rename_noreplace, error);
        {
            aw::scoped_syscall_hook scope(hook);
            std::error_code ec;
            CHECK(aw::write_file<W>(dir / "f", new_content, {}, ec) == aw::commit_state::published);
            CHECK_FALSE(ec);
        }
        const auto ops = hook.ops();
        const auto at = std::find(ops.begin(), ops.end(), sysop::rename_noreplace);
        REQUIRE(at != ops.end());
        REQUIRE(ops.end() - at >= 3);
        CHECK(*(at + 1) == sysop::link);
        CHECK(*(at + 2) == sysop::unlink);
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});

        // The fall back keeps the no-replace promise: a target that appeared meanwhile
        // makes the link fail, and is kept.
        test::scripted_hook again;
        again.fail_op(sysop::rename_noreplace, error);
        aw::scoped_syscall_hook scope(again);
        keeps_a_target_created_meanwhile<W>(dir / "g", "link into place");
        CHECK(dir.names() == std::vector<std::string>{"f", "g"});
    }
}

TEST_CASE("commit::renameat2 does not fall back on other errors", "[commit]") {
    using W = writer<aw::commit::renameat2>;
    for (int error : {EEXIST, EACCES, EXDEV, EROFS, ENOSPC}) {
        INFO("rename_noreplace fails with " << std::error_code(error, std::system_category()).message());
        test::temp_dir dir;
        test::scripted_hook hook;
        hook.fail_op(sysop::rename_noreplace, error);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        W w(dir / "f");
        w.write(new_content);
        CHECK(w.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::error_code(error, std::system_category()));
        CHECK(std::string(w.failed_step()) == "rename into place (no replace)");
        CHECK(hook.count(sysop::link) == 0);
        CHECK_FALSE(fs::exists(dir / "f"));
        CHECK(dir.names().empty());
    }
}

TEST_CASE("commit::renameat2 called directly", "[commit]") {
    publish_fixture f;
    publishes_without_replacing<aw::commit::renameat2>(f, "rename into place (no replace)");
}

TEST_CASE("commit::automatic picks rename to overwrite and renameat2 otherwise", "[commit]") {
    STATIC_REQUIRE(aw::commit::automatic::can_keep);
    STATIC_REQUIRE(aw::commit::automatic::can_replace);
    STATIC_REQUIRE(std::is_same_v<aw::default_commit, aw::commit::automatic>);
    test::temp_dir dir;
    SECTION("overwrite = true: rename") {
        test::write_plain(dir / "f", old_content);
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<writer<aw::commit::automatic>>(dir / "f", new_content, {.overwrite = true});
        }
        CHECK(hook.count(sysop::rename) == 1);
        CHECK(hook.count(sysop::rename_noreplace) == 0);
        CHECK(hook.count(sysop::link) == 0);
        CHECK(test::read_file(dir / "f") == new_content);
    }
    SECTION("overwrite = false: renameat2") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<writer<aw::commit::automatic>>(dir / "f", new_content, {.overwrite = false});
        }
        CHECK(hook.count(sysop::rename) == 0);
        CHECK(hook.count(sysop::rename_noreplace) == 1);
        CHECK(test::read_file(dir / "f") == new_content);
    }
    SECTION("overwrite = false, renameat2 unsupported: link + unlink") {
        test::scripted_hook hook;
        hook.fail_op(sysop::rename_noreplace, EINVAL);
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<writer<aw::commit::automatic>>(dir / "f", new_content);
        }
        CHECK(hook.count(sysop::link) == 1);
        CHECK(hook.count(sysop::unlink) == 1);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("overwrite = false keeps a target that appeared meanwhile") {
        keeps_a_target_created_meanwhile<aw::atomic_writer>(dir / "f", "rename into place (no replace)");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("overwrite = true replaces a target that appeared meanwhile") {
        aw::atomic_writer w(dir / "f", {.overwrite = true});
        w.write(new_content);
        test::write_plain(dir / "f", "someone else's\n");
        w.commit();
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("called directly, it follows the request's overwrite flag") {
        const int fd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        test::write_plain(dir / "target", old_content);
        test::write_plain(dir / "temp", new_content);
        std::error_code ec;
        aw::commit_result r = aw::commit::automatic{}.publish({fd, "temp", -1, fd, "target", false}, ec);
        CHECK(ec == std::errc::file_exists);
        CHECK(r.state == aw::commit_state::unchanged);
        CHECK(test::read_file(dir / "target") == old_content);
        ec.clear();
        r = aw::commit::automatic{}.publish({fd, "temp", -1, fd, "target", true}, ec);
        CHECK_FALSE(ec);
        CHECK(r.state == aw::commit_state::published);
        CHECK(test::read_file(dir / "target") == new_content);
        ::close(fd);
    }
}

TEST_CASE("commit::automatic with an anonymous temporary", "[commit]") {
    using W = writer<aw::commit::automatic, aw::temp::anonymous>;
    test::temp_dir dir;
    SECTION("overwrite = false: linked straight onto the target") {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<W>(dir / "f", new_content);
        }
        CHECK(hook.count(sysop::link_anonymous) == 1);
        CHECK(hook.count(sysop::rename) == 0);
        CHECK(hook.count(sysop::rename_noreplace) == 0);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("overwrite = false: a target that appeared meanwhile is kept") {
        keeps_a_target_created_meanwhile<W>(dir / "f", "link into place");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("overwrite = true: named, then renamed over the target") {
        test::write_plain(dir / "f", old_content);
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<W>(dir / "f", new_content, {.overwrite = true});
        }
        CHECK(hook.count(sysop::link_anonymous) == 1);
        CHECK(hook.count(sysop::rename) == 1);
        std::string named;
        for (const auto& c : hook.calls) {
            if (c.op == sysop::link_anonymous) named = c.name2;
            if (c.op == sysop::rename) CHECK(c.name == named);
        }
        CHECK(named.rfind(".f.", 0) == 0);
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
}
