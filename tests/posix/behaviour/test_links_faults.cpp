// SPDX-License-Identifier: MIT
// A failure injected at every system call of symlink_atomic(), exchange_atomic() and a
// write with write_options::backup, in turn, through the seam. The error names the
// step and the path; before the publication nothing changed and nothing is left (no
// temporary link or name, no descriptor); after it (a durability_error) the new state
// is in place.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

/// Names below `dir`, recursively, sorted ("b/inside").
std::vector<std::string> tree(const fs::path& dir) {
    std::vector<std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
        out.push_back(fs::relative(it->path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

std::string link_or_content(const fs::path& p) {
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(p, ec))) return "-> " + fs::read_symlink(p).string();
    if (!fs::exists(fs::symlink_status(p, ec))) return "<missing>";
    if (fs::is_directory(p)) return "<directory>";
    return test::read_file(p);
}

struct operation {
    const char* name;
    std::function<void(const fs::path&)> setup;
    std::function<void(const fs::path&)> run;  // the throwing form
    std::function<bool(const fs::path&)> is_old;
    std::function<bool(const fs::path&)> is_new;
    // Removes old things after the publication: a failure there may leave some of them.
    bool sweeps = false;
};

void check_every_call(const operation& op) {
    INFO(op.name);
    // The calls of a run that succeeds.
    std::size_t calls = 0;
    std::vector<std::string> old_names, new_names;
    {
        test::temp_dir dir;
        op.setup(dir.path());
        old_names = tree(dir.path());
        REQUIRE(op.is_old(dir.path()));
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            op.run(dir.path());
        }
        INFO("calls: " << hook.trace());
        REQUIRE(op.is_new(dir.path()));
        new_names = tree(dir.path());
        calls = hook.calls.size();
        REQUIRE(calls > 2);
    }
    std::size_t before = 0, after = 0;
    for (std::size_t i = 0; i < calls; ++i) {
        test::temp_dir dir;
        op.setup(dir.path());
        test::scripted_hook hook;
        hook.fail_call(i, EIO);
        const std::size_t fds = open_descriptors();
        bool threw = false, durability = false;
        std::string what;
        fs::path path1;
        {
            aw::scoped_syscall_hook scope(hook);
            try {
                op.run(dir.path());
            } catch (const aw::durability_error& e) {
                threw = durability = true;
                what = e.what();
                path1 = e.path1();
            } catch (const fs::filesystem_error& e) {
                threw = true;
                what = e.what();
                path1 = e.path1();
            }
        }
        INFO("failing call " << i << " of " << calls << ": " << hook.trace() << ": " << what);
        REQUIRE(i < hook.calls.size());
        const sysop failed = hook.calls[i].op;
        CHECK(open_descriptors() == fds);
        if (!threw) {
            // Only the close of a descriptor that wrote nothing may fail unreported, and the
            // minimal ACL that sets a replacement's mode (fchmod does it instead, or nothing
            // where the file was created with the mode already).
            CHECK((failed == sysop::close || failed == sysop::set_xattr));
            CHECK(op.is_new(dir.path()));
            CHECK(tree(dir.path()) == new_names);
            continue;
        }
        CHECK(what.find("atomicwrites: ") != std::string::npos);
        CHECK(what.find("atomicwrites: operation") == std::string::npos);  // a step is named
        CHECK_FALSE(path1.empty());
        if (durability) {
            ++after;
            CHECK(op.is_new(dir.path()));
            // A failure after the switch may leave old versions, or the previous tree under
            // its build name, for the next commit to remove.
            if (!op.sweeps) CHECK(tree(dir.path()) == new_names);
        } else {
            ++before;
            CHECK(op.is_old(dir.path()));
            CHECK(tree(dir.path()) == old_names);
        }
    }
    CHECK(before > 0);
    CHECK(after > 0);
    test::report_figure(std::string("faults: ") + op.name + ": " + std::to_string(calls) + " calls failed in turn, " +
                        std::to_string(before) + " before the publication, " + std::to_string(after) + " after");
}

}  // namespace

TEST_CASE("a failure at every call of symlink_atomic", "[links][faults]") {
    if (const char* why = test::missing_feature(false, false, false, true)) {
        WARN("skipped: " << why);
        return;
    }
    check_every_call({"symlink_atomic replacing a link",
                      [](const fs::path& d) {
                          test::write_plain(d / "v1", "1");
                          fs::create_symlink("v1", d / "current");
                      },
                      [](const fs::path& d) { aw::symlink_atomic("v2", d / "current", {.overwrite = true}); },
                      [](const fs::path& d) { return link_or_content(d / "current") == "-> v1"; },
                      [](const fs::path& d) { return link_or_content(d / "current") == "-> v2"; }});
    check_every_call({"symlink_atomic making a link", [](const fs::path& d) { test::write_plain(d / "v1", "1"); },
                      [](const fs::path& d) { aw::symlink_atomic("v1", d / "current"); },
                      [](const fs::path& d) { return link_or_content(d / "current") == "<missing>"; },
                      [](const fs::path& d) { return link_or_content(d / "current") == "-> v1"; }});
}

TEST_CASE("a failure at every call of exchange_atomic", "[links][faults]") {
    test::temp_dir probe;
    test::write_plain(probe / "a", "A");
    test::write_plain(probe / "b", "B");
    std::error_code ec;
    aw::exchange_atomic<aw::sync::none>(probe / "a", probe / "b", ec);
    if (ec == std::errc::not_supported) {
        WARN("skipped: no RENAME_EXCHANGE here");
        return;
    }
    check_every_call({"exchange_atomic of a file and a directory in two directories",
                      [](const fs::path& d) {
                          test::write_plain(d / "a", "A");
                          fs::create_directories(d / "other" / "b");
                      },
                      [](const fs::path& d) { aw::exchange_atomic(d / "a", d / "other" / "b"); },
                      [](const fs::path& d) {
                          return link_or_content(d / "a") == "A" && link_or_content(d / "other" / "b") == "<directory>";
                      },
                      [](const fs::path& d) {
                          return link_or_content(d / "a") == "<directory>" && link_or_content(d / "other" / "b") == "A";
                      }});
}

TEST_CASE("a failure at every call of a write with a backup", "[links][faults][backup]") {
    if (const char* why = test::missing_feature(false, true)) {
        WARN("skipped: " << why);
        return;
    }
    auto setup = [](const fs::path& d) {
        test::write_plain(d / "config", "old");
        test::write_plain(d / "config.bak", "older");
    };
    // A failure before the publication may leave the backup name already holding the
    // current content: a correct backup of a target that did not change.
    auto is_old = [](const fs::path& d) {
        const std::string b = link_or_content(d / "config.bak");
        return link_or_content(d / "config") == "old" && (b == "older" || b == "old");
    };
    auto is_new = [](const fs::path& d) {
        return link_or_content(d / "config") == "new" && link_or_content(d / "config.bak") == "old";
    };
    check_every_call(
        {"write_file with a backup beside the target", setup,
         [](const fs::path& d) { aw::write_file(d / "config", "new", {.overwrite = true, .backup = "config.bak"}); },
         is_old, is_new});
    check_every_call(
        {"write_file with a backup in another directory",
         [setup](const fs::path& d) {
             setup(d);
             fs::create_directory(d / "old");
             test::write_plain(d / "old" / "config", "older");
         },
         [](const fs::path& d) { aw::write_file(d / "config", "new", {.overwrite = true, .backup = "old/config"}); },
         [](const fs::path& d) {
             const std::string b = link_or_content(d / "old" / "config");
             return link_or_content(d / "config") == "old" && (b == "older" || b == "old");
         },
         [](const fs::path& d) {
             return link_or_content(d / "config") == "new" && link_or_content(d / "old" / "config") == "old";
         }});
}

namespace {

/// Two files written whole and synced as a group before the commit (max_open_files),
/// the third streamed through add() and synced at the commit.
void write_tree(const fs::path& name, int version, const aw::tree_options& options) {
    aw::tree_options grouped = options;
    grouped.max_open_files = 2;
    aw::tree_writer t(name, grouped);
    const std::string text = "version " + std::to_string(version);
    t.write_file("index.html", text);
    t.write_file("css/main.css", text);
    aw::tree_file& f = t.add("css/img/logo.svg");
    f.stream() << "version ";
    f.write(std::to_string(version));
    t.commit();
}

bool tree_is(const fs::path& site, int version) {
    for (const char* f : {"index.html", "css/main.css", "css/img/logo.svg"})
        if (link_or_content(site / f) != "version " + std::to_string(version)) return false;
    return true;
}

}  // namespace

TEST_CASE("a failure at every call of a tree_writer's life", "[links][faults][tree]") {
    if (const char* why = test::missing_feature(false, false, false, true)) {
        WARN("skipped: " << why);
        return;
    }
    // Two versions before: the commit of the third removes the first (keep = 1).
    check_every_call({"tree_writer publishing by a link",
                      [](const fs::path& d) {
                          write_tree(d / "site", 1, {});
                          write_tree(d / "site", 2, {});
                      },
                      [](const fs::path& d) { write_tree(d / "site", 3, {}); },
                      [](const fs::path& d) { return tree_is(d / "site", 2); },
                      [](const fs::path& d) { return tree_is(d / "site", 3) && tree_is(d / ".site.v2", 2); }, true});
}

TEST_CASE("a failure at every call of a tree_writer publishing by exchange", "[links][faults][tree]") {
    test::temp_dir probe;
    fs::create_directory(probe / "a");
    fs::create_directory(probe / "b");
    std::error_code ec;
    aw::exchange_atomic<aw::sync::none>(probe / "a", probe / "b", ec);
    if (ec == std::errc::not_supported) {
        WARN("skipped: no RENAME_EXCHANGE here");
        return;
    }
    const aw::tree_options exchange{.exchange = true};
    check_every_call({"tree_writer publishing by an exchange",
                      [&](const fs::path& d) {
                          write_tree(d / "site", 1, exchange);
                          write_tree(d / "site", 2, exchange);
                      },
                      [&](const fs::path& d) { write_tree(d / "site", 3, exchange); },
                      [](const fs::path& d) { return tree_is(d / "site", 2); },
                      [](const fs::path& d) { return tree_is(d / "site", 3); }, true});
}
