// SPDX-License-Identifier: MIT
// basic_batch: what it promises, with every group policy and a range of writers.
// - Staging with paths and directory handles, in two directories: every target new,
//   nothing left behind, each file synced once before any publication, each distinct
//   directory synced once after the last one.
// - A failure injected at every system call of a batch of three files in two
//   directories: the targets the results call published hold the new content, the
//   others the old; no temporary file is left; a published file is called durable only
//   when nothing failed after it; nothing is published if a stage or a sync failed.
// - Rollback, RAII rollback, a publication failing part-way, sync::none.
#include <catch2/catch.hpp>

#include <atomicwrites/batch.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

const std::string old_content = "old content\n";
std::string new_content(std::size_t i) { return "new content of file " + std::to_string(i) + "\n"; }

/// Two directories, a and b, with an old file in each.
struct layout {
    test::temp_dir dir;
    fs::path a = dir / "a";
    fs::path b = dir / "b";
    std::vector<fs::path> targets;
    explicit layout(std::size_t n) {
        fs::create_directory(a);
        fs::create_directory(b);
        for (std::size_t i = 0; i < n; ++i) targets.push_back((i % 2 == 0 ? a : b) / ("f" + std::to_string(i)));
        test::write_plain(targets[0], old_content);
        if (n > 1) test::write_plain(targets[1], old_content);
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const fs::path& d : {a, b})
            for (const std::string& n : test::temp_dir::list(d)) out.push_back(test::utf8(d.filename()) + "/" + n);
        return out;
    }
    /// The names there should be: the old files, and the new ones the results publish.
    std::vector<std::string> expected(std::span<const aw::batch_file_result> results) const {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const bool published = i < results.size() && results[i].state == aw::commit_state::published;
            if (i < 2 || published)
                out.push_back(test::utf8(targets[i].parent_path().filename()) + "/" +
                              test::utf8(targets[i].filename()));
        }
        std::sort(out.begin(), out.end());
        return out;
    }
};

template <class Batch>
std::error_code stage_three(Batch& b, const layout& l, const aw::directory& b_dir, std::error_code& ec) {
    b.write_file(l.targets[0], new_content(0), {.overwrite = true}, ec);
    if (ec) return ec;
    b.write_file(b_dir, l.targets[1].filename(), new_content(1), {.overwrite = true}, ec);
    if (ec) return ec;
    auto* w = b.add(l.targets[2], {.overwrite = true}, ec);
    if (ec) return ec;
    w->write(new_content(2), ec);
    return ec;
}

template <class Batch>
void check_group_policy() {
    INFO(test::type_name<Batch>());
    SECTION("three files in two directories: all new, nothing left, one sync per file and per directory") {
        layout l(3);
        aw::directory b_dir(l.b);
        test::sync_recording_hook syncs;
        aw::batch_state state{};
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(syncs);
            Batch batch;
            REQUIRE_FALSE(stage_three(batch, l, b_dir, ec));
            CHECK(batch.size() == 3);
            state = batch.commit(ec);
            REQUIRE_FALSE(ec);
            REQUIRE(batch.results().size() == 3);
            for (const auto& r : batch.results()) {
                CHECK(r.state == aw::commit_state::published);
                CHECK(r.durable);
                CHECK_FALSE(r.error);
            }
        }
        CHECK(state == aw::batch_state::published);
        for (std::size_t i = 0; i < 3; ++i) CHECK(test::read_file(l.targets[i]) == new_content(i));
        CHECK(l.names() == std::vector<std::string>{"a/f0", "a/f2", "b/f1"});
        CHECK(syncs.dirs.size() == 2);
        CHECK(syncs.synced(l.a));
        CHECK(syncs.synced(l.b));
        // syncfs flushes the filesystem instead of each file (Linux).
        if (!(std::is_same_v<typename Batch::group_type, aw::group::syncfs> && aw::detail::sys::has_syncfs)) {
            CHECK(syncs.files.size() == 3);
            for (const fs::path& t : l.targets) CHECK(syncs.synced(t));
        }
    }
    SECTION("rollback() and the destructor remove every temporary file and touch no target") {
        layout l(3);
        aw::directory b_dir(l.b);
        std::error_code ec;
        {
            Batch batch;
            REQUIRE_FALSE(stage_three(batch, l, b_dir, ec));
            CHECK(l.names().size() > 2);  // the temporary files exist
            batch.rollback();
            CHECK(batch.size() == 0);
            CHECK(l.names() == std::vector<std::string>{"a/f0", "b/f1"});
            REQUIRE_FALSE(stage_three(batch, l, b_dir, ec));  // the batch is reusable
        }
        CHECK(l.names() == std::vector<std::string>{"a/f0", "b/f1"});
        CHECK(test::read_file(l.targets[0]) == old_content);
    }
    SECTION("a failure injected at every system call: targets, leftovers and the report agree") {
        std::size_t calls = 0;
        {
            layout l(3);
            aw::directory b_dir(l.b);
            test::scripted_hook count;
            aw::scoped_syscall_hook scope(count);
            Batch batch;
            std::error_code ec;
            REQUIRE_FALSE(stage_three(batch, l, b_dir, ec));
            batch.commit(ec);
            REQUIRE_FALSE(ec);
            calls = count.calls.size();
        }
        std::size_t failed = 0;
        std::size_t partial = 0;
        std::size_t not_durable = 0;
        for (std::size_t k = 0; k < calls; ++k) {
            layout l(3);
            aw::directory b_dir(l.b);
            test::scripted_hook hook;
            hook.fail_call(k, test::err::io);
            std::error_code ec;
            aw::batch_state state = aw::batch_state::unchanged;
            std::vector<aw::batch_file_result> results;
            {
                aw::scoped_syscall_hook scope(hook);
                Batch batch;
                if (!stage_three(batch, l, b_dir, ec)) state = batch.commit(ec);
                results.assign(batch.results().begin(), batch.results().end());
            }
            INFO("failing call " << k << ": " << hook.trace());
            // A close the seam failed still released the descriptor: the batch
            // ignores the failed close of a duplicate directory handle it made.
            if (!ec) {
                CHECK(state == aw::batch_state::published);
                for (std::size_t i = 0; i < 3; ++i) CHECK(test::read_file(l.targets[i]) == new_content(i));
                CHECK(l.names() == std::vector<std::string>{"a/f0", "a/f2", "b/f1"});
                continue;
            }
            ++failed;
            CHECK(ec.value() == test::err::io);
            REQUIRE_FALSE(results.empty());
            std::size_t published = 0;
            std::size_t with_error = 0;
            for (std::size_t i = 0; i < results.size(); ++i) {
                const auto& r = results[i];
                INFO("file " << i << ": " << (r.step != nullptr ? r.step : "-"));
                if (r.state == aw::commit_state::published) {
                    ++published;
                    CHECK(test::read_file(l.targets[i]) == new_content(i));
                    if (!r.durable) {
                        ++not_durable;
                        CHECK(r.error);
                    }
                } else {
                    CHECK_FALSE(r.durable);
                    if (i < 2)
                        CHECK(test::read_file(l.targets[i]) == old_content);
                    else
                        CHECK_FALSE(fs::exists(l.targets[i]));
                }
                if (r.error) {
                    ++with_error;
                    CHECK(r.step != nullptr);
                }
            }
            CHECK(with_error >= 1);
            // The batch stops at the first failed publication: the published files come first.
            for (std::size_t i = 1; i < results.size(); ++i)
                if (results[i].state == aw::commit_state::published)
                    CHECK(results[i - 1].state == aw::commit_state::published);
            if (published > 0 && published < 3) {
                ++partial;
                CHECK(state == aw::batch_state::partial);
            }
            if (published == 0) CHECK(state == aw::batch_state::unchanged);
            // No temporary file is left behind (a link_unlink commit whose unlink
            // failed leaves a second name of the published file, which it reports).
            if (test::contains(hook.trace(), "unlink!")) continue;
            CHECK(l.names() == l.expected(results));
        }
        CHECK(failed > 0);
        CHECK(partial > 0);      // a rename failing part-way
        CHECK(not_durable > 0);  // a directory sync failing after the publications
        test::report_figure("batch faults: " + test::type_name<Batch>() + ": " + std::to_string(calls) + " calls, " +
                            std::to_string(failed) + " failures reported, " + std::to_string(partial) + " partial");
    }
}

/// Fails every publication onto the name `target` (a rename, or a link; every attempt,
/// fallbacks included) with `error`.
class fail_publication_of : public aw::syscall_hook {
public:
    fail_publication_of(std::string target, int error) : target_(std::move(target)), error_(error) {}
    int before(aw::syscall_info& info) noexcept override {
        if (info.op != sysop::rename && info.op != sysop::rename_noreplace && info.op != sysop::link) return 0;
        try {
            return info.name2 != nullptr && test::utf8(fs::path(info.name2).filename()) == target_ ? error_ : 0;
        } catch (...) {
            return 0;
        }
    }

private:
    std::string target_;
    int error_;
};

using sequential_batch = aw::basic_batch<aw::atomic_writer, aw::group::sequential>;
using concurrent_batch = aw::basic_batch<aw::atomic_writer, aw::group::concurrent>;
using syncfs_batch = aw::basic_batch<aw::atomic_writer, aw::group::syncfs>;
using automatic_batch = aw::basic_batch<aw::atomic_writer, aw::group::automatic>;

}  // namespace

TEMPLATE_TEST_CASE("a batch stages, syncs, publishes and syncs directories in order, with every group policy",
                   "[batch]", sequential_batch, concurrent_batch, syncfs_batch, automatic_batch) {
    check_group_policy<TestType>();
}

TEST_CASE("a batch's publication failing part-way: one exception with every file's outcome", "[batch]") {
    layout l(3);
    fail_publication_of hook("f1", test::err::no_space);
    aw::batch batch;
    for (std::size_t i = 0; i < 3; ++i) batch.write_file(l.targets[i], new_content(i), {.overwrite = true});
    try {
        aw::scoped_syscall_hook scope(hook);
        batch.commit();
        FAIL("commit() did not throw");
    } catch (const aw::batch_error& e) {
        INFO(e.what());
        CHECK(e.code().value() == test::err::no_space);
        CHECK(e.path1() == l.targets[1]);
        CHECK(e.state() == aw::batch_state::partial);
        CHECK(test::contains(e.what(), "1 of 3 files published, 1 durable"));
        REQUIRE(e.results().size() == 3);
        CHECK(e.results()[0].state == aw::commit_state::published);
        CHECK(e.results()[0].durable);
        CHECK(e.results()[1].state == aw::commit_state::unchanged);
        CHECK(e.results()[1].error.value() == test::err::no_space);
        CHECK(e.results()[2].state == aw::commit_state::unchanged);
        CHECK_FALSE(e.results()[2].error);
    }
    CHECK(test::read_file(l.targets[0]) == new_content(0));
    CHECK(test::read_file(l.targets[1]) == old_content);
    CHECK_FALSE(fs::exists(l.targets[2]));
    CHECK(l.names() == std::vector<std::string>{"a/f0", "b/f1"});
}

TEST_CASE("a failed stage rolls the whole batch back and names the file", "[batch]") {
    layout l(3);
    aw::batch batch;
    batch.write_file(l.targets[2], new_content(2));
    try {
        batch.write_file(l.targets[0], new_content(0));  // exists, overwrite = false
        FAIL("write_file() did not throw");
    } catch (const aw::batch_error& e) {
        CHECK(e.code() == std::errc::file_exists);
        CHECK(e.path1() == l.targets[0]);
        CHECK(e.state() == aw::batch_state::unchanged);
        CHECK(test::contains(e.what(), "0 of 2 files published"));
    }
    CHECK(batch.size() == 0);
    CHECK(l.names() == std::vector<std::string>{"a/f0", "b/f1"});
    std::error_code ec;
    CHECK(batch.commit(ec) == aw::batch_state::unchanged);  // nothing left to commit
    CHECK_FALSE(ec);
}

TEST_CASE("a batch of writers that do not sync reports nothing durable", "[batch]") {
    layout l(3);
    aw::basic_batch<aw::basic_atomic_writer<aw::sync::none>> batch;
    for (std::size_t i = 0; i < 3; ++i) batch.write_file(l.targets[i], new_content(i), {.overwrite = true});
    test::recording_hook calls;
    {
        aw::scoped_syscall_hook scope(calls);
        batch.commit();
    }
    CHECK(calls.count(sysop::fsync) == 0);
    for (const auto& r : batch.results()) {
        CHECK(r.state == aw::commit_state::published);
        CHECK_FALSE(r.durable);
    }
}

TEST_CASE("a batch takes every write_options field per file", "[batch]") {
    layout l(3);
    fs::create_directory(l.a / "tmp");
    aw::batch batch;
    batch.write_file(l.targets[0], new_content(0),
                     {.overwrite = true, .temp_prefix = "~", .temp_suffix = ".part", .temp_directory = l.a / "tmp"});
    batch.write_file(l.targets[2], new_content(2), {.mode = fs::perms::owner_read | fs::perms::owner_write});
    auto& w = batch.add(l.targets[1], {.overwrite = true, .metadata = aw::metadata_mode::fresh, .text = true});
    w.stream() << "text\n";
    CHECK(test::temp_dir::list(l.a / "tmp").size() == 1);
    batch.commit();
    CHECK(test::read_file(l.targets[0]) == new_content(0));
    CHECK(test::read_file(l.targets[2]) == new_content(2));
    std::string text;
    REQUIRE(test::read_whole(l.targets[1], text));
    CHECK((text == "text\n" || text == "text\r\n"));
    CHECK(test::temp_dir::list(l.a / "tmp").empty());
#if !defined(_WIN32)
    CHECK(test::mode_of(l.targets[2]) == 0600);
#endif
    CHECK(l.names() == std::vector<std::string>{"a/f0", "a/f2", "a/tmp", "b/f1"});
}

TEMPLATE_LIST_TEST_CASE("a batch commits with every writer of this platform", "[batch]", test::all_writers) {
    using W = TestType;
#if !defined(_WIN32)
    // On another filesystem (ATOMICWRITES_TEST_DIR), a policy that needs what it lacks
    // fails by design: temp::anonymous without O_TMPFILE, link_unlink without links.
    if (const char* why = test::missing_feature(std::is_same_v<typename W::temp_type, aw::temp::anonymous>,
                                                std::is_same_v<typename W::commit_type, aw::commit::link_unlink>)) {
        WARN("skipped: " << why << " (" << test::type_name<W>() << ")");
        return;
    }
#endif
    layout l(3);
    aw::basic_batch<W> batch;
    const bool overwrite = W::commit_type::can_replace;
    std::vector<fs::path> targets = l.targets;
    if (!overwrite) targets = {l.a / "n0", l.b / "n1", l.a / "n2"};
    for (std::size_t i = 0; i < 3; ++i) batch.write_file(targets[i], new_content(i), {.overwrite = overwrite});
    batch.commit();
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(test::read_file(targets[i]) == new_content(i));
        CHECK(batch.results()[i].durable == W::sync_type::durable);
    }
}
