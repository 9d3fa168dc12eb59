// SPDX-License-Identifier: MIT
// Process kills: a child process replaces a target in a loop with versions that carry
// their own checksum, and is killed with SIGKILL at a random moment, again and again.
// After every kill the target must be one complete version. Temporary files left
// behind are counted: with an anonymous temporary file, none while creating, and when
// replacing only from a kill between the two calls that name it and rename it; with
// named ones, remove_stale_temps() removes exactly those and nothing else.
//
// Bounded by time in the ordinary suite; ATOMICWRITES_LONG_TESTS=1 (scripts/test-long)
// runs thousands of kills per writer.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/batch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using namespace std::chrono_literals;
using names = std::vector<std::string>;

/// How the child writes: replacing one target, or creating new files without overwrite.
enum class mode { replace, create };

using test::kind_of;
using test::writer_kind;

/// Writes version (writer, n) at `target` with writer kind `k`; false on an error.
bool write_version(const writer_kind& k, const fs::path& target, int writer, int n, const aw::write_options& options) {
    std::error_code ec;
    k.write(target, test::version(writer, n, 256 * 1024), options, ec);
    return !ec;
}

/// The options of each mode. Creating, every file has a new name: its temporary files
/// get a suffix of their own, so that one sweep for any target finds them all and
/// nothing of the user's.
const aw::write_options replacing{.overwrite = true};
const aw::write_options creating{.overwrite = false, .temp_suffix = ".creating"};

/// Files a user keeps next to the target, some named much like temporary files; the
/// sweeps must never touch them.
const std::vector<std::pair<std::string, std::string>> bystanders = {
    {"target.bak", "backup"},
    {".target.tmp.keep", "not a temporary name"},
    {".target.ABCDEFG.tmp", "seven characters, not eight"},
    {".other.ABCDEFGH.tmp", "another target's name, swept only for any target"},
    {"notes.txt", "the user's notes"},
};

struct totals {
    long kills = 0;
    long complete = 0;        // kills after which every file written was one complete version
    long leftovers = 0;       // temporary files found after a kill
    long swept = 0;           // of those, removed by remove_stale_temps()
    long child_failures = 0;  // writes that reported an error in the child
};

/// Kills a writing child `max_kills` times or until `budget` is spent, whichever is
/// first, and checks what each kill left.
void kill_loop(const writer_kind& k, mode m, const fs::path& base, long max_kills, std::chrono::milliseconds budget,
               std::chrono::microseconds max_delay, totals& t) {
    INFO(k.name << (m == mode::replace ? ", replacing" : ", creating"));
    test::temp_dir dir(base);
    const fs::path target = dir / "target";
    for (const auto& [name, content] : bystanders) test::write_plain(dir / name, content);
    // A file named exactly like a temporary file of the target, open for writing by
    // "another program" all along: in use, so never swept.
    const fs::path held = dir / ".target.HELDOPEN.tmp";
    const int held_fd = ::open(held.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    REQUIRE(held_fd >= 0);
    REQUIRE(write_version(k, target, 0, 0, replacing));
    const std::string first = test::read_file(target);

    std::mt19937_64 random(std::random_device{}());
    std::uniform_int_distribution<long> delay(0, max_delay.count());
    const auto deadline = std::chrono::steady_clock::now() + budget;
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    while (t.kills < max_kills && std::chrono::steady_clock::now() < deadline) {
        const int writer = static_cast<int>(t.kills % 1000) + 1;
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            // Write until killed; report failures through the pipe.
            for (int n = 0;; ++n) {
                const bool ok =
                    m == mode::replace
                        ? write_version(k, target, writer, n, replacing)
                        : write_version(k, dir / ("new-" + std::to_string(writer) + "-" + std::to_string(n)), writer, n,
                                        creating);
                if (!ok) {
                    const char c = 'f';
                    (void)!::write(pipe_fds[1], &c, 1);
                }
            }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay(random)));
        REQUIRE(::kill(pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFSIGNALED(status));
        ++t.kills;
        INFO("kill " << t.kills);

        // Every file written is complete; in create mode the target was left alone.
        bool all_complete = true;
        names left;
        for (const auto& n : dir.names()) {
            std::string content;
            if (n == "target") {
                REQUIRE(test::read_whole(target, content));
                INFO("target holds " << content.size() << " bytes");
                REQUIRE(test::is_complete(content));
                if (m == mode::create) REQUIRE(content == first);
            } else if (n.rfind("new-", 0) == 0 && m == mode::create) {
                REQUIRE(test::read_whole(dir / n, content));
                INFO(n << " holds " << content.size() << " bytes");
                all_complete = all_complete && test::is_complete(content);
                REQUIRE(test::is_complete(content));
                fs::remove(dir / n);
            } else if (dir / n != held && std::none_of(bystanders.begin(), bystanders.end(),
                                                       [&](const auto& b) { return b.first == n; })) {
                left.push_back(n);
            }
        }
        if (all_complete) ++t.complete;
        if (k.anonymous_temp && m == mode::create) {
            INFO("left behind: " << left.size());
            REQUIRE(left.empty());
            continue;
        }
        const aw::stale_temp_options sweep =
            m == mode::replace ? aw::stale_temp_options{.older_than = 0s, .target_name = "target"}
                               : aw::stale_temp_options{.older_than = 0s, .temp_suffix = creating.temp_suffix};
        for (const auto& n : left) {
            INFO("left behind: " << n);
            REQUIRE(aw::is_temp_name(n, sweep));
        }
        t.leftovers += static_cast<long>(left.size());
        const std::size_t removed = aw::remove_stale_temps(dir.path(), sweep);
        t.swept += static_cast<long>(removed);
        REQUIRE(removed == left.size());
    }
    // Failures the children reported (none expected: each child is the only writer).
    ::close(pipe_fds[1]);
    char c;
    while (::read(pipe_fds[0], &c, 1) == 1) ++t.child_failures;
    ::close(pipe_fds[0]);
    CHECK(t.child_failures == 0);

    // Nothing else was touched.
    for (const auto& [name, content] : bystanders) CHECK(test::read_file(dir / name) == content);
    CHECK(fs::exists(held));
    ::close(held_fd);
    // Once the other program is done with it, a sweep for any target takes it (and the
    // other target's lookalike, whose shape is a temporary file's).
    CHECK(aw::remove_stale_temps(dir.path(), {.older_than = 0s}) == 2);
    names expected{"target"};
    for (const auto& b : bystanders)
        if (b.first != ".other.ABCDEFGH.tmp") expected.push_back(b.first);
    std::sort(expected.begin(), expected.end());
    CHECK(dir.names() == expected);
}

void run_kills(const writer_kind& k, mode m, const fs::path& base, std::chrono::microseconds max_delay) {
    totals t;
    const long max_kills = test::scaled(250L, 3000L);
    const auto budget = test::scaled<std::chrono::milliseconds>(1500ms, 600000ms);
    kill_loop(k, m, base, max_kills, budget, max_delay, t);
    CHECK(t.kills > 0);
    CHECK(t.complete == t.kills);
    CHECK(t.swept == t.leftovers);
    test::report_figure("kills: " + k.name + (m == mode::replace ? ", replacing: " : ", creating: ") +
                        std::to_string(t.kills) + " kills survived (" + std::to_string(t.complete) +
                        " left complete files), " + std::to_string(t.leftovers) + " temporary files left, " +
                        std::to_string(t.swept) + " swept");
}

using fast_writer_anonymous = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous>;
using fast_writer_random = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::mkstemp>;
using fast_writer_named = aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::named>;
using durable_writer_anonymous = aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::anonymous>;

}  // namespace

TEST_CASE("a killed writer leaves the target complete: anonymous temporary files", "[kill]") {
    // Creating, nothing is ever left; replacing, only a kill between the linkat that
    // names the file and the rename can leave a (random, recognisable) name.
    run_kills(kind_of<fast_writer_anonymous>(), mode::create, test::fast_base(), 3000us);
    run_kills(kind_of<fast_writer_anonymous>(), mode::replace, test::fast_base(), 3000us);
}

TEST_CASE("a killed writer leaves the target complete: random-named temporary files", "[kill]") {
    run_kills(kind_of<fast_writer_random>(), mode::replace, test::fast_base(), 3000us);
    run_kills(kind_of<fast_writer_random>(), mode::create, test::fast_base(), 3000us);
}

TEST_CASE("a killed writer leaves the target complete: a fixed temporary name", "[kill]") {
    // A leftover .target.tmp would stop every later writer (EEXIST): the sweep after each
    // kill is what lets the next one write.
    run_kills(kind_of<fast_writer_named>(), mode::replace, test::fast_base(), 3000us);
}

TEST_CASE("a killed writer leaves the target complete: the default, durable writer on disk", "[kill]") {
    run_kills(kind_of<aw::atomic_writer>(), mode::replace, test::base_dir(), 30000us);
}

TEST_CASE("a killed writer leaves the target complete: durable, anonymous, on disk", "[kill]") {
    run_kills(kind_of<durable_writer_anonymous>(), mode::create, test::base_dir(), 30000us);
    run_kills(kind_of<durable_writer_anonymous>(), mode::replace, test::base_dir(), 30000us);
}

namespace {

/// A child commits batches of 8 files over two directories, each file a checksummed
/// version, until killed; after every kill each target is one complete version, and
/// what is left behind is a temporary file's name that remove_stale_temps() removes.
template <class Batch>
void batch_kills(const fs::path& base, std::chrono::microseconds max_delay) {
    const std::string name = test::type_name<Batch>();
    INFO(name);
    test::temp_dir dir(base);
    const std::vector<fs::path> dirs{dir / "a", dir / "b"};
    for (const fs::path& d : dirs) fs::create_directory(d);
    constexpr int files = 8;
    auto target = [&](int i) { return dirs[static_cast<std::size_t>(i % 2)] / ("f" + std::to_string(i)); };
    auto commit_batch = [&](int writer, int n) {
        Batch b;
        std::error_code ec;
        for (int i = 0; i < files && !ec; ++i)
            b.write_file(target(i), test::version(writer, n * files + i, 64 * 1024), {.overwrite = true}, ec);
        if (!ec) b.commit(ec);
        return !ec;
    };
    REQUIRE(commit_batch(0, 0));
    std::mt19937_64 random(std::random_device{}());
    std::uniform_int_distribution<long> delay(0, max_delay.count());
    const long max_kills = test::scaled(150L, 2000L);
    const auto deadline = std::chrono::steady_clock::now() + test::scaled<std::chrono::milliseconds>(1500ms, 600000ms);
    long kills = 0;
    long leftovers = 0;
    while (kills < max_kills && std::chrono::steady_clock::now() < deadline) {
        const int writer = static_cast<int>(kills % 1000) + 1;
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            for (int n = 0;; ++n)
                if (!commit_batch(writer, n)) ::_exit(3);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(delay(random)));
        REQUIRE(::kill(pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFSIGNALED(status));  // not a failed commit in the child
        ++kills;
        INFO("kill " << kills);
        for (const fs::path& d : dirs) {
            for (const auto& n : test::temp_dir::list(d)) {
                if (n.rfind('f', 0) == 0) {
                    std::string content;
                    REQUIRE(test::read_whole(d / n, content));
                    INFO(n << " holds " << content.size() << " bytes");
                    REQUIRE(test::is_complete(content));
                } else {
                    INFO("left behind: " << n);
                    REQUIRE(aw::is_temp_name(n, aw::stale_temp_options{.older_than = 0s}));
                    ++leftovers;
                }
            }
            aw::remove_stale_temps(d, {.older_than = 0s});
        }
        for (int i = 0; i < files; ++i) CHECK(fs::exists(target(i)));
    }
    CHECK(kills > 0);
    test::report_figure("kills: " + name + ": " + std::to_string(kills) + " kills of batches of 8 files survived, " +
                        std::to_string(leftovers) + " temporary files left and swept");
}

using fast_batch = aw::basic_batch<aw::basic_atomic_writer<aw::sync::none>, aw::group::sequential>;

}  // namespace

TEST_CASE("a killed batch leaves every target complete: the default batch on disk", "[kill][batch]") {
    batch_kills<aw::batch>(test::base_dir(), 30000us);
}

TEST_CASE("a killed batch leaves every target complete: unsynced, on the fast filesystem", "[kill][batch]") {
    batch_kills<fast_batch>(test::fast_base(), 3000us);
}
