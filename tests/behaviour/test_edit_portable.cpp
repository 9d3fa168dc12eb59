// SPDX-License-Identifier: MIT
// Atomic edits (edit.hpp, write_options::start) and reserved space on every platform, in
// the suite's own directory: each copy method the platform has (a clone, a copy in the
// kernel, reads and writes: the unavailable ones refused through the seam) gives exactly
// the expected bytes for edits at the start, the middle, the end, past the end, cuts and
// appends; pwrite() leaves the position of write() alone; a read-only target is copied;
// a clone the filesystem cannot make falls back, any other clone error fails the copy; a
// failed copy names its step and the target and leaves nothing; a failure injected at
// every call of an edit leaves the old file or the new one and no temporary file; a
// reservation keeps the size. The
// filesystems of their own (XFS and btrfs clones, ext4) and the crash states are
// tests/posix/system/test_edit.cpp's. Under Wine, which has no ReFS, the clone is tried
// for real and answers that it cannot: the reads and writes make every copy there.
#include <catch2/catch.hpp>

#include <atomicwrites/edit.hpp>

#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "support.hpp"
#include "support/edits.hpp"

#if !defined(_WIN32)
#include <sys/stat.h>
#endif

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using test::edits::check_edits;
using test::edits::made;

/// Answers of a filesystem that cannot clone or copy in the kernel, in the platform's
/// numbers: the library passes to the next copy method on them.
#if defined(_WIN32)
constexpr int cannot_clone = ERROR_INVALID_FUNCTION;
constexpr int cannot_copy_range = ERROR_NOT_SUPPORTED;
constexpr int cannot_reserve[] = {ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED, ERROR_INVALID_PARAMETER};
#else
constexpr int cannot_clone = EOPNOTSUPP;
constexpr int cannot_copy_range = EXDEV;
constexpr int cannot_reserve[] = {EOPNOTSUPP, ENOSYS, EINVAL};
#endif

/// Refuses the kernel's copy methods through the seam, so that reads and writes copy.
void refuse_kernel_copies(test::scripted_hook& h) {
    h.fail_every(sysop::clone, cannot_clone);
    h.fail_every(sysop::copy_range, cannot_copy_range);
}

}  // namespace

TEST_CASE("edits of a copy give exactly the expected bytes with every copy method", "[edit]") {
    test::temp_dir dir(test::fast_base());
    // The cheapest the filesystem allows.
    check_edits(dir.path(), {sysop::clone, sysop::copy_range, sysop::read}, [](test::scripted_hook&) {});
    // No clone: a copy in the kernel where there is one, else reads and writes.
    check_edits(dir.path(), {sysop::copy_range, sysop::read},
                [](test::scripted_hook& h) { h.fail_every(sysop::clone, cannot_clone); });
    // Reads and writes.
    check_edits(dir.path(), {sysop::read}, refuse_kernel_copies);
}

TEST_CASE("a clone the filesystem cannot make falls back; another clone error fails the copy", "[edit]") {
    test::temp_dir dir(test::fast_base());
    const fs::path target = dir / "target";
    const std::string original = test::pattern(300000, 6);
    test::write_plain(target, original);
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::atomic_edit(target, [](aw::atomic_writer& w) { w.pwrite(5, std::string_view("EDIT")); });
    }
    INFO("calls: " << hook.trace());
    std::string expected = original;
    expected.replace(5, 4, "EDIT");
    CHECK(test::read_file(target) == expected);
    if constexpr (aw::detail::sys::has_clone) {
        // The clone is asked for first, for real: here (a tmpfs, a disk without reflinks,
        // Wine's emulated NTFS) it answers that it cannot, or it makes the copy.
        REQUIRE(hook.count(sysop::clone) == 1);
        if (made(hook, sysop::clone) == 0) {
            for (const auto& c : hook.calls)
                if (c.op == sysop::clone)
                    CHECK(aw::detail::sys::is_copy_unsupported(std::error_code(c.error, std::system_category())));
            CHECK(made(hook, sysop::copy_range) + made(hook, sysop::read) >= 1);
        }
    }

    // A clone that fails for another reason (an I/O error) fails the copy: no fallback.
    test::write_plain(target, original);
    test::scripted_hook failing;
    failing.fail_every(sysop::clone, test::err::io);
    std::error_code ec;
    aw::commit_state s;
    {
        aw::scoped_syscall_hook scope(failing);
        s = aw::atomic_edit(
            target, [](aw::atomic_writer& w) { w.append("x"); }, {}, ec);
    }
    if constexpr (aw::detail::sys::has_clone) {
        CHECK(ec.value() == test::err::io);
        CHECK(s == aw::commit_state::unchanged);
        CHECK(failing.count(sysop::copy_range) + failing.count(sysop::read) == 0);
    } else {
        CHECK_FALSE(ec);
    }
    CHECK(test::read_file(target) == (ec ? original : original + "x"));
    CHECK(dir.names() == std::vector<std::string>{"target"});
}

TEST_CASE("a missing target starts empty, or is an error with copy_of_existing_target", "[edit]") {
    test::temp_dir dir(test::fast_base());
    aw::atomic_edit(dir / "new", [](aw::atomic_writer& w) { w.append("first line\n"); });
    CHECK(test::read_file(dir / "new") == "first line\n");

    std::error_code ec;
    const aw::commit_state s = aw::atomic_edit(
        dir / "missing", [](aw::atomic_writer& w) { w.append("x"); },
        {.start = aw::start_mode::copy_of_existing_target}, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    CHECK(s == aw::commit_state::unchanged);
    CHECK(dir.names() == std::vector<std::string>{"new"});

    // A writer without overwrite refuses an existing target, copy or not.
    aw::atomic_writer w(dir / "new", {.start = aw::start_mode::copy_of_target}, ec);
    CHECK(ec == std::errc::file_exists);
}

TEST_CASE("a read-only target is copied and edited: the copy only reads it", "[edit]") {
    test::temp_dir dir(test::fast_base());
    const fs::path target = dir / "target";
    test::write_plain(target, test::old_content);
    const fs::perms read_only = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
    fs::permissions(target, read_only);
    aw::atomic_edit(target, [](aw::atomic_writer& w) {
        w.pwrite(0, std::string_view("OLD"));
        w.append("x");
    });
    CHECK(test::read_file(target) == "OLD content\nx");
    // The replacement keeps the mode: read-only still.
    CHECK((fs::status(target).permissions() & fs::perms::owner_write) == fs::perms::none);
    fs::permissions(target, fs::perms::owner_write, fs::perm_options::add);
    CHECK(dir.names() == std::vector<std::string>{"target"});
}

TEST_CASE("a log appended to, fixed in place and cut, one atomic edit at a time", "[edit]") {
    // The sequence of examples/append_log.cpp (which runs in the POSIX examples suite).
    test::temp_dir dir(test::fast_base());
    const fs::path log = dir / "events.log";
    auto record = [](int n, const char* state) {
        std::string r = "event " + std::to_string(n) + ": " + state;
        r.resize(31, ' ');
        return r + '\n';
    };
    for (int n = 0; n < 3; ++n) aw::atomic_edit(log, [&](aw::atomic_writer& w) { w.append(record(n, "pending")); });
    aw::atomic_edit(log, [&](aw::atomic_writer& w) { w.pwrite(1 * 32, record(1, "done")); });
    aw::atomic_edit(log, [&](aw::atomic_writer& w) {
        w.truncate(2 * 32);
        w.append(record(3, "pending"));
    });
    CHECK(test::read_file(log) == record(0, "pending") + record(1, "done") + record(3, "pending"));
    CHECK(dir.names() == std::vector<std::string>{"events.log"});
}

TEST_CASE("a failed copy names its step and the target and leaves nothing", "[edit]") {
    test::temp_dir dir(test::fast_base());
    std::vector<sysop> ops{sysop::read, sysop::write, sysop::open_file};
    if (aw::detail::sys::has_clone) ops.push_back(sysop::clone);
    if (aw::detail::sys::has_copy_range) ops.push_back(sysop::copy_range);
    for (const sysop op : ops) {
        INFO("failing " << aw::to_string(op));
        test::write_plain(dir / "target", test::old_content);
        test::scripted_hook hook;
        hook.fail_every(op, test::err::io);  // the first rule that matches wins
        hook.fail_every(sysop::clone, cannot_clone);
        if (op == sysop::read || op == sysop::write) hook.fail_every(sysop::copy_range, cannot_copy_range);
        std::string what;
        {
            aw::scoped_syscall_hook scope(hook);
            try {
                aw::atomic_edit(dir / "target", [](aw::atomic_writer& w) { w.append("new"); });
            } catch (const fs::filesystem_error& e) {
                what = e.what();
                CHECK(e.code().value() == test::err::io);
            }
        }
        INFO("calls: " << hook.trace());
        CHECK(test::contains(what,
                             op == sysop::open_file ? "open target to copy it" : "copy target into temporary file"));
        CHECK(test::contains(what, (dir / "target").string()));
        CHECK(test::read_file(dir / "target") == test::old_content);
        CHECK(dir.names() == std::vector<std::string>{"target"});
    }
}

TEST_CASE("a failure injected at every call of an edit leaves the old file or the new one", "[edit][faults]") {
    test::temp_dir dir(test::fast_base());
    const std::string original = test::pattern(200 * 1024, 5);
    std::string expected = original;
    expected.replace(1000, 4, "EDIT");
    expected += "tail";
    // The error_code forms: an edit's failure sticks, and the commit reports it.
    auto edit = [](aw::atomic_writer& w) {
        std::error_code e;
        w.pwrite(1000, std::string_view("EDIT"), e);
        w.truncate(200 * 1024, e);
        w.append("tail", e);
    };
    const fs::path target = dir / "target";
    for (const bool forced_fallback : {false, true}) {
        INFO((forced_fallback ? "read/write copy" : "cheapest copy"));
        auto rules = [&](test::scripted_hook& h) {
            if (forced_fallback) refuse_kernel_copies(h);
        };
        test::write_plain(target, original);
        test::scripted_hook all;
        rules(all);
        {
            aw::scoped_syscall_hook scope(all);
            aw::atomic_edit(target, edit);
        }
        REQUIRE(test::read_file(target) == expected);
        const std::size_t n = all.calls.size();
        std::size_t tolerated = 0, failed = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (all.calls[i].injected) continue;
            test::write_plain(target, original);
            test::scripted_hook hook;
            rules(hook);
            hook.fail_call(i, test::err::io);
            std::error_code ec;
            aw::commit_state s;
            {
                aw::scoped_syscall_hook scope(hook);
                s = aw::atomic_edit(target, edit, {}, ec);
            }
            INFO("failing call " << i << " (" << aw::to_string(all.calls[i].op) << "): " << hook.trace());
            // Failures that are not errors: the minimal ACL of the new file's mode
            // (set_xattr: its mode is set anyway) and the close of the target's
            // read-only descriptor.
            if (!ec) CHECK((all.calls[i].op == sysop::set_xattr || all.calls[i].op == sysop::close));
            if (!ec) ++tolerated;
            if (s == aw::commit_state::unchanged) {
                CHECK(ec);
                CHECK(test::read_file(target) == original);
            } else {
                CHECK(test::read_file(target) == expected);
            }
            if (ec) ++failed;
            CHECK(dir.names() == std::vector<std::string>{"target"});
        }
        CHECK(tolerated <= 2);
        CHECK(failed >= 8);
    }
}

TEST_CASE("the stream's position shows how far a long write got, and seeks", "[edit][progress]") {
    test::temp_dir dir(test::fast_base());
    const std::string chunk = test::pattern(100000, 8);
    aw::atomic_write(dir / "f",
                     [&](aw::atomic_writer& w) {
                         std::ostream& out = w.stream();
                         CHECK(out.tellp() == 0);
                         for (int i = 1; i <= 5; ++i) {
                             out << chunk;
                             CHECK(out.tellp() == static_cast<std::streamoff>(i * chunk.size()));
                         }
                         w.write(std::string_view("abc"));  // write() and the stream share the buffer and the position
                         CHECK(out.tellp() == static_cast<std::streamoff>(5 * chunk.size() + 3));
                         out.seekp(2);
                         out << "XY";
                         CHECK(out.tellp() == 4);
                         CHECK(out.good());
                     },
                     {.overwrite = true});
    std::string expected;
    for (int i = 0; i < 5; ++i) expected += chunk;
    expected += "abc";
    expected.replace(2, 2, "XY");
    CHECK(test::read_file(dir / "f") == expected);
}

namespace {

/// Bytes allocated to the open file `file`.
std::uint64_t allocated(aw::native_handle_type file) {
#if defined(_WIN32)
    FILE_STANDARD_INFO standard{};
    REQUIRE(::GetFileInformationByHandleEx(file, FileStandardInfo, &standard, sizeof standard));
    return static_cast<std::uint64_t>(standard.AllocationSize.QuadPart);
#else
    struct ::stat st {};
    REQUIRE(::fstat(file, &st) == 0);
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
#endif
}

}  // namespace

TEST_CASE("a reservation keeps the size; a filesystem that cannot reserve is no error, a full one is", "[prealloc]") {
    test::temp_dir dir(test::fast_base());
    const fs::path target = dir / "target";
    const aw::write_options always{.overwrite = true, .prealloc = aw::prealloc_mode::always};
    if (!aw::detail::sys::has_allocate) {
        aw::write_file(target, std::string_view("no reservation here"), always);
        CHECK(test::read_file(target) == "no reservation here");
        return;
    }
    test::scripted_hook reserving;
    std::uint64_t reserved = 0;
    {
        aw::scoped_syscall_hook scope(reserving);
        aw::atomic_write(
            target,
            [&](aw::atomic_writer& w) {
                w.reserve(4 * 1024 * 1024);
                reserved = allocated(w.native_handle());
                w.write(std::string_view("short"));
            },
            always);
    }
    INFO("calls: " << reserving.trace());
    REQUIRE(reserving.count(sysop::fallocate) == 1);
    CHECK(test::read_file(target) == "short");
    CHECK(fs::file_size(target) == 5);
    int answer = 0;
    for (const auto& c : reserving.calls)
        if (c.op == sysop::fallocate) answer = c.error;
    if (answer != 0) {
        // Refused as "cannot here", which is no error: the write went on.
        CHECK(aw::detail::sys::is_copy_unsupported(std::error_code(answer, std::system_category())));
        WARN(
            "skipped: this system cannot reserve space (Wine answers ERROR_CALL_NOT_IMPLEMENTED); checked: the "
            "refusal is no error");
    } else {
        // The blocks were there before a byte was written.
        CHECK(reserved >= 4 * 1024 * 1024);
    }

    const std::string data = test::pattern(1024 * 1024, 2);
    for (const int refusal : cannot_reserve) {
        INFO("refused with " << refusal);
        test::scripted_hook hook;
        hook.fail_every(sysop::fallocate, refusal);
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(target, data, always);
        }
        CHECK(hook.count(sysop::fallocate) == 1);
        CHECK(test::read_file(target) == data);
    }
    test::write_plain(target, test::old_content);
    test::scripted_hook full;
    full.fail_every(sysop::fallocate, test::err::no_space);
    std::error_code ec;
    {
        aw::scoped_syscall_hook scope(full);
        CHECK(aw::write_file(target, data, always, ec) == aw::commit_state::unchanged);
    }
    CHECK(ec.value() == test::err::no_space);
    const test::thrown_error e = test::catch_error([&] {
        aw::scoped_syscall_hook scope(full);
        aw::write_file(target, data, always);
    });
    CHECK(e.threw);
    CHECK(test::contains(e.what, "reserve space for temporary file"));
    CHECK(test::contains(e.what, target.string()));
    CHECK(test::read_file(target) == test::old_content);
    CHECK(dir.names() == std::vector<std::string>{"target"});
}
