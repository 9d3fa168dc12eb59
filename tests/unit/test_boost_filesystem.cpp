// SPDX-License-Identifier: MIT
// <atomicwrites/boost_filesystem.hpp>: every overload for boost::filesystem::path, on
// real files, and the overloads for std::filesystem::path still chosen for strings.
#include <atomicwrites/boost_filesystem.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <boost/filesystem/operations.hpp>
#include <boost/filesystem/path.hpp>

#include <array>
#include <cstddef>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace {

namespace aw = atomicwrites;
namespace bfs = boost::filesystem;
using test::read_file;
using test::temp_dir;
using test::write_plain;

bfs::path boost_dir(const temp_dir& d) { return bfs::path(d.path().native()); }

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

// Temporary files are named ".target.XXXXXXXX.tmp"; none may be left behind.
bool no_temporary_files(const temp_dir& d) {
    for (const auto& name : d.names())
        if (name.starts_with('.')) return false;
    return true;
}

// The two path types do not convert to each other, so overloads cannot be confused...
static_assert(!std::is_convertible_v<bfs::path, std::filesystem::path>);
// ...and the error_code forms stay noexcept.
static_assert(noexcept(aw::write_file(std::declval<const bfs::path&>(), std::string_view(), aw::write_options{},
                                      std::declval<std::error_code&>())));
static_assert(noexcept(aw::write_file(std::declval<const bfs::path&>(), std::span<const std::byte>(),
                                      aw::write_options{}, std::declval<std::error_code&>())));
static_assert(noexcept(aw::replace_atomic(std::declval<const bfs::path&>(), std::declval<const bfs::path&>(),
                                          std::declval<std::error_code&>())));
static_assert(noexcept(aw::move_atomic(std::declval<const bfs::path&>(), std::declval<const bfs::path&>(),
                                       std::declval<std::error_code&>())));
static_assert(aw::boost_path<bfs::path>);
static_assert(!aw::boost_path<std::filesystem::path>);
static_assert(!aw::boost_path<const char*>);
static_assert(!aw::boost_path<std::string>);

}  // namespace

TEST_CASE("to_std_path keeps the native string byte for byte", "[boost]") {
    CHECK(aw::to_std_path(bfs::path("a/b/c.txt")) == std::filesystem::path("a/b/c.txt"));
    CHECK(aw::to_std_path(bfs::path()).empty());
    // Not valid UTF-8: no conversion may touch it.
    const std::string latin1 = "dir/caf\xe9.txt";
    CHECK(aw::to_std_path(bfs::path(latin1)).native() == latin1);
}

TEST_CASE("to_std_path builds a writer from a Boost path", "[boost]") {
    temp_dir d;
    const bfs::path target = boost_dir(d) / "writer.txt";
    aw::atomic_writer w(aw::to_std_path(target), {.overwrite = true});
    w.write(std::string_view("through a writer"));
    w.commit();
    CHECK(read_file(d / "writer.txt") == "through a writer");
}

TEST_CASE("atomic_write with a Boost path", "[boost]") {
    temp_dir d;
    const bfs::path target = boost_dir(d) / "out.txt";

    SECTION("fn takes the stream") {
        aw::atomic_write(target, [](std::ostream& out) { out << "stream " << 42; });
        CHECK(read_file(d / "out.txt") == "stream 42");
    }
    SECTION("fn takes the writer") {
        aw::atomic_write(target, [](aw::atomic_writer& w) { w.write(std::string_view("writer")); });
        CHECK(read_file(d / "out.txt") == "writer");
    }
    SECTION("an explicit writer type") {
        using fast_writer = aw::basic_atomic_writer<aw::sync::none>;
        aw::atomic_write<fast_writer>(target, [](fast_writer& w) { w.write(std::string_view("fast")); });
        CHECK(read_file(d / "out.txt") == "fast");
    }
    SECTION("overwrite is honoured") {
        write_plain(d / "out.txt", "old");
        CHECK_THROWS_AS(aw::atomic_write(target, [](std::ostream& out) { out << "new"; }),
                        std::filesystem::filesystem_error);
        CHECK(read_file(d / "out.txt") == "old");
        aw::atomic_write(target, [](std::ostream& out) { out << "new"; }, {.overwrite = true});
        CHECK(read_file(d / "out.txt") == "new");
    }
    SECTION("an exception from fn rolls back and propagates unchanged") {
        write_plain(d / "out.txt", "old");
        CHECK_THROWS_WITH(aw::atomic_write(target,
                                           [](std::ostream& out) {
                                               out << "partial";
                                               throw std::runtime_error("stop");
                                           },
                                           {.overwrite = true}),
                          "stop");
        CHECK(read_file(d / "out.txt") == "old");
    }
    CHECK(no_temporary_files(d));
}

TEST_CASE("write_file with a Boost path, throwing forms", "[boost]") {
    temp_dir d;
    const bfs::path target = boost_dir(d) / "data.bin";

    SECTION("string_view") {
        aw::write_file(target, std::string_view("text"));
        CHECK(read_file(d / "data.bin") == "text");
        aw::write_file(target, std::string("replaced"), {.overwrite = true});
        CHECK(read_file(d / "data.bin") == "replaced");
    }
    SECTION("span of bytes") {
        const std::string content("bytes\0with a nul", 16);
        aw::write_file(target, bytes_of(content));
        CHECK(read_file(d / "data.bin") == content);
        const std::array<std::byte, 3> more{std::byte{1}, std::byte{2}, std::byte{3}};
        aw::write_file(target, std::span<const std::byte>(more), {.overwrite = true});
        CHECK(read_file(d / "data.bin") == std::string("\1\2\3"));
    }
    SECTION("an explicit writer type") {
        aw::write_file<aw::basic_atomic_writer<aw::sync::fdatasync>>(target, std::string_view("fdatasync"));
        CHECK(read_file(d / "data.bin") == "fdatasync");
    }
    SECTION("the exception carries the converted path") {
        write_plain(d / "data.bin", "old");
        try {
            aw::write_file(target, std::string_view("new"));
            FAIL("no exception");
        } catch (const std::filesystem::filesystem_error& e) {
            CHECK(e.code() == std::errc::file_exists);
            CHECK(e.path1() == aw::to_std_path(target));
        }
        CHECK(read_file(d / "data.bin") == "old");
    }
    SECTION("a missing parent directory") {
        CHECK_THROWS_AS(aw::write_file(boost_dir(d) / "missing" / "x", std::string_view("x")),
                        std::filesystem::filesystem_error);
    }
    CHECK(no_temporary_files(d));
}

TEST_CASE("write_file with a Boost path, error_code forms", "[boost]") {
    temp_dir d;
    const bfs::path target = boost_dir(d) / "data.bin";
    std::error_code ec = std::make_error_code(std::errc::io_error);  // must be cleared on success

    SECTION("string_view") {
        CHECK(aw::write_file(target, std::string_view("text"), {}, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(read_file(d / "data.bin") == "text");
        CHECK(aw::write_file(target, std::string_view("again"), {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(read_file(d / "data.bin") == "text");
        CHECK(aw::write_file(target, std::string_view("again"), {.overwrite = true}, ec) ==
              aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(read_file(d / "data.bin") == "again");
    }
    SECTION("span of bytes") {
        const std::string content = "span";
        CHECK(aw::write_file(target, bytes_of(content), {}, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(read_file(d / "data.bin") == "span");
        CHECK(aw::write_file(target, bytes_of(content), {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
    }
    SECTION("an explicit writer type") {
        using writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::rename>;
        CHECK(aw::write_file<writer>(target, std::string_view("x"), {.overwrite = true}, ec) ==
              aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(read_file(d / "data.bin") == "x");
    }
    SECTION("a missing parent directory") {
        CHECK(aw::write_file(boost_dir(d) / "missing" / "x", std::string_view("x"), {}, ec) ==
              aw::commit_state::unchanged);
        CHECK(ec == std::errc::no_such_file_or_directory);
    }
    CHECK(no_temporary_files(d));
}

TEST_CASE("replace_atomic with Boost paths", "[boost]") {
    temp_dir d;
    const bfs::path src = boost_dir(d) / "src";
    const bfs::path dst = boost_dir(d) / "dst";
    write_plain(d / "src", "new");
    write_plain(d / "dst", "old");

    SECTION("throwing") {
        aw::replace_atomic(src, dst);
        CHECK(read_file(d / "dst") == "new");
        CHECK(d.names() == std::vector<std::string>{"dst"});
        try {
            aw::replace_atomic(src, dst);  // src is gone now
            FAIL("no exception");
        } catch (const std::filesystem::filesystem_error& e) {
            CHECK(e.code() == std::errc::no_such_file_or_directory);
            CHECK(e.path1() == aw::to_std_path(src));
            CHECK(e.path2() == aw::to_std_path(dst));
        }
    }
    SECTION("error_code") {
        std::error_code ec = std::make_error_code(std::errc::io_error);
        CHECK(aw::replace_atomic(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(read_file(d / "dst") == "new");
        CHECK(aw::replace_atomic(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(read_file(d / "dst") == "new");
    }
    SECTION("an explicit sync policy, across directories") {
        bfs::create_directory(boost_dir(d) / "sub");
        aw::replace_atomic<aw::sync::fdatasync>(src, boost_dir(d) / "sub" / "moved");
        CHECK(read_file(d / "sub" / "moved") == "new");
        CHECK(d.names() == std::vector<std::string>{"dst", "sub"});
    }
}

TEST_CASE("move_atomic with Boost paths", "[boost]") {
    temp_dir d;
    const bfs::path src = boost_dir(d) / "src";
    const bfs::path dst = boost_dir(d) / "dst";
    write_plain(d / "src", "content");

    SECTION("throwing") {
        aw::move_atomic(src, dst);
        CHECK(read_file(d / "dst") == "content");
        write_plain(d / "src", "second");
        try {
            aw::move_atomic(src, dst);
            FAIL("no exception");
        } catch (const std::filesystem::filesystem_error& e) {
            CHECK(e.code() == std::errc::file_exists);
        }
        CHECK(read_file(d / "dst") == "content");
        CHECK(read_file(d / "src") == "second");
    }
    SECTION("error_code") {
        std::error_code ec = std::make_error_code(std::errc::io_error);
        CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(d.names() == std::vector<std::string>{"dst"});
        write_plain(d / "src", "second");
        CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        CHECK(read_file(d / "dst") == "content");
    }
    SECTION("an explicit sync policy") {
        aw::move_atomic<aw::sync::none>(src, dst);
        CHECK(read_file(d / "dst") == "content");
    }
}

TEST_CASE("a file name that is not UTF-8 reaches the system unchanged", "[boost]") {
    temp_dir d;
    const std::string name = "caf\xe9.txt";  // Latin-1, invalid as UTF-8
    aw::write_file(boost_dir(d) / name, std::string_view("bytes"));
    REQUIRE(d.names() == std::vector<std::string>{name});
    CHECK(read_file(d / name) == "bytes");
}

TEST_CASE("strings still choose the std::filesystem::path forms", "[boost]") {
    // With the Boost overloads visible, a string literal or std::string path must not
    // become ambiguous (both path types convert from strings).
    temp_dir d;
    const std::string target = (d / "plain.txt").string();
    aw::write_file(target.c_str(), std::string_view("one"));
    aw::write_file(target, std::string_view("two"), {.overwrite = true});
    std::error_code ec;
    CHECK(aw::write_file(target, std::string_view("three"), {.overwrite = true}, ec) == aw::commit_state::published);
    aw::atomic_write(target, [](std::ostream& out) { out << "four"; }, {.overwrite = true});
    CHECK(read_file(target) == "four");
    const std::string moved = (d / "moved.txt").string();
    aw::move_atomic(target, moved);
    aw::replace_atomic(moved, target);
    CHECK(d.names() == std::vector<std::string>{"plain.txt"});
}
