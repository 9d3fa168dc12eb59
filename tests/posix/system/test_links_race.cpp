// SPDX-License-Identifier: MIT
// Readers racing a loop of symlink_atomic() replacements and of backed-up writes, as
// threads and as another process: every open through the link finds a complete
// version (never a missing name, never a mix), and the backup, once made, is always
// there and complete. ATOMICWRITES_LONG_TESTS=1 races ten times as many operations.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// Version `v`'s content: its number on every line, so that a mix shows.
std::string version(int v) {
    std::string out;
    for (int line = 0; line < 200; ++line) out += "version " + std::to_string(v) + "\n";
    return out;
}

/// Whether `s` is one complete version.
bool one_version(const std::string& s) { return s == version(0) || s == version(1); }

/// Reads `p` until `stop`; counts reads and bad ones (missing, or not one version).
void read_loop(const fs::path& p, const std::atomic<bool>& stop, std::size_t& reads, std::size_t& bad) {
    std::string s;
    while (!stop.load(std::memory_order_relaxed)) {
        ++reads;
        if (!test::read_whole(p, s) || !one_version(s)) ++bad;
    }
}

/// A process reading `p` until `stop_file` exists; exits 0 if every read was good, 1 if
/// one was not, 2 if it never read.
pid_t fork_reader(const fs::path& p, const fs::path& stop_file) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    std::string s;
    std::size_t reads = 0;
    int status = 0;
    while (::access(stop_file.c_str(), F_OK) != 0) {
        ++reads;
        if (!test::read_whole(p, s) || !one_version(s)) status = 1;
    }
    ::_exit(reads == 0 ? 2 : status);
}

template <class Write>
void race(const fs::path& read_path, const test::temp_dir& dir, int rounds, Write&& write) {
    std::atomic<bool> stop{false};
    constexpr int readers = 3;
    std::vector<std::size_t> reads(readers), bad(readers);
    const pid_t child = fork_reader(read_path, dir / "stop");
    REQUIRE(child > 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < readers; ++t)
        threads.emplace_back([&, t] {
            read_loop(read_path, stop, reads[static_cast<std::size_t>(t)], bad[static_cast<std::size_t>(t)]);
        });
    std::size_t failures = 0;
    for (int i = 0; i < rounds; ++i) {
        std::error_code ec;
        write(i % 2, ec);
        if (ec) ++failures;
    }
    stop = true;
    for (auto& t : threads) t.join();
    test::write_plain(dir / "stop", "");
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    std::size_t total = 0, total_bad = 0;
    for (int t = 0; t < readers; ++t) {
        total += reads[static_cast<std::size_t>(t)];
        total_bad += bad[static_cast<std::size_t>(t)];
    }
    CHECK(failures == 0);
    CHECK(total > 0);
    CHECK(total_bad == 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    test::report_figure("race: " + std::to_string(rounds) + " replacements, " + std::to_string(total) +
                        " reads by threads and a process, " + std::to_string(total_bad) + " bad");
}

}  // namespace

TEST_CASE("readers racing symlink_atomic always find one complete version", "[links][race]") {
    if (const char* why = test::missing_feature(false, false, false, true)) {
        WARN("skipped: " << why);
        return;
    }
    test::temp_dir dir;
    test::write_plain(dir / "v0", version(0));
    test::write_plain(dir / "v1", version(1));
    aw::symlink_atomic("v0", dir / "current");
    const int rounds = test::long_run() ? 20000 : 2000;
    race(dir / "current", dir, rounds, [&](int v, std::error_code& ec) {
        aw::symlink_atomic<aw::sync::none>(v == 0 ? "v0" : "v1", dir / "current", {.overwrite = true}, ec);
    });
    const std::string last = fs::read_symlink(dir / "current").string();
    CHECK(last == ((rounds - 1) % 2 == 0 ? "v0" : "v1"));
    CHECK(dir.names() == std::vector<std::string>{"current", "stop", "v0", "v1"});
}

TEST_CASE("readers racing backed-up writes always find the backup complete", "[links][race][backup]") {
    if (const char* why = test::missing_feature(false, true)) {
        WARN("skipped: " << why);
        return;
    }
    test::temp_dir dir;
    test::write_plain(dir / "config", version(1));
    aw::write_file(dir / "config", version(0), {.overwrite = true, .backup = "config.bak"});
    const int rounds = test::long_run() ? 5000 : 500;
    race(dir / "config.bak", dir, rounds, [&](int v, std::error_code& ec) {
        aw::write_file<aw::fast_writer>(dir / "config", version(v), {.overwrite = true, .backup = "config.bak"}, ec);
    });
    CHECK(test::read_file(dir / "config.bak") == version(rounds % 2));
    CHECK(dir.names() == std::vector<std::string>{"config", "config.bak", "stop"});
}

namespace {

const char* const site_files[] = {"index.html", "css/main.css", "css/img/logo.svg", "js/app.js"};

/// Reads the tree at `site` as a reader that resolves the name once does: reads the
/// link, opens the directory it names, then each file relative to it. 1: one version
/// throughout; 0: the version removed while it was read (a reader slower than `keep`
/// commits, descheduled on a busy machine: not a mix, tried again); -1: the name
/// missing, or files of different or incomplete versions.
int read_tree(const fs::path& site) {
    char text[256];
    const ssize_t length = ::readlink(site.c_str(), text, sizeof text - 1);
    if (length <= 0) return -1;  // the stable name must always be there
    text[length] = '\0';
    const int dir = ::open((site.parent_path() / text).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno == ENOENT ? 0 : -1;
    std::string first;
    int result = 1;
    for (const char* f : site_files) {
        const int fd = ::openat(dir, f, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            result = errno == ENOENT ? 0 : -1;
            break;
        }
        char buf[256];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        ::close(fd);
        const std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
        // Each file holds "version N", complete.
        if (s.rfind("version ", 0) != 0 || (!first.empty() && s != first)) {
            result = -1;
            break;
        }
        first = s;
    }
    ::close(dir);
    return result;
}

void publish(const fs::path& site, int version) {
    aw::basic_tree_writer<aw::sync::none> t(site, {.keep = 2});
    for (const char* f : site_files) t.write_file(f, "version " + std::to_string(version));
    t.commit();
}

}  // namespace

TEST_CASE("readers racing tree_writer commits always see one version", "[links][race][tree]") {
    if (const char* why = test::missing_feature(false, false, false, true)) {
        WARN("skipped: " << why);
        return;
    }
    test::temp_dir dir;
    const fs::path site = dir / "site";
    publish(site, 0);
    const int rounds = test::long_run() ? 3000 : 300;
    std::atomic<bool> stop{false};
    constexpr int readers = 3;
    std::vector<std::size_t> good(readers), gone(readers), bad(readers);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int status = 0;
        std::size_t reads = 0;
        while (::access((dir / "stop").c_str(), F_OK) != 0) {
            ++reads;
            if (read_tree(site) < 0) status = 1;
        }
        ::_exit(reads == 0 ? 2 : status);
    }
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < readers; ++t)
        threads.emplace_back([&, t] {
            while (!stop.load(std::memory_order_relaxed)) {
                const int r = read_tree(site);
                ++(r > 0 ? good[t] : r == 0 ? gone[t] : bad[t]);
            }
        });
    std::size_t failures = 0;
    for (int v = 1; v <= rounds; ++v) {
        try {
            publish(site, v);
        } catch (const std::exception&) {
            ++failures;
        }
    }
    stop = true;
    for (auto& t : threads) t.join();
    test::write_plain(dir / "stop", "");
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    std::size_t total_good = 0, total_gone = 0, total_bad = 0;
    for (std::size_t t = 0; t < readers; ++t) {
        total_good += good[t];
        total_gone += gone[t];
        total_bad += bad[t];
    }
    CHECK(failures == 0);
    CHECK(total_good > 0);
    CHECK(total_bad == 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(read_tree(site) == 1);
    // The live version and two previous ones, nothing else.
    CHECK(dir.names() == std::vector<std::string>{".site.v" + std::to_string(rounds - 1),
                                                  ".site.v" + std::to_string(rounds),
                                                  ".site.v" + std::to_string(rounds + 1), "site", "stop"});
    test::report_figure("race: " + std::to_string(rounds) + " tree commits, " + std::to_string(total_good) +
                        " whole-tree reads by threads (and more by a process), 0 mixed; " + std::to_string(total_gone) +
                        " outpaced by two commits and retried");
}
