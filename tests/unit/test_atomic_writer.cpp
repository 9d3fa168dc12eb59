// SPDX-License-Identifier: MIT
// The free functions of <atomicwrites/atomic_writer.hpp> (atomic_write, write_file,
// replace_atomic, move_atomic), and python-atomicwrites' own test cases restated.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <exception>
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

using names = std::vector<std::string>;

/// An exception of the caller's own, not related to the library's.
struct caller_error {
    int id;
};

/// A writer that syncs nothing (fast) and names its temporary file predictably.
using named_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::named>;

}  // namespace

// --- atomic_write -----------------------------------------------------------------------

TEST_CASE("atomic_write commits when fn returns", "[atomic_write]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";

    SECTION("fn takes std::ostream&") {
        aw::atomic_write(target, [](std::ostream& out) { out << "via the stream " << 42; });
        CHECK(test::read_file(target) == "via the stream 42");
    }
    SECTION("fn takes the writer") {
        aw::atomic_write(target, [&](aw::atomic_writer& w) {
            CHECK(w.is_open());
            CHECK(w.target() == target);
            w.write(std::string_view("via the writer"));
            w.stream() << ", and its stream";
        });
        CHECK(test::read_file(target) == "via the writer, and its stream");
    }
    SECTION("fn writes nothing") {
        aw::atomic_write(target, [](std::ostream&) {});
        CHECK(fs::file_size(target) == 0);
    }
    SECTION("another writer type, with options") {
        test::write_plain(target, "old");
        aw::atomic_write<named_writer>(target, [](named_writer& w) { w.write(std::string_view("replaced")); },
                                       {.overwrite = true});
        CHECK(test::read_file(target) == "replaced");
    }
    SECTION("fn is called exactly once") {
        int calls = 0;
        aw::atomic_write(target, [&calls](std::ostream& out) { out << ++calls; });
        CHECK(calls == 1);
        CHECK(test::read_file(target) == "1");
    }
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("atomic_write rethrows what fn throws, unchanged, and leaves nothing", "[atomic_write]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";

    SECTION("an exception of the caller's type: the same object arrives") {
        const std::exception_ptr thrown = std::make_exception_ptr(caller_error{7});
        std::exception_ptr caught;
        try {
            aw::atomic_write(target, [&](std::ostream& out) {
                out << "never published";
                std::rethrow_exception(thrown);
            });
        } catch (const caller_error& e) {
            CHECK(e.id == 7);
            caught = std::current_exception();
        }
        REQUIRE(caught);
        CHECK(caught == thrown);
        CHECK(dir.names().empty());
    }
    SECTION("a std::filesystem::filesystem_error is not mistaken for the library's own") {
        const fs::filesystem_error original("from fn", fs::path("elsewhere"),
                                            std::make_error_code(std::errc::permission_denied));
        const auto err = test::catch_error([&] {
            aw::atomic_write(target, [&](aw::atomic_writer& w) {
                w.write(std::string_view("never published"));
                throw original;
            });
        });
        CHECK(err.threw);
        CHECK(err.code == std::errc::permission_denied);
        CHECK(err.what == original.what());
        CHECK(err.path1 == "elsewhere");
        CHECK(dir.names().empty());
    }
    SECTION("an existing target is untouched") {
        test::write_plain(target, "before");
        const auto inode = test::inode_of(target);
        CHECK_THROWS_AS(aw::atomic_write(target,
                                         [](std::ostream& out) {
                                             out << std::string(100000, 'x');  // more than the buffer holds
                                             throw std::out_of_range("fn failed");
                                         },
                                         {.overwrite = true}),
                        std::out_of_range);
        CHECK(test::read_file(target) == "before");
        CHECK(test::inode_of(target) == inode);
        CHECK(dir.names() == names{"target"});
    }
}

// --- write_file --------------------------------------------------------------------------

TEST_CASE("write_file writes the whole content atomically", "[write_file]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    const std::string binary = test::pattern(300000, 9) + std::string(3, '\0');

    SECTION("string_view, throwing") {
        aw::write_file(target, std::string_view(binary));
        CHECK((test::read_file(target) == binary));
        aw::write_file(target, "second", {.overwrite = true});
        CHECK(test::read_file(target) == "second");
    }
    SECTION("span, throwing") {
        const auto bytes = test::as_bytes(binary);
        aw::write_file(target, std::span<const std::byte>(bytes));
        CHECK((test::read_file(target) == binary));
    }
    SECTION("string_view, error_code") {
        std::error_code ec;
        CHECK(aw::write_file(target, "first", {}, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(aw::write_file(target, std::string_view(binary), {.overwrite = true}, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK((test::read_file(target) == binary));
    }
    SECTION("span, error_code") {
        const auto bytes = test::as_bytes("span bytes");
        std::error_code ec;
        CHECK(aw::write_file(target, std::span<const std::byte>(bytes), {}, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
        CHECK(test::read_file(target) == "span bytes");
    }
    SECTION("empty content") {
        aw::write_file(target, std::string_view());
        CHECK(fs::file_size(target) == 0);
        aw::write_file(target, std::span<const std::byte>(), {.overwrite = true});
        CHECK(fs::file_size(target) == 0);
    }
    SECTION("another writer type") {
        aw::write_file<named_writer>(target, "named");
        CHECK(test::read_file(target) == "named");
    }
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("write_file refuses an existing target without overwrite", "[write_file]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, "original");
    const auto inode = test::inode_of(target);

    SECTION("throwing, string_view") {
        const auto err = test::catch_error([&] { aw::write_file(target, "new"); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::file_exists);
        CHECK(err.path1 == target);
    }
    SECTION("throwing, span") {
        const auto bytes = test::as_bytes("new");
        const auto err = test::catch_error([&] { aw::write_file(target, std::span<const std::byte>(bytes)); });
        CHECK(err.code == std::errc::file_exists);
    }
    SECTION("error_code, string_view") {
        std::error_code ec;
        CHECK(aw::write_file(target, "new", {.overwrite = false}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
    }
    SECTION("error_code, span") {
        const auto bytes = test::as_bytes("new");
        std::error_code ec;
        CHECK(aw::write_file(target, std::span<const std::byte>(bytes), {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
    }
    CHECK(test::read_file(target) == "original");
    CHECK(test::inode_of(target) == inode);
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("write_file tells a failure after publication from one before it", "[write_file]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, "old");

    SECTION("the directory sync fails: published, with the error") {
        // The default writer fsyncs the file (first fsync), then the directory (second).
        test::fail_nth_hook hook(aw::sysop::fsync, test::err::io, 1);
        aw::scoped_syscall_hook installed(hook);
        std::error_code ec;
        CHECK(aw::write_file(target, "new", {.overwrite = true}, ec) == aw::commit_state::published);
        CHECK(hook.fired);
        CHECK(ec.value() == test::err::io);
        CHECK(test::read_file(target) == "new");
    }
    SECTION("the directory sync fails, throwing: a durability_error") {
        test::fail_nth_hook hook(aw::sysop::fsync, test::err::io, 1);
        aw::scoped_syscall_hook installed(hook);
        bool durability = false;
        try {
            aw::write_file(target, "new", {.overwrite = true});
        } catch (const aw::durability_error& e) {
            durability = true;
            CHECK(e.code().value() == test::err::io);
            CHECK(std::string(e.what()).find("sync directory") != std::string::npos);
        }
        CHECK(durability);
        CHECK(test::read_file(target) == "new");
    }
    SECTION("the file sync fails: unchanged, with the error") {
        test::fail_nth_hook hook(aw::sysop::fsync, test::err::io, 0);
        aw::scoped_syscall_hook installed(hook);
        std::error_code ec;
        CHECK(aw::write_file(target, "new", {.overwrite = true}, ec) == aw::commit_state::unchanged);
        CHECK(hook.fired);
        CHECK(ec.value() == test::err::io);
        CHECK(test::read_file(target) == "old");
    }
    SECTION("the file sync fails, throwing: a filesystem_error that is not a durability_error") {
        test::fail_nth_hook hook(aw::sysop::fsync, test::err::io, 0);
        aw::scoped_syscall_hook installed(hook);
        bool durability = false;
        bool filesystem = false;
        try {
            aw::write_file(target, "new", {.overwrite = true});
        } catch (const aw::durability_error&) {
            durability = true;
        } catch (const fs::filesystem_error& e) {
            filesystem = true;
            CHECK(e.code().value() == test::err::io);
            CHECK(std::string(e.what()).find("sync temporary file") != std::string::npos);
        }
        CHECK_FALSE(durability);
        CHECK(filesystem);
        CHECK(test::read_file(target) == "old");
    }
    CHECK(dir.names() == names{"target"});
}

// --- replace_atomic and move_atomic ----------------------------------------------------------

TEST_CASE("replace_atomic moves a file over another", "[replace_atomic]") {
    test::temp_dir dir;
    const fs::path src = dir / "src";
    const fs::path dst = dir / "dst";
    test::write_plain(src, "new content");
    const auto src_inode = test::inode_of(src);

    SECTION("over an existing file, throwing") {
        test::write_plain(dst, "old content");
        aw::replace_atomic(src, dst);
    }
    SECTION("over an existing file, error_code") {
        test::write_plain(dst, "old content");
        std::error_code ec;
        CHECK(aw::replace_atomic(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
    }
    SECTION("to a new name") { aw::replace_atomic(src, dst); }
    SECTION("without syncing") {
        test::write_plain(dst, "old content");
        test::sync_recording_hook hook;
        {
            aw::scoped_syscall_hook installed(hook);
            aw::replace_atomic<aw::sync::none>(src, dst);
        }
        CHECK(hook.dirs.empty());
        CHECK(hook.files.empty());
    }
    SECTION("syncing the file, then the directory") {
        test::sync_recording_hook hook;
        {
            aw::scoped_syscall_hook installed(hook);
            aw::replace_atomic(src, dst);
        }
        CHECK(hook.files == std::vector<std::uint64_t>{src_inode});
        CHECK(hook.dirs == std::vector<std::uint64_t>{test::inode_of(dir.path())});
    }
    CHECK(test::read_file(dst) == "new content");
    CHECK(test::inode_of(dst) == src_inode);
    CHECK_FALSE(fs::exists(src));
    CHECK(dir.names() == names{"dst"});
}

TEST_CASE("replace_atomic and move_atomic across two directories", "[replace_atomic][move_atomic]") {
    test::temp_dir from;
    test::temp_dir to;
    const fs::path src = from / "src";
    const fs::path dst = to / "dst";
    test::write_plain(src, "travelling");
    const auto src_inode = test::inode_of(src);
    test::sync_recording_hook hook;

    SECTION("replace_atomic over an existing file") {
        test::write_plain(dst, "old");
        aw::scoped_syscall_hook installed(hook);
        aw::replace_atomic(src, dst);
    }
    SECTION("replace_atomic, error_code") {
        aw::scoped_syscall_hook installed(hook);
        std::error_code ec;
        CHECK(aw::replace_atomic(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
    }
    SECTION("move_atomic") {
        aw::scoped_syscall_hook installed(hook);
        aw::move_atomic(src, dst);
    }
    SECTION("move_atomic, error_code") {
        aw::scoped_syscall_hook installed(hook);
        std::error_code ec;
        CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
    }
    CHECK(test::read_file(dst) == "travelling");
    CHECK(from.names().empty());
    CHECK(to.names() == names{"dst"});
    // The file before the move, both directories after it.
    CHECK(hook.files == std::vector<std::uint64_t>{src_inode});
    CHECK(hook.synced(from.path()));
    CHECK(hook.synced(to.path()));
    CHECK(hook.dirs.size() == 2);
}

TEST_CASE("move_atomic moves a file to a new name", "[move_atomic]") {
    test::temp_dir dir;
    const fs::path src = dir / "src";
    const fs::path dst = dir / "dst";
    test::write_plain(src, "moved");
    const auto inode = test::inode_of(src);

    SECTION("throwing") { aw::move_atomic(src, dst); }
    SECTION("error_code") {
        std::error_code ec;
        CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
    }
    SECTION("without syncing") {
        std::error_code ec;
        CHECK(aw::move_atomic<aw::sync::none>(src, dst, ec) == aw::commit_state::published);
        CHECK_FALSE(ec);
    }
    CHECK(test::read_file(dst) == "moved");
    CHECK(test::inode_of(dst) == inode);
    CHECK(dir.names() == names{"dst"});
}

TEST_CASE("move_atomic refuses an existing target and changes nothing", "[move_atomic]") {
    test::temp_dir dir;
    const fs::path src = dir / "src";
    const fs::path dst = dir / "dst";
    test::write_plain(src, "source");
    test::write_plain(dst, "target");
    const auto src_inode = test::inode_of(src);
    const auto dst_inode = test::inode_of(dst);

    SECTION("throwing") {
        const auto err = test::catch_error([&] { aw::move_atomic(src, dst); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::file_exists);
        CHECK(err.path1 == src);
        CHECK(err.path2 == dst);
    }
    SECTION("error_code") {
        std::error_code ec;
        CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
    }
    CHECK(test::read_file(src) == "source");
    CHECK(test::read_file(dst) == "target");
    CHECK(test::inode_of(src) == src_inode);
    CHECK(test::inode_of(dst) == dst_inode);
    CHECK(dir.names() == names{"dst", "src"});
}

TEST_CASE("replace_atomic and move_atomic of a missing source", "[replace_atomic][move_atomic]") {
    test::temp_dir dir;
    const fs::path src = dir / "missing";
    const fs::path dst = dir / "dst";

    SECTION("replace_atomic over an existing file") {
        test::write_plain(dst, "untouched");
        const auto err = test::catch_error([&] { aw::replace_atomic(src, dst); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::no_such_file_or_directory);
        CHECK(err.path1 == src);
        CHECK(err.path2 == dst);
        std::error_code ec;
        CHECK(aw::replace_atomic(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(test::read_file(dst) == "untouched");
        CHECK(dir.names() == names{"dst"});
    }
    SECTION("move_atomic") {
        const auto err = test::catch_error([&] { aw::move_atomic(src, dst); });
        CHECK(err.code == std::errc::no_such_file_or_directory);
        std::error_code ec;
        CHECK(aw::move_atomic(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(dir.names().empty());
    }
    SECTION("without syncing (nothing opens the source first)") {
        std::error_code ec;
        CHECK(aw::replace_atomic<aw::sync::none>(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(aw::move_atomic<aw::sync::none>(src, dst, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::no_such_file_or_directory);
        CHECK(dir.names().empty());
    }
}

TEST_CASE("replace_atomic and move_atomic move a symbolic link itself", "[replace_atomic][move_atomic]") {
    test::temp_dir dir;
    if (!test::can_make_symlinks(dir.path())) {
        WARN("skipped: this system does not let the process make symbolic links");
        return;
    }
    test::write_plain(dir / "file", "pointed to");
    fs::create_symlink("file", dir / "link");

    SECTION("replace_atomic") { aw::replace_atomic(dir / "link", dir / "moved"); }
    SECTION("move_atomic") { aw::move_atomic(dir / "link", dir / "moved"); }
    CHECK(fs::is_symlink(dir / "moved"));
    CHECK(fs::read_symlink(dir / "moved") == "file");
    CHECK(test::read_file(dir / "file") == "pointed to");
    CHECK(dir.names() == names{"file", "moved"});
}

// --- python-atomicwrites' test suite, restated -----------------------------------------------

TEST_CASE("test_atomic_write", "[seed]") {
    test::temp_dir dir;
    const fs::path fname = dir / "ha";
    for (int i = 0; i < 2; ++i) {
        aw::atomic_write(fname, [](std::ostream& f) { f << "hoho"; }, {.overwrite = true});
    }
    const auto err =
        test::catch_error([&] { aw::atomic_write(fname, [](std::ostream& f) { f << "haha"; }, {.overwrite = false}); });
    CHECK(err.threw);
    CHECK(err.code == std::errc::file_exists);
    CHECK(test::read_file(fname) == "hoho");
    CHECK(dir.names().size() == 1);
}

TEST_CASE("test_teardown", "[seed]") {
    test::temp_dir dir;
    const fs::path fname = dir / "ha";
    CHECK_THROWS_AS(
        aw::atomic_write(fname, [](std::ostream&) { throw std::logic_error("assert False"); }, {.overwrite = true}),
        std::logic_error);
    CHECK(dir.names().empty());
}

TEST_CASE("test_replace_simultaneously_created_file", "[seed]") {
    test::temp_dir dir;
    const fs::path fname = dir / "ha";
    aw::atomic_write(fname,
                     [&](std::ostream& f) {
                         f << "hoho";
                         test::write_plain(fname, "harhar");
                         CHECK(test::read_file(fname) == "harhar");
                     },
                     {.overwrite = true});
    CHECK(test::read_file(fname) == "hoho");
    CHECK(dir.names().size() == 1);
}

TEST_CASE("test_dont_remove_simultaneously_created_file", "[seed]") {
    test::temp_dir dir;
    const fs::path fname = dir / "ha";
    const auto err = test::catch_error([&] {
        aw::atomic_write(fname,
                         [&](std::ostream& f) {
                             f << "hoho";
                             test::write_plain(fname, "harhar");
                             CHECK(test::read_file(fname) == "harhar");
                         },
                         {.overwrite = false});
    });
    CHECK(err.threw);
    CHECK(err.code == std::errc::file_exists);  // EEXIST; ERROR_ALREADY_EXISTS on Windows
    CHECK(test::read_file(fname) == "harhar");
    CHECK(dir.names().size() == 1);
}

TEST_CASE("test_open_reraise", "[seed]") {
    // A rollback that fails (the temporary file cannot be removed) must not replace the
    // exception that caused it.
    test::temp_dir dir;
    const fs::path fname = dir / "ha";
    const std::exception_ptr thrown = std::make_exception_ptr(caller_error{42});
    std::exception_ptr caught;
    test::fail_nth_hook hook(aw::sysop::unlink, test::err::io);
    fs::path temp;
    {
        aw::scoped_syscall_hook installed(hook);
        try {
            aw::atomic_write(fname,
                             [&](aw::atomic_writer& w) {
                                 temp = w.temp_path();
                                 w.write(std::string_view("hoho"));
                                 std::rethrow_exception(thrown);
                             },
                             {.overwrite = false});
        } catch (const caller_error& e) {
            CHECK(e.id == 42);
            caught = std::current_exception();
        } catch (...) {
            FAIL("another exception replaced the original one");
        }
    }
    CHECK(hook.fired);  // the rollback tried to remove the temporary file, and failed
    REQUIRE(caught);
    CHECK(caught == thrown);
    CHECK_FALSE(fs::exists(fname));
    // The temporary file the failed unlink left is the only thing in the directory.
    REQUIRE_FALSE(temp.empty());
    CHECK(dir.names() == names{temp.filename().string()});
}

TEST_CASE("test_atomic_write_in_pwd", "[seed]") {
    test::temp_dir dir;
    const test::scoped_cwd cwd(dir.path());
    const fs::path fname = "ha";
    for (int i = 0; i < 2; ++i) {
        aw::atomic_write(fname, [](std::ostream& f) { f << "hoho"; }, {.overwrite = true});
    }
    const auto err =
        test::catch_error([&] { aw::atomic_write(fname, [](std::ostream& f) { f << "haha"; }, {.overwrite = false}); });
    CHECK(err.threw);
    CHECK(err.code == std::errc::file_exists);
    CHECK(test::read_file(fname) == "hoho");
    CHECK(test::read_file(dir / "ha") == "hoho");
    CHECK(dir.names() == names{"ha"});
}

TEST_CASE("bare names in the current directory work for every function", "[pwd]") {
    test::temp_dir dir;
    const test::scoped_cwd cwd(dir.path());
    aw::write_file("a", "one");
    aw::replace_atomic("a", "b");
    aw::move_atomic("b", "c");
    std::error_code ec;
    CHECK(aw::write_file("d", "two", {}, ec) == aw::commit_state::published);
    CHECK_FALSE(ec);
    CHECK(test::read_file(dir / "c") == "one");
    CHECK(test::read_file(dir / "d") == "two");
    CHECK(dir.names() == names{"c", "d"});
}
