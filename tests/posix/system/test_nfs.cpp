// SPDX-License-Identifier: MIT
// The library on NFS, where the test directory is on NFS (scripts/test-nfs runs it in a
// guest on v4.2 and v3; elsewhere it skips): the sweep removes stale temporary files and
// never a fresh one; two clients sweeping one directory remove each leftover once,
// without an error; two clients replacing one file end with one complete version, and
// every commit that failed said so. The second client is the same directory through a
// second mount with its own caches (nosharecache), named by ATOMICWRITES_NFS_PEER_DIR
// (the base directory as ATOMICWRITES_TEST_DIR is, through that mount).
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/stale_temps.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using namespace std::chrono_literals;

/// Whether `dir` is on NFS.
bool on_nfs(const fs::path& dir) {
    struct ::statfs st {};
    return ::statfs(dir.c_str(), &st) == 0 && st.f_type == 0x6969;
}

/// The same directory as `dir` through the second client's mount, or empty.
fs::path through_peer(const test::temp_dir& dir) {
    const char* peer = std::getenv("ATOMICWRITES_NFS_PEER_DIR");
    if (peer == nullptr || *peer == '\0') return {};
    const fs::path p = fs::path(peer) / dir.path().filename();
    std::error_code ec;
    return fs::is_directory(p, ec) ? p : fs::path();
}

/// Leaves `n` closed temporary files of `target` named as the library names them.
void leave_temps(const test::temp_dir& dir, const std::string& target, int n) {
    for (int i = 0; i < n; ++i) {
        std::string random = "AAAAAAAA";
        random[0] = static_cast<char>('A' + i % 26);
        random[1] = static_cast<char>('a' + i / 26 % 26);
        random[2] = static_cast<char>('0' + i / 676 % 10);
        test::write_plain(dir / ("." + target + "." + random + ".tmp"), "partial");
    }
}

/// Reads the whole file `p` into `out`; false if opening or reading it fails (on NFS a
/// reader on another client may get ENOENT or ESTALE while the name is replaced).
bool read_or_fail(const fs::path& p, std::string& out) {
    out.clear();
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[16384];
    bool ok = true;
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = false;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return ok;
}

}  // namespace

TEST_CASE("on NFS the sweep removes stale temporary files and never a fresh one", "[nfs][stale_temps]") {
    test::temp_dir dir;
    if (!on_nfs(dir.path())) {
        WARN("skipped: the test directory is not on NFS (scripts/test-nfs runs this test there)");
        return;
    }
    leave_temps(dir, "data", 3);
    std::this_thread::sleep_for(2200ms);
    // A live writer: its file is younger than older_than, and it commits afterwards.
    aw::atomic_writer live(dir / "data", {.overwrite = true});
    live.write(test::new_content);
    live.flush();
    const std::string live_name = live.temp_path().filename().string();
    std::error_code ec;
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 2s}, ec) == 3);
    CHECK_FALSE(ec);
    CHECK(dir.names() == std::vector<std::string>{live_name});
    live.commit();
    CHECK(test::read_file(dir / "data") == test::new_content);
    CHECK(dir.names() == std::vector<std::string>{"data"});
}

TEST_CASE("two NFS clients sweeping one directory remove each leftover once", "[nfs][stale_temps]") {
    test::temp_dir dir;
    const fs::path peer = through_peer(dir);
    if (!on_nfs(dir.path()) || peer.empty()) {
        WARN("skipped: needs the test directory on NFS and ATOMICWRITES_NFS_PEER_DIR (scripts/test-nfs)");
        return;
    }
    constexpr int leftovers = 150;
    leave_temps(dir, "f", leftovers);
    // Both clients know every name (their caches hold them) before the sweeps.
    CHECK(test::temp_dir::list(peer).size() == leftovers);
    CHECK(dir.names().size() == leftovers);
    std::this_thread::sleep_for(1500ms);
    std::atomic<std::size_t> removed{0};
    std::error_code ec[2];
    std::thread a([&] { removed += aw::remove_stale_temps(dir.path(), {.older_than = 1s}, ec[0]); });
    std::thread b([&] { removed += aw::remove_stale_temps(peer, {.older_than = 1s}, ec[1]); });
    a.join();
    b.join();
    INFO("errors: " << ec[0].message() << " / " << ec[1].message());
    CHECK_FALSE(ec[0]);
    CHECK_FALSE(ec[1]);
    CHECK(removed == leftovers);
    CHECK(dir.names().empty());
}

TEST_CASE("two NFS clients replacing one file end with one complete version", "[nfs][concurrency]") {
    test::temp_dir dir;
    const fs::path peer = through_peer(dir);
    if (!on_nfs(dir.path()) || peer.empty()) {
        WARN("skipped: needs the test directory on NFS and ATOMICWRITES_NFS_PEER_DIR (scripts/test-nfs)");
        return;
    }
    test::write_plain(dir / "data", test::version(9, 0, 4096));
    const fs::path paths[2] = {dir / "data", peer / "data"};
    std::atomic<bool> stop{false};
    std::atomic<int> commits{0}, failures{0}, unexplained{0}, torn{0}, reads{0}, refused{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            for (int n = 1; !stop; ++n) {
                std::error_code ec;
                aw::write_file(paths[w], test::version(w, n, 32 * 1024), {.overwrite = true}, ec);
                if (!ec) {
                    ++commits;
                    continue;
                }
                ++failures;
                // What NFS answers in a race, reported (after the retries): nothing else.
                if (ec.value() != ETXTBSY && ec.value() != ESTALE && ec.value() != ENOENT) ++unexplained;
            }
        });
    }
    for (int r = 0; r < 2; ++r) {
        // A reader on each client (one holds the file open in turn, as readers do).
        threads.emplace_back([&, r] {
            while (!stop) {
                std::string s;
                if (!read_or_fail(paths[r], s)) {
                    ++refused;  // ENOENT, ESTALE: another client's view, for a moment
                    continue;
                }
                ++reads;
                if (!test::is_complete(s)) ++torn;
            }
        });
    }
    std::this_thread::sleep_for(4s);
    stop = true;
    for (auto& t : threads) t.join();
    INFO("commits " << commits << ", failures " << failures << ", reads " << reads << ", refused " << refused);
    test::report_figure("nfs: two clients, " + std::to_string(commits) + " commits, " + std::to_string(failures) +
                        " reported failures, " + std::to_string(reads) + " complete reads, " + std::to_string(refused) +
                        " reads refused (ENOENT, ESTALE)");
    CHECK(commits > 0);
    CHECK(unexplained == 0);
    CHECK(torn == 0);
    CHECK(test::is_complete(test::read_file(dir / "data")));
    CHECK(test::is_complete(test::read_file(peer / "data")));
    // No temporary file outlives its writer (silly-renamed ".nfs" files are the client's).
    for (const auto& name : dir.names()) {
        INFO(name);
        CHECK((name == "data" || name.rfind(".nfs", 0) == 0));
    }
}

// --- On any filesystem, through the seam: what NFS answers for a moment is retried.

TEST_CASE("a transient ETXTBSY or ESTALE on the rename into place is retried", "[nfs][faults]") {
    using rename_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::mkstemp>;
    test::temp_dir dir;
    test::write_plain(dir / "data", test::old_content);
    for (int error : {ETXTBSY, ESTALE}) {
        INFO("error " << error);
        SECTION("once: the commit succeeds") {
            test::scripted_hook hook;
            hook.fail_op(aw::sysop::rename, error);
            aw::scoped_syscall_hook scope(hook);
            rename_writer w(dir / "data", {.overwrite = true});
            w.write(test::new_content);
            w.commit();
            CHECK(hook.count(aw::sysop::rename) == 2);
            CHECK(test::read_file(dir / "data") == test::new_content);
            CHECK(dir.names() == std::vector<std::string>{"data"});
        }
        SECTION("always: reported after a bounded number of attempts, naming NFS") {
            test::scripted_hook hook;
            hook.fail_every(aw::sysop::rename, error);
            aw::scoped_syscall_hook scope(hook);
            const auto started = std::chrono::steady_clock::now();
            const test::thrown_error e = test::catch_error([&] {
                rename_writer w(dir / "data", {.overwrite = true});
                w.write(test::new_content);
                w.commit();
            });
            const auto took = std::chrono::steady_clock::now() - started;
            CHECK(e.threw);
            CHECK(e.code == std::error_code(error, std::system_category()));
            CHECK(test::contains(e.what, "rename into place"));
            CHECK(test::contains(e.what, "NFS"));
            CHECK(hook.count(aw::sysop::rename) == 6);
            CHECK(took < 2s);
            CHECK(test::read_file(dir / "data") == test::old_content);
            CHECK(dir.names() == std::vector<std::string>{"data"});
        }
    }
}

TEST_CASE("a transient ESTALE on a lookup is retried, a lasting one reported", "[nfs][faults]") {
    test::temp_dir dir;
    test::write_plain(dir / "data", test::old_content);
    SECTION("once") {
        test::scripted_hook hook;
        hook.fail_op(aw::sysop::stat, ESTALE);
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "data", test::new_content, {.overwrite = true});
        CHECK(test::read_file(dir / "data") == test::new_content);
    }
    SECTION("always") {
        test::scripted_hook hook;
        hook.fail_every(aw::sysop::stat, ESTALE);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        CHECK(aw::write_file(dir / "data", test::new_content, {.overwrite = true}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::error_code(ESTALE, std::system_category()));
        CHECK(test::read_file(dir / "data") == test::old_content);
        CHECK(dir.names() == std::vector<std::string>{"data"});
    }
}
