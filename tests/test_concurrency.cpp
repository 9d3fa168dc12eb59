// SPDX-License-Identifier: MIT
// Writers racing each other: with overwrite = false exactly one of many concurrent
// creators wins and the file holds its complete content; with overwrite = true a reader
// always sees one complete version, never a torn or missing file.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

constexpr int threads = 8;

/// The content thread `t` tries to create in round `r`: distinct per thread and round,
/// and larger than the writer's buffer.
std::string creator_content(int round, int t) {
    return "round " + std::to_string(round) + " thread " + std::to_string(t) + "\n" +
           test::pattern(70000 + static_cast<std::size_t>(t) * 1031, static_cast<std::uint32_t>(round * threads + t));
}

/// What one thread got in one round.
struct attempt {
    std::error_code ec;
    aw::commit_state state = aw::commit_state::unchanged;
};

/// `threads` threads race to create the same new file, `rounds` times (a fresh name each
/// round), with writer W and overwrite = false.
template <class W>
void creation_race(int rounds) {
    INFO(test::type_name<W>());
    test::temp_dir dir;
    std::vector<std::vector<attempt>> results(static_cast<std::size_t>(rounds),
                                              std::vector<attempt>(static_cast<std::size_t>(threads)));
    std::barrier start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int r = 0; r < rounds; ++r) {
                const std::string content = creator_content(r, t);
                const fs::path target = dir / ("target-" + std::to_string(r));
                start.arrive_and_wait();  // everyone starts the round together
                attempt& a = results[static_cast<std::size_t>(r)][static_cast<std::size_t>(t)];
                a.state = aw::write_file<W>(target, std::string_view(content), {.overwrite = false}, a.ec);
            }
        });
    }
    for (auto& th : pool) th.join();

    std::vector<std::string> expected_names;
    for (int r = 0; r < rounds; ++r) {
        INFO("round " << r);
        int winners = 0;
        int winner = -1;
        for (int t = 0; t < threads; ++t) {
            const attempt& a = results[static_cast<std::size_t>(r)][static_cast<std::size_t>(t)];
            if (!a.ec) {
                CHECK(a.state == aw::commit_state::published);
                ++winners;
                winner = t;
            } else {
                INFO("thread " << t << ": " << a.ec.message());
                CHECK(a.ec == std::errc::file_exists);
                CHECK(a.state == aw::commit_state::unchanged);
            }
        }
        REQUIRE(winners == 1);
        const fs::path target = dir / ("target-" + std::to_string(r));
        CHECK((test::read_file(target) == creator_content(r, winner)));
        expected_names.push_back(target.filename().string());
    }
    std::sort(expected_names.begin(), expected_names.end());
    CHECK(dir.names() == expected_names);  // no temporary file left by anyone
}

// --- the replace race -------------------------------------------------------------------

/// `writers` threads replace one file `per_writer` times each while a reader reads it.
template <class W>
void replace_race(int writers, int per_writer) {
    INFO(test::type_name<W>());
    test::temp_dir dir;
    const fs::path target = dir / "target";
    aw::write_file<W>(target, test::version(99, 0), {.overwrite = true});

    std::atomic<int> running{writers};
    std::atomic<long> reads{0};
    std::atomic<long> torn{0};
    std::atomic<long> missing{0};
    std::atomic<long> failed_writes{0};
    std::thread reader([&] {
        std::string s;
        // Keep reading until every writer is done, and a little after.
        for (int after = 0; after < 10; after += running.load() == 0 ? 1 : 0) {
            if (!test::read_whole(target, s)) {
                ++missing;
            } else if (!test::is_complete(s)) {
                ++torn;
            }
            ++reads;
        }
    });
    std::vector<std::thread> pool;
    for (int w = 0; w < writers; ++w) {
        pool.emplace_back([&, w] {
            for (int n = 0; n < per_writer; ++n) {
                std::error_code ec;
                aw::write_file<W>(target, test::version(w, n), {.overwrite = true}, ec);
                if (ec) ++failed_writes;
            }
            --running;
        });
    }
    for (auto& th : pool) th.join();
    reader.join();

    CHECK(failed_writes.load() == 0);
    CHECK(reads.load() > 0);
    CHECK(missing.load() == 0);
    CHECK(torn.load() == 0);
    std::string last;
    REQUIRE(test::read_whole(target, last));
    CHECK(test::is_complete(last));
    CHECK(dir.names() == std::vector<std::string>{"target"});
}

}  // namespace

TEST_CASE("concurrent creators without overwrite: exactly one wins each round", "[concurrency][race]") {
    // Every commit policy that can keep an existing target, with each kind of temporary
    // file; nothing synced, so that the race, not the disk, sets the pace.
    SECTION("commit::link_unlink") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::mkstemp>>(100);
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::anonymous>>(100);
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::named>>(100);
    }
    SECTION("commit::renameat2") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::mkstemp>>(100);
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::anonymous>>(100);
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::named>>(100);
    }
    SECTION("commit::automatic") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::mkstemp>>(100);
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic,
                                              aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>>(100);
    }
    SECTION("the default, durable writer") { creation_race<aw::atomic_writer>(10); }
}

TEST_CASE("concurrent replacers: a reader always sees one complete version", "[concurrency][race]") {
    SECTION("temp::mkstemp") {
        replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::mkstemp>>(3, 400);
    }
    SECTION("temp::anonymous") {
        replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous>>(3, 400);
    }
    SECTION("the default, durable writer") { replace_race<aw::atomic_writer>(2, 30); }
}
