// SPDX-License-Identifier: MIT
// Write-only ("drop-box") directories, mode 1733 or 0733: a user who may create,
// rename and link there but not read the directory (as in /var/spool/cron/crontabs, mail
// and upload drops) can write files atomically, as a plain open(2) can create them. The
// directory is opened O_PATH, which cannot be flushed; a durable policy flushes the
// filesystem through the new file instead, and reports a durability error where it
// cannot: never a silently skipped step. Run as the real user nobody (root only).
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"

#if ATOMICWRITES_LINUX
namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

/// A test directory that nobody may search, holding a drop-box directory of `mode`.
struct dropbox {
    test::temp_dir dir;
    fs::path drop;
    explicit dropbox(unsigned mode) : drop(dir / "drop") {
        ::chmod(dir.path().c_str(), 0755);
        fs::create_directory(drop);
        ::chmod(drop.c_str(), static_cast<mode_t>(mode));
    }
};

/// Runs `check` as nobody where nobody may write and search `reach` but not read it.
template <class F>
int as_nobody_in(const fs::path& reach, F&& check) {
    return test::as_nobody(reach, W_OK | X_OK, [&] {
        if (::access(reach.c_str(), R_OK) == 0) return test::nobody_unreachable;
        return check();
    });
}

}  // namespace

TEST_CASE("a user who cannot read a drop-box directory writes and replaces files in it atomically",
          "[dropbox][permissions]") {
    if (!test::is_root()) {
        WARN("skipped: a child process that drops to another user needs root");
        return;
    }
    for (unsigned mode : {01733u, 0733u}) {
        INFO("directory mode " << std::oct << mode);
        dropbox box(mode);
        const int code = as_nobody_in(box.drop, [&] {
            std::error_code ec;
            aw::write_file(box.drop / "new", "first", {}, ec);  // default, durable policies
            if (ec) return 1;
            aw::write_file(box.drop / "new", "second", {.overwrite = true}, ec);
            if (ec) return 2;
            aw::write_file(box.drop / "new", "third", {}, ec);  // no overwrite: refused
            if (ec != std::errc::file_exists) return 3;
            return 0;
        });
        if (code == test::nobody_unreachable) {
            WARN("skipped: nobody can read the drop-box directory here");
            continue;
        }
        // Before: "open directory: Permission denied" for every write (1).
        CHECK(code == 0);
        CHECK(test::read_file(box.drop / "new") == "second");
        CHECK(test::temp_dir::list(box.drop) == std::vector<std::string>{"new"});
    }
}

TEST_CASE("a durable write into a drop-box directory flushes its filesystem instead of the directory",
          "[dropbox][durability]") {
    if (!test::is_root()) {
        WARN("skipped: a child process that drops to another user needs root");
        return;
    }
    dropbox box(01733);
    // The calls after the publication: the directory's fsync fails (EBADF: an O_PATH
    // handle), then the new file is opened and its filesystem flushed (sysop::fsync on
    // the file), then closed.
    const int code = as_nobody_in(box.drop, [&] {
        test::scripted_hook hook;
        std::error_code ec;
        {
            aw::scoped_syscall_hook installed(hook);
            aw::write_file(box.drop / "f", "data", {}, ec);
        }
        if (ec) return 1;
        const auto& c = hook.calls;
        // From the directory's sync on (a filesystem without RENAME_NOREPLACE publishes
        // with link and unlink before it).
        std::size_t published = c.size();
        for (std::size_t i = 0; i < c.size(); ++i)
            if (c[i].op == sysop::fsync && c[i].error == EBADF && published == c.size()) published = i - 1;
        if (published == c.size()) return 2;
        std::vector<sysop> after;
        for (std::size_t i = published + 1; i < c.size(); ++i) after.push_back(c[i].op);
        const std::vector<sysop> expected{sysop::fsync, sysop::open_file, sysop::fsync, sysop::close, sysop::close};
        if (after != expected) return 2;
        if (c[published + 1].error != EBADF || c[published + 3].error != 0) return 3;
        if (c[published + 2].name != "f") return 4;
        return 0;
    });
    if (code == test::nobody_unreachable) {
        WARN("skipped: nobody can read the drop-box directory here");
        return;
    }
    CHECK(code == 0);
    CHECK(test::read_file(box.drop / "f") == "data");
}

TEST_CASE("a durable write into a drop-box directory reports a durability error where it cannot flush",
          "[dropbox][durability]") {
    if (!test::is_root()) {
        WARN("skipped: a child process that drops to another user needs root");
        return;
    }
    dropbox box(01733);
    const int code = as_nobody_in(box.drop, [&] {
        // A new file its owner may not read (mode 0200) cannot be opened to flush the
        // filesystem: the write is published, and the missing flush is reported.
        std::error_code ec;
        aw::atomic_writer w(box.drop / "secret", {.mode = fs::perms::owner_write}, ec);
        if (ec) return 1;
        w.write("x");
        if (w.commit(ec) != aw::commit_state::published) return 2;
        if (ec != std::errc::permission_denied) return 3;
        if (std::string(w.failed_step()).find("sync directory (it cannot be read") != 0) return 4;
        // The throwing form says durability_error.
        try {
            aw::write_file(box.drop / "secret2", "y", {.mode = fs::perms::owner_write});
            return 5;
        } catch (const aw::durability_error&) {
        } catch (...) {
            return 6;
        }
        // A failed flush is reported too.
        test::scripted_hook hook;
        hook.fail_op(sysop::fsync, EIO, 2);  // 0: the file; 1: the directory (EBADF, real); 2: syncfs
        {
            aw::scoped_syscall_hook installed(hook);
            aw::atomic_writer w2(box.drop / "g", {}, ec);
            if (ec) return 7;
            w2.write("g");
            if (w2.commit(ec) != aw::commit_state::published || ec.value() != EIO) return 8;
            if (std::string(w2.failed_step()).find("flushing its filesystem") == std::string::npos) return 9;
        }
        // A policy that promises no durability syncs nothing and reports nothing.
        aw::basic_atomic_writer<aw::sync::none> quick(box.drop / "h", {}, ec);
        if (ec) return 10;
        quick.write("h");
        quick.commit(ec);
        return ec ? 11 : 0;
    });
    if (code == test::nobody_unreachable) {
        WARN("skipped: nobody can read the drop-box directory here");
        return;
    }
    CHECK(code == 0);
    CHECK(test::read_file(box.drop / "g") == "g");
    CHECK(test::temp_dir::list(box.drop) == std::vector<std::string>{"g", "h", "secret", "secret2"});
}

TEST_CASE("a directory handle on a drop-box directory, and moves into and out of one, work",
          "[dropbox][directory][move]") {
    if (!test::is_root()) {
        WARN("skipped: a child process that drops to another user needs root");
        return;
    }
    dropbox box(01733);
    fs::create_directory(box.dir / "other");
    ::chmod((box.dir / "other").c_str(), 01733);
    const int code = as_nobody_in(box.drop, [&] {
        std::error_code ec;
        aw::directory d(box.drop, ec);  // before: "open directory: Permission denied"
        if (ec) return 1;
        aw::write_file(d, "via-handle", "first", {}, ec);
        if (ec) return 2;
        aw::write_file(d, "via-handle", "second", {.overwrite = true}, ec);
        if (ec) return 3;
        // A move within the drop box and one between two drop boxes, durable: the
        // directories cannot be flushed, the filesystem is, through the moved file.
        aw::write_file(box.drop / "a", "a", {}, ec);
        if (ec) return 4;
        aw::replace_atomic(box.drop / "a", box.drop / "b", ec);
        if (ec) return 5;
        aw::move_atomic(box.drop / "b", box.dir / "other" / "c", ec);
        if (ec) return 6;
        return 0;
    });
    if (code == test::nobody_unreachable) {
        WARN("skipped: nobody can read the drop-box directory here");
        return;
    }
    CHECK(code == 0);
    CHECK(test::read_file(box.drop / "via-handle") == "second");
    CHECK(test::temp_dir::list(box.drop) == std::vector<std::string>{"via-handle"});
    CHECK(test::read_file(box.dir / "other" / "c") == "a");
}
#endif
