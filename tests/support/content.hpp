// SPDX-License-Identifier: MIT
// What the tests write: the usual old and new contents, binary patterns, and versions
// that carry their own checksum, so a torn file shows.
#ifndef ATOMICWRITES_TESTS_SUPPORT_CONTENT_HPP
#define ATOMICWRITES_TESTS_SUPPORT_CONTENT_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace test {

/// The contents most tests put in a target before and during a replacement.
inline const std::string old_content = "old content\n";
inline const std::string new_content = "new content\n";

/// The bytes of a string, as the span overloads take them.
inline std::vector<std::byte> as_bytes(std::string_view s) {
    std::vector<std::byte> out(s.size());
    std::transform(s.begin(), s.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
    return out;
}

/// `size` bytes of deterministic, NUL-containing binary content that differs with `seed`.
inline std::string pattern(std::size_t size, std::uint32_t seed = 1) {
    std::string out(size, '\0');
    std::uint32_t x = seed * 2654435761u + 12345u;
    for (auto& c : out) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return out;
}

/// Whether `part` occurs in `s` (in a message or a step name).
inline bool contains(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }

// --- versions that carry their own checksum ----------------------------------------------

/// FNV-1a, to tell a complete version from a torn one.
inline std::uint64_t checksum(std::string_view s) {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

/// One version of a file: a header line with the payload's length and checksum, then
/// the payload (1 byte to `max_size` bytes, so a torn file would show).
inline std::string version(int writer, int n, std::size_t max_size = 96 * 1024) {
    const std::size_t size =
        1 + (static_cast<std::size_t>(n) * 7919u + static_cast<std::size_t>(writer) * 104729u) % max_size;
    const std::string payload = pattern(size, static_cast<std::uint32_t>(writer * 100000 + n));
    return "v " + std::to_string(payload.size()) + " " + std::to_string(checksum(payload)) + "\n" + payload;
}

/// Whether `s` is one complete version.
inline bool is_complete(const std::string& s) {
    const std::size_t eol = s.find('\n');
    if (s.rfind("v ", 0) != 0 || eol == std::string::npos) return false;
    const std::size_t space = s.find(' ', 2);
    if (space == std::string::npos || space > eol) return false;
    try {
        const std::size_t size = std::stoull(s.substr(2, space - 2));
        const std::uint64_t sum = std::stoull(s.substr(space + 1, eol - space - 1));
        const std::string_view payload = std::string_view(s).substr(eol + 1);
        return payload.size() == size && checksum(payload) == sum;
    } catch (const std::exception&) {  // not numbers: a torn header
        return false;
    }
}

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_CONTENT_HPP
