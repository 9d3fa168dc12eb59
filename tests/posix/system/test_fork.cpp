// SPDX-License-Identifier: MIT
// Writers and fork(2): parent and children draw different temporary names, and a child
// that leaves a writer's scope (its copy of the parent's writer) never removes the
// parent's temporary file: only the process that made a temporary file removes it.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

template <class Temp>
using writer = aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, Temp>;

/// Waits for a child and returns its exit status (-1 if it did not exit).
int wait_for(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("forked children draw temporary names different from the parent's and each other's", "[fork][temp]") {
    test::temp_dir dir;
    // The parent draws a name first: the children inherit its generator's state.
    aw::write_file(dir / "status", "boot\n", {.overwrite = true});
    constexpr int children = 12;
    int go[2];
    int report[2];
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(report) == 0);
    std::vector<pid_t> pids;
    for (int i = 0; i < children; ++i) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(go[1]);
            aw::syscall_counter calls;
            std::error_code ec;
            std::string name;
            {
                aw::scoped_syscall_hook counting(calls);
                writer<aw::temp::mkstemp> w(dir / "status", {.overwrite = true}, ec);
                if (!ec) name = w.temp_path().filename().string();
                char c = 0;
                // Hold the writer (and its name) until every child has made one.
                if (::read(go[0], &c, 1) != 1) ::_exit(3);
                if (!ec) {
                    w.write("worker\n");
                    w.commit(ec);
                }
            }
            // One creation each: no child's first name was taken by another.
            const std::string line = std::to_string(calls.count(sysop::create_file)) + " " + name + "\n";
            const bool sent = ::write(report[1], line.data(), line.size()) == static_cast<ssize_t>(line.size());
            ::_exit(ec || !sent ? 1 : 0);
        }
        pids.push_back(pid);
    }
    ::close(go[0]);
    ::close(report[1]);
    // Every child holds its writer before any commits.
    ::usleep(200000);
    for (int i = 0; i < children; ++i) REQUIRE(::write(go[1], "g", 1) == 1);
    ::close(go[1]);
    for (pid_t pid : pids) CHECK(wait_for(pid) == 0);
    std::string all;
    char buffer[4096];
    for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;)
        all.append(buffer, static_cast<std::size_t>(n));
    ::close(report[0]);

    std::set<std::string> names;
    int lines = 0;
    for (std::size_t at = 0, end; (end = all.find('\n', at)) != std::string::npos; at = end + 1) {
        const std::string line = all.substr(at, end - at);
        INFO(line);
        ++lines;
        CHECK(line.rfind("1 ", 0) == 0);
        names.insert(line.substr(line.find(' ') + 1));
    }
    CHECK(lines == children);
    CHECK(names.size() == static_cast<std::size_t>(children));
    // And the parent's next name is none of theirs.
    writer<aw::temp::mkstemp> mine(dir / "status", {.overwrite = true});
    CHECK(names.count(mine.temp_path().filename().string()) == 0);
    mine.rollback();
    CHECK(dir.names() == std::vector<std::string>{"status"});
}

TEMPLATE_TEST_CASE("a forked child leaving a writer's scope does not remove the parent's temporary file",
                   "[fork][rollback]", aw::temp::mkstemp, aw::temp::named) {
    test::temp_dir dir;
    test::write_plain(dir / "out", "old\n");
    writer<TestType> w(dir / "out", {.overwrite = true});
    w.write("parent data\n");
    const fs::path temp = w.temp_path();
    REQUIRE(fs::exists(temp));

    SECTION("the child's copy is destroyed") {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            {
                writer<TestType> moved(std::move(w));  // the child's copy goes out of scope
            }
            ::_exit(0);
        }
        REQUIRE(wait_for(pid) == 0);
    }
    SECTION("the child rolls back its copy") {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            w.rollback();
            ::_exit(w.is_open() ? 1 : 0);
        }
        REQUIRE(wait_for(pid) == 0);
    }
    CHECK(fs::exists(temp));
    std::error_code ec;
    w.commit(ec);
    CHECK_FALSE(ec);
    CHECK(test::read_file(dir / "out") == "parent data\n");
    CHECK(dir.names() == std::vector<std::string>{"out"});
}

TEST_CASE("the process that made a temporary file still removes it when it rolls back after a fork",
          "[fork][rollback]") {
    test::temp_dir dir;
    test::write_plain(dir / "out", "old\n");
    writer<aw::temp::mkstemp> w(dir / "out", {.overwrite = true});
    w.write("abandoned\n");
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(0);
    REQUIRE(wait_for(pid) == 0);
    w.rollback();
    CHECK(dir.names() == std::vector<std::string>{"out"});
    CHECK(test::read_file(dir / "out") == "old\n");
}
