// SPDX-License-Identifier: MIT
// tree_writer.hpp on real files: trees published at a stable name, versions kept and
// removed, half-built trees rolled back and swept, bad input refused with nothing left
// behind; on Windows without the right to make symbolic links, a clear refusal.
#include <catch2/catch.hpp>

#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

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

/// Whether this processcan make symbolic links here (Windows: an administrator or
/// Developer Mode; Wine: its own rules). Where it cannot, the library must say so.
bool can_make_symlinks(const test::temp_dir& dir) {
    std::error_code ec;
    aw::symlink_atomic("x", dir / "probe-link", ec);
    if (ec) return false;
    aw::detail::sys::unlink(aw::detail::sys::current_directory, (dir / "probe-link").c_str(), ec);
    return true;
}

void publish(const fs::path& site, int version, const aw::tree_options& options = {}) {
    aw::tree_writer t(site, options);
    t.write_file("index.html", "version " + std::to_string(version));
    t.write_file(fs::path("css") / "img" / "logo.svg", "logo " + std::to_string(version));
    t.commit();
}

}  // namespace

TEST_CASE("tree_writer publishes whole trees at a stable name", "[tree]") {
    test::temp_dir dir;
    const fs::path site = dir / "site";
    if (!can_make_symlinks(dir)) {
        aw::tree_writer t(site);
        t.write_file("index.html", "version 1");
        std::error_code ec;
        CHECK(t.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec);
        CHECK(t.failed_step() != nullptr);
        CHECK(dir.names().empty());
        WARN("this process may not make symbolic links: checked that tree_writer refuses clearly");
        return;
    }
    publish(site, 1);
    CHECK(link_text(site) == ".site.v1");
    CHECK(test::read_file(site / "index.html") == "version 1");
    CHECK(test::read_file(site / "css" / "img" / "logo.svg") == "logo 1");
    CHECK(dir.names() == std::vector<std::string>{".site.v1", "site"});

    SECTION("one previous version is kept by default") {
        publish(site, 2);
        publish(site, 3);
        CHECK(test::read_file(site / "index.html") == "version 3");
        CHECK(test::read_file(dir / ".site.v2" / "index.html") == "version 2");
        CHECK(dir.names() == std::vector<std::string>{".site.v2", ".site.v3", "site"});
    }
    SECTION("keep = 0 and keep = 3") {
        publish(site, 2, {.keep = 3});
        publish(site, 3, {.keep = 3});
        publish(site, 4, {.keep = 3});
        CHECK(dir.names() == std::vector<std::string>{".site.v1", ".site.v2", ".site.v3", ".site.v4", "site"});
        publish(site, 5, {.keep = 0});
        CHECK(dir.names() == std::vector<std::string>{".site.v5", "site"});
        CHECK(test::read_file(site / "index.html") == "version 5");
    }
    SECTION("a tree not committed is removed, and a stale one swept by the next commit") {
        {
            aw::tree_writer t(site);
            t.write_file("index.html", "never published");
            CHECK(t.is_open());
        }
        CHECK(dir.names() == std::vector<std::string>{".site.v1", "site"});
        fs::create_directories(dir / ".site.AbCdEfGh.build" / "css");  // a writer that died
        test::write_plain(dir / ".site.AbCdEfGh.build" / "index.html", "half");
        publish(site, 2);
        CHECK(dir.names() == std::vector<std::string>{".site.v1", ".site.v2", "site"});
    }
    SECTION("a failed write publishes nothing, and the tree is removed") {
        aw::tree_writer t(site);
        t.write_file("index.html", "version 2");
        std::error_code ec;
        t.write_file("index.html", "again", ec);
        CHECK(ec == std::errc::file_exists);
        t.write_file(fs::path("..") / "escape", "x", ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(t.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(std::string(t.failed_step()).find("a write into the tree failed") != std::string::npos);
        CHECK(test::read_file(site / "index.html") == "version 1");
        CHECK(dir.names() == std::vector<std::string>{".site.v1", "site"});
        CHECK(t.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::bad_file_descriptor);
    }
    SECTION("paths outside the tree are refused, naming the step and the file") {
        aw::tree_writer t(site);
        for (const fs::path& p : {fs::path(""), fs::path("a") / ".." / "b", fs::path("."), dir / "abs"}) {
            std::error_code ec;
            t.write_file(p, "x", ec);
            CHECK(ec == std::errc::invalid_argument);
        }
        try {
            t.write_file(fs::path("..") / "x", "x");
            FAIL("no exception");
        } catch (const fs::filesystem_error& e) {
            CHECK(std::string(e.what()).find("check path") != std::string::npos);
            CHECK(test::utf8(e.path1()).find("site") != std::string::npos);
        }
    }
    SECTION("a file at the stable name is never replaced by a tree") {
        const fs::path other = dir / "page";
        test::write_plain(other, "a file");
        aw::tree_writer t(other);
        t.write_file("index.html", "x");
        std::error_code ec;
        CHECK(t.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(test::read_file(other) == "a file");
        CHECK(dir.names() == std::vector<std::string>{".site.v1", "page", "site"});
    }
    SECTION("empty directories, and a moved writer") {
        aw::tree_writer a(site);
        a.make_directory(fs::path("uploads") / "2024");
        aw::tree_writer b = std::move(a);
        CHECK_FALSE(a.is_open());
        b.write_file("index.html", "version 2");
        b.commit();
        CHECK(fs::is_directory(site / "uploads" / "2024"));
        CHECK(b.version_path() == dir / ".site.v2");
    }
}

TEST_CASE("tree_writer with exchange publishes over a real directory, or says not_supported", "[tree]") {
    test::temp_dir dir;
    const fs::path site = dir / "site";
    const aw::tree_options exchange{.exchange = true};
    publish(site, 1, exchange);  // the first: renamed into place
    CHECK(fs::is_directory(site));
    CHECK(link_text(site).empty());
    CHECK(test::read_file(site / "index.html") == "version 1");
    aw::tree_writer t(site, exchange);
    t.write_file("index.html", "version 2");
    t.write_file(fs::path("css") / "img" / "logo.svg", "logo 2");
    std::error_code ec;
    const aw::commit_state s = t.commit(ec);
    if (ec == std::errc::not_supported) {
        CHECK(s == aw::commit_state::unchanged);
        CHECK(test::read_file(site / "index.html") == "version 1");
        CHECK(dir.names() == std::vector<std::string>{"site"});
        return;
    }
    CHECK_FALSE(ec);
    CHECK(test::read_file(site / "index.html") == "version 2");
    CHECK(test::read_file(dir / ".site.v1" / "index.html") == "version 1");
    publish(site, 3, exchange);
    CHECK(dir.names() == std::vector<std::string>{".site.v2", "site"});
    CHECK(test::read_file(dir / ".site.v2" / "index.html") == "version 2");
}
