// SPDX-License-Identifier: MIT
// The directory handle on POSIX, beyond the portable cases of unit/test_directory.cpp:
// opening, moving and closing it, the system calls a write through it makes, its
// errors, metadata_mode::fresh, and what happens when the directory moves.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

using namespace test;
using aw::sysop;

namespace {

/// The hand-written durable sequence with the directory kept open: create the temporary
/// file, write, fsync it, close it, rename it, fsync the directory. A one-shot write into
/// a directory handle must make exactly these calls.
const std::vector<sysop> raw_sequence = {sysop::create_file, sysop::write,  sysop::fsync,
                                         sysop::close,       sysop::rename, sysop::fsync};

}  // namespace

TEST_CASE("directory: opening, moving and closing", "[directory]") {
    temp_dir dir;
    SECTION("a directory that exists") {
        aw::directory d(dir.path());
        CHECK(d.is_open());
        CHECK(d.path() == dir.path());
        CHECK(is_open_fd(d.native_handle()));
        const int fd = d.native_handle();

        aw::directory moved(std::move(d));
        CHECK_FALSE(d.is_open());
        CHECK(d.native_handle() == aw::invalid_handle);
        CHECK(moved.native_handle() == fd);

        aw::directory assigned;
        CHECK_FALSE(assigned.is_open());
        assigned = std::move(moved);
        CHECK(assigned.native_handle() == fd);

        assigned.close();
        CHECK_FALSE(assigned.is_open());
        CHECK_FALSE(is_open_fd(fd));
        assigned.close();  // closing twice does nothing
    }
    SECTION("the destructor closes it") {
        const std::size_t before = open_descriptor_count();
        { aw::directory d(dir.path()); }
        CHECK(open_descriptor_count() == before);
    }
    SECTION("a missing directory") {
        const thrown_error e = catch_error([&] { aw::directory d(dir / "missing"); });
        REQUIRE(e.threw);
        CHECK(e.code == std::errc::no_such_file_or_directory);
        CHECK_THAT(e.what, Catch::Contains("open directory"));
        CHECK(e.path1 == dir / "missing");
    }
    SECTION("a regular file") {
        write_plain(dir / "file", old_content);
        std::error_code ec;
        aw::directory d(dir / "file", ec);
        CHECK(ec == std::errc::not_a_directory);
        CHECK_FALSE(d.is_open());
    }
    SECTION("an empty path") {
        std::error_code ec;
        aw::directory d(fs::path{}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK_FALSE(d.is_open());
    }
}

TEST_CASE("directory: a one-shot write makes the hand-written calls, a stat, and no others", "[directory][syscalls]") {
    temp_dir dir;
    aw::directory d(dir.path());
    const aw::write_options fresh{.overwrite = true, .metadata = aw::metadata_mode::fresh};
    for (bool replacing : {false, true}) {
        INFO((replacing ? "replacing" : "creating"));
        if (replacing) write_plain(dir / "target", old_content);
        scripted_hook hook;
        {
            aw::scoped_syscall_hook installed(hook);
            aw::write_file(d, "target", new_content, fresh);
        }
        INFO(hook.trace());
        // The stat first: even a fresh file must not replace a FIFO or a device node.
        std::vector<sysop> expected{sysop::stat};
        expected.insert(expected.end(), raw_sequence.begin(), raw_sequence.end());
        REQUIRE(hook.ops() == expected);
        CHECK(hook.calls[0].dir == d.native_handle());  // the target, looked at in the handle
        CHECK(hook.calls[1].dir == d.native_handle());  // the temporary file, in the handle
        CHECK(hook.calls[5].dir == d.native_handle());  // renamed within it
        CHECK(hook.calls[5].dir2 == d.native_handle());
        CHECK(hook.calls[6].file == d.native_handle());  // and the handle is what is synced
        CHECK(read_file(dir / "target") == new_content);
        fs::remove(dir / "target");
    }

    SECTION("keeping the mode without attributes: a stat of the new file, a chmod if it was created narrower") {
        scoped_umask umask(022);
        for (const unsigned mode : {0644u, 0640u, 0664u}) {
            INFO("mode " << std::oct << mode);
            write_plain(dir / "target", old_content);
            fs::permissions(dir / "target", fs::perms(mode));
            scripted_hook hook;
            {
                aw::scoped_syscall_hook installed(hook);
                aw::write_file(d, "target", new_content, {.overwrite = true, .xattrs = false});
            }
            INFO(hook.trace());
            std::vector<sysop> expected{sysop::stat, sysop::create_file, sysop::stat};
            // 0664 & ~022 is 0644; 0640 is created 0600 (the group gets what the others
            // get until the new file's group is looked at); 0644 is created as it is.
            if (mode != 0644u) expected.push_back(sysop::chmod);
            expected.insert(expected.end(), {sysop::write, sysop::fsync, sysop::close, sysop::rename, sysop::fsync});
            CHECK(hook.ops() == expected);
            CHECK(mode_of(dir / "target") == mode);
        }
    }
    SECTION("keeping its extended attributes too costs one listing; the mode goes as an ACL") {
        write_plain(dir / "target", old_content);
        fs::permissions(dir / "target", fs::perms(0640));
        scripted_hook hook;
        {
            aw::scoped_syscall_hook installed(hook);
            aw::write_file(d, "target", new_content, {.overwrite = true});
        }
        INFO(hook.trace());
        CHECK(hook.count(sysop::list_xattrs) == 1);
        CHECK(hook.count(sysop::set_xattr) == 1);
        CHECK(hook.ops().size() == 10 + hook.count(sysop::chmod));  // fchmod only without ACLs
        CHECK(mode_of(dir / "target") == 0640);
    }
}

TEST_CASE("metadata_mode::fresh", "[directory][metadata]") {
    temp_dir dir;
    scoped_umask umask(022);
    SECTION("a replaced file gets a new file's mode") {
        write_plain(dir / "target", old_content);
        fs::permissions(dir / "target", fs::perms(0600));
        aw::write_file(dir / "target", new_content, {.overwrite = true, .metadata = aw::metadata_mode::fresh});
        CHECK(read_file(dir / "target") == new_content);
        CHECK(mode_of(dir / "target") == 0644);
    }
    SECTION("an explicit mode still applies") {
        write_plain(dir / "target", old_content);
        aw::write_file(dir / "target", new_content,
                       {.overwrite = true, .mode = fs::perms(0604), .metadata = aw::metadata_mode::fresh});
        CHECK(mode_of(dir / "target") == 0604);
    }
    SECTION("a directory at the target is refused by the commit, and nothing is left") {
        fs::create_directory(dir / "target");
        write_plain(dir / "target" / "inside", old_content);
        const thrown_error e = catch_error([&] {
            aw::write_file(dir / "target", new_content, {.overwrite = true, .metadata = aw::metadata_mode::fresh});
        });
        REQUIRE(e.threw);
        CHECK(e.code == std::errc::is_a_directory);
        CHECK(dir.names() == std::vector<std::string>{"target"});
        CHECK(read_file(dir / "target" / "inside") == old_content);
    }
    SECTION("without overwrite the target is still checked first") {
        write_plain(dir / "target", old_content);
        recording_hook hook;
        const thrown_error e = catch_error([&] {
            aw::scoped_syscall_hook installed(hook);
            aw::write_file(dir / "target", new_content, {.metadata = aw::metadata_mode::fresh});
        });
        CHECK(e.code == std::errc::file_exists);
        CHECK(hook.count(sysop::create_file) == 0);  // refused before anything was made
        CHECK(read_file(dir / "target") == old_content);
    }
    SECTION("a symbolic link at the target is replaced, not followed") {
        write_plain(dir / "real", old_content);
        fs::create_symlink("real", dir / "target");
        aw::write_file(dir / "target", new_content, {.overwrite = true, .metadata = aw::metadata_mode::fresh});
        CHECK_FALSE(fs::is_symlink(dir / "target"));
        CHECK(read_file(dir / "target") == new_content);
        CHECK(read_file(dir / "real") == old_content);
    }
}

TEST_CASE("directory: errors", "[directory][errors]") {
    temp_dir dir;
    aw::directory d(dir.path());
    SECTION("a handle that is not open") {
        aw::directory closed;
        std::error_code ec;
        CHECK(aw::write_file(closed, "x", new_content, {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::bad_file_descriptor);
        const thrown_error e = catch_error([&] { aw::write_file(closed, "x", new_content); });
        CHECK_THAT(e.what, Catch::Contains("the directory handle is not open"));
    }
    SECTION("an absolute name") {
        const thrown_error e = catch_error([&] { aw::write_file(d, dir / "x", new_content); });
        REQUIRE(e.threw);
        CHECK(e.code == std::errc::invalid_argument);
        CHECK_THAT(e.what, Catch::Contains("not an absolute path"));
        CHECK(dir.names().empty());
    }
    SECTION("a missing subdirectory") {
        const thrown_error e = catch_error([&] { aw::write_file(d, "missing/x", new_content); });
        REQUIRE(e.threw);
        CHECK(e.code == std::errc::no_such_file_or_directory);
        CHECK_THAT(e.what, Catch::Contains("open directory"));
        CHECK(e.path1 == dir / "missing/x");
    }
    SECTION("names that are not files") {
        std::error_code ec;
        aw::write_file(d, "sub/", new_content, {}, ec);
        CHECK(ec == std::errc::is_a_directory);
        aw::write_file(d, "", new_content, {}, ec);
        CHECK(ec == std::errc::invalid_argument);
    }
    SECTION("every step failing leaves the target, no temporary file, and a usable handle") {
        write_plain(dir / "target", old_content);
        const std::size_t descriptors = open_descriptor_count();
        // Find the calls of a successful write, then fail each in turn.
        scripted_hook probe;
        {
            aw::scoped_syscall_hook installed(probe);
            aw::write_file(d, "target", old_content, {.overwrite = true, .xattrs = false});
        }
        const std::size_t calls = probe.calls.size();
        REQUIRE(calls == 8);
        for (std::size_t i = 0; i < calls; ++i) {
            INFO("failing call " << i << " (" << probe.calls[i].op << ")");
            scripted_hook hook;
            hook.fail_call(i, EIO);
            std::error_code ec;
            aw::commit_state s;
            {
                aw::scoped_syscall_hook installed(hook);
                s = aw::write_file(d, "target", new_content, {.overwrite = true, .xattrs = false}, ec);
            }
            CHECK(ec == std::errc::io_error);
            const bool after_publication = probe.calls[i].op == sysop::fsync && i == calls - 1;
            CHECK(s == (after_publication ? aw::commit_state::published : aw::commit_state::unchanged));
            CHECK(read_file(dir / "target") == (after_publication ? new_content : old_content));
            CHECK(dir.names() == std::vector<std::string>{"target"});
            CHECK(is_open_fd(d.native_handle()));
            CHECK(open_descriptor_count() == descriptors);
            write_plain(dir / "target", old_content);
        }
        aw::write_file(d, "target", new_content, {.overwrite = true});
        CHECK(read_file(dir / "target") == new_content);
    }
}

TEST_CASE("directory: the handle follows the directory, not its path", "[directory]") {
    temp_dir dir;
    fs::create_directory(dir / "before");
    aw::directory d(dir / "before");
    aw::atomic_writer w(d, "target", {});
    w.write(new_content);
    fs::rename(dir / "before", dir / "after");
    fs::create_directory(dir / "before");  // a new directory where the old one was
    w.commit();
    CHECK(read_file(dir / "after" / "target") == new_content);
    CHECK(temp_dir::list(dir / "before").empty());

    aw::write_file(d, "second", old_content);
    CHECK(read_file(dir / "after" / "second") == old_content);
}
