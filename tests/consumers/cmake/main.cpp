// SPDX-License-Identifier: MIT
// Writes a file through an installed atomicwrites found with CMake's find_package: the
// writer object, written in pieces and committed.
// Usage: consumer FILE
#include <atomicwrites/atomic_writer.hpp>

#include <exception>
#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer FILE\n";
        return 2;
    }
    try {
        atomicwrites::atomic_writer writer(argv[1], {.overwrite = true});
        writer.write(std::string_view("written through "));
        writer.write(std::string_view("CMake\n"));
        writer.commit();
        std::cout << "committed " << writer.target().string() << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "consumer: " << e.what() << '\n';
        return 1;
    }
}
