// SPDX-License-Identifier: MIT
// The ways of calling the free functions of <atomicwrites/atomic_writer.hpp>: a policy
// or a writer as the template argument, the writer aliases, the error_code forms
// without options, byte ranges as data, and errors that name the directory.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

// A policy replaces its own kind in the default writer; a writer is taken as it is.
static_assert(std::same_as<aw::writer_for<aw::sync::none>, aw::basic_atomic_writer<aw::sync::none>>);
static_assert(std::same_as<aw::writer_for<aw::default_commit>, aw::basic_atomic_writer<>>);
static_assert(std::same_as<aw::writer_for<aw::temp::named>,
                           aw::basic_atomic_writer<aw::default_sync, aw::default_commit, aw::temp::named>>);
static_assert(std::same_as<aw::writer_for<aw::fast_writer>, aw::fast_writer>);
static_assert(std::same_as<aw::writer_for<aw::atomic_writer>, aw::atomic_writer>);
static_assert(std::same_as<aw::fast_writer, aw::basic_atomic_writer<aw::sync::none>>);
static_assert(!aw::is_durable<aw::fast_writer::sync_type>);
static_assert(aw::is_durable<aw::atomic_writer::sync_type>);
#if ATOMICWRITES_POSIX
static_assert(std::same_as<aw::data_writer::sync_type, aw::sync::fdatasync>);
#endif
#if ATOMICWRITES_HAS_O_TMPFILE
static_assert(
    std::same_as<aw::anonymous_writer::temp_type, aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>);
#endif

// Anything else is neither (the free functions then stop at one static_assert that
// names the fix).
static_assert(aw::writer_or_policy<aw::sync::none>);
static_assert(aw::writer_or_policy<aw::temp::mkstemp>);
static_assert(aw::writer_or_policy<aw::default_commit>);
static_assert(aw::writer_or_policy<aw::fast_writer>);
static_assert(!aw::writer_or_policy<int>);
static_assert(!aw::writer_or_policy<std::string>);
static_assert(!aw::writer_or_policy<aw::write_options>);

// Data: strings, and contiguous ranges of char, unsigned char and std::byte.
static_assert(aw::byte_range<std::vector<unsigned char>>);
static_assert(aw::byte_range<std::vector<char>>);
static_assert(aw::byte_range<std::vector<std::byte>>);
static_assert(aw::byte_range<std::array<std::byte, 4>>);
static_assert(aw::byte_range<std::span<const unsigned char>>);
static_assert(aw::byte_range<std::span<std::byte, 3>>);
static_assert(!aw::byte_range<std::vector<int>>);
static_assert(!aw::byte_range<std::vector<bool>>);
static_assert(!aw::byte_range<std::string>);        // the std::string_view overload takes it
static_assert(!aw::byte_range<char[6]>);            // a literal: without its NUL, as a string
static_assert(!aw::byte_range<std::wstring_view>);  // not bytes

/// A file's content as it was written.
std::string content_of(const fs::path& p) { return test::read_file(p); }

}  // namespace

TEST_CASE("write_file and atomic_write take a policy as their template argument", "[writer_choice]") {
    test::temp_dir dir;
    const fs::path target = dir / "f.txt";

    aw::write_file<aw::sync::none>(target, "one", {.overwrite = true});
    CHECK(content_of(target) == "one");
    aw::write_file<aw::temp::named>(target, "two", {.overwrite = true});
    CHECK(content_of(target) == "two");
    aw::write_file<aw::default_commit>(target, "three", {.overwrite = true});
    CHECK(content_of(target) == "three");
    aw::atomic_write<aw::sync::none>(target, [](std::ostream& out) { out << "four"; }, {.overwrite = true});
    CHECK(content_of(target) == "four");

    aw::directory d(dir.path());
    aw::write_file<aw::sync::none>(d, "g.txt", "five");
    CHECK(content_of(dir / "g.txt") == "five");
    aw::atomic_write<aw::temp::named>(d, "g.txt", [](std::ostream& out) { out << "six"; }, {.overwrite = true});
    CHECK(content_of(dir / "g.txt") == "six");
    CHECK(dir.names() == std::vector<std::string>{"f.txt", "g.txt"});
}

TEST_CASE("the writer aliases write like the writers they name", "[writer_choice]") {
    test::temp_dir dir;
    aw::write_file<aw::fast_writer>(dir / "fast", "fast");
    CHECK(content_of(dir / "fast") == "fast");
#if ATOMICWRITES_POSIX
    aw::write_file<aw::data_writer>(dir / "data", "data");
    CHECK(content_of(dir / "data") == "data");
#endif
#if ATOMICWRITES_HAS_O_TMPFILE
    aw::write_file<aw::anonymous_writer>(dir / "anonymous", "anonymous");
    CHECK(content_of(dir / "anonymous") == "anonymous");
#endif
    aw::fast_writer w(dir / "stream");
    w.write("streamed");
    w.commit();
    CHECK(content_of(dir / "stream") == "streamed");
}

TEST_CASE("the error_code forms need no options", "[writer_choice]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    std::error_code ec;

    CHECK(aw::write_file(target, "first", ec) == aw::commit_state::published);
    CHECK_FALSE(ec);
    CHECK(content_of(target) == "first");

    SECTION("without options, an existing target is kept (overwrite is false)") {
        CHECK(aw::write_file(target, "second", ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(aw::atomic_write(
                  target, [](std::ostream& out) { out << "second"; }, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(content_of(target) == "first");
    }
    SECTION("with a policy, bytes, and in a directory handle") {
        const std::vector<unsigned char> bytes{'b', 'y', 't', 'e', 's'};
        CHECK(aw::write_file<aw::sync::none>(dir / "bytes", bytes, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(content_of(dir / "bytes") == "bytes");
        aw::directory d(dir.path());
        CHECK(aw::write_file(d, "in-dir", "in a directory", ec) == aw::commit_state::published);
        CHECK(content_of(dir / "in-dir") == "in a directory");
        CHECK(aw::write_file(d, "in-dir-bytes", bytes, ec) == aw::commit_state::published);
        CHECK(content_of(dir / "in-dir-bytes") == "bytes");
        CHECK(aw::atomic_write<aw::sync::none>(
                  d, "streamed", [](std::ostream& out) { out << 42; }, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(content_of(dir / "streamed") == "42");
        CHECK(aw::atomic_write(
                  d, "streamed", [](std::ostream& out) { out << 43; }, {.overwrite = true}, ec) ==
              aw::commit_state::published);
        CHECK(content_of(dir / "streamed") == "43");
    }
    SECTION("atomic_write's error_code form still lets fn's exception through, and rolls back") {
        CHECK_THROWS_AS(aw::atomic_write(
                            target,
                            [](std::ostream& out) {
                                out << "half";
                                throw std::runtime_error("generator failed");
                            },
                            {.overwrite = true}, ec),
                        std::runtime_error);
        CHECK(content_of(target) == "first");
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
}

TEST_CASE("write_file takes contiguous ranges of char, unsigned char and std::byte", "[writer_choice]") {
    test::temp_dir dir;
    const aw::write_options o{.overwrite = true};
    const fs::path target = dir / "bin";

    const std::vector<unsigned char> u{0x00, 0x01, 0xfe, 0xff};
    aw::write_file(target, u, o);
    CHECK(content_of(target) == std::string("\x00\x01\xfe\xff", 4));

    const std::vector<char> c{'a', '\0', 'b'};
    aw::write_file(target, c, o);
    CHECK(content_of(target) == std::string("a\0b", 3));

    const std::array<std::byte, 2> b{std::byte{'o'}, std::byte{'k'}};
    aw::write_file(target, b, o);
    CHECK(content_of(target) == "ok");

    aw::write_file(target, std::span(u).subspan(1, 2), o);
    CHECK(content_of(target) == "\x01\xfe");
    aw::write_file(target, std::as_bytes(std::span(c)), o);
    CHECK(content_of(target) == std::string("a\0b", 3));

    const std::string s("with\0nul", 8);
    aw::write_file(target, s, o);
    CHECK(content_of(target) == s);
    aw::write_file(target, "a literal", o);  // without its terminating NUL
    CHECK(content_of(target) == "a literal");

    std::error_code ec;
    CHECK(aw::write_file<aw::fast_writer>(target, u, o, ec) == aw::commit_state::published);
    CHECK(content_of(target).size() == 4);
    const std::vector<unsigned char> empty;
    aw::write_file(target, empty, o);
    CHECK(content_of(target).empty());
}

TEST_CASE("a directory that cannot be opened is named in the error", "[writer_choice]") {
    test::temp_dir dir;
    const fs::path target = dir / "missing" / "sub" / "f.txt";
    const test::thrown_error e = test::catch_error([&] { aw::write_file(target, "x"); });
    CHECK(e.threw);
    CHECK(e.code == std::errc::no_such_file_or_directory);
    CHECK(e.path1 == target);
    CHECK(e.path2 == dir / "missing" / "sub");
    CHECK_THAT(e.what, Catch::Contains("open directory"));
    CHECK_THAT(e.what, Catch::Contains((dir / "missing" / "sub").string()));

    const fs::path temp = dir / "no-temp-dir";
    const test::thrown_error t =
        test::catch_error([&] { aw::write_file(dir / "g.txt", "x", {.temp_directory = temp}); });
    CHECK(t.threw);
    CHECK(t.code == std::errc::no_such_file_or_directory);
    CHECK(t.path1 == dir / "g.txt");
    CHECK(t.path2 == temp);
    CHECK_THAT(t.what, Catch::Contains("open temporary directory"));
    CHECK(dir.names().empty());
}
