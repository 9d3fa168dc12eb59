// SPDX-License-Identifier: MIT
// write_options::text, the seed's 'w' against 'wb': on Windows every '\n' becomes
// "\r\n" however it is written (write(), the stream, the one-shot functions, across
// buffer boundaries); binary, the default, writes the bytes as given; on POSIX text and
// binary are the same, down to the system calls made.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cstddef>
#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

#if defined(_WIN32)
constexpr bool translates = true;
#else
constexpr bool translates = false;
#endif

/// What text mode must have written for `s` on this platform.
std::string as_text(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\n' && translates) out += '\r';
        out += c;
    }
    return out;
}

constexpr std::size_t buffer = aw::detail::stream_buffer::capacity;

/// Content with newlines everywhere that matters: at the start, doubled, after a '\r',
/// on both sides of every buffer boundary, and at the end.
std::string tricky_content() {
    std::string s = "\nfirst\n\nsecond\r\nthird\n";
    s += std::string(buffer - s.size() - 1, 'x') + "\n";  // a newline as the buffer's last byte
    s += "\n" + std::string(buffer - 2, 'y') + "\n\n";    // ... and as the next one's first
    s += test::pattern(3 * buffer + 17, 11);              // binary, newlines at random places
    return s + "\n";
}

}  // namespace

TEST_CASE("binary mode, the default, writes the bytes as given", "[text]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    const std::string content = tricky_content();
    SECTION("write_file") { aw::write_file(target, content); }
    SECTION("write_file, text = false said explicitly") { aw::write_file(target, content, {.text = false}); }
    SECTION("the stream") {
        aw::atomic_write(target, [&](std::ostream& out) { out << content; });
    }
    CHECK((test::read_file(target) == content));
}

TEST_CASE("text mode writes the platform's newline for every '\\n'", "[text]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    const aw::write_options text{.overwrite = true, .text = true};
    std::string content;

    SECTION("a short write_file") {
        content = "line one\nline two\r\n\n";
        aw::write_file(target, content, text);
    }
    SECTION("write_file of more than the buffer holds") {
        content = tricky_content();
        aw::write_file(target, content, text);
    }
    SECTION("the span form") {
        content = tricky_content();
        const auto bytes = test::as_bytes(content);
        aw::write_file(target, std::span<const std::byte>(bytes), text);
    }
    SECTION("a buffer full of newlines, and more") {
        content = std::string(buffer + 3, '\n');
        aw::write_file(target, content, text);
    }
    SECTION("every way of writing, mixed") {
        aw::atomic_write(
            target,
            [&](aw::atomic_writer& w) {
                w.write(std::string_view("write()\n"));
                w.stream() << "stream <<\n" << 42 << '\n';
                w.stream().put('\n');
                w.stream() << std::endl;
                const std::string big = tricky_content();
                w.write(std::string_view(big));  // larger than the buffer: still translated
                const auto bytes = test::as_bytes("span\n");
                w.write(std::span<const std::byte>(bytes));
                w.stream().write("raw\nwrite", 9);
                content = "write()\nstream <<\n42\n\n\n" + big + "span\nraw\nwrite";
            },
            text);
    }
    SECTION("flush() in between does not split a translation") {
        aw::atomic_write(
            target,
            [](aw::atomic_writer& w) {
                w.write(std::string_view("a\n"));
                w.flush();
                w.write(std::string_view("\nb"));
            },
            text);
        content = "a\n\nb";
    }
    const std::string got = test::read_file(target);
    CHECK(got.size() == as_text(content).size());
    CHECK((got == as_text(content)));
    CHECK(dir.names() == std::vector<std::string>{"target"});
}

TEST_CASE("text mode reports write errors like binary mode", "[text]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, test::old_content);
    test::scripted_hook hook;
    hook.fail_op(sysop::write, test::err::no_space);
    std::error_code ec;
    aw::commit_state state;
    {
        aw::scoped_syscall_hook scope(hook);
        state = aw::write_file(target, tricky_content(), {.overwrite = true, .text = true}, ec);
    }
    CHECK(state == aw::commit_state::unchanged);
    CHECK(ec == std::error_code(test::err::no_space, std::system_category()));
    CHECK(test::read_file(target) == test::old_content);
    CHECK(dir.names() == std::vector<std::string>{"target"});
}

#if !defined(_WIN32)
TEST_CASE("on POSIX, text mode makes exactly the calls of binary mode", "[text]") {
    test::temp_dir dir;
    const std::string content = tricky_content();
    auto calls_of = [&](bool text, const char* name) {
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(dir / name, content, {.text = text});
        }
        std::vector<std::pair<sysop, std::size_t>> out;
        for (const auto& c : hook.calls) out.emplace_back(c.op, c.op == sysop::write ? c.size : 0);
        return out;
    };
    CHECK(calls_of(true, "text") == calls_of(false, "binary"));
    CHECK((test::read_file(dir / "text") == content));
}
#endif
