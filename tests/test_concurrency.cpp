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

/// FNV-1a, to tell a complete version from a torn one.
std::uint64_t checksum(std::string_view s) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

/// One version of the file: a header line with the payload's length and checksum, then
/// the payload (1 byte to ~96 KiB, so a torn file would show).
std::string version(int writer, int n) {
    const std::size_t size =
        1 + (static_cast<std::size_t>(n) * 7919u + static_cast<std::size_t>(writer) * 104729u) % (96 * 1024);
    const std::string payload = test::pattern(size, static_cast<std::uint32_t>(writer * 100000 + n));
    return "v " + std::to_string(payload.size()) + " " + std::to_string(checksum(payload)) + "\n" + payload;
}

/// Whether `s` is one complete version.
bool is_complete(const std::string& s) {
    const std::size_t eol = s.find('\n');
    if (s.rfind("v ", 0) != 0 || eol == std::string::npos) return false;
    const std::size_t space = s.find(' ', 2);
    if (space == std::string::npos || space > eol) return false;
    try {
        const std::size_t size = std::stoull(s.substr(2, space - 2));
        const std::uint64_t sum = std::stoull(s.substr(space + 1, eol - space - 1));
        const std::string_view payload = std::string_view(s).substr(eol + 1);
        return payload.size() == size && checksum(payload) == sum;
    } catch (const std::exception&) {  // not numbers: a torn header
        return false;
    }
}

/// Reads a whole file with plain system calls; false if it cannot be opened.
bool read_whole(const fs::path& p, std::string& out) {
    out.clear();
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}

/// `writers` threads replace one file `per_writer` times each while a reader reads it.
template <class W>
void replace_race(int writers, int per_writer) {
    INFO(test::type_name<W>());
    test::temp_dir dir;
    const fs::path target = dir / "target";
    aw::write_file<W>(target, version(99, 0), {.overwrite = true});

    std::atomic<int> running{writers};
    std::atomic<long> reads{0};
    std::atomic<long> torn{0};
    std::atomic<long> missing{0};
    std::atomic<long> failed_writes{0};
    std::thread reader([&] {
        std::string s;
        // Keep reading until every writer is done, and a little after.
        for (int after = 0; after < 10; after += running.load() == 0 ? 1 : 0) {
            if (!read_whole(target, s)) {
                ++missing;
            } else if (!is_complete(s)) {
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
                aw::write_file<W>(target, version(w, n), {.overwrite = true}, ec);
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
    REQUIRE(read_whole(target, last));
    CHECK(is_complete(last));
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
