// SPDX-License-Identifier: MIT
// versions.hpp on its own: versions of files, read_file(), compare-and-swap commits
// (write_options::expect), the cooperative lock (write_options::lock) and update_file(),
// each with its errors. Races between threads and processes: system/test_versions_race.cpp.
#include <catch2/catch.hpp>

#include <atomicwrites/stale_temps.hpp>
#include <atomicwrites/versions.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "support/errors.hpp"
#include "support/fs.hpp"

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using namespace std::chrono_literals;

TEST_CASE("target_changed has its own category and compares with error_code", "[versions][errc]") {
    const std::error_code ec = aw::errc::target_changed;
    CHECK(ec == aw::errc::target_changed);
    CHECK(ec != aw::errc::lock_timeout);
    CHECK(ec.category() == aw::atomicwrites_category());
    CHECK(std::string(ec.category().name()) == "atomicwrites");
    CHECK(ec.message() == "the target is not the version expected");
    CHECK(ec != std::errc::file_exists);
    const std::error_code timeout = aw::errc::lock_timeout;
    CHECK(timeout == std::errc::timed_out);
    CHECK(timeout.message().find("lock") != std::string::npos);
}

TEST_CASE("a version changes with every replacement and no file is a version", "[versions]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    CHECK(aw::version_of(p) == aw::file_version{});
    CHECK_FALSE(aw::version_of(p).exists);
    aw::write_file(p, "one");
    const aw::file_version v1 = aw::version_of(p);
    CHECK(v1.exists);
    CHECK(v1.size == 3);
    CHECK(v1.inode != 0);
    CHECK(aw::version_of(p) == v1);
    aw::write_file(p, "two", {.overwrite = true});
    const aw::file_version v2 = aw::version_of(p);
    CHECK(v2 != v1);
    CHECK(v2.size == 3);

    const aw::file_contents r = aw::read_file(p);
    CHECK(r.content == "two");
    CHECK(r.version == v2);

    std::error_code ec;
    const aw::file_contents missing = aw::read_file(dir / "none", ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(missing.content.empty());
    const auto e = test::catch_error([&] { aw::read_file(dir / "none"); });
    CHECK(e.code == std::errc::no_such_file_or_directory);
    CHECK(e.what.find("open file") != std::string::npos);
    CHECK(e.path1 == dir / "none");
}

TEST_CASE("read_file reads large and empty files whole", "[versions]") {
    test::temp_dir dir;
    std::string big(300000, 'x');
    for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
    aw::write_file(dir / "big", big);
    CHECK(aw::read_file(dir / "big").content == big);
    aw::write_file(dir / "empty", "");
    const aw::file_contents r = aw::read_file(dir / "empty");
    CHECK(r.content.empty());
    CHECK(r.version.exists);
    std::error_code ec;
    aw::read_file(dir.path(), ec);
    CHECK(ec);
}

TEST_CASE("expect: the commit publishes only over the version expected", "[versions][expect]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    aw::write_file(p, "old");
    const aw::file_version v = aw::version_of(p);

    SECTION("unchanged: published") {
        aw::write_file(p, "new", {.overwrite = true, .expect = v});
        CHECK(test::read_file(p) == "new");
    }
    SECTION("changed before the writer was made: refused at once, nothing written") {
        aw::write_file(p, "other", {.overwrite = true});
        std::error_code ec;
        CHECK(aw::write_file(p, "new", {.overwrite = true, .expect = v}, ec) == aw::commit_state::unchanged);
        CHECK(ec == aw::errc::target_changed);
        CHECK(test::read_file(p) == "other");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("changed while the writer was open: refused at the commit, temporary removed") {
        aw::atomic_writer w(p, {.overwrite = true, .expect = v});
        w.write("new");
        aw::write_file(p, "other", {.overwrite = true});
        const auto e = test::catch_error([&] { w.commit(); });
        CHECK(e.code == aw::errc::target_changed);
        CHECK(e.what.find("check target version") != std::string::npos);
        CHECK(e.path1 == p);
        CHECK(w.state() == aw::commit_state::unchanged);
        CHECK(test::read_file(p) == "other");
        // The check is made under the target's lock file, which stays.
        CHECK(dir.names() == std::vector<std::string>{".f.lock", "f"});
    }
    SECTION("removed meanwhile: refused") {
        aw::atomic_writer w(p, {.overwrite = true, .expect = v});
        w.write("new");
        fs::remove(p);
        std::error_code ec;
        CHECK(w.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == aw::errc::target_changed);
        CHECK_FALSE(fs::exists(p));
        CHECK(dir.names() == std::vector<std::string>{".f.lock"});
    }
    SECTION("an existing version needs overwrite") {
        std::error_code ec;
        aw::write_file(p, "new", {.expect = v}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK(test::read_file(p) == "old");
    }
}

TEST_CASE("expect no file: a file that appears is a changed target", "[versions][expect]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    for (const bool overwrite : {false, true}) {
        INFO("overwrite " << overwrite);
        fs::remove(p);
        {
            aw::atomic_writer w(p, {.overwrite = overwrite, .expect = aw::file_version{}});
            w.write("mine");
            test::write_plain(p, "theirs");
            std::error_code ec;
            CHECK(w.commit(ec) == aw::commit_state::unchanged);
            CHECK(ec == aw::errc::target_changed);
            CHECK(test::read_file(p) == "theirs");
        }
        std::error_code ec;
        aw::write_file(p, "mine", {.overwrite = overwrite, .expect = aw::file_version{}}, ec);
        CHECK(ec == aw::errc::target_changed);
        fs::remove(p);
        aw::write_file(p, "mine", {.overwrite = overwrite, .expect = aw::file_version{}});
        CHECK(test::read_file(p) == "mine");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
}

TEST_CASE("a writer with lock_mode::exclusive holds the lock file until it closes", "[versions][lock]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    aw::write_file(p, "0");
    {
        aw::atomic_writer w(p, {.overwrite = true, .lock = aw::lock_mode::exclusive});
        CHECK(fs::exists(dir / ".f.lock"));
        std::error_code ec;
        aw::write_file(p, "1", {.overwrite = true, .lock = aw::lock_mode::exclusive, .lock_timeout = 0ms}, ec);
        CHECK(ec == aw::errc::lock_timeout);
        CHECK(ec == std::errc::timed_out);
        const auto start = std::chrono::steady_clock::now();
        const auto e = test::catch_error(
            [&] { aw::update_file(p, [](std::string_view) { return std::string("2"); }, {.lock_timeout = 50ms}); });
        CHECK(std::chrono::steady_clock::now() - start >= 50ms);
        CHECK(e.code == aw::errc::lock_timeout);
        CHECK(e.what.find("lock target (timed out") != std::string::npos);
        CHECK(test::read_file(p) == "0");
        // Without the lock nothing waits: the lock is cooperative only.
        aw::write_file(p, "3", {.overwrite = true});
        w.write("4");
    }  // rolled back: the lock is released with it
    CHECK(test::read_file(p) == "3");
    aw::write_file(p, "5", {.overwrite = true, .lock = aw::lock_mode::exclusive, .lock_timeout = 0ms});
    CHECK(test::read_file(p) == "5");
    // The lock file stays (removing it would let two writers lock two files), and no
    // sweep takes it for a temporary file.
    CHECK(dir.names() == std::vector<std::string>{".f.lock", "f"});
    CHECK(aw::remove_stale_temps(dir.path()) == 0);
    CHECK(aw::remove_stale_temps(dir.path(), {.temp_suffix = ".lock"}) == 0);
    CHECK(fs::exists(dir / ".f.lock"));
}

TEST_CASE("update_file: lock, read, transform, commit", "[versions][update]") {
    test::temp_dir dir;
    const fs::path p = dir / "counter";
    auto increment = [](std::string_view old) {
        return std::to_string(old.empty() ? 1 : std::stoll(std::string(old)) + 1);
    };
    aw::update_file(p, increment);  // a missing file reads as empty
    CHECK(test::read_file(p) == "1");
    for (int i = 0; i < 5; ++i) aw::update_file(p, increment);
    CHECK(test::read_file(p) == "6");
    std::error_code ec;
    CHECK(aw::update_file(p, increment, {}, ec) == aw::commit_state::published);
    CHECK_FALSE(ec);
    CHECK(test::read_file(p) == "7");

    // What fn throws propagates; nothing is written and the lock is released.
    CHECK_THROWS_AS(aw::update_file(p, [](std::string_view) -> std::string { throw std::runtime_error("no"); }),
                    std::runtime_error);
    CHECK(test::read_file(p) == "7");
    aw::update_file(p, increment, {.lock_timeout = 0ms});
    CHECK(test::read_file(p) == "8");
    CHECK(dir.names() == std::vector<std::string>{".counter.lock", "counter"});

    // The mode of the file is kept, as by any replacement.
    aw::update_file(dir / "missing-dir" / "x", increment, {}, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    aw::update_file(dir.path() / "", increment, {}, ec);
    CHECK(ec == std::errc::is_a_directory);
}

TEST_CASE("update_file's commit fails rather than overwrite a writer that took no lock", "[versions][update]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    aw::write_file(p, "a");
    std::error_code ec;
    const aw::commit_state s = aw::update_file(
        p,
        [&](std::string_view old) {
            aw::write_file(p, "b", {.overwrite = true});  // someone else, without the lock
            return std::string(old) + "!";
        },
        {}, ec);
    CHECK(s == aw::commit_state::unchanged);
    CHECK(ec == aw::errc::target_changed);
    CHECK(test::read_file(p) == "b");
    const auto e = test::catch_error([&] {
        aw::update_file(p, [&](std::string_view) {
            aw::write_file(p, "c", {.overwrite = true});
            return std::string("lost");
        });
    });
    CHECK(e.code == aw::errc::target_changed);
    CHECK(test::read_file(p) == "c");
}

TEST_CASE("update_file through a symbolic link: the link replaced, or followed", "[versions][update][symlink]") {
    test::temp_dir dir;
    if (!test::can_make_symlinks(dir.path())) {
        WARN("skipped: no symbolic links here");
        return;
    }
    aw::write_file(dir / "real", "a");
    fs::create_symlink("real", dir / "link");
    auto append = [](std::string_view old) { return std::string(old) + "b"; };
    aw::update_file(dir / "link", append, {.symlinks = aw::symlink_mode::follow});
    CHECK(fs::is_symlink(dir / "link"));
    CHECK(test::read_file(dir / "real") == "ab");
    aw::update_file(dir / "link", append);  // replace (the default): the link becomes a file
    CHECK_FALSE(fs::is_symlink(dir / "link"));
    CHECK(test::read_file(dir / "link") == "abb");
    CHECK(test::read_file(dir / "real") == "ab");
    fs::create_symlink("real", dir / "link2");
    std::error_code ec;
    aw::update_file(dir / "link2", append, {.symlinks = aw::symlink_mode::refuse}, ec);
    CHECK(ec == std::errc::too_many_symbolic_link_levels);
}

#if !defined(_WIN32)
namespace {
std::map<aw::sysop, unsigned long> calls_of(const std::function<void()>& f) {
    aw::syscall_counter counter;
    {
        aw::scoped_syscall_hook scope(counter);
        f();
    }
    std::map<aw::sysop, unsigned long> m;
    for (unsigned op = 0; op < aw::sysop_count; ++op)
        if (counter.count(static_cast<aw::sysop>(op)) != 0)
            m[static_cast<aw::sysop>(op)] = counter.count(static_cast<aw::sysop>(op));
    return m;
}
// What `with` makes beyond `without`, by operation (nothing less, checked).
std::map<aw::sysop, unsigned long> extra(std::map<aw::sysop, unsigned long> with,
                                         const std::map<aw::sysop, unsigned long>& without) {
    for (const auto& [op, n] : without) {
        CHECK(with[op] >= n);
        with[op] -= n;
        if (with[op] == 0) with.erase(op);
    }
    return with;
}
}  // namespace

TEST_CASE("what expect and the lock add to a commit, call by call", "[versions][calls]") {
    using aw::sysop;
    test::temp_dir dir;
    const fs::path p = dir / "f";
    aw::write_file(p, "0");
    const auto plain = calls_of([&] { aw::write_file(p, "1", {.overwrite = true}); });
    const auto expecting = calls_of([&] {
        const aw::file_version v = aw::version_of(p);
        aw::write_file(p, "2", {.overwrite = true, .expect = v});
    });
    // version_of's fstatat, then the check: the lock file opened, locked, one fstatat, closed.
    CHECK(extra(expecting, plain) ==
          std::map<sysop, unsigned long>{
              {sysop::stat, 2}, {sysop::close, 1}, {sysop::open_lock_file, 1}, {sysop::lock, 1}});
    const auto locked =
        calls_of([&] { aw::write_file(p, "3", {.overwrite = true, .lock = aw::lock_mode::exclusive}); });
    CHECK(extra(locked, plain) ==
          std::map<sysop, unsigned long>{{sysop::close, 1}, {sysop::open_lock_file, 1}, {sysop::lock, 1}});
    // Expecting no file costs nothing: the publication refuses an existing target itself.
    const auto created = calls_of([&] { aw::write_file(dir / "g", "g"); });
    const auto created_expecting = calls_of([&] { aw::write_file(dir / "h", "h", {.expect = aw::file_version{}}); });
    CHECK(created_expecting == created);
}
#endif
