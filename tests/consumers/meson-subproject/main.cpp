// SPDX-License-Identifier: MIT
// Writes a file through atomicwrites built as a Meson subproject: the stream form.
// Usage: consumer FILE
#include <atomicwrites/atomic_writer.hpp>

#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer FILE\n";
        return 2;
    }
    try {
        atomicwrites::atomic_write(argv[1], [](std::ostream& out) { out << "written through a Meson subproject\n"; },
                                   {.overwrite = true});
        std::ifstream in(argv[1]);
        std::ostringstream content;
        content << in.rdbuf();
        std::cout << content.str();
        return content.str() == "written through a Meson subproject\n" ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "consumer: " << e.what() << '\n';
        return 1;
    }
}
