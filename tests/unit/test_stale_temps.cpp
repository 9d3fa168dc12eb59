// SPDX-License-Identifier: MIT
// remove_stale_temps() and is_temp_name() on every platform: every name a writer makes
// is recognised, and only those; leftovers of writers that never finished are removed
// once older than the bound, and nothing else; only the given prefix, suffix and target
// are swept; several sweeps at once remove each leftover once; a directory handle
// sweeps its own directory. A leftover here is a writer's temporary file whose removal
// at rollback was refused through the seam, closed as a killed writer's is. Each
// platform's own cases (killed child processes, leases, FIFOs and other users on POSIX;
// sharing, attributes and UTF-16 names on Windows) are in posix/unit/ and windows/.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/stale_temps.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"
#include "support/stale_temps.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using namespace test::stale;
using namespace std::chrono_literals;

/// The temporary name (UTF-8) a writer makes for `target` with these affixes, random or
/// fixed: made in the platform's own characters (UTF-16 on Windows), as the writer does.
std::string temp_name(const std::string& prefix, const std::string& target, const std::string& suffix, bool random) {
    const auto native = [](const std::string& s) { return fs::path(std::u8string(s.begin(), s.end())).native(); };
    fs::path::value_type name[aw::detail::sys::max_name + 1];
    std::error_code ec;
    aw::detail::make_temp_name(name, native(prefix), native(target), native(suffix), random, ec);
    REQUIRE_FALSE(ec);
    return test::utf8(fs::path(name));
}

}  // namespace

TEST_CASE("is_temp_name recognises every name the writers make, and only those", "[stale_temps]") {
    const std::string long_target(255, 'n');
    const std::string utf8_target = std::string(240, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    for (const std::string& target : {std::string("config.json"), std::string("a"), long_target, utf8_target}) {
        for (const auto& [prefix, suffix] :
             {std::pair<std::string, std::string>{".", ".tmp"}, {"#", "#"}, {"", ".part"}, {".~", ""}}) {
            INFO("target of " << target.size() << " bytes, prefix '" << prefix << "', suffix '" << suffix << "'");
            const aw::stale_temp_options any{.temp_prefix = prefix, .temp_suffix = suffix};
            const aw::stale_temp_options mine{.target_name = target, .temp_prefix = prefix, .temp_suffix = suffix};
            const aw::stale_temp_options other{.target_name = "other", .temp_prefix = prefix, .temp_suffix = suffix};
            for (int i = 0; i < 50; ++i) {
                const std::string name = temp_name(prefix, target, suffix, true);
                CHECK(aw::is_temp_name(name, any));
                CHECK(aw::is_temp_name(name, mine));
                CHECK_FALSE(aw::is_temp_name(name, other));
            }
            const std::string named = temp_name(prefix, target, suffix, false);
            CHECK(aw::is_temp_name(named, mine));
            CHECK_FALSE(aw::is_temp_name(named, other));
            CHECK_FALSE(aw::is_temp_name(target, mine));  // the target itself, never
        }
    }
    // Lookalikes: the target, other files, wrong random parts, other affixes.
    const aw::stale_temp_options any{};
    const aw::stale_temp_options mine{.target_name = "data"};
    for (const char* name : {"data", ".data", ".data.tmp", "data.tmp", ".data.ABCDEFG.tmp", ".data.ABCDEFGHI.tmp",
                             ".data.ABCD-FGH.tmp", ".data.ABCDEFGH.tmpx", "x.data.ABCDEFGH.tmp", "..ABCDEFGH.tmp",
                             ".data_ABCDEFGH.tmp", ".data.ABCDEFGH", "", ".", "..", ".tmp", ".ABCDEFGH.tmp"}) {
        INFO("'" << name << "'");
        CHECK_FALSE(aw::is_temp_name(name, any));
    }
    CHECK(aw::is_temp_name(".data.ABCDEFGH.tmp", any));
    CHECK(aw::is_temp_name(".data.tmp", mine));  // temp::named's, for a given target only
    CHECK_FALSE(aw::is_temp_name(".other.ABCDEFGH.tmp", mine));
    CHECK_FALSE(aw::is_temp_name(".dat.ABCDEFGH.tmp", mine));
    CHECK_FALSE(aw::is_temp_name(".datax.tmp", mine));
}

TEST_CASE("leftovers are removed; the targets and other files stay", "[stale_temps]") {
    test::temp_dir dir;
    test::write_plain(dir / "data", test::old_content);
    test::write_plain(dir / "notes.txt", "mine");
    for (int i = 0; i < 5; ++i) leave_temp<random_temp_writer>(dir / "data");
    const fs::path fresh = leave_temp<random_temp_writer>(dir / "fresh", {});  // a first write never committed
    leave_temp<named_temp_writer>(dir / "data");
    REQUIRE(starting_with(dir, ".data.").size() == 6);
    REQUIRE(fs::exists(fresh));
    CHECK(test::read_file(fresh) == test::new_content);

    // Too young for the default bound of an hour: nothing is removed.
    CHECK(aw::remove_stale_temps(dir.path()) == 0);
    CHECK(dir.names().size() == 9);

    // For one target: its random and its fixed names; the count is what was removed.
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 6);
    CHECK(dir.names() == names{test::utf8(fresh.filename()), "data", "notes.txt"});
    // For any target: the random names left.
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
    CHECK(dir.names() == names{"data", "notes.txt"});
    CHECK(test::read_file(dir / "data") == test::old_content);
    CHECK(test::read_file(dir / "notes.txt") == "mine");
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
}

TEST_CASE("a file becomes stale once it is older than the bound", "[stale_temps]") {
    test::temp_dir dir;
    leave_temp<random_temp_writer>(dir / "data");
    // Waiting past the bound, not timing anything: the file's age only grows.
    std::this_thread::sleep_for(1100ms);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 3600s}) == 0);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 1s}) == 1);
    CHECK(dir.names().empty());
}

TEST_CASE("only the given prefix, suffix and target are swept", "[stale_temps]") {
    test::temp_dir dir;
    leave_temp<random_temp_writer>(dir / "a", {.overwrite = true, .temp_prefix = "#", .temp_suffix = "#"});
    leave_temp<random_temp_writer>(dir / "b");
    leave_temp<random_temp_writer>(dir / "c");
    REQUIRE(dir.names().size() == 3);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "b"}) == 1);
    CHECK(starting_with(dir, ".b.").empty());
    CHECK(starting_with(dir, ".c.").size() == 1);
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
    CHECK(dir.names().size() == 1);
    CHECK(dir.names()[0][0] == '#');
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .temp_prefix = "#", .temp_suffix = "#"}) == 1);
    CHECK(dir.names().empty());
}

TEST_CASE("a target's temporary names match whatever the case of its ASCII letters", "[stale_temps][case]") {
    // On a case-insensitive filesystem (FAT, exFAT, NTFS, a casefold ext4 directory) a
    // leftover ".N.TXT.tmp" blocks a temp::named writer of "n.txt": a sweep for "n.txt"
    // must be able to clear it.
    const aw::stale_temp_options lower{.target_name = "n.txt"};
    const aw::stale_temp_options upper{.target_name = "N.TXT"};
    for (const char* name : {".N.TXT.tmp", ".n.txt.tmp", ".N.txt.tmp", ".N.TXT.Ab3dEf9h.tmp", ".n.Txt.ABCDEFGH.tmp"}) {
        INFO("'" << name << "'");
        CHECK(aw::is_temp_name(name, lower));
        CHECK(aw::is_temp_name(name, upper));
    }
    // Only ASCII letters are folded; the affixes, other characters and the length must agree.
    CHECK_FALSE(aw::is_temp_name(".N.TXT.TMP", lower));
    CHECK_FALSE(aw::is_temp_name(".n_txt.tmp", lower));
    CHECK_FALSE(aw::is_temp_name(".N.TXTX.tmp", lower));
    CHECK_FALSE(aw::is_temp_name(".\xc3\x91.tmp", {.target_name = "\xc3\xb1"}));  // N and n with tilde

    test::temp_dir dir;
    leave_temp<named_temp_writer>(dir / "N.TXT");
    leave_temp<random_temp_writer>(dir / "N.TXT");
    leave_temp<random_temp_writer>(dir / "other");
    REQUIRE(dir.names().size() == 3);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "n.txt"}) == 2);
    CHECK(starting_with(dir, ".N.TXT").empty());
    CHECK(starting_with(dir, ".other.").size() == 1);
}

TEST_CASE("sweeps running at once remove each leftover exactly once", "[stale_temps][concurrency]") {
    test::temp_dir dir;
    constexpr int leftovers = 30;
    for (int i = 0; i < leftovers; ++i) leave_temp<random_temp_writer>(dir / ("t" + std::to_string(i % 7)));
    REQUIRE(dir.names().size() == static_cast<std::size_t>(leftovers));
    const test::stale::sweeps_at_once swept = test::stale::sweep_at_once(dir);
    CHECK(swept.errors == 0);
    CHECK(swept.removed == static_cast<std::size_t>(leftovers));
    // A sweep that met a file another had marked for deletion kept it: a second pass
    // finds nothing left either way.
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
    CHECK(dir.names().empty());
}

TEST_CASE("remove_stale_temps through a directory handle sweeps only its directory", "[stale_temps][directory]") {
    test::temp_dir dir;
    fs::create_directory(dir / "a");
    aw::directory handle(dir / "a");
    leave_temp<random_temp_writer>(dir / "a" / "data");
    leave_temp<named_temp_writer>(dir / "a" / "data");
    test::write_plain(dir / "a" / "data", test::old_content);
    leave_temp<random_temp_writer>(dir / "data");  // not in the handle's directory
    CHECK(aw::remove_stale_temps(handle, {.older_than = 0s, .target_name = "data"}) == 2);
    CHECK(test::temp_dir::list(dir / "a") == names{"data"});
    CHECK(dir.names().size() == 2);

    aw::directory closed;
    std::error_code ec;
    CHECK(aw::remove_stale_temps(closed, now_stale, ec) == 0);
    CHECK(ec == std::errc::bad_file_descriptor);
    const auto e = test::catch_error([&] { aw::remove_stale_temps(closed); });
    CHECK(e.code == std::errc::bad_file_descriptor);
}

TEST_CASE("a sweep's report lists what it removed and what it kept, and why", "[stale_temps][report]") {
    test::temp_dir dir;
    const fs::path first = leave_temp<named_temp_writer>(dir / "data");
    const fs::path second = leave_temp<random_temp_writer>(dir / "data");
    test::write_plain(dir / "data", "target");
    // Too young for an hour: both kept, as too young; nothing else listed.
    aw::sweep_report report;
    CHECK(aw::remove_stale_temps(dir.path(), {.target_name = "data"}, report) == 0);
    std::vector<fs::path> both = {first.filename(), second.filename()};
    std::sort(both.begin(), both.end());
    std::sort(report.too_young.begin(), report.too_young.end());
    CHECK(report.too_young == both);
    CHECK(report.removed.empty());
    CHECK(report.in_use.empty());
    CHECK(report.undecided.empty());
#if defined(__linux__) || defined(_WIN32)
    // A writer at work (a lease refused on Linux, a sharing violation on Windows).
    random_temp_writer live(dir / "data", {.overwrite = true});
    live.write(test::new_content);
    live.flush();
    std::error_code ec;
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}, report, ec) == 2);
    CHECK_FALSE(ec);
    // In use; or, where its data reaches the file only now (NFS sends it to the server
    // when the sweep asks for the file's status), changed too recently.
    const std::vector<fs::path> live_name = {live.temp_path().filename()};
    CHECK((report.in_use == live_name || report.too_young == live_name));
    live.commit();
#else
    std::error_code ec;
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}, report, ec) == 2);
    CHECK_FALSE(ec);
#endif
    std::sort(report.removed.begin(), report.removed.end());
    CHECK(report.removed == both);
    CHECK(report.in_use.size() + report.too_young.size() <= 1);
    CHECK(report.undecided.empty());
    CHECK(dir.names() == names{"data"});

    // Through a directory handle, both forms; an error leaves the report as far as it got.
    aw::directory handle(dir.path());
    leave_temp<random_temp_writer>(dir / "data");
    CHECK(aw::remove_stale_temps(handle, now_stale, report, ec) == 1);
    CHECK(report.removed.size() == 1);
    CHECK(aw::remove_stale_temps(handle, now_stale, report) == 0);
    CHECK(report.removed.empty());
    CHECK(aw::remove_stale_temps(dir / "missing", now_stale, report, ec) == 0);
    CHECK(ec == std::errc::no_such_file_or_directory);
    const test::thrown_error e = test::catch_error([&] { aw::remove_stale_temps(dir / "missing", now_stale, report); });
    CHECK(e.code == std::errc::no_such_file_or_directory);
    CHECK(test::contains(e.what, "open directory"));
    aw::directory closed;
    CHECK(aw::remove_stale_temps(closed, now_stale, report, ec) == 0);
    CHECK(ec == std::errc::bad_file_descriptor);
}
