// SPDX-License-Identifier: MIT
// remove_stale_temps() on Windows: it removes what writers that never finished left
// behind, and nothing else: not a file a writer (or any program) has open for writing,
// not a young one, not a directory or link named like a temporary file, not a file of
// another name; read-only leftovers and non-ASCII targets included; every failure of a
// call of the sweep is reported with the step and the directory, and removes nothing it
// should not. Built for Windows only, beyond the portable cases of
// unit/test_stale_temps.cpp; here too a leftover is a writer's temporary file whose
// removal at rollback was refused through the seam, closed as a killed writer's is.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/stale_temps.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <windows.h>

#include "support.hpp"
#include "support/stale_temps.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using namespace test::stale;
using namespace std::chrono_literals;

using movefileex_writer = aw::basic_atomic_writer<aw::sync::commit, aw::commit::movefileex, aw::temp::mkstemp>;

/// Makes an empty file, as another program would.
void make_file(const fs::path& p) {
    HANDLE h = ::CreateFileW(p.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    REQUIRE(h != INVALID_HANDLE_VALUE);
    ::CloseHandle(h);
}

/// A file time `back` before now.
LARGE_INTEGER file_time_ago(std::chrono::seconds back) {
    FILETIME now{};
    ::GetSystemTimeAsFileTime(&now);
    LARGE_INTEGER t{};
    t.LowPart = now.dwLowDateTime;
    t.HighPart = static_cast<LONG>(now.dwHighDateTime);
    t.QuadPart -= static_cast<LONGLONG>(back.count()) * 10000000;
    return t;
}

/// Sets all the times of `p` (the last write and the change time too) `back` into the
/// past, through a handle of attribute access only (which any writer's sharing allows).
/// Returns whether the file now looks that old: Wine cannot set the change time (it is
/// the POSIX ctime, which moves to now instead).
bool set_times_back(const fs::path& p, std::chrono::seconds back) {
    HANDLE h = ::CreateFileW(p.c_str(), FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                             FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    REQUIRE(h != INVALID_HANDLE_VALUE);
    FILE_BASIC_INFO basic{};
    basic.CreationTime = basic.LastAccessTime = basic.LastWriteTime = basic.ChangeTime = file_time_ago(back);
    const bool set = ::SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic) != 0;
    FILE_BASIC_INFO now{};
    const bool read = ::GetFileInformationByHandleEx(h, FileBasicInfo, &now, sizeof now) != 0;
    ::CloseHandle(h);
    REQUIRE(set);
    REQUIRE(read);
    const LONGLONG bound = file_time_ago(back / 2).QuadPart;
    return now.LastWriteTime.QuadPart < bound && now.ChangeTime.QuadPart < bound;
}

/// A UTF-8 std::string from a u8 literal.
std::string u8(std::u8string_view s) { return std::string(s.begin(), s.end()); }

/// The path of a UTF-8 name.
fs::path u8path(const std::string& s) { return fs::path(std::u8string(s.begin(), s.end())); }

}  // namespace

TEST_CASE("Windows: a leftover whose times lie an hour back is stale for a one-hour bound", "[stale_temps][windows]") {
    test::temp_dir dir;
    const fs::path young = leave_temp<random_temp_writer>(dir / "young");
    const fs::path old = leave_temp<random_temp_writer>(dir / "old");
    if (!set_times_back(old, 2h)) {
        WARN(
            "skipped: this system cannot set a file's change time back (Wine keeps the POSIX ctime); the bound is "
            "checked by waiting instead");
        return;
    }
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 1h}) == 1);
    CHECK_FALSE(fs::exists(old));
    CHECK(fs::exists(young));
}

TEST_CASE("Windows: a temporary file open for writing is never removed, however old", "[stale_temps][windows]") {
    test::temp_dir dir;
    SECTION("a writer at work") {
        random_temp_writer w(dir / "data", {.overwrite = true});
        w.write(test::new_content);
        w.flush();
        const bool old = set_times_back(w.temp_path(), 2h);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
        if (old) CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 1h}) == 0);
        CHECK(fs::exists(w.temp_path()));
        w.write("more");
        w.commit();
        CHECK(test::read_file(dir / "data") == test::new_content + "more");
    }
    SECTION("a writer of a fixed temporary name, committing by name") {
        using writer = aw::basic_atomic_writer<aw::sync::commit, aw::commit::movefileex, aw::temp::named>;
        writer w(dir / "data", {.overwrite = true});
        w.write(test::new_content);
        CHECK(dir.names() == names{".data.tmp"});
        CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 0);
        CHECK(dir.names() == names{".data.tmp"});
        w.commit();
        CHECK(test::read_file(dir / "data") == test::new_content);
    }
    SECTION("another program that has it open for writing") {
        const fs::path lookalike = dir / ".data.ABCDEFGH.tmp";
        HANDLE h =
            ::CreateFileW(lookalike.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                          nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
        REQUIRE(h != INVALID_HANDLE_VALUE);
        const bool old = set_times_back(lookalike, 2h);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
        if (old) CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 1h}) == 0);
        CHECK(fs::exists(lookalike));
        ::CloseHandle(h);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
        CHECK_FALSE(fs::exists(lookalike));
    }
    SECTION("a reader that does not share its deletion: kept too") {
        const fs::path leftover = leave_temp<random_temp_writer>(dir / "data");
        HANDLE h = ::CreateFileW(leftover.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                                 FILE_ATTRIBUTE_NORMAL, nullptr);
        REQUIRE(h != INVALID_HANDLE_VALUE);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
        ::CloseHandle(h);
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 1);
    }
    SECTION("in use is told by one attempt, not retried") {
        leave_temp<random_temp_writer>(dir / "data");
        const names before = dir.names();
        test::scripted_hook hook;
        hook.fail_every(sysop::open_file, ERROR_SHARING_VIOLATION);
        const auto start = std::chrono::steady_clock::now();
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(hook);
            CHECK(aw::remove_stale_temps(dir.path(), now_stale, ec) == 0);
        }
        CHECK_FALSE(ec);
        CHECK(hook.count(sysop::open_file) == 1);
        CHECK(std::chrono::steady_clock::now() - start < 500ms);
        CHECK(dir.names() == before);
    }
}

TEST_CASE("Windows: directories, links and other names are left alone", "[stale_temps][windows]") {
    test::temp_dir dir;
    test::temp_dir other;
    fs::create_directory(dir / ".data.DIRECTOR.tmp");
    test::write_plain(dir / ".data.DIRECTOR.tmp" / "inside", "x");
    for (const char* name :
         {".data.tmp", "data.ABCDEFGH.tmp", ".data.ABCDEFG.tmp", ".data.ABCD-FGH.tmp", ".data.ABCDEFGH.tmpx", "notes"})
        make_file(dir / name);
    bool links = test::can_make_symlinks(dir.path());
    if (links) {
        test::write_plain(other / "victim", "not to be touched");
        fs::create_symlink(other / "victim", dir / ".data.LINKLINK.tmp");
        fs::create_symlink(other / "missing", dir / ".data.DANGLING.tmp");
        fs::create_directory_symlink(other.path(), dir / ".data.DIRLINKS.tmp");
    } else {
        WARN(
            "skipped: this system does not let the process make symbolic links (checked: directories and other "
            "names)");
    }
    const names before = dir.names();
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .temp_prefix = ".", .temp_suffix = ""}) == 0);
    CHECK(dir.names() == before);
    CHECK(test::read_file(dir / ".data.DIRECTOR.tmp" / "inside") == "x");
    if (links) {
        CHECK(test::read_file(other / "victim") == "not to be touched");
        CHECK(other.names() == names{"victim"});
    }
    // temp::named's fixed name is one only for its target.
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "data"}) == 1);
    CHECK_FALSE(fs::exists(dir / ".data.tmp"));
}

TEST_CASE("Windows: read-only leftovers are removed", "[stale_temps][windows][readonly]") {
    test::temp_dir dir;
    const fs::path a = leave_temp<random_temp_writer>(dir / "data");
    const fs::path b = leave_temp<random_temp_writer>(dir / "data", {.overwrite = true, .mode = fs::perms::owner_read});
    test::set_read_only(a, true);
    CHECK(test::is_read_only(a));
    CHECK(test::is_read_only(b));
    SECTION("removed") {
        CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 2);
        CHECK(dir.names().empty());
    }
    SECTION("a refused removal leaves the file as it was") {
        test::scripted_hook hook;
        hook.fail_every(sysop::unlink, ERROR_ACCESS_DENIED);
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(hook);
            CHECK(aw::remove_stale_temps(dir.path(), now_stale, ec) == 0);
        }
        CHECK(ec == std::error_code(ERROR_ACCESS_DENIED, std::system_category()));
        CHECK(dir.names().size() == 2);
        CHECK(test::is_read_only(a));
        CHECK(test::is_read_only(b));
    }
}

TEST_CASE("Windows: non-ASCII targets, matched in UTF-16 as the writer shortens them",
          "[stale_temps][windows][unicode]") {
    test::temp_dir dir;
    const std::string target = u8(u8"donn\u00e9es-\u65e5\u672c-\U0001F600.json");
    // 223 + 2 + 17 UTF-16 units: a random name cuts it to 224 units (room for "~" and a
    // hash of 16 hex digits), between the two halves of the pair, so the writer drops the
    // pair whole (within 255 bytes of UTF-8 too, the limit of the filesystems Wine runs on).
    const std::string long_target = std::string(223, 'a') + u8(u8"\U0001F600") + std::string(17, 'b');
    const fs::path a = leave_temp<random_temp_writer>(dir / u8path(target));
    const fs::path b = leave_temp<named_temp_writer>(dir / u8path(target));
    const fs::path c = leave_temp<random_temp_writer>(dir / u8path(long_target));
    const fs::path d = leave_temp<named_temp_writer>(dir / u8path(long_target));
    leave_temp<random_temp_writer>(dir / "other");
    for (const fs::path& p : {a, b, c, d}) {
        INFO(test::utf8(p.filename()));
        CHECK(aw::is_temp_name(test::utf8(p.filename())) == (p == a || p == c));  // fixed names: with the target
        CHECK(aw::is_temp_name(test::utf8(p.filename()), {.target_name = (p == a || p == b) ? target : long_target}));
        CHECK_FALSE(aw::is_temp_name(test::utf8(p.filename()), {.target_name = "other"}));
    }
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = target}) == 2);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = long_target}) == 2);
    CHECK(dir.names().size() == 1);
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s, .target_name = "other"}) == 1);
    CHECK(dir.names().empty());

    // 250 characters of two UTF-8 bytes and one UTF-16 unit each: the writer shortens the
    // name in UTF-16 units (to 224 characters and a hash for a random name, none for a fixed one),
    // not in bytes. (Such names exceed 255 bytes of UTF-8: not made as files here.)
    std::wstring wide_target(250, L'\u00e9');
    std::string utf8_target;
    for (int i = 0; i < 250; ++i) utf8_target += u8(u8"\u00e9");
    for (const bool random : {true, false}) {
        wchar_t name[aw::detail::sys::max_name + 1];
        std::error_code ec;
        aw::detail::make_temp_name(name, L".", wide_target, L".tmp", random, ec);
        REQUIRE_FALSE(ec);
        const std::string utf8_name = test::utf8(fs::path(name));
        CHECK(aw::is_temp_name(utf8_name, {.target_name = utf8_target}));
        CHECK(aw::is_temp_name(utf8_name) == random);
        CHECK_FALSE(aw::is_temp_name(utf8_name, {.target_name = utf8_target.substr(0, 400)}));
    }

    // Affixes that are UTF-8 (as the writer takes them), and options that are not.
    leave_temp<random_temp_writer>(dir / "data",
                                   {.overwrite = true, .temp_prefix = u8(u8"\u00bb"), .temp_suffix = u8(u8"\u00ab")});
    CHECK(aw::remove_stale_temps(dir.path(), now_stale) == 0);
    CHECK(aw::remove_stale_temps(
              dir.path(), {.older_than = 0s, .temp_prefix = u8(u8"\u00bb"), .temp_suffix = u8(u8"\u00ab")}) == 1);
    for (const aw::stale_temp_options& o :
         {aw::stale_temp_options{.target_name = "\xff"}, aw::stale_temp_options{.temp_prefix = "\xc3"},
          aw::stale_temp_options{.temp_suffix = "a\\"}}) {
        std::error_code ec;
        CHECK(aw::remove_stale_temps(dir.path(), o, ec) == 0);
        CHECK(ec == std::errc::invalid_argument);
    }
    CHECK_FALSE(aw::is_temp_name(".data.ABCDEFGH.tmp", {.target_name = "\xff"}));
}

TEST_CASE("Windows: remove_stale_temps reports errors with the step and the path", "[stale_temps][windows][errors]") {
    test::temp_dir dir;
    SECTION("a missing directory") {
        std::error_code ec;
        CHECK(aw::remove_stale_temps(dir / "missing", now_stale, ec) == 0);
        CHECK(ec == std::errc::no_such_file_or_directory);
        const auto e = test::catch_error([&] { aw::remove_stale_temps(dir / "missing", now_stale); });
        CHECK(e.threw);
        CHECK(e.what.find("open directory") != std::string::npos);
        CHECK(e.path1 == dir / "missing");
    }
    SECTION("each call of a sweep fails in turn") {
        const auto leave = [](const fs::path& target) { return leave_temp<random_temp_writer>(target); };
        const std::vector<sysop> recorded = test::stale::sweep_calls(leave);
        INFO("recorded: " << test::stale::call_list(recorded));
        REQUIRE(std::count(recorded.begin(), recorded.end(), sysop::open_file) == 1);
        REQUIRE(std::count(recorded.begin(), recorded.end(), sysop::unlink) == 1);
        // The errors each call really gives. Opening the candidate: a sharing violation
        // (in use), a refusal (not ours to judge) and "not found" (gone) keep it quietly.
        auto errors = [](sysop op) -> std::vector<int> {
            switch (op) {
                case sysop::open_directory:
                    return {ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_DIRECTORY, ERROR_TOO_MANY_OPEN_FILES};
                case sysop::read_directory:
                    return {ERROR_IO_DEVICE, ERROR_NOT_ENOUGH_MEMORY};
                case sysop::open_file:
                    return {ERROR_TOO_MANY_OPEN_FILES, ERROR_IO_DEVICE, ERROR_SHARING_VIOLATION, ERROR_ACCESS_DENIED,
                            ERROR_FILE_NOT_FOUND};
                case sysop::stat:
                    return {ERROR_IO_DEVICE, ERROR_ACCESS_DENIED};
                case sysop::unlink:
                    return {ERROR_ACCESS_DENIED, ERROR_WRITE_PROTECT, ERROR_IO_DEVICE};
                default:
                    return {ERROR_INVALID_HANDLE};
            }
        };
        const std::size_t faults = test::stale::sweep_faults(
            recorded, leave, errors, [](const test::stale::sweep_fault& f, const test::temp_dir& d) {
                const bool kept_quietly =
                    f.op == sysop::open_file && (f.error == ERROR_SHARING_VIOLATION || f.error == ERROR_ACCESS_DENIED ||
                                                 f.error == ERROR_FILE_NOT_FOUND);
                if (f.op == sysop::close) {
                    // A failed close does not matter: the file is removed, or was never
                    // touched.
                    test::stale::check_removed_anyway(f, d);
                } else if (kept_quietly) {
                    test::stale::check_kept(f, d);
                    CHECK(f.hook->count(sysop::open_file) == 1);  // not retried
                } else {
                    test::stale::check_reported(f, d);
                    if (f.throwing) {
                        const char* step = f.op == sysop::open_directory   ? "open directory"
                                           : f.op == sysop::read_directory ? "read directory"
                                           : f.op == sysop::unlink         ? "remove stale temporary file"
                                                                           : "inspect stale temporary file";
                        CHECK(f.thrown.what.find(step) != std::string::npos);
                        if (f.op == sysop::open_file || f.op == sysop::stat || f.op == sysop::unlink)
                            CHECK(f.thrown.path2 == d / f.before[0]);
                    }
                }
            });
        CHECK(faults >= 2 * recorded.size());
        test::report_figure("stale temps (Windows): " + std::to_string(faults) + " faults injected into a sweep");
    }
}
