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

namespace {

/// The most files open at once among those the recorded calls wrote to (each is
/// written right after it is made; close releases it; directories are never written).
std::size_t most_files_open(const test::scripted_hook& hook) {
    std::vector<aw::native_handle_type> open;
    std::size_t most = 0;
    for (const auto& c : hook.calls) {
        if (c.error != 0) continue;
        if (c.op == aw::sysop::write) {
            if (std::find(open.begin(), open.end(), c.file) == open.end()) open.push_back(c.file);
            most = std::max(most, open.size());
        } else if (c.op == aw::sysop::close) {
            open.erase(std::remove(open.begin(), open.end(), c.file), open.end());
        }
    }
    return most;
}

template <class Group>
void publish_streamed(const fs::path& site, int version, std::size_t files, const aw::tree_options& options) {
    aw::basic_tree_writer<aw::default_sync, Group> t(site, options);
    aw::tree_file& big = t.add("big.txt");
    for (int i = 0; i < 2000; ++i) big.stream() << "line " << i << " of version " << version << '\n';
    aw::tree_file& parts = t.add(fs::path("data") / "parts.bin");
    const std::string chunk(100 * 1024, static_cast<char>('a' + version));  // larger than the buffer
    parts.write(std::span<const std::byte>(reinterpret_cast<const std::byte*>(chunk.data()), chunk.size()));
    parts.write("end");
    parts.close();
    for (std::size_t i = 0; i < files; ++i)
        t.write_file(fs::path("many") / std::to_string(i), std::to_string(version) + ":" + std::to_string(i));
    t.commit();
}

template <class Group>
bool streamed_tree_is(const fs::path& site, int version, std::size_t files) {
    std::string big;
    for (int i = 0; i < 2000; ++i) big += "line " + std::to_string(i) + " of version " + std::to_string(version) + '\n';
    if (test::read_file(site / "big.txt") != big) return false;
    if (test::read_file(site / "data" / "parts.bin") !=
        std::string(100 * 1024, static_cast<char>('a' + version)) + "end")
        return false;
    for (std::size_t i = 0; i < files; ++i)
        if (test::read_file(site / "many" / std::to_string(i)) != std::to_string(version) + ":" + std::to_string(i))
            return false;
    return true;
}

template <class Group>
void check_group(const char* name) {
    INFO(name);
    test::temp_dir dir;
    if (!can_make_symlinks(dir)) {
        WARN("skipped: no symbolic links for this process here");
        return;
    }
    const fs::path site = dir / "site";
    const aw::tree_options options{.max_open_files = 8};
    publish_streamed<Group>(site, 1, 20, options);
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        publish_streamed<Group>(site, 2, 20, options);
    }
    CHECK(streamed_tree_is<Group>(site, 2, 20));
    CHECK(test::read_file(dir / ".site.v1" / "big.txt").find("of version 1") != std::string::npos);
    // The two streamed files stay open while the rest are synced in groups of 8; every
    // file is synced once, before the switch.
    CHECK(most_files_open(hook) <= 8 + 1);
    std::size_t file_syncs = 0;
    for (const auto& c : hook.calls)
        if (c.op == aw::sysop::fsync || c.op == aw::sysop::fdatasync || c.op == aw::sysop::full_fsync) ++file_syncs;
    if constexpr (!std::is_same_v<Group, aw::group::syncfs>) CHECK(file_syncs >= 22);
}

}  // namespace

TEST_CASE("tree_writer streams files from add() and syncs them with its group policy", "[tree]") {
    check_group<aw::group::automatic>("automatic");
    check_group<aw::group::sequential>("sequential");
    check_group<aw::group::concurrent>("concurrent");
    check_group<aw::group::syncfs>("syncfs");
}

TEST_CASE("a tree_file refuses writes once closed, and its errors stop the commit", "[tree]") {
    test::temp_dir dir;
    if (!can_make_symlinks(dir)) {
        WARN("skipped: no symbolic links for this process here");
        return;
    }
    const fs::path site = dir / "site";
    publish(site, 1);
    SECTION("closed, committed, rolled back: writes fail with bad_file_descriptor") {
        aw::tree_writer t(site);
        aw::tree_file& f = t.add("index.html");
        CHECK(f.is_open());
        CHECK(f.native_handle() != aw::invalid_handle);
        CHECK(f.path() == t.version_path() / "index.html");
        f.write("version 2");
        f.close();
        f.close();  // twice: nothing
        std::error_code ec;
        f.write("more", ec);
        CHECK(ec == std::errc::bad_file_descriptor);
        CHECK_FALSE(f.is_open());
        aw::tree_file& g = t.add(fs::path("css") / "img" / "logo.svg");
        g.write("logo 2");  // left open: commit() closes it
        t.commit();
        CHECK(test::read_file(site / "index.html") == "version 2");
        CHECK(test::read_file(site / "css" / "img" / "logo.svg") == "logo 2");
        g.write("late", ec);
        CHECK(ec == std::errc::bad_file_descriptor);
        CHECK_THROWS_AS(g.write("late"), fs::filesystem_error);
        CHECK(g.stream().fail());
    }
    SECTION("a bad path from add() is refused, and the commit publishes nothing") {
        aw::tree_writer t(site);
        std::error_code ec;
        CHECK(t.add(fs::path("..") / "escape", ec) == nullptr);
        CHECK(ec == std::errc::invalid_argument);
        CHECK_THROWS_AS(t.add(""), fs::filesystem_error);
        t.add("index.html").write("never");
        CHECK(t.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(test::read_file(site / "index.html") == "version 1");
        CHECK(dir.names() == std::vector<std::string>{".site.v1", "site"});
    }
    SECTION("a failed write into a tree_file is reported by the commit, naming the file") {
        aw::tree_writer t(site);
        t.write_file("index.html", "version 2");
        aw::tree_file& f = t.add("big.bin");
        const fs::path where = f.path();
        test::scripted_hook hook;
        hook.fail_every(aw::sysop::write, ENOSPC);
        {
            aw::scoped_syscall_hook scope(hook);
            std::error_code ec;
            f.write(std::string(200 * 1024, 'x'), ec);  // straight through: fails now
            CHECK(ec == std::errc::no_space_on_device);
        }
        try {
            t.commit();
            FAIL("the commit published a tree with a failed file");
        } catch (const fs::filesystem_error& e) {
            CHECK(e.code() == std::errc::no_space_on_device);
            CHECK(e.path2() == where);
            CHECK(std::string(e.what()).find("write file") != std::string::npos);
        }
        CHECK(test::read_file(site / "index.html") == "version 1");
        CHECK(dir.names() == std::vector<std::string>{".site.v1", "site"});
    }
    SECTION("a failed sync of a grouped file is reported by the commit, naming the file") {
        aw::tree_writer t(site, {.max_open_files = 2});
        test::scripted_hook hook;
        hook.fail_op(aw::sysop::fsync, EIO, 1);
        {
            aw::scoped_syscall_hook scope(hook);
            aw::tree_file& f = t.add("a.txt");
            f.write("a");
            f.close();
            aw::tree_file& g = t.add("b.txt");
            g.write("b");
            g.close();
            std::error_code ec;
            CHECK(t.commit(ec) == aw::commit_state::unchanged);
            CHECK(ec == std::errc::io_error);
            CHECK(std::string(t.failed_step()) == "sync file");
        }
        CHECK(test::read_file(site / "index.html") == "version 1");
        CHECK(dir.names() == std::vector<std::string>{".site.v1", "site"});
    }
}
