// SPDX-License-Identifier: MIT
// <atomicwrites/error.hpp>: the exception types, their messages, paths and codes, and
// the before/after publication distinction.
#include <catch2/catch.hpp>

#include <atomicwrites/error.hpp>

#include <cerrno>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

using test::new_content;
using test::old_content;

using test::contains;

}  // namespace

TEST_CASE("durability_error is a filesystem_error", "[error]") {
    STATIC_REQUIRE(std::is_base_of_v<fs::filesystem_error, aw::durability_error>);
    STATIC_REQUIRE(std::is_base_of_v<std::system_error, aw::durability_error>);
    const aw::durability_error e("atomicwrites: sync directory", "a", "b", std::make_error_code(std::errc::io_error));
    CHECK(e.path1() == "a");
    CHECK(e.path2() == "b");
    CHECK(e.code() == std::errc::io_error);
    try {
        throw e;
    } catch (const fs::filesystem_error& caught) {
        CHECK(contains(caught.what(), "sync directory"));
    }
}

TEST_CASE("a failure before publication throws filesystem_error naming the step and both paths", "[error]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    test::write_plain(target, old_content);
    test::scripted_hook hook;
    hook.fail_op(sysop::rename, EACCES);
    aw::scoped_syscall_hook scope(hook);
    std::string temp;
    bool caught = false;
    try {
        aw::atomic_writer w(target, {.overwrite = true});
        temp = w.temp_path().string();
        w.write(new_content);
        w.commit();
    } catch (const aw::durability_error&) {
        FAIL("the target did not change: not a durability_error");
    } catch (const fs::filesystem_error& e) {
        caught = true;
        INFO("what(): " << e.what());
        CHECK(e.code() == std::error_code(EACCES, std::system_category()));
        CHECK(e.code().category() == std::system_category());
        CHECK(e.code() == std::errc::permission_denied);
        CHECK(contains(e.what(), "rename into place"));
        CHECK(contains(e.what(), target.string()));
        CHECK(e.path1() == target);
        CHECK(e.path2() == temp);
        CHECK(contains(e.what(), temp));
    }
    CHECK(caught);
    CHECK(test::read_file(target) == old_content);
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("a failure after publication throws durability_error", "[error]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    test::write_plain(target, old_content);
    test::scripted_hook hook;
    hook.fail_op(sysop::fsync, EIO, 1);  // the directory
    aw::scoped_syscall_hook scope(hook);
    bool caught = false;
    try {
        aw::write_file(target, new_content, {.overwrite = true});
    } catch (const aw::durability_error& e) {
        caught = true;
        INFO("what(): " << e.what());
        CHECK(e.code() == std::error_code(EIO, std::system_category()));
        CHECK(contains(e.what(), "sync directory"));
        CHECK(contains(e.what(), "already in place"));
        CHECK(contains(e.what(), target.string()));
        CHECK(e.path1() == target);
    }
    CHECK(caught);
    CHECK(test::read_file(target) == new_content);
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("the error_code forms tell before from after publication", "[error]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    test::write_plain(target, old_content);
    SECTION("before: unchanged") {
        test::scripted_hook hook;
        hook.fail_op(sysop::fsync, EIO, 0);  // the temporary file
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        CHECK(aw::write_file(target, new_content, {.overwrite = true}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::error_code(EIO, std::system_category()));
        CHECK(test::read_file(target) == old_content);
    }
    SECTION("after: published") {
        test::scripted_hook hook;
        hook.fail_op(sysop::fsync, EIO, 1);  // the directory
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        CHECK(aw::write_file(target, new_content, {.overwrite = true}, ec) == aw::commit_state::published);
        CHECK(ec == std::error_code(EIO, std::system_category()));
        CHECK(test::read_file(target) == new_content);
    }
    SECTION("the writer keeps the step and the state") {
        test::scripted_hook hook;
        hook.fail_op(sysop::fsync, EIO, 1);
        aw::scoped_syscall_hook scope(hook);
        aw::atomic_writer w(target, {.overwrite = true});
        w.write(new_content);
        std::error_code ec;
        CHECK(w.commit(ec) == aw::commit_state::published);
        CHECK(w.state() == aw::commit_state::published);
        CHECK(std::string(w.failed_step()) == "sync directory");
        CHECK_FALSE(w.is_open());
    }
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("the library's own decisions use std::errc, system errors keep their errno", "[error]") {
    test::temp_dir dir;
    test::write_plain(dir / "f", old_content);
    std::error_code ec;
    aw::write_file(dir / "f", new_content, {}, ec);  // exists, overwrite = false
    CHECK(ec == std::errc::file_exists);
    CHECK(ec.category() == std::generic_category());

    aw::write_file(dir / "missing" / "f", new_content, {}, ec);  // ENOENT from openat
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(ec.category() == std::system_category());
    CHECK(ec.value() == ENOENT);

    const test::thrown_error e = test::catch_error([&] { aw::write_file(dir / "missing" / "f", new_content); });
    CHECK(e.code.category() == std::system_category());
    CHECK(e.code.value() == ENOENT);
    CHECK(contains(e.what, "open directory"));
    CHECK(contains(e.what, (dir / "missing" / "f").string()));
}

TEST_CASE("a write error names the write step and the temporary file", "[error]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    test::scripted_hook hook;
    hook.fail_op(sysop::write, EDQUOT);
    aw::scoped_syscall_hook scope(hook);
    aw::atomic_writer w(target);
    const fs::path temp = w.temp_path();
    const std::string big = test::pattern(aw::detail::stream_buffer::capacity + 1);  // written through at once
    const test::thrown_error e = test::catch_error([&] { w.write(big); });
    CHECK(e.threw);
    CHECK(e.code == std::error_code(EDQUOT, std::system_category()));
    CHECK(contains(e.what, "write temporary file"));
    CHECK(e.path1 == target);
    CHECK(e.path2 == temp);
    // The kept error fails the commit too, and nothing is left.
    const test::thrown_error c = test::catch_error([&] { w.commit(); });
    CHECK(c.code == std::error_code(EDQUOT, std::system_category()));
    CHECK(contains(c.what, "write temporary file"));
    CHECK(dir.names().empty());
}

TEST_CASE("a failed stream fails the commit with io_error", "[error]") {
    test::temp_dir dir;
    aw::atomic_writer w(dir / "f");
    w.stream() << new_content;
    w.stream().setstate(std::ios::failbit);  // as a failed formatted output would
    std::error_code ec;
    CHECK(w.commit(ec) == aw::commit_state::unchanged);
    CHECK(ec == std::errc::io_error);
    CHECK(dir.names().empty());
}

TEST_CASE("replace_atomic and move_atomic name both paths", "[error]") {
    test::temp_dir dir;
    const fs::path src = dir / "src";
    const fs::path dst = dir / "dst";
    test::write_plain(src, new_content);
    test::write_plain(dst, old_content);

    const test::thrown_error exists = test::catch_error([&] { aw::move_atomic(src, dst); });
    INFO("what(): " << exists.what);
    CHECK(exists.code == std::errc::file_exists);
    CHECK(exists.path1 == src);
    CHECK(exists.path2 == dst);
    CHECK(contains(exists.what, src.string()));
    CHECK(contains(exists.what, dst.string()));
    std::error_code ec;
    CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::unchanged);
    CHECK(ec == std::errc::file_exists);
    CHECK(test::read_file(dst) == old_content);

    test::scripted_hook hook;
    hook.fail_op(sysop::fsync, EIO, 1);  // after the rename: the directory
    bool durability = false;
    try {
        aw::scoped_syscall_hook scope(hook);
        aw::replace_atomic(src, dst);
    } catch (const aw::durability_error& e) {
        durability = true;
        CHECK(e.code() == std::error_code(EIO, std::system_category()));
        CHECK(contains(e.what(), "sync"));
        CHECK(e.path1() == src);
        CHECK(e.path2() == dst);
    }
    CHECK(durability);
    CHECK(test::read_file(dst) == new_content);
    CHECK(dir.names() == std::vector<std::string>{"dst"});

    const test::thrown_error missing = test::catch_error([&] { aw::replace_atomic(dir / "nothing", dst); });
    CHECK(missing.code == std::errc::no_such_file_or_directory);
    CHECK(missing.path1 == dir / "nothing");
    CHECK(test::read_file(dst) == new_content);
}
