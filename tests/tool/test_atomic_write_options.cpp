// SPDX-License-Identifier: MIT
// The atomic-write command's command line, help text and --progress lines. The parser
// and the progress meter are pure and portable: these tests include only their headers,
// start no process and touch no file.
// What the command then does is tested by test_atomic_write_cli.cpp and
// test-atomic-write.sh.
#include <catch2/catch.hpp>

#include "atomic_write/options.hpp"
#include "atomic_write/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace cli = atomic_write_cli;
namespace fs = std::filesystem;
using atomicwrites::symlink_mode;

struct parse_result {
    int status;
    cli::options options;
    std::string err;
};

/// Parses `args` (without the program name) as the command does.
parse_result parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"atomic-write"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    parse_result r{0, {}, {}};
    std::ostringstream err;
    r.status = cli::parse(static_cast<int>(argv.size()), argv.data(), r.options, err);
    r.err = err.str();
    return r;
}

/// The options of a command line that must parse, silently.
cli::options parsed(const std::vector<std::string>& args) {
    parse_result r = parse(args);
    INFO(r.err);
    REQUIRE(r.status == cli::success);
    CHECK(r.err.empty());
    return r.options;
}

/// What the command writes to standard error for bad usage.
std::string usage_message(const std::string& reason) {
    return "atomic-write: " + reason + "\nTry 'atomic-write --help' for more information.\n";
}

/// The words of `line`, split at spaces.
std::vector<std::string> words(std::string_view line) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < line.size()) {
        const std::size_t end = std::min(line.find(' ', i), line.size());
        if (end > i) out.emplace_back(line.substr(i, end - i));
        i = end + 1;
    }
    return out;
}

/// The lines of `text`, without their newlines.
std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t end = std::min(text.find('\n', i), text.size());
        out.emplace_back(text.substr(i, end - i));
        i = end + 1;
    }
    return out;
}

}  // namespace

TEST_CASE("options in their short, long, grouped and attached forms", "[tool][parse]") {
    cli::options o = parsed({"f"});
    CHECK(o.target == "f");
    CHECK_FALSE(o.no_clobber);
    CHECK_FALSE(o.no_empty);
    CHECK(o.sync == cli::sync_level::full);
    CHECK(o.mode == fs::perms::unknown);
    CHECK(o.symlinks == symlink_mode::follow);  // as sponge
    CHECK(o.command.empty());

    o = parsed({"-n", "-s", "none", "-m", "600", "-l", "follow", "f"});
    CHECK(o.no_clobber);
    CHECK(o.sync == cli::sync_level::none);
    CHECK(o.mode == static_cast<fs::perms>(0600));
    CHECK(o.symlinks == symlink_mode::follow);

    o = parsed({"--no-clobber", "--sync=data", "--mode=4755", "--symlink=refuse", "f"});
    CHECK(o.no_clobber);
    CHECK_FALSE(o.no_empty);
    CHECK(o.sync == cli::sync_level::data);
    CHECK(o.mode == static_cast<fs::perms>(04755));
    CHECK(o.symlinks == symlink_mode::refuse);

    o = parsed({"--sync", "none", "--mode", "0", "--symlink", "keep", "f"});
    CHECK(o.sync == cli::sync_level::none);
    CHECK(o.mode == fs::perms::none);
    CHECK(o.symlinks == symlink_mode::follow);

    o = parsed({"-nm640", "f"});
    CHECK(o.no_clobber);
    CHECK(o.mode == static_cast<fs::perms>(0640));

    o = parsed({"--", "-n"});
    CHECK(o.target == "-n");
    CHECK_FALSE(o.no_clobber);

    o = parsed({"-"});
    CHECK(o.target == "-");
}

TEST_CASE("every value of every option, in each form it can be given", "[tool][parse]") {
    // Each option with a value can be given as -xVALUE, -x VALUE, --name=VALUE and
    // --name VALUE.
    auto forms = [](char short_name, const std::string& long_name, const std::string& value) {
        return std::vector<std::vector<std::string>>{
            {std::string("-") + short_name + value, "f"},
            {std::string("-") + short_name, value, "f"},
            {"--" + long_name + "=" + value, "f"},
            {"--" + long_name, value, "f"},
        };
    };
    const std::pair<std::string, cli::sync_level> syncs[] = {
        {"full", cli::sync_level::full},
        {"data", cli::sync_level::data},
        {"none", cli::sync_level::none},
    };
    for (const auto& [value, level] : syncs) {
        for (const auto& args : forms('s', "sync", value)) {
            INFO(args[0] << ' ' << args[1]);
            const cli::options o = parsed(args);
            CHECK(o.sync == level);
            CHECK(o.target == "f");
        }
    }
    const std::pair<std::string, symlink_mode> symlinks[] = {
        {"replace", symlink_mode::replace},
        {"follow", symlink_mode::follow},
        {"keep", symlink_mode::follow},
        {"refuse", symlink_mode::refuse},
    };
    for (const auto& [value, mode] : symlinks) {
        for (const auto& args : forms('l', "symlink", value)) {
            INFO(args[0] << ' ' << args[1]);
            const cli::options o = parsed(args);
            CHECK(o.symlinks == mode);
            CHECK(o.target == "f");
        }
    }
    // Octal, one to five digits (leading zeros included), at most 7777.
    const std::pair<std::string, unsigned> modes[] = {
        {"0", 0},        {"7", 07},       {"644", 0644},   {"0644", 0644},  {"00644", 0644},
        {"1777", 01777}, {"2755", 02755}, {"4755", 04755}, {"7777", 07777}, {"07777", 07777},
    };
    for (const auto& [value, bits] : modes) {
        for (const auto& args : forms('m', "mode", value)) {
            INFO(args[0] << ' ' << args[1]);
            const cli::options o = parsed(args);
            CHECK(o.mode == static_cast<fs::perms>(bits));
            CHECK(o.target == "f");
        }
    }
    for (const std::string flag : {"-n", "--no-clobber"}) {
        INFO(flag);
        CHECK(parsed({flag, "f"}).no_clobber);
    }
    CHECK(parsed({"--symlink=replace", "f"}).symlinks == symlink_mode::replace);
}

TEST_CASE("--no-empty has a long form only and takes no value", "[tool][parse]") {
    cli::options o = parsed({"--no-empty", "f"});
    CHECK(o.no_empty);
    CHECK_FALSE(o.no_clobber);
    CHECK(o.target == "f");
    o = parsed({"-n", "--no-empty", "--sync=none", "f", "cmd"});
    CHECK(o.no_empty);
    CHECK(o.no_clobber);
    CHECK(o.sync == cli::sync_level::none);
    CHECK(o.command == std::vector<std::string>{"cmd"});
    CHECK_FALSE(parsed({"f"}).no_empty);

    parse_result r = parse({"--no-empty=yes", "f"});
    CHECK(r.status == cli::usage_error);
    CHECK(r.err == usage_message("option '--no-empty' takes no value"));
    r = parse({"--no-emptiness", "f"});
    CHECK(r.status == cli::usage_error);
    CHECK(r.err == usage_message("unknown option '--no-emptiness'"));
}

TEST_CASE("a later option overrides an earlier one; a value is taken as it is", "[tool][parse]") {
    cli::options o = parsed({"-s", "none", "--sync=data", "-m", "600", "--mode", "644", "-lrefuse", "-l", "keep", "f"});
    CHECK(o.sync == cli::sync_level::data);
    CHECK(o.mode == static_cast<fs::perms>(0644));
    CHECK(o.symlinks == symlink_mode::follow);

    // A grouped flag may come before the option with a value, which ends the group.
    o = parsed({"-nsnone", "f"});
    CHECK(o.no_clobber);
    CHECK(o.sync == cli::sync_level::none);

    // The argument after an option that needs a value is that value, even when it looks
    // like an option or like "--".
    parse_result r = parse({"-m", "-n", "f"});
    CHECK(r.status == cli::usage_error);
    CHECK(r.err == usage_message("invalid mode '-n' (octal, as 644)"));
    r = parse({"--symlink", "--help", "f"});
    CHECK(r.status == cli::usage_error);
    CHECK(r.err == usage_message("invalid symlink handling '--help' (replace, follow or refuse)"));
    r = parse({"-s", "--", "f"});
    CHECK(r.status == cli::usage_error);
    CHECK(r.err == usage_message("invalid sync level '--' (none, data or full)"));
}

TEST_CASE("everything after FILE is COMMAND, options included", "[tool][parse]") {
    cli::options o = parsed({"-n", "out", "sort", "-r", "--mode=1", "in"});
    CHECK(o.target == "out");
    CHECK(o.no_clobber);
    CHECK(o.mode == fs::perms::unknown);
    CHECK(o.command == std::vector<std::string>{"sort", "-r", "--mode=1", "in"});
    o = parsed({"out", "--", "sh", "-c", "true"});
    CHECK(o.command == std::vector<std::string>{"sh", "-c", "true"});

    // Only the first "--" after FILE is dropped; --help after "--" is COMMAND's.
    o = parsed({"out", "--", "--", "x"});
    CHECK(o.command == std::vector<std::string>{"--", "x"});
    o = parsed({"out", "--", "--help"});
    CHECK_FALSE(o.help);
    CHECK(o.command == std::vector<std::string>{"--help"});
    // A lone "-" is a name, not an option.
    o = parsed({"out", "-"});
    CHECK(o.command == std::vector<std::string>{"-"});
    o = parsed({"--", "--", "x"});
    CHECK(o.target == "--");
    CHECK(o.command == std::vector<std::string>{"x"});
}

TEST_CASE("an option right after FILE is refused with the hint that options go before FILE", "[tool][parse]") {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"p1", "-n"}, "'-n' after FILE: options go before FILE (a COMMAND that starts with '-' goes after '--')"},
        {{"p1", "--no-clobber", "sort"},
         "'--no-clobber' after FILE: options go before FILE (a COMMAND that starts with '-' goes after '--')"},
        {{"-n", "p1", "--help"},
         "'--help' after FILE: options go before FILE (a COMMAND that starts with '-' goes after '--')"},
        {{"p1", "--sync=none"},
         "'--sync=none' after FILE: options go before FILE (a COMMAND that starts with '-' goes after '--')"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
    // Options of COMMAND, after COMMAND's name, are COMMAND's.
    const cli::options o = parsed({"p1", "sort", "-n"});
    CHECK(o.command == std::vector<std::string>{"sort", "-n"});
}

TEST_CASE("--help and --version need no FILE, and take precedence over it", "[tool][parse]") {
    for (const std::string flag : {"-h", "--help"}) {
        INFO(flag);
        cli::options o = parsed({flag});
        CHECK(o.help);
        CHECK_FALSE(o.version);
        o = parsed({"-n", flag, "f", "sh"});
        CHECK(o.help);
        CHECK(o.target.empty());
        CHECK(o.command.empty());
    }
    for (const std::string flag : {"-V", "--version"}) {
        INFO(flag);
        cli::options o = parsed({flag});
        CHECK(o.version);
        CHECK_FALSE(o.help);
        o = parsed({flag, "f"});
        CHECK(o.version);
        CHECK(o.target.empty());
    }
    const cli::options o = parsed({"-hV"});
    CHECK(o.help);
    CHECK(o.version);
}

TEST_CASE("bad usage is status 2 with the reason", "[tool][parse]") {
    // Every message parse() writes, word for word, each followed by the hint.
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        // FILE
        {{}, "missing FILE"},
        {{"-n"}, "missing FILE"},
        {{"--"}, "missing FILE"},
        {{"-n", "--"}, "missing FILE"},
        // unknown options
        {{"-q", "f"}, "unknown option '-q'"},
        {{"-nq", "f"}, "unknown option '-q'"},
        {{"--quiet", "f"}, "unknown option '--quiet'"},
        {{"--quiet=yes", "f"}, "unknown option '--quiet'"},
        {{"--Help"}, "unknown option '--Help'"},
        {{"--no", "f"}, "unknown option '--no'"},
        {{"---", "f"}, "unknown option '---'"},
        {{"--=x", "f"}, "unknown option '--'"},
        // a value missing, or given where none is taken
        {{"--sync"}, "option '--sync' needs a value"},
        {{"--mode"}, "option '--mode' needs a value"},
        {{"--symlink"}, "option '--symlink' needs a value"},
        {{"-s"}, "option '-s' needs a value"},
        {{"-m"}, "option '-m' needs a value"},
        {{"-l"}, "option '-l' needs a value"},
        {{"-nm"}, "option '-m' needs a value"},
        {{"--help=yes"}, "option '--help' takes no value"},
        {{"--version="}, "option '--version' takes no value"},
        {{"--no-clobber=1", "f"}, "option '--no-clobber' takes no value"},
        {{"--no-empty=1", "f"}, "option '--no-empty' takes no value"},
        // --sync
        {{"--sync=fast", "f"}, "invalid sync level 'fast' (none, data or full)"},
        {{"-sFULL", "f"}, "invalid sync level 'FULL' (none, data or full)"},
        {{"--sync=", "f"}, "invalid sync level '' (none, data or full)"},
        // --mode
        {{"--mode=8", "f"}, "invalid mode '8' (octal, as 644)"},
        {{"--mode=-1", "f"}, "invalid mode '-1' (octal, as 644)"},
        {{"-m", "u+rw", "f"}, "invalid mode 'u+rw' (octal, as 644)"},
        {{"-m0x1ff", "f"}, "invalid mode '0x1ff' (octal, as 644)"},
        {{"--mode=10000", "f"}, "invalid mode '10000' (at most 7777)"},
        {{"--mode=77777", "f"}, "invalid mode '77777' (at most 7777)"},
        {{"--mode=", "f"}, "invalid mode ''"},
        {{"--mode=000644", "f"}, "invalid mode '000644'"},
        // --symlink
        {{"--symlink=maybe", "f"}, "invalid symlink handling 'maybe' (replace, follow or refuse)"},
        {{"-l", "", "f"}, "invalid symlink handling '' (replace, follow or refuse)"},
        // the first problem is the one reported, even after --help
        {{"-q", "--quiet", "f"}, "unknown option '-q'"},
        {{"--help", "-q"}, "unknown option '-q'"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
}

TEST_CASE("the help text names every option, value and exit status", "[tool][help]") {
    const std::string_view help = cli::help_text;
    CHECK(help.substr(0, help.find('\n')) == "Usage: atomic-write [OPTION]... FILE [COMMAND [ARG]...]");
    CHECK(help.back() == '\n');
    for (const std::string& line : lines(help)) {
        INFO(line);
        CHECK(line.find('\t') == line.npos);
        CHECK((line.empty() || line.back() != ' '));
    }
    for (const char* option : {"  -n, --no-clobber ", "      --no-empty ", "  -s, --sync=LEVEL ", "  -m, --mode=MODE ",
                               "  -l, --symlink=HOW ", "      --link ", "      --tree ", "      --keep=N ",
                               "  -h, --help ", "  -V, --version "}) {
        INFO(option);
        CHECK(help.find(std::string("\n") + option) != help.npos);
    }
    CHECK(help.find("\n      --expect-unchanged\n") != help.npos);
    CHECK(help.find("\n      --lock ") != help.npos);
    // Each value the parser accepts has its line.
    for (const char* level : {"full", "data", "none", "replace", "follow", "keep", "refuse"}) {
        INFO(level);
        CHECK(help.find(std::string("\n                         ") + level + "  ") != help.npos);
    }
    // Each exit status has its line (127 shares the one of 126).
    for (const int status : {cli::success, cli::failed, cli::usage_error, cli::target_exists, cli::input_failed,
                             cli::not_durable, cli::target_changed, cli::cannot_run}) {
        INFO(status);
        const std::string number = std::to_string(status);
        CHECK(help.find("\n  " + number + std::string(5 - number.size(), ' ')) != help.npos);
    }
    CHECK(help.find("; " + std::to_string(cli::not_found) + ": COMMAND was not found") != help.npos);
}

TEST_CASE("the examples of the help text parse as they read", "[tool][help]") {
    const std::vector<std::string> all = lines(cli::help_text);
    std::vector<std::vector<std::string>> examples;
    bool in_examples = false;
    for (const std::string& line : all) {
        if (line == "Examples:") {
            in_examples = true;
        } else if (in_examples && !line.empty()) {
            // "  producer | atomic-write ARGS": the words after "atomic-write".
            const std::vector<std::string> w = words(line);
            const auto at = std::find(w.begin(), w.end(), "atomic-write");
            REQUIRE(at != w.end());
            examples.emplace_back(at + 1, w.end());
        }
    }
    REQUIRE(examples.size() == 8);
    cli::options o = parsed(examples[0]);
    CHECK(o.target == "/etc/app.conf");
    CHECK(o.command.empty());
    o = parsed(examples[1]);
    CHECK(o.mode == static_cast<fs::perms>(0600));
    CHECK(o.target == "secrets.env");
    CHECK(o.command == std::vector<std::string>{"decrypt", "secrets.env.gpg"});
    o = parsed(examples[2]);
    CHECK(o.target == "data.txt");
    CHECK(o.command.empty());
    o = parsed(examples[3]);
    CHECK(o.link);
    CHECK(o.link_target == "releases/42");
    CHECK(o.target == "current");
    o = parsed(examples[4]);
    CHECK(o.tree);
    CHECK(o.tree_source == "build/site");
    CHECK(o.target == "/srv/www/site");
    o = parsed(examples[5]);
    CHECK(o.lock);
    CHECK(o.expect_unchanged);
    CHECK(o.target == "hosts.txt");
    CHECK(o.command.size() == 5);
    o = parsed(examples[6]);
    REQUIRE(o.owner);
    CHECK(o.owner->uid == 0u);
    CHECK(o.owner->gid == 0u);
    CHECK(o.create_mode == static_cast<fs::perms>(0644));
    CHECK(o.target == "/etc/app/unit.conf");
    o = parsed(examples[7]);
    CHECK(o.progress);
    CHECK(o.target == "disk.img");
    CHECK(o.command == std::vector<std::string>{"xz", "-dc", "disk.img.xz"});
}

TEST_CASE("--owner, --create-mode and --require-owner", "[tool][parse][metadata]") {
    constexpr unsigned keep = atomicwrites::file_owner::unchanged;
    cli::options o = parsed({"f"});
    CHECK_FALSE(o.owner);
    CHECK(o.create_mode == fs::perms::unknown);
    CHECK_FALSE(o.require_owner);
    o = parsed({"--owner=65534:100", "--create-mode=640", "--require-owner", "f"});
    REQUIRE(o.owner);
    CHECK(o.owner->uid == 65534u);
    CHECK(o.owner->gid == 100u);
    CHECK(o.create_mode == static_cast<fs::perms>(0640));
    CHECK(o.require_owner);
    o = parsed({"--owner", "7", "--create-mode", "0777", "f"});
    CHECK(*o.owner == atomicwrites::file_owner{7, keep});
    CHECK(o.create_mode == static_cast<fs::perms>(0777));
    o = parsed({"--owner=:0", "f"});
    CHECK(*o.owner == atomicwrites::file_owner{keep, 0});
    o = parsed({"--owner=4294967294:", "f"});
    CHECK(*o.owner == atomicwrites::file_owner{4294967294u, keep});
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--owner"}, "option '--owner' needs a value"},
        {{"--create-mode"}, "option '--create-mode' needs a value"},
        {{"--owner=:", "f"}, "invalid owner ':' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--owner=", "f"}, "invalid owner '' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--owner=root:root", "f"}, "invalid owner 'root:root' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--owner=1:2:3", "f"}, "invalid owner '1:2:3' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--owner=-1:0", "f"}, "invalid owner '-1:0' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--owner=4294967295", "f"}, "invalid owner '4294967295' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--owner=99999999999", "f"}, "invalid owner '99999999999' (numeric UID:GID, UID or :GID, as 0:0)"},
        {{"--create-mode=8", "f"}, "invalid create mode '8' (octal, as 644)"},
        {{"--create-mode=1777", "f"}, "invalid create mode '1777' (at most 777)"},
        {{"--create-mode=", "f"}, "invalid create mode ''"},
        {{"--create-mode=00644", "f"}, "invalid create mode '00644'"},
        {{"--require-owner=1", "f"}, "option '--require-owner' takes no value"},
        {{"-m", "644", "--create-mode=644", "f"},
         "--mode and --create-mode: give one (--mode is exact, --create-mode is narrowed by the umask)"},
        {{"--owner=0:0", "--link", "v2", "current"},
         "--owner, --create-mode and --require-owner go with a FILE, not --tree or --link"},
        {{"--create-mode=644", "--tree", "d", "n"},
         "--owner, --create-mode and --require-owner go with a FILE, not --tree or --link"},
        {{"--require-owner", "--tree", "d", "n"},
         "--owner, --create-mode and --require-owner go with a FILE, not --tree or --link"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
    const std::string_view help = cli::help_text;
    CHECK(help.find("\n      --create-mode=MODE\n") != help.npos);
    CHECK(help.find("\n      --owner=UID:GID ") != help.npos);
    CHECK(help.find("\n      --require-owner ") != help.npos);
}

TEST_CASE("--expect-unchanged and --lock take no value and go with a write only", "[tool][parse][versions]") {
    cli::options o = parsed({"f"});
    CHECK_FALSE(o.expect_unchanged);
    CHECK_FALSE(o.lock);
    o = parsed({"--expect-unchanged", "--lock", "-s", "none", "f", "cmd"});
    CHECK(o.expect_unchanged);
    CHECK(o.lock);
    CHECK(o.target == "f");
    o = parsed({"--expect-unchanged", "-l", "refuse", "f"});
    CHECK(o.expect_unchanged);
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--lock=yes", "f"}, "option '--lock' takes no value"},
        {{"--expect-unchanged=1", "f"}, "option '--expect-unchanged' takes no value"},
        {{"--expect-unchanged", "-l", "replace", "f"},
         "--expect-unchanged compares the file a link leads to: it cannot go with --symlink=replace"},
        {{"--link", "--lock", "v2", "current"}, "--link takes only --no-clobber and --sync"},
        {{"--link", "--expect-unchanged", "v2", "current"}, "--link takes only --no-clobber and --sync"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
}

TEST_CASE("--link takes TARGET and LINKNAME, and only --no-clobber and --sync", "[tool][parse][link]") {
    cli::options o = parsed({"--link", "v2", "current"});
    CHECK(o.link);
    CHECK(o.link_target == "v2");
    CHECK(o.target == "current");
    CHECK_FALSE(o.no_clobber);
    CHECK(o.sync == cli::sync_level::full);
    o = parsed({"-n", "--sync=none", "--link", "--", "-odd target", "-odd name"});
    CHECK(o.no_clobber);
    CHECK(o.sync == cli::sync_level::none);
    CHECK(o.link_target == "-odd target");
    CHECK(o.target == "-odd name");
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--link", "v2"}, "--link needs TARGET and LINKNAME"},
        {{"--link"}, "--link needs TARGET and LINKNAME"},
        {{"--link", "v2", "current", "extra"}, "--link needs TARGET and LINKNAME"},
        {{"--link", "", "current"}, "--link needs a TARGET that is not empty"},
        {{"--link", "-m", "644", "v2", "current"}, "--link takes only --no-clobber and --sync"},
        {{"--link", "--no-empty", "v2", "current"}, "--link takes only --no-clobber and --sync"},
        {{"--link", "-l", "refuse", "v2", "current"}, "--link takes only --no-clobber and --sync"},
        {{"--link=yes", "v2", "current"}, "option '--link' takes no value"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
}

TEST_CASE("the version text is the library's version", "[tool][help]") {
    CHECK(cli::version_text() == "atomic-write (atomicwrites) " + std::to_string(ATOMICWRITES_VERSION_MAJOR) + "." +
                                     std::to_string(ATOMICWRITES_VERSION_MINOR) + "." +
                                     std::to_string(ATOMICWRITES_VERSION_PATCH) + "\n");
}

TEST_CASE("--tree takes DIR and NAME, and only --sync, --mode and --keep", "[tool][parse][tree]") {
    cli::options o = parsed({"--tree", "build", "site"});
    CHECK(o.tree);
    CHECK(o.tree_source == "build");
    CHECK(o.target == "site");
    CHECK(o.keep == 1);
    CHECK(o.mode == fs::perms::unknown);
    CHECK(o.sync == cli::sync_level::full);
    o = parsed({"-s", "data", "-m", "644", "--keep=3", "--tree", "--", "-odd dir", "-odd name"});
    CHECK(o.sync == cli::sync_level::data);
    CHECK(o.mode == static_cast<fs::perms>(0644));
    CHECK(o.keep == 3);
    CHECK(o.tree_source == "-odd dir");
    CHECK(o.target == "-odd name");
    CHECK(parsed({"--keep", "0", "--tree", "a", "b"}).keep == 0);
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--tree", "build"}, "--tree needs DIR and NAME"},
        {{"--tree"}, "--tree needs DIR and NAME"},
        {{"--tree", "a", "b", "c"}, "--tree needs DIR and NAME"},
        {{"--tree", "", "site"}, "--tree needs a DIR and a NAME that are not empty"},
        {{"--tree", "build", ""}, "--tree needs a DIR and a NAME that are not empty"},
        {{"--tree", "-n", "build", "site"}, "--tree takes only --sync, --mode and --keep"},
        {{"--tree", "--no-empty", "build", "site"}, "--tree takes only --sync, --mode and --keep"},
        {{"--tree", "--link", "build", "site"}, "--tree takes only --sync, --mode and --keep"},
        {{"--tree", "-l", "refuse", "build", "site"}, "--tree takes only --sync, --mode and --keep"},
        {{"--tree", "--lock", "build", "site"}, "--tree takes only --sync, --mode and --keep"},
        {{"--tree", "--expect-unchanged", "build", "site"}, "--tree takes only --sync, --mode and --keep"},
        {{"--tree=yes", "build", "site"}, "option '--tree' takes no value"},
        {{"--keep=2", "f"}, "--keep goes with --tree"},
        {{"--tree", "--keep=x", "a", "b"}, "invalid --keep 'x' (a number of versions, as 1)"},
        {{"--tree", "--keep=", "a", "b"}, "invalid --keep ''"},
        {{"--tree", "--keep=12345", "a", "b"}, "invalid --keep '12345'"},
        {{"--tree", "-k", "1", "a", "b"}, "unknown option '-k'"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
}

TEST_CASE("--progress takes no value and goes with a write only", "[tool][parse][progress]") {
    CHECK_FALSE(parsed({"f"}).progress);
    const cli::options o = parsed({"--progress", "-s", "data", "f", "cmd"});
    CHECK(o.progress);
    CHECK(o.target == "f");
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--progress=yes", "f"}, "option '--progress' takes no value"},
        {{"--link", "--progress", "v2", "current"}, "--link takes only --no-clobber and --sync"},
        {{"--tree", "--progress", "dir", "name"}, "--tree takes only --sync, --mode and --keep"},
    };
    for (const auto& [args, reason] : cases) {
        INFO(reason);
        const parse_result r = parse(args);
        CHECK(r.status == cli::usage_error);
        CHECK(r.err == usage_message(reason));
    }
}

TEST_CASE("sizes in the progress lines", "[tool][progress]") {
    CHECK(cli::human_bytes(0) == "0 B");
    CHECK(cli::human_bytes(1023) == "1023 B");
    CHECK(cli::human_bytes(1024) == "1.00 KiB");
    CHECK(cli::human_bytes(65536) == "64.0 KiB");
    CHECK(cli::human_bytes(1048575) == "1.00 MiB");  // not "1024 KiB"
    CHECK(cli::human_bytes(300u << 20) == "300 MiB");
    CHECK(cli::human_bytes(5ull << 30) == "5.00 GiB");
    CHECK(cli::human_bytes(1342177280ull) == "1.25 GiB");
    CHECK(cli::human_bytes(~0ull) == "16.0 EiB");
}

TEST_CASE("progress lines: every second in a log, in place every 200 ms on a terminal", "[tool][progress]") {
    using namespace std::chrono_literals;
    const cli::progress_meter::clock::time_point t0{};
    const std::string lead = "atomic-write: big.img: ";
    SECTION("a log") {
        std::ostringstream err;
        cli::progress_meter m(err, "big.img", true, false, t0);
        m.written(64 << 20, t0 + 500ms);  // too soon
        CHECK(err.str().empty());
        m.written(100 << 20, t0 + 1s);
        m.written(150 << 20, t0 + 1500ms);  // too soon after the last line
        m.written(200 << 20, t0 + 2s);
        m.committing(t0 + 2500ms);
        m.done(t0 + 4s);
        m.end_line();  // nothing left open: no empty line
        CHECK(err.str() == lead + "100 MiB written, 100 MiB/s\n" + lead + "200 MiB written, 100 MiB/s\n" + lead +
                               "200 MiB written in 2.5 s; syncing\n" + lead +
                               "200 MiB written in 2.5 s, synced in 1.5 s\n");
    }
    SECTION("a terminal") {
        std::ostringstream err;
        cli::progress_meter m(err, "big.img", true, true, t0);
        m.written(1 << 20, t0 + 100ms);
        CHECK(err.str().empty());
        m.written(2 << 20, t0 + 200ms);
        CHECK(err.str() == "\r" + lead + "2.00 MiB written, 10.0 MiB/s\x1b[K");
        m.end_line();  // an error message follows on its own line
        CHECK(err.str().back() == '\n');
        m.end_line();
        CHECK(err.str().find("\n\n") == std::string::npos);
        m.committing(t0 + 300ms);
        m.done(t0 + 400ms);
        CHECK(err.str().ends_with("\r" + lead + "2.00 MiB written in 0.3 s, synced in 0.1 s\x1b[K\n"));
    }
    SECTION("not asked for") {
        std::ostringstream err;
        cli::progress_meter m(err, "big.img", false, true, t0);
        m.written(1 << 30, t0 + 10s);
        m.committing(t0 + 10s);
        m.done(t0 + 20s);
        m.end_line();
        CHECK(err.str().empty());
    }
}
