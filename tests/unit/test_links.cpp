// SPDX-License-Identifier: MIT
// links.hpp and write_options::backup on real files: symlink_atomic() makes and
// replaces links (or, on Windows without the privilege, refuses clearly),
// exchange_atomic() swaps two names (or says not_supported), a backed-up write keeps
// the replaced file under the backup name. Bad input and failures name the step and
// the path and leave nothing behind.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/links.hpp>

#include <functional>
#include <string>
#include <system_error>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// The text of the symbolic link at `p`, or "" if there is none (through the library's
/// OS layer: std::filesystem has no links on MinGW).
std::string link_text(const fs::path& p) {
    aw::native_char_type buf[512];
    std::error_code ec;
    const std::size_t n = aw::detail::sys::read_link(aw::detail::sys::current_directory, p.c_str(), buf, 512, ec);
    if (ec) return "";
    return test::utf8(fs::path(aw::native_string_view(buf, n)));
}

/// Whether this process can make symbolic links here (Windows: an administrator or
/// Developer Mode; Wine: its own rules). Where it cannot, the library must say so.
bool can_make_symlinks(const test::temp_dir& dir) {
    std::error_code ec;
    aw::symlink_atomic("x", dir / "probe-link", ec);
    if (ec) return false;
    aw::detail::sys::unlink(aw::detail::sys::current_directory, (dir / "probe-link").c_str(), ec);
    return true;
}

std::string what_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("symlink_atomic makes, refuses and replaces links", "[links]") {
    test::temp_dir dir;
    test::write_plain(dir / "v1", "version 1");
    test::write_plain(dir / "v2", "version 2");
    const fs::path link = dir / "current";
    if (!can_make_symlinks(dir)) {
        std::error_code ec;
        const aw::commit_state s = aw::symlink_atomic("v1", link, ec);
        CHECK(ec);
        CHECK(s == aw::commit_state::unchanged);
        CHECK(what_of([&] { aw::symlink_atomic("v1", link); }).find("create link") != std::string::npos);
        CHECK(dir.names() == std::vector<std::string>{"v1", "v2"});
        WARN("this process may not make symbolic links: checked that symlink_atomic refuses clearly");
        return;
    }
    std::error_code ec;
    CHECK(aw::symlink_atomic("v1", link, ec) == aw::commit_state::published);
    CHECK_FALSE(ec);
    CHECK(link_text(link) == "v1");
    CHECK(test::read_file(link) == "version 1");

    SECTION("overwrite = false refuses an existing name and changes nothing") {
        CHECK(aw::symlink_atomic("v2", link, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(link_text(link) == "v1");
        const std::string what = what_of([&] { aw::symlink_atomic("v2", link); });
        CHECK(what.find("overwrite is false") != std::string::npos);
        CHECK(what.find("current") != std::string::npos);
        test::write_plain(dir / "file", "a file");
        CHECK(aw::symlink_atomic("v2", dir / "file", ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(test::read_file(dir / "file") == "a file");
    }
    SECTION("overwrite = true replaces a link, and a file") {
        CHECK(aw::symlink_atomic("v2", link, {.overwrite = true}, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(link_text(link) == "v2");
        CHECK(test::read_file(link) == "version 2");
        test::write_plain(dir / "file", "a file");
        aw::symlink_atomic("v1", dir / "file", {.overwrite = true});
        CHECK(link_text(dir / "file") == "v1");
    }
    SECTION("a dangling link is made as asked") {
        aw::symlink_atomic("nowhere", dir / "dangling");
        CHECK(link_text(dir / "dangling") == "nowhere");
    }
    SECTION("a directory at the name is never replaced, and no temporary link is left") {
        fs::create_directory(dir / "d");
        CHECK(aw::symlink_atomic("v1", dir / "d", {.overwrite = true}, ec) == aw::commit_state::unchanged);
        CHECK(ec);
        CHECK(fs::is_directory(dir / "d"));
        CHECK(link_text(dir / "d").empty());
        CHECK(dir.names() == std::vector<std::string>{"current", "d", "v1", "v2"});
    }
    SECTION("bad input names the step and the path") {
        CHECK(aw::symlink_atomic("", dir / "x", ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(what_of([&] { aw::symlink_atomic("", dir / "x"); }).find("check link target") != std::string::npos);
        aw::symlink_atomic("v1", "", ec);
        CHECK(ec == std::errc::invalid_argument);
        aw::symlink_atomic("v1", dir / "sub" / "", ec);
        CHECK(ec == std::errc::is_a_directory);
        const std::string what = what_of([&] { aw::symlink_atomic("v1", dir / "missing" / "x"); });
        CHECK(what.find("open directory") != std::string::npos);
        CHECK(what.find("missing") != std::string::npos);
        aw::symlink_atomic("v1", dir / "x", {.overwrite = true, .temp_prefix = "a/b"}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(dir.names() == std::vector<std::string>{"current", "v1", "v2"});
    }
}

TEST_CASE("exchange_atomic swaps two names, or says not_supported", "[links]") {
    test::temp_dir dir;
    test::write_plain(dir / "a", "A");
    fs::create_directory(dir / "b");
    test::write_plain(dir / "b" / "inside", "B");
    std::error_code ec;
    const aw::commit_state s = aw::exchange_atomic(dir / "a", dir / "b", ec);
    if (ec == std::errc::not_supported) {
        // Windows, or a filesystem without RENAME_EXCHANGE: nothing changed, and never
        // an emulation.
        CHECK(s == aw::commit_state::unchanged);
        CHECK(test::read_file(dir / "a") == "A");
        CHECK(test::read_file(dir / "b" / "inside") == "B");
        CHECK(what_of([&] { aw::exchange_atomic(dir / "a", dir / "b"); }).find("exchange") != std::string::npos);
        return;
    }
#if defined(_WIN32)
    FAIL("Windows has no exchange: " << ec.message());
#endif
    CHECK_FALSE(ec);
    CHECK(s == aw::commit_state::published);
    CHECK(test::read_file(dir / "b") == "A");
    CHECK(test::read_file(dir / "a" / "inside") == "B");
    aw::exchange_atomic(dir / "a", dir / "b");
    CHECK(test::read_file(dir / "a") == "A");

    SECTION("a missing name is an error naming both paths, nothing changed") {
        const std::string what = what_of([&] { aw::exchange_atomic(dir / "a", dir / "missing"); });
        CHECK(what.find("missing") != std::string::npos);
        CHECK(what.find("atomicwrites: ") != std::string::npos);
        CHECK(test::read_file(dir / "a") == "A");
        CHECK(dir.names() == std::vector<std::string>{"a", "b"});
    }
    SECTION("across directories") {
        fs::create_directory(dir / "other");
        test::write_plain(dir / "other" / "c", "C");
        aw::exchange_atomic(dir / "a", dir / "other" / "c");
        CHECK(test::read_file(dir / "a") == "C");
        CHECK(test::read_file(dir / "other" / "c") == "A");
    }
}

TEST_CASE("write_options::backup keeps the replaced file", "[links][backup]") {
    test::temp_dir dir;
    const fs::path target = dir / "config";
    const aw::write_options backed_up{.overwrite = true, .backup = "config.bak"};
    std::error_code ec;

    SECTION("no target: no backup") {
        aw::write_file(target, "v1", backed_up);
        CHECK(test::read_file(target) == "v1");
        CHECK(dir.names() == std::vector<std::string>{"config"});
    }
    SECTION("each replace moves the previous content to the backup name") {
        aw::write_file(target, "v1", backed_up);
        aw::write_file(target, "v2", backed_up);
        CHECK(test::read_file(target) == "v2");
        CHECK(test::read_file(dir / "config.bak") == "v1");
        aw::atomic_write(
            target, [](std::ostream& out) { out << "v3"; }, backed_up);
        CHECK(test::read_file(target) == "v3");
        CHECK(test::read_file(dir / "config.bak") == "v2");
        CHECK(dir.names() == std::vector<std::string>{"config", "config.bak"});
    }
    SECTION("relative to the target's directory, in a subdirectory, or absolute") {
        fs::create_directory(dir / "old");
        test::write_plain(target, "v1");
        aw::write_file(target, "v2", {.overwrite = true, .backup = fs::path("old") / "config.1"});
        CHECK(test::read_file(dir / "old" / "config.1") == "v1");
        aw::write_file(target, "v3", {.overwrite = true, .backup = dir / "abs.bak"});
        CHECK(test::read_file(dir / "abs.bak") == "v2");
        CHECK(test::read_file(target) == "v3");
    }
    SECTION("through a directory handle") {
        test::write_plain(target, "v1");
        aw::directory d(dir.path());
        aw::write_file(d, "config", "v2", backed_up);
        CHECK(test::read_file(target) == "v2");
        CHECK(test::read_file(dir / "config.bak") == "v1");
    }
    SECTION("bad options are refused before anything is made") {
        test::write_plain(target, "v1");
        aw::write_file(target, "v2", {.backup = "config.bak"}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(what_of([&] { aw::write_file(target, "v2", {.backup = "x"}); }).find("overwrite") != std::string::npos);
        aw::write_file(target, "v2", {.overwrite = true, .backup = "config"}, ec);
        CHECK(ec == std::errc::invalid_argument);
        aw::write_file(target, "v2", {.overwrite = true, .backup = fs::path("..") / dir.path().filename() / "config"},
                       ec);
        CHECK(ec == std::errc::invalid_argument);
        aw::write_file(target, "v2", {.overwrite = true, .backup = "sub/"}, ec);
        CHECK(ec == std::errc::is_a_directory);
        CHECK(test::read_file(target) == "v1");
        CHECK(dir.names() == std::vector<std::string>{"config"});
    }
    SECTION("a backup that cannot be made stops the commit: the target is unchanged, nothing is left") {
        test::write_plain(target, "v1");
        const std::string what =
            what_of([&] { aw::write_file(target, "v2", {.overwrite = true, .backup = "missing/config"}); });
        CHECK(what.find("open backup directory") != std::string::npos);
        CHECK(what.find("config") != std::string::npos);
        CHECK(test::read_file(target) == "v1");
        CHECK(dir.names() == std::vector<std::string>{"config"});
    }
}
