// SPDX-License-Identifier: MIT
// What the two translation units of header_odr call in each other.
#ifndef ATOMICWRITES_TESTS_HEADERS_ODR_HPP
#define ATOMICWRITES_TESTS_HEADERS_ODR_HPP

#include <cstddef>
#include <filesystem>

namespace odr {

/// Writes files in `dir` with the library, from odr_a.cpp / odr_b.cpp. Throws on failure.
void write_from_a(const std::filesystem::path& dir);
void write_from_b(const std::filesystem::path& dir);

/// Runs fn(dir) with a hook installed by odr_b.cpp; returns the system calls it saw.
std::size_t count_from_b(void (*fn)(const std::filesystem::path&), const std::filesystem::path& dir);

}  // namespace odr

#endif  // ATOMICWRITES_TESTS_HEADERS_ODR_HPP
