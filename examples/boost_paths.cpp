// SPDX-License-Identifier: MIT
// Atomic writes with boost::filesystem::path: include <atomicwrites/boost_filesystem.hpp>
// (and link Boost.Filesystem). atomic_write, write_file, replace_atomic and move_atomic
// take Boost paths as they are; to build a writer, convert with to_std_path().
// Usage: boost_paths [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/boost_filesystem.hpp>

#include "example_dir.hpp"

#include <boost/filesystem.hpp>

#include <exception>
#include <iostream>
#include <ostream>
#include <string_view>

namespace aw = atomicwrites;
namespace bfs = boost::filesystem;

int main(int argc, char** argv) {
    try {
        example_dir scratch(argc, argv);
        const bfs::path dir(scratch.path().native());  // a program using Boost has its paths as Boost paths

        // One call for a whole file.
        aw::write_file(dir / "greeting.txt", std::string_view("hello from Boost\n"));

        // A stream, committed when the lambda returns.
        aw::atomic_write(dir / "numbers.txt", [](std::ostream& out) {
            for (int i = 1; i <= 3; ++i) out << i << '\n';
        });

        // Prepare a file, then move it over the first one in one step.
        aw::write_file(dir / "greeting.txt.new", std::string_view("hello again\n"));
        aw::replace_atomic(dir / "greeting.txt.new", dir / "greeting.txt");

        // move_atomic refuses to replace an existing file (here, with an error code).
        std::error_code ec;
        aw::move_atomic(dir / "numbers.txt", dir / "greeting.txt", ec);
        expect(ec == std::errc::file_exists, "move_atomic does not replace greeting.txt");

        // A writer takes a std::filesystem::path: convert the Boost one.
        aw::atomic_writer writer(aw::to_std_path(dir / "numbers.txt"), {.overwrite = true});
        writer.stream() << "4\n5\n";
        writer.commit();

        expect(bfs::file_size(dir / "greeting.txt") == 12, "greeting.txt was replaced");
        expect(read_file(aw::to_std_path(dir / "greeting.txt")) == "hello again\n", "greeting.txt content");
        expect(read_file(aw::to_std_path(dir / "numbers.txt")) == "4\n5\n", "numbers.txt content");
        expect(!bfs::exists(dir / "greeting.txt.new"), "the moved file is gone");
        std::cout << "wrote " << (dir / "greeting.txt").string() << " and " << (dir / "numbers.txt").string() << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "boost_paths: " << e.what() << '\n';
        return 1;
    }
}
