// SPDX-License-Identifier: MIT
// The atomic edits both edit suites make (the portable one in the suite's directory, the
// POSIX one on loop-mounted filesystems): edits at the start, the middle, the end, past
// the end, cuts and appends, each with the bytes it must give, and the check that runs
// them all against a copy made by the expected calls.
#ifndef ATOMICWRITES_TESTS_SUPPORT_EDITS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_EDITS_HPP

#include "content.hpp"
#include "fs.hpp"
#include "hooks.hpp"

#include <atomicwrites/edit.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ios>
#include <string>
#include <string_view>
#include <vector>

namespace test::edits {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

/// The calls of `op` that succeeded.
inline std::size_t made(const test::scripted_hook& h, sysop op) {
    std::size_t n = 0;
    for (const auto& c : h.calls) n += c.op == op && c.error == 0 ? 1 : 0;
    return n;
}

struct edit_case {
    std::string name;
    std::function<void(aw::atomic_writer&)> edit;
    std::function<std::string(std::string)> expect;
};

inline std::vector<edit_case> edit_cases(std::size_t size) {
    const std::string block = test::pattern(4096, 7);
    return {
        {"at the start", [](aw::atomic_writer& w) { w.pwrite(0, std::string_view("START")); },
         [](std::string s) { return s.replace(0, 5, "START"); }},
        {"in the middle", [size, block](aw::atomic_writer& w) { w.pwrite(size / 2, block); },
         [size, block](std::string s) { return s.replace(size / 2, block.size(), block); }},
        {"over the end", [size](aw::atomic_writer& w) { w.pwrite(size - 2, std::string_view("ENDS")); },
         [size](std::string s) { return s.replace(size - 2, 2, "ENDS"); }},
        {"past the end (a hole of zeros)",
         [size](aw::atomic_writer& w) { w.pwrite(size + 100, std::string_view("far")); },
         [](std::string s) { return s + std::string(100, '\0') + "far"; }},
        {"appended", [](aw::atomic_writer& w) { w.append(test::as_bytes("tail")); },
         [](std::string s) { return s + "tail"; }},
        {"written after the copy", [](aw::atomic_writer& w) { w.write(std::string_view("more")); },
         [](std::string s) { return s + "more"; }},
        {"written at an offset, then after the copy: the position stayed at the end",
         [size](aw::atomic_writer& w) {
             w.pwrite(7, std::string_view("AT"));
             w.write(std::string_view("after"));
             CHECK(w.stream().tellp() == static_cast<std::streamoff>(size + 5));
         },
         [](std::string s) { return s.replace(7, 2, "AT") + "after"; }},
        {"cut", [](aw::atomic_writer& w) { w.truncate(1000); }, [](std::string s) { return s.substr(0, 1000); }},
        {"extended with zeros", [size](aw::atomic_writer& w) { w.truncate(size + 10); },
         [](std::string s) { return s + std::string(10, '\0'); }},
        {"cut, then streamed at the new end",
         [](aw::atomic_writer& w) {
             w.truncate(10);
             w.stream().seekp(0, std::ios_base::end);
             w.stream() << "abc";
         },
         [](std::string s) { return s.substr(0, 10) + "abc"; }},
        {"several edits",
         [](aw::atomic_writer& w) {
             w.pwrite(1, std::string_view("x"));
             w.append("y");
             w.pwrite(3, test::as_bytes("z"));
             w.stream().seekp(5);
             w.stream() << "w";
         },
         [](std::string s) {
             s[1] = 'x';
             s[3] = 'z';
             s[5] = 'w';
             return s + "y";
         }},
    };
}

/// Runs every edit case in `dir`, checking the bytes, the target before the commit, that
/// the copy was made by one of `copies`, and that nothing is left behind. `rules` adds
/// faults to the hook.
inline void check_edits(const fs::path& dir, const std::vector<sysop>& copies,
                        const std::function<void(test::scripted_hook&)>& rules) {
    const std::size_t size = 3 * 1024 * 1024 + 123;
    const std::string original = test::pattern(size, 3);
    const fs::path target = dir / "target";
    for (const edit_case& c : edit_cases(size)) {
        INFO("edit " << c.name);
        test::write_plain(target, original);
        const std::uint64_t inode = test::inode_of(target);
        test::scripted_hook hook;
        rules(hook);
        {
            aw::scoped_syscall_hook scope(hook);
            aw::atomic_edit(target, [&](aw::atomic_writer& w) {
                c.edit(w);
                w.flush();
                // Not published yet: the target is the old file, under its old identity.
                CHECK(test::inode_of(target) == inode);
                CHECK(test::read_file(target) == original);
                CHECK(test::temp_dir::list(dir).size() == 2);
            });
        }
        INFO("calls: " << hook.trace());
        std::size_t copied = 0;
        for (const sysop op : copies) copied += made(hook, op);
        CHECK(copied >= 1);
        CHECK(test::read_file(target) == c.expect(original));
        CHECK(test::temp_dir::list(dir) == std::vector<std::string>{"target"});
    }
}

}  // namespace test::edits

#endif  // ATOMICWRITES_TESTS_SUPPORT_EDITS_HPP
