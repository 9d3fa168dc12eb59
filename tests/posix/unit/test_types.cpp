// SPDX-License-Identifier: MIT
// <atomicwrites/types.hpp>: write_options is an aggregate with the documented defaults,
// every field can be set by a designated initialiser and does what it says.
#include <catch2/catch.hpp>

#include <atomicwrites/types.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

using test::new_content;
using test::old_content;

}  // namespace

TEST_CASE("write_options is an aggregate with the documented defaults", "[types]") {
    STATIC_REQUIRE(std::is_aggregate_v<aw::write_options>);
    STATIC_REQUIRE(std::is_copy_constructible_v<aw::write_options>);
    const aw::write_options o;
    CHECK_FALSE(o.overwrite);
    CHECK(o.mode == fs::perms::unknown);
    CHECK(o.owner == aw::owner_mode::preserve);
    CHECK(o.symlinks == aw::symlink_mode::replace);
    CHECK(o.temp_prefix == ".");
    CHECK(o.temp_suffix == ".tmp");
    CHECK(o.temp_directory.empty());

    const aw::write_options braced{};
    CHECK_FALSE(braced.overwrite);
    CHECK(braced.temp_suffix == ".tmp");
}

TEST_CASE("every field takes a designated initialiser", "[types]") {
    const aw::write_options only_overwrite{.overwrite = true};
    CHECK(only_overwrite.overwrite);
    CHECK(only_overwrite.temp_prefix == ".");  // the others keep their defaults

    const aw::write_options all{
        .overwrite = true,
        .mode = fs::perms::owner_read | fs::perms::owner_write,
        .owner = aw::owner_mode::process,
        .symlinks = aw::symlink_mode::follow,
        .temp_prefix = "~",
        .temp_suffix = ".part",
        .temp_directory = "tmp",
    };
    CHECK(all.overwrite);
    CHECK(all.mode == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(all.owner == aw::owner_mode::process);
    CHECK(all.symlinks == aw::symlink_mode::follow);
    CHECK(all.temp_prefix == "~");
    CHECK(all.temp_suffix == ".part");
    CHECK(all.temp_directory == "tmp");

    // Some fields only, in order, as callers write them.
    const aw::write_options some{.mode = fs::perms::owner_all, .symlinks = aw::symlink_mode::refuse};
    CHECK_FALSE(some.overwrite);
    CHECK(some.mode == fs::perms::owner_all);
    CHECK(some.symlinks == aw::symlink_mode::refuse);
}

TEST_CASE("{.overwrite = true} works as an argument", "[types]") {
    test::temp_dir dir;
    aw::write_file(dir / "f", old_content);
    aw::write_file(dir / "f", new_content, {.overwrite = true});
    CHECK(test::read_file(dir / "f") == new_content);
    aw::atomic_write(dir / "f", [](std::ostream& out) { out << old_content; }, {.overwrite = true});
    CHECK(test::read_file(dir / "f") == old_content);
    aw::atomic_writer w(dir / "g", {.overwrite = true, .temp_suffix = ".x"});
    CHECK(w.temp_path().extension() == ".x");
}

TEST_CASE("overwrite = false, the default, refuses an existing target", "[types]") {
    test::temp_dir dir;
    aw::write_file(dir / "f", old_content);
    std::error_code ec;
    CHECK(aw::write_file(dir / "f", new_content, {}, ec) == aw::commit_state::unchanged);
    CHECK(ec == std::errc::file_exists);
    CHECK(test::read_file(dir / "f") == old_content);
}

TEST_CASE("mode sets the permission bits exactly, whatever the umask", "[types]") {
    test::temp_dir dir;
    test::scoped_umask mask(077);
    aw::write_file(dir / "f", new_content, {.mode = fs::perms(0644)});
    CHECK(test::mode_of(dir / "f") == 0644);
    aw::write_file(dir / "f", new_content, {.overwrite = true, .mode = fs::perms(0640)});
    CHECK(test::mode_of(dir / "f") == 0640);
    aw::write_file(dir / "g", new_content);  // unknown: 0666 & ~umask
    CHECK(test::mode_of(dir / "g") == 0600);
}

TEST_CASE("owner: preserve keeps another user's file theirs, process makes it ours", "[types][root]") {
    if (!test::is_root()) {
        WARN("skipped: giving a file to another user needs root");
        return;
    }
    test::temp_dir dir;
    const fs::path target = dir / "f";
    auto owner_of = [&] {
        struct ::stat st {};
        REQUIRE(::stat(target.c_str(), &st) == 0);
        return std::pair<unsigned, unsigned>(st.st_uid, st.st_gid);
    };
    test::write_plain(target, old_content);
    REQUIRE(::chown(target.c_str(), 65534, 65534) == 0);
    aw::write_file(target, new_content, {.overwrite = true});
    CHECK(owner_of() == std::pair<unsigned, unsigned>(65534, 65534));
    aw::write_file(target, old_content, {.overwrite = true, .owner = aw::owner_mode::process});
    CHECK(owner_of() == std::pair<unsigned, unsigned>(::geteuid(), ::getegid()));
    CHECK(test::read_file(target) == old_content);
}

TEST_CASE("temp_directory places the temporary file there", "[types]") {
    test::temp_dir dir;
    fs::create_directory(dir / "tmp");
    aw::atomic_writer w(dir / "f", {.temp_directory = dir / "tmp"});
    CHECK(w.temp_path().parent_path() == dir / "tmp");
    CHECK(test::temp_dir::list(dir / "tmp").size() == 1);
    w.write(new_content);
    w.commit();
    CHECK(test::read_file(dir / "f") == new_content);
    CHECK(test::temp_dir::list(dir / "tmp").empty());
}

TEST_CASE("the option strings are copied when the writer is made", "[types]") {
    // An anonymous temporary is named at commit, long after the options were read.
    test::temp_dir dir;
    test::write_plain(dir / "f", old_content);
    std::string prefix = "~first-";
    std::string suffix = ".first";
    test::scripted_hook hook;
    {
        aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous> w(
            dir / "f", {.overwrite = true, .temp_prefix = prefix, .temp_suffix = suffix});
        prefix.assign("~changed");
        suffix.assign(".changed");
        w.write(new_content);
        aw::scoped_syscall_hook scope(hook);
        w.commit();
    }
    std::string named;
    for (const auto& c : hook.calls)
        if (c.op == sysop::link_anonymous) named = c.name2;
    CHECK(named.rfind("~first-f.", 0) == 0);
    CHECK(named.size() > 6);
    CHECK(named.compare(named.size() - 6, 6, ".first") == 0);
    CHECK(test::read_file(dir / "f") == new_content);
}

TEST_CASE("the enumerations and handle type", "[types]") {
    STATIC_REQUIRE(std::is_same_v<aw::native_handle_type, int>);
    STATIC_REQUIRE(aw::invalid_handle == -1);
    STATIC_REQUIRE(aw::commit_state::unchanged != aw::commit_state::published);
    STATIC_REQUIRE(aw::symlink_mode{} == aw::symlink_mode::replace);
    STATIC_REQUIRE(aw::owner_mode{} == aw::owner_mode::preserve);
    test::temp_dir dir;
    aw::atomic_writer w(dir / "f");
    CHECK(w.native_handle() != aw::invalid_handle);
    CHECK(w.state() == aw::commit_state::unchanged);
    w.commit();
    CHECK(w.native_handle() == aw::invalid_handle);
    CHECK(w.state() == aw::commit_state::published);
}
