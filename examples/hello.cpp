// SPDX-License-Identifier: MIT
// Hello world: writes "Hello world." to foo.txt, replacing the file if it exists.
// Usage: hello [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/atomic_writer.hpp>

#include "example_dir.hpp"

#include <exception>
#include <iostream>
#include <ostream>

int main(int argc, char** argv) {
    try {
        example_dir dir(argc, argv);
        const std::filesystem::path path = dir / "foo.txt";

        // The lambda writes into a temporary file next to foo.txt; foo.txt itself is not
        // touched yet. When the lambda returns, the temporary file is flushed to disk and
        // renamed over foo.txt in one step: a reader, or a crash, sees either the old
        // foo.txt or the complete new one. If the lambda threw, the temporary file would
        // be removed and foo.txt left as it was.
        atomicwrites::atomic_write(path, [](std::ostream& out) { out << "Hello world."; }, {.overwrite = true});

        const std::string content = read_file(path);
        expect(content == "Hello world.", "foo.txt holds the greeting");
        std::cout << "wrote " << path.string() << ": " << content << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "hello: " << e.what() << '\n';
        return 1;
    }
}
