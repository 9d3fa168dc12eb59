// SPDX-License-Identifier: MIT
// Scaffolding shared by the examples, not part of the library: where an example writes,
// and a check that stops it when a result is not what it should be.
//
// Every example takes an optional directory as its first argument (created if missing).
// Without one it works in a fresh temporary directory and removes it at the end.
#ifndef ATOMICWRITES_EXAMPLES_EXAMPLE_DIR_HPP
#define ATOMICWRITES_EXAMPLES_EXAMPLE_DIR_HPP

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>

class example_dir {
public:
    example_dir(int argc, char** argv) {
        if (argc > 1) {
            path_ = argv[1];
            std::filesystem::create_directories(path_);
            return;
        }
        std::string pattern = (std::filesystem::temp_directory_path() / "atomicwrites-example.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::system_category(), "mkdtemp");
        path_ = pattern;
        owned_ = true;
    }
    ~example_dir() {
        std::error_code ignored;
        if (owned_) std::filesystem::remove_all(path_, ignored);
    }
    example_dir(const example_dir&) = delete;
    example_dir& operator=(const example_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
    bool owned_ = false;
};

/// The whole content of a file ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Stops the example (with an exception) if `ok` is false.
inline void expect(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("unexpected result: " + what);
}

#endif  // ATOMICWRITES_EXAMPLES_EXAMPLE_DIR_HPP
