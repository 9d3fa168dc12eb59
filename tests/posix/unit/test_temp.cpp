// SPDX-License-Identifier: MIT
// <atomicwrites/temp.hpp>: the temporary file's name, its shortening, randomness and
// retries, temp::named's fixed name, temp::anonymous and temp::first_of's fall back.
#include <catch2/catch.hpp>

#include <atomicwrites/temp.hpp>

#include <cctype>
#include <cerrno>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

using test::new_content;
using test::old_content;

template <class T>
using writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, T>;
using anonymous_or_mkstemp = aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>;

using test::contains;

/// The temporary name a writer uses, while it is open (named files) or when it is named
/// at commit (anonymous files, with overwrite).
template <class T>
std::string temp_name_of(const fs::path& target, const aw::write_options& options) {
    writer<T> w(target, options);
    std::string name = w.temp_path().filename().string();
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        w.write(new_content);
        w.commit();
    }
    for (const auto& c : hook.calls)
        if (c.op == sysop::link_anonymous && name.empty()) name = c.name2;
    return name;
}

/// Whether `name` is prefix + target + "." + 8 letters or digits + suffix.
bool is_random_name(std::string_view name, std::string_view prefix, std::string_view target, std::string_view suffix) {
    const std::size_t fixed = prefix.size() + target.size() + 1;
    if (name.size() != fixed + 8 + suffix.size()) return false;
    if (name.substr(0, prefix.size()) != prefix || name.substr(prefix.size(), target.size()) != target) return false;
    if (name[fixed - 1] != '.' || name.substr(fixed + 8) != suffix) return false;
    for (char c : name.substr(fixed, 8))
        if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    return true;
}

/// Whether `s` is well-formed UTF-8 (no cut sequence).
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

/// `before`, then `piece` `times` times, then `after`.
std::string repeat(std::string_view piece, std::size_t times, std::string_view before = "",
                   std::string_view after = "") {
    std::string out(before);
    for (std::size_t i = 0; i < times; ++i) out += piece;
    out += after;
    return out;
}

}  // namespace

TEST_CASE("temp::mkstemp names: prefix + target + '.' + 8 random characters + suffix", "[temp]") {
    test::temp_dir dir;
    SECTION("default prefix and suffix") {
        aw::atomic_writer w(dir / "config.json");
        const std::string name = w.temp_path().filename().string();
        CHECK(is_random_name(name, ".", "config.json", ".tmp"));
        CHECK_FALSE(is_random_name(".config.json.Ab3-5678.tmp", ".", "config.json", ".tmp"));  // the checker checks
        CHECK(w.temp_path().parent_path() == dir.path());
        CHECK(dir.names() == std::vector<std::string>{name});  // created exclusively, visible while writing
        w.rollback();
        CHECK(dir.names().empty());
    }
    SECTION("custom prefix and suffix") {
        aw::atomic_writer w(dir / "data.bin", {.temp_prefix = "~tmp-", .temp_suffix = ".part"});
        const std::string name = w.temp_path().filename().string();
        CHECK(is_random_name(name, "~tmp-", "data.bin", ".part"));
        w.write(new_content);
        w.commit();
        CHECK(dir.names() == std::vector<std::string>{"data.bin"});
    }
    SECTION("empty prefix and suffix") {
        aw::atomic_writer w(dir / "data", {.temp_prefix = "", .temp_suffix = ""});
        CHECK(is_random_name(w.temp_path().filename().string(), "", "data", ""));
    }
    SECTION("default-constructed (null) prefix and suffix") {
        aw::atomic_writer w(dir / "data", {.temp_prefix = std::string_view(), .temp_suffix = std::string_view()});
        CHECK(is_random_name(w.temp_path().filename().string(), "", "data", ""));
        aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::named> n(
            dir / "other", {.overwrite = true, .temp_prefix = std::string_view(), .temp_suffix = "~"});
        CHECK(n.temp_path().filename() == "other~");
    }
    SECTION("an anonymous temporary named at commit has the same form") {
        test::write_plain(dir / "f", old_content);
        const std::string name = temp_name_of<aw::temp::anonymous>(dir / "f", {.overwrite = true, .temp_prefix = "#"});
        CHECK(is_random_name(name, "#", "f", ".tmp"));
        CHECK(test::read_file(dir / "f") == new_content);
    }
}

TEST_CASE("random temporary names differ", "[temp]") {
    test::temp_dir dir;
    SECTION("many writers of one target at once") {
        std::vector<aw::atomic_writer> writers;
        std::set<std::string> names;
        for (int i = 0; i < 64; ++i) {
            writers.emplace_back(dir / "f", aw::write_options{.overwrite = true});
            names.insert(writers.back().temp_path().filename().string());
        }
        CHECK(names.size() == 64);
        CHECK(dir.names().size() == 64);
        writers.clear();  // all rolled back
        CHECK(dir.names().empty());
    }
    SECTION("on several threads") {
        constexpr int threads = 4;
        constexpr int per_thread = 32;
        std::vector<std::vector<std::string>> seen(threads);
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    aw::atomic_writer w(dir / "f", {.overwrite = true});
                    seen[static_cast<std::size_t>(t)].push_back(w.temp_path().filename().string());
                }
            });
        }
        for (auto& th : pool) th.join();
        std::set<std::string> names;
        for (const auto& v : seen) names.insert(v.begin(), v.end());
        CHECK(names.size() == threads * per_thread);
        CHECK(dir.names().empty());
    }
}

TEST_CASE("temp::mkstemp tries another name when one is taken", "[temp]") {
    test::temp_dir dir;
    SECTION("one collision") {
        test::scripted_hook hook;
        hook.fail_op(sysop::create_file, EEXIST);
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(dir / "f", new_content);
        }
        REQUIRE(hook.count(sysop::create_file) == 2);
        std::vector<std::string> tried;
        for (const auto& c : hook.calls)
            if (c.op == sysop::create_file) tried.push_back(c.name);
        CHECK(tried[0] != tried[1]);
        CHECK(hook.calls[2].injected);
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("every name taken: file_exists after a bounded number of attempts") {
        test::scripted_hook hook;
        hook.fail_every(sysop::create_file, EEXIST);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        aw::atomic_writer w(dir / "f", {}, ec);
        CHECK(ec == std::errc::file_exists);
        CHECK(contains(w.failed_step(), "create temporary file"));
        CHECK(hook.count(sysop::create_file) == aw::detail::name_attempts);
        CHECK(dir.names().empty());
    }
    SECTION("other errors are not retried") {
        test::scripted_hook hook;
        hook.fail_op(sysop::create_file, ENOSPC);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        aw::atomic_writer w(dir / "f", {}, ec);
        CHECK(ec == std::error_code(ENOSPC, std::system_category()));
        CHECK(hook.count(sysop::create_file) == 1);
    }
    SECTION("the temporary is a new, empty file of its own") {
        aw::atomic_writer w(dir / "f");
        struct ::stat st {};
        REQUIRE(::lstat(w.temp_path().c_str(), &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK(st.st_nlink == 1);
        CHECK(st.st_size == 0);
    }
}

TEST_CASE("temp::named uses the fixed name prefix + target + suffix", "[temp]") {
    using W = writer<aw::temp::named>;
    test::temp_dir dir;
    SECTION("the name") {
        W w(dir / "f.txt", {.overwrite = true});
        CHECK(w.temp_path() == dir / ".f.txt.tmp");
        CHECK(dir.names() == std::vector<std::string>{".f.txt.tmp"});
        w.write(new_content);
        w.commit();
        CHECK(dir.names() == std::vector<std::string>{"f.txt"});
        W custom(dir / "g", {.temp_prefix = "_", .temp_suffix = ".lock"});
        CHECK(custom.temp_path() == dir / "_g.lock");
    }
    SECTION("a stale temporary makes the write fail with file_exists, and is left alone") {
        test::write_plain(dir / "f", old_content);
        test::write_plain(dir / ".f.tmp", "stale\n");
        std::error_code ec;
        CHECK(aw::write_file<W>(dir / "f", new_content, {.overwrite = true}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        const test::thrown_error e =
            test::catch_error([&] { aw::write_file<W>(dir / "f", new_content, {.overwrite = true}); });
        CHECK(e.code == std::errc::file_exists);
        CHECK(contains(e.what, "create temporary file"));
        CHECK(contains(e.what, (dir / "f").string()));
        CHECK(test::read_file(dir / ".f.tmp") == "stale\n");
        CHECK(test::read_file(dir / "f") == old_content);
        CHECK(dir.names() == std::vector<std::string>{".f.tmp", "f"});
    }
    SECTION("a link planted at the name is not followed") {
        fs::create_directory(dir / "elsewhere");
        test::write_plain(dir / "elsewhere" / "victim", old_content);
        fs::create_symlink(dir / "elsewhere" / "victim", dir / ".f.tmp");
        std::error_code ec;
        CHECK(aw::write_file<W>(dir / "f", new_content, {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(test::read_file(dir / "elsewhere" / "victim") == old_content);
        CHECK(fs::is_symlink(fs::symlink_status(dir / ".f.tmp")));
        CHECK_FALSE(fs::exists(dir / "f"));
        fs::remove(dir / ".f.tmp");
        fs::create_symlink(dir / "elsewhere" / "missing", dir / ".f.tmp");  // a dangling one
        CHECK(aw::write_file<W>(dir / "f", new_content, {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK_FALSE(fs::exists(dir / "elsewhere" / "missing"));
    }
    SECTION("a second writer of the same target fails while the first is open") {
        W first(dir / "f", {.overwrite = true});
        std::error_code ec;
        W second(dir / "f", {.overwrite = true}, ec);
        CHECK(ec == std::errc::file_exists);
        CHECK_FALSE(second.is_open());
        first.write(new_content);
        first.commit();
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("a temporary name that would be the target's own name is refused") {
        // With no prefix and no suffix the temporary would be the target itself: the
        // write would no longer be atomic, and a rollback would remove the target.
        std::error_code ec;
        W w(dir / "f", {.overwrite = true, .temp_prefix = "", .temp_suffix = ""}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK_FALSE(w.is_open());
        CHECK(dir.names().empty());
        // The message says why, and the options are refused before any system call.
        aw::syscall_counter calls;
        const auto e = test::catch_error([&] {
            aw::scoped_syscall_hook counting(calls);
            W again(dir / "f", {.overwrite = true, .temp_prefix = "", .temp_suffix = ""});
        });
        REQUIRE(e.threw);
        CHECK_THAT(e.what, Catch::Contains("temp::named needs a temp_prefix or a temp_suffix"));
        CHECK(calls.total() == 0);
        STATIC_REQUIRE(aw::temp_policy_needs_affix<aw::temp::named>);
        STATIC_REQUIRE(aw::temp_policy_needs_affix<aw::temp::first_of<aw::temp::mkstemp, aw::temp::named>>);
        STATIC_REQUIRE_FALSE(aw::temp_policy_needs_affix<aw::temp::mkstemp>);
    }
}

TEST_CASE("a long target name is shortened to fit 255 bytes, on a character boundary", "[temp]") {
    test::temp_dir dir;
    // Names of exactly 255 bytes whose cut point falls inside a multi-byte character,
    // for one-, two-, three- and four-byte characters.
    const std::vector<std::string> targets = {
        std::string(255, 'a'),
        repeat("\xC3\xA9", 127, "", "x"),           // é
        repeat("\xC3\xA9", 127, "x"),               // é, shifted by one byte
        repeat("\xE2\x82\xAC", 85),                 // €
        repeat("\xE2\x82\xAC", 84, "xy", "z"),      // €, shifted
        repeat("\xF0\x9F\x98\x80", 63, "", "abc"),  // 😀
        repeat("\xF0\x9F\x98\x80", 63, "a", "bc"),  // 😀, shifted
    };
    struct affixes {
        std::string prefix;
        std::string suffix;
    };
    const std::vector<affixes> variants = {{".", ".tmp"}, {"", ""}, {"~~~", ".partial-write"}};
    for (const std::string& target : targets) {
        REQUIRE(target.size() == 255);
        REQUIRE(valid_utf8(target));
        for (const affixes& a : variants) {
            const aw::write_options options{.overwrite = true, .temp_prefix = a.prefix, .temp_suffix = a.suffix};
            auto check = [&](const std::string& name, bool random) {
                INFO("temporary name: " << name << " (prefix '" << a.prefix << "', suffix '" << a.suffix << "')");
                REQUIRE(name.size() > a.prefix.size() + a.suffix.size());
                CHECK(name.size() <= 255);
                CHECK(valid_utf8(name));
                CHECK(name.rfind(a.prefix, 0) == 0);
                CHECK(name.compare(name.size() - a.suffix.size(), a.suffix.size(), a.suffix) == 0);
                const std::size_t tail = a.suffix.size() + (random ? 9 : 0);
                const std::string stem = name.substr(a.prefix.size(), name.size() - a.prefix.size() - tail);
                const std::size_t room = 255 - a.prefix.size() - tail;
                // The cut target, then "~" and 16 hex digits of a hash of the whole name.
                REQUIRE(stem.size() > 17);
                const std::string kept = stem.substr(0, stem.size() - 17);
                const std::string hash = stem.substr(stem.size() - 17);
                CHECK(hash[0] == '~');
                CHECK(hash.find_first_not_of("0123456789abcdef", 1) == std::string::npos);
                CHECK(target.rfind(kept, 0) == 0);                                        // a prefix of the target
                CHECK(stem.size() <= room);                                               // that fits
                CHECK(stem.size() + 4 > room);                                            // and is as long as possible
                CHECK((static_cast<unsigned char>(target[kept.size()]) & 0xC0) != 0x80);  // on a boundary
                if (random) CHECK(name[a.prefix.size() + stem.size()] == '.');
            };
            check(temp_name_of<aw::temp::mkstemp>(dir / target, options), true);
            check(temp_name_of<aw::temp::anonymous>(dir / target, options), true);
            if (!a.prefix.empty() || !a.suffix.empty())
                check(temp_name_of<aw::temp::named>(dir / target, options), false);
            CHECK(test::read_file(dir / target) == new_content);
        }
    }
    CHECK(dir.names().size() == targets.size());
}

TEST_CASE("two long targets that begin alike never share a temporary name", "[temp]") {
    test::temp_dir dir;
    const std::string first = std::string(250, 'a') + "xxxxx";
    const std::string second = std::string(250, 'a') + "yyyyy";
    using named = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::named>;
    named a(dir / first, {.overwrite = true});
    std::error_code ec;
    named b(dir / second, {.overwrite = true}, ec);
    REQUIRE_FALSE(ec);
    const std::string ta = a.temp_path().filename().string();
    const std::string tb = b.temp_path().filename().string();
    CHECK(ta != tb);
    CHECK(ta.size() <= 255);
    // A sweep for one target does not take the other's files.
    CHECK(aw::is_temp_name(ta, {.target_name = first}));
    CHECK(aw::is_temp_name(tb, {.target_name = second}));
    CHECK_FALSE(aw::is_temp_name(ta, {.target_name = second}));
    CHECK_FALSE(aw::is_temp_name(tb, {.target_name = first}));
    a.write("first");
    b.write("second");
    a.commit();
    b.commit();
    CHECK(test::read_file(dir / first) == "first");
    CHECK(test::read_file(dir / second) == "second");
    CHECK(dir.names().size() == 2);
}

TEST_CASE("a taken fixed temporary name is reported with every cause it may have", "[temp][errors]") {
    test::temp_dir dir;
    // Not a writer nor a leftover: a directory of that name.
    fs::create_directory(dir / ".data.tmp");
    using named = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::named>;
    try {
        named w(dir / "data", {.overwrite = true});
        FAIL("no error");
    } catch (const fs::filesystem_error& e) {
        const std::string what = e.what();
        CHECK(e.code() == std::errc::file_exists);
        CHECK(what.find("another writer") != std::string::npos);
        CHECK(what.find("remove_stale_temps") != std::string::npos);
        CHECK(what.find("another file of that name") != std::string::npos);
    }
    CHECK(dir.names() == std::vector<std::string>{".data.tmp"});
}

TEST_CASE("temp::anonymous has no name until it is published", "[temp]") {
    STATIC_REQUIRE(aw::temp::anonymous::may_be_anonymous);
    STATIC_REQUIRE_FALSE(aw::temp::mkstemp::may_be_anonymous);
    STATIC_REQUIRE_FALSE(aw::temp::named::may_be_anonymous);
    using W = writer<aw::temp::anonymous>;
    test::temp_dir dir;
    {
        W w(dir / "f");
        CHECK(w.is_open());
        CHECK(w.temp_path().empty());
        CHECK(w.native_handle() >= 0);
        w.write(new_content);
        w.flush();
        CHECK(dir.names().empty());
        w.commit();
    }
    CHECK(dir.names() == std::vector<std::string>{"f"});
    {
        W w(dir / "g", {.overwrite = true});
        w.write(new_content);
        w.flush();
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }  // rolled back: nothing to remove, nothing left
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("temp::first_of<anonymous, mkstemp> falls back when O_TMPFILE is not supported", "[temp]") {
    STATIC_REQUIRE(anonymous_or_mkstemp::may_be_anonymous);
    using W = writer<anonymous_or_mkstemp>;
    for (int error : {EOPNOTSUPP, EISDIR, EINVAL, ENOSYS}) {
        INFO("create_anonymous fails with " << std::error_code(error, std::system_category()).message());
        test::temp_dir dir;
        test::scripted_hook hook;
        hook.fail_every(sysop::create_anonymous, error);
        aw::scoped_syscall_hook scope(hook);
        W w(dir / "f");
        REQUIRE(w.is_open());
        CHECK(hook.count(sysop::create_anonymous) == 1);
        CHECK(hook.count(sysop::create_file) == 1);
        CHECK(is_random_name(w.temp_path().filename().string(), ".", "f", ".tmp"));
        w.write(new_content);
        w.commit();
        CHECK(test::read_file(dir / "f") == new_content);
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
}

TEST_CASE("temp::first_of does not fall back on real errors", "[temp]") {
    using W = writer<anonymous_or_mkstemp>;
    for (int error : {EACCES, EROFS, ENOSPC, EDQUOT, EMFILE}) {
        INFO("create_anonymous fails with " << std::error_code(error, std::system_category()).message());
        test::temp_dir dir;
        test::scripted_hook hook;
        hook.fail_every(sysop::create_anonymous, error);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        W w(dir / "f", {}, ec);
        CHECK(ec == std::error_code(error, std::system_category()));
        CHECK_FALSE(w.is_open());
        CHECK(contains(w.failed_step(), "create temporary file"));
        CHECK(hook.count(sysop::create_file) == 0);
        CHECK(dir.names().empty());
    }
}

TEST_CASE("temp::first_of uses the first policy when it works", "[temp]") {
    using W = writer<anonymous_or_mkstemp>;
    test::temp_dir dir;
    test::scripted_hook hook;
    aw::scoped_syscall_hook scope(hook);
    W w(dir / "f");
    CHECK(hook.count(sysop::create_anonymous) == 1);
    CHECK(hook.count(sysop::create_file) == 0);
    CHECK(w.temp_path().empty());
}

TEST_CASE("the temporary file is created with a mode no wider than the final one", "[temp]") {
    test::temp_dir dir;
    test::write_plain(dir / "secret", old_content);
    REQUIRE(::chmod((dir / "secret").c_str(), 0600) == 0);
    for (sysop op : {sysop::create_file, sysop::create_anonymous}) {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            if (op == sysop::create_file)
                aw::write_file(dir / "secret", new_content, {.overwrite = true});
            else
                aw::write_file<writer<aw::temp::anonymous>>(dir / "secret", new_content, {.overwrite = true});
        }
        REQUIRE(hook.count(op) == 1);
        for (const auto& c : hook.calls)
            if (c.op == op) CHECK((c.size & ~0600u) == 0);
        CHECK(test::mode_of(dir / "secret") == 0600);
    }
}
