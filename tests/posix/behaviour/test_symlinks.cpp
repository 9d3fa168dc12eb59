// SPDX-License-Identifier: MIT
// A symbolic link at the target, for each symlink_mode: replace (the default) replaces
// the link itself, follow writes the file at the end of the chain, refuse fails with
// ELOOP. And a link planted where a temporary file would be made is never followed.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/stat.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

using names = std::vector<std::string>;

using test::kind_of;
using test::writer_kind;

using link_writers =
    test::type_list<aw::atomic_writer, aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::named>,
                    aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::anonymous>,
                    aw::basic_atomic_writer<aw::sync::none, aw::commit::rename,
                                            aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>,
                    aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::mkstemp>,
                    aw::basic_atomic_writer<aw::sync::fdatasync, aw::commit::renameat2, aw::temp::anonymous>>;

/// Writes with the error_code form and requires success.
void write_ok(const writer_kind& k, const fs::path& target, std::string_view data, const aw::write_options& o) {
    std::error_code ec;
    const aw::commit_state s = k.write(target, data, o, ec);
    INFO("write_file: " << ec.message());
    REQUIRE_FALSE(ec);
    REQUIRE(s == aw::commit_state::published);
}

/// Writes with the error_code form and returns the error (the state must be unchanged).
std::error_code write_fails(const writer_kind& k, const fs::path& target, std::string_view data,
                            const aw::write_options& o) {
    std::error_code ec;
    CHECK(k.write(target, data, o, ec) == aw::commit_state::unchanged);
    return ec;
}

bool is_link_to(const fs::path& link, const fs::path& to) {
    return fs::is_symlink(fs::symlink_status(link)) && fs::read_symlink(link) == to;
}

// --- symlink_mode::replace ------------------------------------------------------------------

void replace_mode(const writer_kind& k) {
    test::temp_dir dir;
    const test::scoped_umask umask(022);
    const fs::path link = dir / "link";
    test::write_plain(dir / "file", "the link's target");
    fs::permissions(dir / "file", fs::perms(0600));
    fs::create_symlink("file", link);

    // What a replaced link leaves: a regular file at the link's name, and the file the
    // link pointed to as it was.
    const auto check_replaced = [&] {
        CHECK(fs::is_regular_file(fs::symlink_status(link)));
        CHECK(test::read_file(link) == "new");
        // A link has no mode of its own: the new file gets a new file's mode, not the
        // mode of the file the link pointed to.
        CHECK(test::mode_of(link) == 0644);
        CHECK(test::read_file(dir / "file") == "the link's target");
        CHECK(test::mode_of(dir / "file") == 0600);
        CHECK(dir.names() == names{"file", "link"});
    };
    if (k.can_replace) {
        SECTION("the link is replaced by a regular file (the default)") {
            write_ok(k, link, "new", {.overwrite = true});
            check_replaced();
        }
        SECTION("the link is replaced by a regular file (explicit)") {
            write_ok(k, link, "new", {.overwrite = true, .symlinks = aw::symlink_mode::replace});
            check_replaced();
        }
        SECTION("a dangling link is replaced too") {
            fs::remove(link);
            fs::create_symlink("missing", link);
            write_ok(k, link, "new", {.overwrite = true});
            CHECK_FALSE(fs::exists(dir / "missing"));
            check_replaced();
        }
    }
    if (k.can_keep) {
        SECTION("overwrite = false: a link is an existing target") {
            CHECK(write_fails(k, link, "new", {.overwrite = false}) == std::errc::file_exists);
            CHECK(is_link_to(link, "file"));
        }
        SECTION("overwrite = false: a dangling link is an existing target") {
            fs::remove(link);
            fs::create_symlink("missing", link);
            CHECK(write_fails(k, link, "new", {.overwrite = false}) == std::errc::file_exists);
            CHECK(is_link_to(link, "missing"));
            CHECK_FALSE(fs::exists(dir / "missing"));
        }
        CHECK(test::read_file(dir / "file") == "the link's target");
        CHECK(dir.names() == names{"file", "link"});
    }
}

// --- symlink_mode::follow -------------------------------------------------------------------

void follow_mode(const writer_kind& k) {
    test::temp_dir dir;
    test::temp_dir other;
    const aw::write_options follow{.overwrite = k.can_replace, .symlinks = aw::symlink_mode::follow};

    if (k.can_replace) {
        SECTION("a chain of relative and absolute links into another directory") {
            const fs::path file = other / "file";
            test::write_plain(file, "old");
            fs::permissions(file, fs::perms(0640));
            fs::create_symlink(file, dir / "abs");     // absolute
            fs::create_symlink("abs", dir / "first");  // relative, same directory
            fs::create_symlink("first", dir / "start");
            const auto file_inode = test::inode_of(file);

            test::sync_recording_hook hook;
            {
                aw::scoped_syscall_hook installed(hook);
                write_ok(k, dir / "start", "through the chain", follow);
            }
            CHECK(test::read_file(file) == "through the chain");
            CHECK(fs::is_regular_file(fs::symlink_status(file)));
            CHECK(test::inode_of(file) != file_inode);  // replaced, not rewritten in place
            CHECK(test::mode_of(file) == 0640);
            CHECK(is_link_to(dir / "start", "first"));
            CHECK(is_link_to(dir / "first", "abs"));
            CHECK(is_link_to(dir / "abs", file));
            CHECK(dir.names() == names{"abs", "first", "start"});
            CHECK(other.names() == names{"file"});
            if (k.durable) {
                // A durable writer syncs the directory that changed: the final file's.
                CHECK(hook.synced(other.path()));
                CHECK_FALSE(hook.synced(dir.path()));
            } else {
                CHECK(hook.dirs.empty());
            }
        }
        SECTION("relative links through subdirectories") {
            fs::create_directory(dir / "sub");
            test::write_plain(dir / "sub" / "file", "old");
            fs::create_symlink("sub/file", dir / "down");
            fs::create_symlink("../down", dir / "sub" / "up");
            write_ok(k, dir / "sub" / "up", "up and down", follow);
            CHECK(test::read_file(dir / "sub" / "file") == "up and down");
            CHECK(is_link_to(dir / "down", "sub/file"));
            CHECK(is_link_to(dir / "sub" / "up", "../down"));
            CHECK(test::temp_dir::list(dir / "sub") == names{"file", "up"});
            CHECK(dir.names() == names{"down", "sub"});
        }
        SECTION("a relative link into another directory") {
            test::write_plain(other / "file", "old");
            const fs::path relative = fs::relative(other / "file", dir.path());
            fs::create_symlink(relative, dir / "link");
            write_ok(k, dir / "link", "elsewhere", follow);
            CHECK(test::read_file(other / "file") == "elsewhere");
            CHECK(is_link_to(dir / "link", relative));
            CHECK(other.names() == names{"file"});
            CHECK(dir.names() == names{"link"});
        }
        SECTION("the temporary file is made in the final file's directory") {
            test::write_plain(other / "file", "old");
            fs::create_symlink(other / "file", dir / "link");
            const fs::path temp = k.temp_path(dir / "link", follow);
            if (!temp.empty()) {
                CHECK(fs::equivalent(temp.parent_path(), other.path()));
                CHECK(temp.filename().string().rfind(".file", 0) == 0);
            }
            CHECK(other.names() == names{"file"});
            CHECK(dir.names() == names{"link"});
        }
    }
    SECTION("a dangling link creates the file it points to") {
        fs::create_symlink("missing", dir / "link");
        write_ok(k, dir / "link", "created", follow);
        CHECK(test::read_file(dir / "missing") == "created");
        CHECK(fs::is_regular_file(fs::symlink_status(dir / "missing")));
        CHECK(is_link_to(dir / "link", "missing"));
        CHECK(dir.names() == names{"link", "missing"});
    }
    SECTION("a dangling absolute link into another directory creates the file there") {
        fs::create_symlink(other / "new", dir / "link");
        write_ok(k, dir / "link", "created there", follow);
        CHECK(test::read_file(other / "new") == "created there");
        CHECK(is_link_to(dir / "link", other / "new"));
        CHECK(other.names() == names{"new"});
        CHECK(dir.names() == names{"link"});
    }
    if (k.can_keep) {
        SECTION("overwrite = false and the final file exists: file_exists, nothing changed") {
            test::write_plain(other / "file", "old");
            fs::create_symlink(other / "file", dir / "link");
            CHECK(write_fails(k, dir / "link", "new", {.overwrite = false, .symlinks = aw::symlink_mode::follow}) ==
                  std::errc::file_exists);
            CHECK(test::read_file(other / "file") == "old");
            CHECK(is_link_to(dir / "link", other / "file"));
            CHECK(other.names() == names{"file"});
            CHECK(dir.names() == names{"link"});
        }
    }
    SECTION("a loop fails with too_many_symbolic_link_levels") {
        fs::create_symlink("b", dir / "a");
        fs::create_symlink("a", dir / "b");
        fs::create_symlink("self", dir / "self");
        for (const char* start : {"a", "b", "self"}) {
            INFO("start = " << start);
            CHECK(write_fails(k, dir / start, "never", follow) == std::errc::too_many_symbolic_link_levels);
            const auto err = test::catch_error([&] {
                aw::write_file(dir / start, "never", {.overwrite = true, .symlinks = aw::symlink_mode::follow});
            });
            CHECK(err.code == std::errc::too_many_symbolic_link_levels);
            CHECK(err.path1 == dir / start);
        }
        CHECK(is_link_to(dir / "a", "b"));
        CHECK(is_link_to(dir / "b", "a"));
        CHECK(is_link_to(dir / "self", "self"));
        CHECK(dir.names() == names{"a", "b", "self"});
    }
    SECTION("a link to a directory is refused") {
        fs::create_directory(other / "sub");
        fs::create_symlink(other / "sub", dir / "link");
        CHECK(write_fails(k, dir / "link", "never", follow) == std::errc::is_a_directory);
        CHECK(test::temp_dir::list(other / "sub").empty());
        CHECK(dir.names() == names{"link"});
    }
}

// --- symlink_mode::refuse -------------------------------------------------------------------

void refuse_mode(const writer_kind& k) {
    test::temp_dir dir;
    test::write_plain(dir / "file", "the link's target");
    const auto file_inode = test::inode_of(dir / "file");

    for (bool overwrite : {false, true}) {
        if (overwrite ? !k.can_replace : !k.can_keep) continue;
        INFO("overwrite = " << overwrite);
        const aw::write_options refuse{.overwrite = overwrite, .symlinks = aw::symlink_mode::refuse};

        SECTION("a link to a file, overwrite = " + std::to_string(overwrite)) {
            fs::create_symlink("file", dir / "link");
            CHECK(write_fails(k, dir / "link", "never", refuse) == std::errc::too_many_symbolic_link_levels);
            const auto err = test::catch_error([&] { aw::write_file(dir / "link", "never", refuse); });
            CHECK(err.threw);
            CHECK(err.code == std::errc::too_many_symbolic_link_levels);
            CHECK(err.path1 == dir / "link");
            CHECK(is_link_to(dir / "link", "file"));
            CHECK(dir.names() == names{"file", "link"});
        }
        SECTION("a dangling link, overwrite = " + std::to_string(overwrite)) {
            fs::create_symlink("missing", dir / "link");
            CHECK(write_fails(k, dir / "link", "never", refuse) == std::errc::too_many_symbolic_link_levels);
            CHECK(is_link_to(dir / "link", "missing"));
            CHECK_FALSE(fs::exists(dir / "missing"));
            CHECK(dir.names() == names{"file", "link"});
        }
        SECTION("a regular file is written as usual, overwrite = " + std::to_string(overwrite)) {
            write_ok(k, dir / "plain", "written", refuse);
            CHECK(test::read_file(dir / "plain") == "written");
            CHECK(dir.names() == names{"file", "plain"});
        }
    }
    CHECK(test::read_file(dir / "file") == "the link's target");
    CHECK(test::inode_of(dir / "file") == file_inode);
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("symlink_mode::replace replaces the link itself", "[symlinks]", link_writers) {
    test::run_check(kind_of<TestType>(), replace_mode);
}

TEMPLATE_LIST_TEST_CASE("symlink_mode::follow writes the file at the end of the chain", "[symlinks]", link_writers) {
    test::run_check(kind_of<TestType>(), follow_mode);
}

TEMPLATE_LIST_TEST_CASE("symlink_mode::refuse fails with too_many_symbolic_link_levels", "[symlinks]", link_writers) {
    test::run_check(kind_of<TestType>(), refuse_mode);
}

TEST_CASE("a link planted at the name of a temp::named temporary file is never followed", "[symlinks][temp]") {
    using writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::named>;
    test::temp_dir dir;
    test::temp_dir other;
    const fs::path target = dir / "target";
    const fs::path planted = dir / ".target.tmp";

    SECTION("a link to an existing file") {
        test::write_plain(other / "victim", "not to be touched");
        fs::permissions(other / "victim", fs::perms(0600));
        fs::create_symlink(other / "victim", planted);
        for (bool overwrite : {false, true}) {
            const auto err = test::catch_error([&] { writer w(target, {.overwrite = overwrite}); });
            CHECK(err.threw);
            CHECK(err.code == std::errc::file_exists);
            std::error_code ec;
            CHECK(aw::write_file<writer>(target, "payload", {.overwrite = overwrite}, ec) ==
                  aw::commit_state::unchanged);
            CHECK(ec == std::errc::file_exists);
        }
        CHECK(test::read_file(other / "victim") == "not to be touched");
        CHECK(test::mode_of(other / "victim") == 0600);
        CHECK(is_link_to(planted, other / "victim"));
        CHECK(other.names() == names{"victim"});
        CHECK(dir.names() == names{".target.tmp"});
    }
    SECTION("a dangling link: the file it names is not created") {
        fs::create_symlink(other / "created", planted);
        const auto err = test::catch_error([&] { aw::write_file<writer>(target, "payload"); });
        CHECK(err.code == std::errc::file_exists);
        CHECK_FALSE(fs::exists(other / "created"));
        CHECK(other.names().empty());
        CHECK(is_link_to(planted, other / "created"));
        CHECK(dir.names() == names{".target.tmp"});
    }
    SECTION("a link with a custom prefix and suffix") {
        test::write_plain(other / "victim", "not to be touched");
        fs::create_symlink(other / "victim", dir / "#target#");
        const auto err = test::catch_error(
            [&] { aw::write_file<writer>(target, "payload", {.temp_prefix = "#", .temp_suffix = "#"}); });
        CHECK(err.code == std::errc::file_exists);
        CHECK(test::read_file(other / "victim") == "not to be touched");
        CHECK(dir.names() == names{"#target#"});
    }
    CHECK_FALSE(fs::exists(fs::symlink_status(target)));
}
