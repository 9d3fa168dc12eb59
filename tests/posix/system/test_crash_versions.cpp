// SPDX-License-Identifier: MIT
// Crash states of update_file() and of a compare-and-swap commit (write_options::expect),
// in the model of support/crash_model.hpp: every crash prefix, every choice of what the
// unsynced effects leave. The target holds the old content or the new one at every
// point (nothing, for a target that did not exist), and the new one once the call
// returned; the lock file is empty whenever it exists. sync::none must be found failing.
#include <catch2/catch.hpp>

#include <atomicwrites/versions.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "support.hpp"
#include "support/crash_model.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
namespace crash = test::crash;
using crash::disk;

const std::string old_content = "old content";
const std::string new_content = "the new content, longer than the old";

/// Records `action` in `dir`, checks that the model replays to the real outcome, and
/// enumerates the crash states: "f" old (or missing, when `existed` is false) or new,
/// new once returned.
crash::findings run(const test::temp_dir& dir, bool existed, const std::function<void(std::error_code&)>& action) {
    std::error_code ec;
    const crash::recording r = crash::record(dir.path(), [&] { action(ec); });
    INFO("calls: " << r.trace);
    REQUIRE_FALSE(ec);
    const std::uint64_t root = r.root;
    return crash::enumerate(r.m, [&](const disk& d, bool returned) -> std::string {
        const std::string* f = d.read(root, "f");
        const std::string* lock = d.read(root, ".f.lock");
        if (lock != nullptr && !lock->empty()) return "the lock file has content";
        if (f == nullptr) return existed || returned ? "the target is missing" : "";
        if (*f == new_content) return "";
        if (*f != old_content || !existed) return "the target is neither old nor new";
        return returned ? "the old content after the call returned" : "";
    });
}

template <class Writer>
crash::findings update(bool existed) {
    test::temp_dir dir(test::fast_base());
    if (existed) test::write_plain(dir / "f", old_content);
    return run(dir, existed, [&](std::error_code& ec) {
        aw::update_file<Writer>(
            dir / "f", [](std::string_view) { return new_content; }, {}, ec);
    });
}

template <class Writer>
crash::findings expect(bool existed) {
    test::temp_dir dir(test::fast_base());
    if (existed) test::write_plain(dir / "f", old_content);
    const aw::file_version v = aw::version_of(dir / "f");
    return run(dir, existed, [&](std::error_code& ec) {
        aw::write_file<Writer>(dir / "f", new_content, {.overwrite = true, .expect = v}, ec);
    });
}

}  // namespace

TEST_CASE("every crash state of update_file and of a compare-and-swap commit is old or new", "[crash][versions]") {
    for (const bool existed : {true, false}) {
        INFO("the target existed: " << existed);
        const crash::findings u = update<aw::atomic_writer>(existed);
        CHECK(u.states > 10);
        CHECK(u.bad == 0);
        INFO(u.first_problem);
        const crash::findings e = expect<aw::atomic_writer>(existed);
        CHECK(e.states > 10);
        CHECK(e.bad == 0);
        INFO(e.first_problem);
        test::report_figure("crash states of update_file (" + std::string(existed ? "replace" : "create") +
                            "): " + std::to_string(u.states) + ", of an expect commit: " + std::to_string(e.states));
    }
}

TEST_CASE("sync::none is found failing for update_file", "[crash][versions]") {
    const crash::findings f = update<aw::basic_atomic_writer<aw::sync::none>>(true);
    CHECK(f.bad > 0);
}
