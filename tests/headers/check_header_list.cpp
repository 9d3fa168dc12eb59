// SPDX-License-Identifier: MIT
// The main of header_hygiene, whose other translation units each include one public
// header. Usage: header_hygiene INCLUDE_DIR NAME...
// Checks that the NAMEs (from tests/headers/meson.build) are exactly the public headers
// in INCLUDE_DIR, so that a new header cannot miss its stand-alone compile.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: header_hygiene INCLUDE_DIR NAME...\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const std::set<std::string> listed(argv + 2, argv + argc);
    std::set<std::string> present;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().extension() == ".hpp") present.insert(entry.path().stem().string());

    int status = 0;
    for (const auto& name : present) {
        if (!listed.contains(name)) {
            std::cerr << "include/atomicwrites/" << name << ".hpp is not in tests/headers/meson.build\n";
            status = 1;
        }
    }
    for (const auto& name : listed) {
        if (!present.contains(name)) {
            std::cerr << "tests/headers/meson.build lists " << name << ", which is not in " << dir << '\n';
            status = 1;
        }
    }
    if (status == 0) std::cout << present.size() << " public headers, each compiled on its own\n";
    return status;
}
