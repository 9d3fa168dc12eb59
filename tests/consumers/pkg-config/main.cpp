// SPDX-License-Identifier: MIT
// Writes a file through an installed atomicwrites found with pkg-config: the
// std::error_code form, which never throws.
// Usage: consumer FILE
#include <atomicwrites/atomic_writer.hpp>

#include <iostream>
#include <string_view>
#include <system_error>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer FILE\n";
        return 2;
    }
    std::error_code ec;
    const atomicwrites::commit_state state =
        atomicwrites::write_file(argv[1], std::string_view("written through pkg-config\n"), {.overwrite = true}, ec);
    if (ec) {
        std::cerr << "consumer: " << argv[1] << ": " << ec.message() << '\n';
        return 1;
    }
    std::cout << (state == atomicwrites::commit_state::published ? "published " : "unchanged ") << argv[1] << '\n';
    return state == atomicwrites::commit_state::published ? 0 : 1;
}
