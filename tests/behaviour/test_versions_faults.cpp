// SPDX-License-Identifier: MIT
// A failure injected at every system call of the locked and compare-and-swap paths
// (update_file(), write_options::expect, write_options::lock), in the error_code and
// the throwing form: the target holds the old content or the new one, never anything
// else; a failure before publication reports the target unchanged and leaves it so; a
// call that returned without an error published; no temporary file is left; the lock
// is released whatever failed (the next writer takes it at once). The test first
// records the calls a run makes, then fails each one in turn.
#include <catch2/catch.hpp>

#include <atomicwrites/versions.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support/errors.hpp"
#include "support/fs.hpp"
#include "support/hooks.hpp"

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using namespace std::chrono_literals;

namespace {

struct scenario {
    const char* name;
    bool exists;  // the target exists before the run
    // The run, in the error_code form (given the target's version before the run): sets ec, returns the commit state.
    std::function<aw::commit_state(const fs::path&, const aw::file_version&, std::error_code&)> run_ec;
    // The run, in the throwing form.
    std::function<void(const fs::path&, const aw::file_version&)> run_throwing;
};

const std::string old_content = "old content";
const std::string new_content = "new content, longer";

std::string transform(std::string_view) { return new_content; }

std::vector<scenario> scenarios() {
    return {
        {"update_file of an existing file", true,
         [](const fs::path& p, const aw::file_version&, std::error_code& ec) {
             return aw::update_file(p, transform, {}, ec);
         },
         [](const fs::path& p, const aw::file_version&) { aw::update_file(p, transform); }},
        {"update_file of a missing file", false,
         [](const fs::path& p, const aw::file_version&, std::error_code& ec) {
             return aw::update_file(p, transform, {}, ec);
         },
         [](const fs::path& p, const aw::file_version&) { aw::update_file(p, transform); }},
        {"write_file with expect", true,
         [](const fs::path& p, const aw::file_version& v, std::error_code& ec) {
             return aw::write_file(p, new_content, {.overwrite = true, .expect = v}, ec);
         },
         [](const fs::path& p, const aw::file_version& v) {
             aw::write_file(p, new_content, {.overwrite = true, .expect = v});
         }},
        {"write_file with expect no file", false,
         [](const fs::path& p, const aw::file_version&, std::error_code& ec) {
             return aw::write_file(p, new_content, {.expect = aw::file_version{}}, ec);
         },
         [](const fs::path& p, const aw::file_version&) {
             aw::write_file(p, new_content, {.expect = aw::file_version{}});
         }},
        {"write_file with the lock", true,
         [](const fs::path& p, const aw::file_version&, std::error_code& ec) {
             return aw::write_file(p, new_content, {.overwrite = true, .lock = aw::lock_mode::exclusive}, ec);
         },
         [](const fs::path& p, const aw::file_version&) {
             aw::write_file(p, new_content, {.overwrite = true, .lock = aw::lock_mode::exclusive});
         }},
    };
}

void prepare(const test::temp_dir& dir, const scenario& s) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.path())) fs::remove(e.path(), ec);
    if (s.exists) test::write_plain(dir / "f", old_content);
}

// The checks after one injected failure; `published`: the run reported the new
// content in place (with or without an error).
void check_after(const test::temp_dir& dir, const scenario& s, bool failed, bool published) {
    const fs::path p = dir / "f";
    const bool there = fs::exists(p);
    const std::string now = there ? test::read_file(p) : std::string();
    if (published || !failed) {
        CHECK(now == new_content);
    } else if (s.exists) {
        CHECK(now == old_content);
    } else {
        CHECK_FALSE(there);
    }
    for (const std::string& name : dir.names()) CHECK((name == "f" || name == ".f.lock"));
    // The lock is free: a writer that will not wait takes it.
    std::error_code ec;
    aw::write_file(dir / "f", "after", {.overwrite = true, .lock = aw::lock_mode::exclusive, .lock_timeout = 0ms}, ec);
    CHECK_FALSE(ec);
}

}  // namespace

TEST_CASE("every system call of the locked and compare-and-swap paths fails in turn", "[faults][versions]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    std::size_t injected = 0;
    for (const scenario& s : scenarios()) {
        INFO(s.name);
        prepare(dir, s);
        test::scripted_hook recording;
        {
            const aw::file_version v = aw::version_of(p);
            aw::scoped_syscall_hook scope(recording);
            std::error_code ec;
            s.run_ec(p, v, ec);
            REQUIRE_FALSE(ec);
        }
        const std::size_t calls = recording.calls.size();
        INFO("calls: " << recording.trace());
        REQUIRE(calls > 5);
        for (std::size_t i = 0; i < calls; ++i) {
            for (const bool throwing : {false, true}) {
                INFO("failing call " << i << " (" << aw::to_string(recording.calls[i].op) << "), "
                                     << (throwing ? "throwing" : "error_code") << " form");
                prepare(dir, s);
                const aw::file_version v = aw::version_of(p);
                test::scripted_hook hook;
                hook.fail_call(i, test::err::io);
                bool failed = false;
                bool published = false;
                {
                    aw::scoped_syscall_hook scope(hook);
                    if (throwing) {
                        try {
                            s.run_throwing(p, v);
                        } catch (const aw::durability_error& e) {
                            failed = published = true;
                            CHECK(std::string(e.what()).find("atomicwrites: ") != std::string::npos);
                        } catch (const fs::filesystem_error& e) {
                            failed = true;
                            CHECK(std::string(e.what()).find("atomicwrites: ") != std::string::npos);
                            CHECK(e.path1() == p);
                        }
                    } else {
                        std::error_code ec;
                        published = s.run_ec(p, v, ec) == aw::commit_state::published;
                        failed = static_cast<bool>(ec);
                    }
                }
                CHECK(hook.injected() == 1);
                // Only a failed close (the descriptor is released all the same), a
                // failed unlock (the lock file's close that follows releases the lock:
                // the explicit UnlockFileEx on Windows is a courtesy) and the extended
                // attributes a replacement keeps where it can (see write_options::xattrs)
                // may go unreported.
                const aw::sysop op = hook.calls[i].op;
                if (!failed)
                    CHECK((op == aw::sysop::close || op == aw::sysop::unlock || op == aw::sysop::set_xattr ||
                           op == aw::sysop::list_xattrs || op == aw::sysop::get_xattr));
                check_after(dir, s, failed, published);
                ++injected;
            }
        }
    }
    CHECK(injected > 100);
}
