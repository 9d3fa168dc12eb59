// SPDX-License-Identifier: MIT
// replace_atomic() and move_atomic() as another user: a source that may be written but
// not read (mode 0200, as in a drop box) is moved, and synced first, as mv(1) would move it.
#include <catch2/catch.hpp>

#include <atomicwrites/move.hpp>

#include <string>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

/// A file of `content` owned by nobody with mode `mode`.
void nobody_file(const fs::path& p, const std::string& content, mode_t mode) {
    test::write_plain(p, content);
    REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

}  // namespace

TEST_CASE("replace_atomic and move_atomic move a write-only source, synced", "[move][users]") {
    if (!test::is_root()) {
        WARN("skipped: needs root to run as nobody");
        return;
    }
    test::temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    nobody_file(dir / "src", "data\n", 0200);
    nobody_file(dir / "dst", "old\n", 0600);
    nobody_file(dir / "src2", "more\n", 0200);
    const int status = test::as_nobody(dir.path(), W_OK | X_OK, [&] {
        // The source cannot be read by its owner: what the sync must do without.
        if (::access((dir / "src").c_str(), R_OK) == 0) return 10;
        aw::syscall_counter calls;
        std::error_code ec;
        aw::commit_state s;
        {
            aw::scoped_syscall_hook counting(calls);
            s = aw::replace_atomic(dir / "src", dir / "dst", ec);
        }
        if (ec) return 11;
        if (s != aw::commit_state::published) return 12;
        if (calls.count(sysop::fsync) + calls.count(sysop::fdatasync) < 2) return 13;  // the source and the directory
        if (calls.count(sysop::open_file) != 2) return 14;  // refused read-only, then write-only
        aw::move_atomic(dir / "src2", dir / "dst2", ec);
        if (ec) return 15;
        return 0;
    });
    if (status == test::nobody_unreachable) {
        WARN("skipped: nobody cannot reach " << dir.path());
        return;
    }
    CHECK(status == 0);
    CHECK(test::read_file(dir / "dst") == "data\n");
    CHECK(test::read_file(dir / "dst2") == "more\n");
    CHECK(test::mode_of(dir / "dst") == 0200);
    CHECK(dir.names() == std::vector<std::string>{"dst", "dst2"});
}

TEST_CASE("replace_atomic of a source neither readable nor writable reports the open, moves nothing", "[move][users]") {
    if (!test::is_root()) {
        WARN("skipped: needs root to run as nobody");
        return;
    }
    test::temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    nobody_file(dir / "src", "data\n", 0);
    nobody_file(dir / "dst", "old\n", 0600);
    const int status = test::as_nobody(dir.path(), W_OK | X_OK, [&] {
        try {
            aw::replace_atomic(dir / "src", dir / "dst");
        } catch (const fs::filesystem_error& e) {
            const std::string what = e.what();
            return e.code() == std::errc::permission_denied && what.find("open source file") != std::string::npos ? 0
                                                                                                                  : 20;
        }
        return 21;
    });
    if (status == test::nobody_unreachable) {
        WARN("skipped: nobody cannot reach " << dir.path());
        return;
    }
    CHECK(status == 0);
    CHECK(dir.names() == std::vector<std::string>{"dst", "src"});
    ::chmod((dir / "dst").c_str(), 0600);
    CHECK(test::read_file(dir / "dst") == "old\n");
}
