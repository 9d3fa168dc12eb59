// SPDX-License-Identifier: MIT
// A counter file that several threads (or processes) increment at once, without losing
// an increment: update_file() takes the file's lock, reads it, calls the lambda for the
// new content and commits it, so each increment sees the one before. A plain read and
// write_file() would let two writers read the same value and one increment vanish.
//
// Then a compare-and-swap: read_file() gives the content with its version, and a write
// with write_options::expect publishes only if nobody changed the file since; otherwise
// it fails with atomicwrites::errc::target_changed, and the caller reads again.
// Usage: counter [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/versions.hpp>

#include "example_dir.hpp"

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

/// The next value of the counter whose file holds `old` (empty: no file yet).
std::string next(std::string_view old) { return std::to_string(old.empty() ? 1 : std::stol(std::string(old)) + 1); }

int main(int argc, char** argv) try {
    const example_dir dir(argc, argv);
    const fs::path counter = dir.path() / "counter";

    // Four threads, 25 increments each: none is lost.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) aw::update_file(counter, next);
        });
    for (auto& t : threads) t.join();
    std::cout << "counter after 100 increments: " << read_file(counter) << '\n';
    expect(read_file(counter) == "100", "no increment is lost");

    // Compare-and-swap by hand: retry while another writer got there first.
    for (;;) {
        const aw::file_contents now = aw::read_file(counter);
        std::error_code ec;
        aw::write_file(counter, next(now.content), {.overwrite = true, .expect = now.version}, ec);
        if (!ec) break;
        if (ec != aw::errc::target_changed) throw std::system_error(ec, "write counter");
        std::cout << "changed meanwhile; reading again\n";
    }
    expect(read_file(counter) == "101", "the compare-and-swap published");

    // A stale version is refused, and the file is left as it is.
    const aw::file_version stale = aw::read_file(counter).version;
    aw::update_file(counter, next);
    std::error_code ec;
    aw::write_file(counter, "0", {.overwrite = true, .expect = stale}, ec);
    std::cout << "writing over a stale version: " << ec.message() << '\n';
    expect(ec == aw::errc::target_changed, "a stale version is refused");
    expect(read_file(counter) == "102", "the file is untouched");
    return 0;
} catch (const std::exception& e) {
    std::cerr << "counter: " << e.what() << '\n';
    return 1;
}
