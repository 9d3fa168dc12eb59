// SPDX-License-Identifier: MIT
// Crash states of symlink_atomic(), exchange_atomic() and write_options::backup, in the
// model of support/crash_model.hpp: every crash prefix, every choice of what the
// unsynced effects leave. A replaced link resolves to the old or the new text, never to
// nothing; an exchange shows both names old or both swapped; a backed-up write keeps
// the old content under the target's name or the backup's at every point, and both
// right once commit() returned. sync::none must be found failing.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>

#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "support.hpp"
#include "support/crash_model.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
namespace crash = test::crash;
using crash::disk;

/// Records `action` in `dir`, checks that the model replays to the real outcome, and
/// enumerates the crash states with `check`.
crash::findings run(const test::temp_dir& dir, const std::function<void(std::error_code&)>& action,
                    const std::function<std::string(const disk&, std::uint64_t, bool)>& check) {
    std::error_code ec;
    const crash::recording r = crash::record(dir.path(), [&] { action(ec); });
    INFO("calls: " << r.trace);
    REQUIRE_FALSE(ec);
    CHECK(check(r.after, r.root, true) == "");
    return crash::enumerate(r.m, [&](const disk& d, bool returned) { return check(d, r.root, returned); });
}

std::string link_text(const disk& d, std::uint64_t root, const std::string& name) {
    const crash::object* o = d.find(root, name);
    if (o == nullptr) return "<missing>";
    if (o->kind != crash::object::symlink) return "<not a link>";
    return o->data;
}

std::string content(const disk& d, std::uint64_t root, const std::string& path) {
    const std::string* s = d.read(root, path);
    return s == nullptr ? "<missing>" : *s;
}

// --- the scenarios ------------------------------------------------------------------

template <class Sync>
crash::findings replace_link() {
    test::temp_dir dir(test::fast_base());
    test::write_plain(dir / "v1", "version 1");
    test::write_plain(dir / "v2", "version 2");
    fs::create_symlink("v1", dir / "current");
    return run(
        dir, [&](std::error_code& ec) { aw::symlink_atomic<Sync>("v2", dir / "current", {.overwrite = true}, ec); },
        [](const disk& d, std::uint64_t root, bool returned) -> std::string {
            const std::string t = link_text(d, root, "current");
            if (t != "v1" && t != "v2") return "the link is " + t;
            if (content(d, root, "current") != (t == "v1" ? "version 1" : "version 2")) return "the link dangles";
            if (returned && t != "v2") return "the old link after the call returned";
            return "";
        });
}

template <class Sync>
crash::findings create_link(bool overwrite) {
    test::temp_dir dir(test::fast_base());
    test::write_plain(dir / "v2", "version 2");
    return run(
        dir,
        [&](std::error_code& ec) { aw::symlink_atomic<Sync>("v2", dir / "current", {.overwrite = overwrite}, ec); },
        [](const disk& d, std::uint64_t root, bool returned) -> std::string {
            const std::string t = link_text(d, root, "current");
            if (t != "<missing>" && t != "v2") return "the link is " + t;
            if (returned && t != "v2") return "no link after the call returned";
            return "";
        });
}

template <class Sync>
crash::findings exchange() {
    test::temp_dir dir(test::fast_base());
    test::write_plain(dir / "a", "A");
    fs::create_directory(dir / "b");
    test::write_plain(dir / "b" / "inside", "B");
    return run(
        dir, [&](std::error_code& ec) { aw::exchange_atomic<Sync>(dir / "a", dir / "b", ec); },
        [](const disk& d, std::uint64_t root, bool returned) -> std::string {
            const std::string a = content(d, root, "a");
            const std::string b = content(d, root, "b/inside");
            const std::string a_swapped = content(d, root, "a/inside");
            const std::string b_swapped = content(d, root, "b");
            const bool old = a == "A" && b == "B";
            const bool swapped = a_swapped == "B" && b_swapped == "A";
            if (!old && !swapped) return "neither old nor swapped";
            if (returned && !swapped) return "not swapped after the call returned";
            return "";
        });
}

/// A replace with a backup: `backup` as given to the writer, `backup_path` where it is
/// below the test directory.
template <class Sync>
crash::findings backup(const std::string& backup, const std::string& backup_path, bool existing) {
    test::temp_dir dir(test::fast_base());
    if (existing) {
        test::write_plain(dir / "target", "old content");
    }
    if (backup_path.find('/') != std::string::npos) fs::create_directory(dir / fs::path(backup_path).parent_path());
    test::write_plain(dir / backup_path, "older backup");
    return run(
        dir,
        [&](std::error_code& ec) {
            aw::write_file<aw::basic_atomic_writer<Sync>>(dir / "target", "new content",
                                                          {.overwrite = true, .backup = backup}, ec);
        },
        [existing, backup_path](const disk& d, std::uint64_t root, bool returned) -> std::string {
            const std::string t = content(d, root, "target");
            const std::string b = content(d, root, backup_path);
            const std::string old = existing ? "old content" : "<missing>";
            if (existing && t != old && b != old) return "the old content under neither name";
            if (t != old && t != "new content") return "the target holds '" + t + "'";
            if (b != "older backup" && b != old) return "the backup holds '" + b + "'";
            if (returned && (t != "new content" || b != (existing ? old : "older backup")))
                return "after commit the target holds '" + t + "', the backup '" + b + "'";
            return "";
        });
}

/// The files of a tree, each carrying the version number.
const char* const tree_files[] = {"index.html", "css/main.css", "css/img/logo.svg"};

/// Written whole, except the last file, streamed through add(); the files' syncs go
/// through the tree's group policy (in groups of two: one group before the commit).
template <class Sync>
void write_tree(const fs::path& name, int version, const aw::tree_options& options) {
    aw::tree_options grouped = options;
    grouped.max_open_files = 2;
    aw::basic_tree_writer<Sync> t(name, grouped);
    const std::string tail = "version " + std::to_string(version) + " of ";
    t.write_file(tree_files[0], tail + tree_files[0]);
    t.write_file(tree_files[1], tail + tree_files[1]);
    aw::tree_file& f = t.add(tree_files[2]);
    f.stream() << tail;
    f.write(tree_files[2]);
    t.commit();
}

/// A second version of a tree published over the first (and the versions kept of it).
template <class Sync>
crash::findings tree(bool exchange) {
    test::temp_dir dir(test::fast_base());
    const aw::tree_options options{.keep = 1, .exchange = exchange};
    if (exchange) fs::create_directory(dir / "site");
    write_tree<aw::sync::none>(dir / "site", 1, options);
    ::sync();  // the first version on disk: the model starts from what is there
    return run(
        dir, [&](std::error_code&) { write_tree<Sync>(dir / "site", 2, options); },
        [](const disk& d, std::uint64_t root, bool returned) -> std::string {
            int seen = 0;
            for (const char* f : tree_files) {
                const std::string c = content(d, root, std::string("site/") + f);
                int v = 0;
                if (c == "version 1 of " + std::string(f)) v = 1;
                if (c == "version 2 of " + std::string(f)) v = 2;
                if (v == 0) return std::string(f) + " holds '" + c + "'";
                if (seen != 0 && v != seen) return "a mix of versions";
                seen = v;
            }
            if (returned && seen != 2) return "the old tree after commit returned";
            return "";
        });
}

template <class Sync>
void check_all(const std::string& sync_name, bool durable) {
    struct named {
        const char* name;
        crash::findings f;
    };
    // An exchange needs RENAME_EXCHANGE (not on every filesystem: FUSE, overlayfs' lower
    // layers); without it those scenarios are left out, and say so.
    const bool exchanges = test::features().rename_exchange;
    if (!exchanges) WARN("skipped the exchange scenarios: the test directory's filesystem has no RENAME_EXCHANGE");
    std::vector<named> results = {
        {"symlink_atomic replacing a link", replace_link<Sync>()},
        {"symlink_atomic making a link, overwrite = false", create_link<Sync>(false)},
        {"symlink_atomic making a link, overwrite = true", create_link<Sync>(true)},
        {"backup beside the target", backup<Sync>("target.bak", "target.bak", true)},
        {"backup in a subdirectory", backup<Sync>("old/target", "old/target", true)},
        {"backup of a missing target", backup<Sync>("target.bak", "target.bak", false)},
        {"tree_writer publishing by a link", tree<Sync>(false)},
    };
    if (exchanges) {
        results.push_back({"exchange_atomic of a file and a directory", exchange<Sync>()});
        results.push_back({"tree_writer publishing by an exchange", tree<Sync>(true)});
    }
    for (const named& r : results) {
        INFO(sync_name << ": " << r.name << ": " << r.f.first_problem);
        CHECK(r.f.states > 0);
        if (durable) {
            CHECK(r.f.bad == 0);
            test::report_figure("crash states: " + sync_name + ": " + r.name + ": " + std::to_string(r.f.states) +
                                " states, 0 bad");
        } else {
            CHECK(r.f.bad > 0);
            // Without the flush before the publication the old content can be lost.
            if (std::string(r.name) == "backup beside the target")
                CHECK(r.f.problems.count("the old content under neither name") == 1);
            test::report_figure("crash states: " + sync_name + ": " + r.name + ": " + std::to_string(r.f.states) +
                                " states, " + std::to_string(r.f.bad) + " bad as expected (" + r.f.first_problem + ")");
        }
    }
}

}  // namespace

TEST_CASE("every crash state of a link, an exchange or a backup is old or new", "[crash][links]") {
    if (const char* why = test::missing_feature(false, true, false, true); why != nullptr && test::test_dir_chosen()) {
        WARN("skipped: " << why);
        return;
    }
    check_all<aw::sync::fsync>("sync::fsync", true);
    check_all<aw::sync::fdatasync>("sync::fdatasync", true);
}

namespace {
/// A durable policy that skips the `Skip`-th directory flush (from 1) of its thread.
thread_local int directory_syncs = 0;
template <int Skip>
struct skips_directory_sync {
    static constexpr bool durable = true;
    void sync_file(aw::native_handle_type f, std::error_code& ec) const noexcept { aw::detail::sys::fsync(f, ec); }
    void sync_directory(aw::native_handle_type d, std::error_code& ec) const noexcept {
        if (++directory_syncs != Skip) aw::detail::sys::fsync(d, ec);
    }
};
static_assert(aw::sync_policy<skips_directory_sync<1>>);
}  // namespace

TEST_CASE("without the flush between backup and publication the old content can be lost", "[crash][links]") {
    directory_syncs = 0;
    // The first directory flush of a backed-up write: the backup's, before the publication.
    const crash::findings f = backup<skips_directory_sync<1>>("target.bak", "target.bak", true);
    INFO(f.first_problem);
    CHECK(f.problems.count("the old content under neither name") == 1);
    CHECK(f.problems.size() == 1);  // and nothing else: the rest of the sequence is whole
    test::report_figure("crash states: backup without its flush: " + std::to_string(f.bad) + " of " +
                        std::to_string(f.states) + " states lose the old content");
}

TEST_CASE("without the flush of the parent before the switch a tree can vanish", "[crash][links]") {
    // The tree's fourth directory flush: after css/img, css and the version directory,
    // the parent's, before the link is switched to the new version.
    directory_syncs = 0;
    const crash::findings f = tree<skips_directory_sync<4>>(false);
    INFO(f.first_problem);
    CHECK(f.bad > 0);
    CHECK(f.problems.count("index.html holds '<missing>'") == 1);
    test::report_figure("crash states: tree without the flush before the switch: " + std::to_string(f.bad) + " of " +
                        std::to_string(f.states) + " states lose the tree");
}

TEST_CASE("sync::none is found failing for links, exchanges and backups", "[crash][links]") {
    if (const char* why = test::missing_feature(false, true, false, true); why != nullptr && test::test_dir_chosen()) {
        WARN("skipped: " << why);
        return;
    }
    check_all<aw::sync::none>("sync::none", false);
}
