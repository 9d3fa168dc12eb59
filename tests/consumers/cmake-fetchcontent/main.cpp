// SPDX-License-Identifier: MIT
// Writes a file through atomicwrites fetched with CMake's FetchContent: a directory
// handle, opened once, and the stream form inside it.
// Usage: consumer DIR NAME
#include <atomicwrites/atomic_writer.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: consumer DIR NAME\n";
        return 2;
    }
    try {
        const atomicwrites::directory dir(argv[1]);
        atomicwrites::atomic_write(dir, argv[2], [](std::ostream& out) { out << "written through FetchContent\n"; },
                                   {.overwrite = true});
        std::cout << "committed " << argv[2] << " in " << dir.path().string() << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "consumer: " << e.what() << '\n';
        return 1;
    }
}
