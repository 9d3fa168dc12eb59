// SPDX-License-Identifier: MIT
// Writes a file through atomicwrites added with CMake's add_subdirectory: binary data
// as bytes, through the error_code form.
// Usage: consumer FILE
#include <atomicwrites/atomic_writer.hpp>

#include <cstddef>
#include <iostream>
#include <span>
#include <string_view>
#include <system_error>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer FILE\n";
        return 2;
    }
    constexpr std::string_view text = "written through add_subdirectory\n";
    std::error_code ec;
    atomicwrites::write_file(argv[1], std::as_bytes(std::span(text.data(), text.size())), {.overwrite = true}, ec);
    if (ec) {
        std::cerr << "consumer: " << argv[1] << ": " << ec.message() << '\n';
        return 1;
    }
    std::cout << "committed " << argv[1] << '\n';
    return 0;
}
