// SPDX-License-Identifier: MIT
// <atomicwrites/concepts.hpp>: every shipped policy satisfies its concept; types that
// miss a hook, have a hook that may throw, or promise nothing do not; and policies
// written outside the library work in real writes.
#include <atomicwrites/concepts.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

// A named namespace, not an anonymous one: the types below exist only to be checked, and
// their unused members are not worth a warning.
namespace concepts_test {

namespace aw = atomicwrites;
using test::read_file;
using test::temp_dir;
using test::write_plain;

// --- the shipped policies ------------------------------------------------------------

static_assert(aw::sync_policy<aw::sync::none>);
static_assert(aw::sync_policy<aw::sync::fdatasync>);
static_assert(aw::sync_policy<aw::sync::fsync>);
static_assert(aw::sync_policy<aw::sync::full_fsync>);
static_assert(aw::sync_policy<aw::default_sync>);

static_assert(aw::commit_policy<aw::commit::rename>);
static_assert(aw::commit_policy<aw::commit::link_unlink>);
static_assert(aw::commit_policy<aw::commit::renameat2>);
static_assert(aw::commit_policy<aw::commit::automatic>);
static_assert(aw::commit_policy<aw::default_commit>);

static_assert(aw::temp_policy<aw::temp::mkstemp>);
static_assert(aw::temp_policy<aw::temp::named>);
static_assert(aw::temp_policy<aw::temp::anonymous>);
static_assert(aw::temp_policy<aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>);
static_assert(aw::temp_policy<aw::temp::first_of<aw::temp::named, aw::temp::mkstemp>>);
static_assert(aw::temp_policy<aw::default_temp>);

// A policy of one kind is not one of another kind.
static_assert(!aw::sync_policy<aw::commit::rename>);
static_assert(!aw::sync_policy<aw::temp::mkstemp>);
static_assert(!aw::commit_policy<aw::sync::fsync>);
static_assert(!aw::commit_policy<aw::temp::mkstemp>);
static_assert(!aw::temp_policy<aw::sync::fsync>);
static_assert(!aw::temp_policy<aw::commit::rename>);
static_assert(!aw::sync_policy<int>);

static_assert(aw::is_durable<aw::sync::fsync>);
static_assert(aw::is_durable<aw::sync::fdatasync>);
static_assert(aw::is_durable<aw::sync::full_fsync>);
static_assert(!aw::is_durable<aw::sync::none>);

// --- types that must not satisfy the concepts ----------------------------------------

using handle = aw::native_handle_type;

namespace bad_sync {
struct missing_sync_directory {
    static constexpr bool durable = true;
    void sync_file(handle, std::error_code&) const noexcept {}
};
struct missing_sync_file {
    static constexpr bool durable = true;
    void sync_directory(handle, std::error_code&) const noexcept {}
};
struct missing_durable {
    void sync_file(handle, std::error_code&) const noexcept {}
    void sync_directory(handle, std::error_code&) const noexcept {}
};
struct sync_file_may_throw {
    static constexpr bool durable = true;
    void sync_file(handle, std::error_code&) const {}
    void sync_directory(handle, std::error_code&) const noexcept {}
};
struct sync_directory_may_throw {
    static constexpr bool durable = true;
    void sync_file(handle, std::error_code&) const noexcept {}
    void sync_directory(handle, std::error_code&) const {}
};
struct hook_not_const {
    static constexpr bool durable = true;
    void sync_file(handle, std::error_code&) noexcept {}
    void sync_directory(handle, std::error_code&) const noexcept {}
};
struct not_default_constructible {
    explicit not_default_constructible(int) {}
    static constexpr bool durable = true;
    void sync_file(handle, std::error_code&) const noexcept {}
    void sync_directory(handle, std::error_code&) const noexcept {}
};
}  // namespace bad_sync

static_assert(!aw::sync_policy<bad_sync::missing_sync_directory>);
static_assert(!aw::sync_policy<bad_sync::missing_sync_file>);
static_assert(!aw::sync_policy<bad_sync::missing_durable>);
static_assert(!aw::sync_policy<bad_sync::sync_file_may_throw>);
static_assert(!aw::sync_policy<bad_sync::sync_directory_may_throw>);
static_assert(!aw::sync_policy<bad_sync::hook_not_const>);
static_assert(!aw::sync_policy<bad_sync::not_default_constructible>);

namespace bad_commit {
struct missing_publish {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = true;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
};
struct publish_may_throw {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = true;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    aw::commit_result publish(const aw::commit_request&, std::error_code&) const { return {}; }
};
struct publish_returns_nothing {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = true;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    void publish(const aw::commit_request&, std::error_code&) const noexcept {}
};
struct publish_returns_bool {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = true;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    bool publish(const aw::commit_request&, std::error_code&) const noexcept { return true; }
};
struct neither_replaces_nor_keeps {
    static constexpr bool can_replace = false;
    static constexpr bool can_keep = false;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    aw::commit_result publish(const aw::commit_request&, std::error_code&) const noexcept { return {}; }
};
struct missing_can_keep {
    static constexpr bool can_replace = true;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    aw::commit_result publish(const aw::commit_request&, std::error_code&) const noexcept { return {}; }
};
struct missing_links_anonymous {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = true;
    static constexpr bool renames_open_file = false;
    aw::commit_result publish(const aw::commit_request&, std::error_code&) const noexcept { return {}; }
};
}  // namespace bad_commit

static_assert(!aw::commit_policy<bad_commit::missing_publish>);
static_assert(!aw::commit_policy<bad_commit::publish_may_throw>);
static_assert(!aw::commit_policy<bad_commit::publish_returns_nothing>);
static_assert(!aw::commit_policy<bad_commit::publish_returns_bool>);
static_assert(!aw::commit_policy<bad_commit::neither_replaces_nor_keeps>);
static_assert(!aw::commit_policy<bad_commit::missing_can_keep>);
static_assert(!aw::commit_policy<bad_commit::missing_links_anonymous>);

namespace bad_temp {
struct missing_create {
    static constexpr bool may_be_anonymous = false;
};
struct create_may_throw {
    static constexpr bool may_be_anonymous = false;
    void create(const aw::temp_request&, aw::temp_file&, std::error_code&) const {}
};
struct missing_may_be_anonymous {
    void create(const aw::temp_request&, aw::temp_file&, std::error_code&) const noexcept {}
};
struct create_takes_no_error_code {
    static constexpr bool may_be_anonymous = false;
    void create(const aw::temp_request&, aw::temp_file&) const noexcept {}
};
}  // namespace bad_temp

static_assert(!aw::temp_policy<bad_temp::missing_create>);
static_assert(!aw::temp_policy<bad_temp::create_may_throw>);
static_assert(!aw::temp_policy<bad_temp::missing_may_be_anonymous>);
static_assert(!aw::temp_policy<bad_temp::create_takes_no_error_code>);

// --- policies written outside the library ---------------------------------------------
// They use only the public API and plain POSIX calls, as a user's would.

/// How often a counting_sync was asked to sync.
struct sync_counts {
    int files = 0;
    int directories = 0;
};

/// fsync(2)s like sync::fsync and counts the calls in a sync_counts it points to (none
/// when default-constructed: policies must be default-constructible).
struct counting_sync {
    static constexpr bool durable = true;
    sync_counts* counts = nullptr;

    void sync_file(handle f, std::error_code& ec) const noexcept {
        if (counts != nullptr) ++counts->files;
        sync(f, ec);
    }
    void sync_directory(handle d, std::error_code& ec) const noexcept {
        if (counts != nullptr) ++counts->directories;
        sync(d, ec);
    }
    static void sync(handle h, std::error_code& ec) noexcept {
        while (::fsync(h) != 0) {
            if (errno == EINTR) continue;
            ec.assign(errno, std::system_category());
            return;
        }
    }
};
static_assert(aw::sync_policy<counting_sync>);
static_assert(aw::is_durable<counting_sync>);

/// A sync policy whose file sync always fails, as a failing disk would.
struct failing_sync {
    static constexpr bool durable = true;
    void sync_file(handle, std::error_code& ec) const noexcept { ec.assign(EIO, std::system_category()); }
    void sync_directory(handle, std::error_code&) const noexcept {}
};
static_assert(aw::sync_policy<failing_sync>);

/// One publish() as recording_rename saw it.
struct publish_record {
    std::string temp_name;
    std::string target_name;
    bool overwrite;
};

/// renameat(2) over the target, recording each publish in a vector it points to.
/// Replaces only (can_keep is false).
struct recording_rename {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = false;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    std::vector<publish_record>* log = nullptr;

    aw::commit_result publish(const aw::commit_request& r, std::error_code& ec) const noexcept {
        if (log != nullptr) {
            try {
                log->push_back({r.temp_name, r.target_name, r.overwrite});
            } catch (...) {
                ec = std::make_error_code(std::errc::not_enough_memory);
                return {aw::commit_state::unchanged, "record publish"};
            }
        }
        if (::renameat(r.temp_dir, r.temp_name, r.target_dir, r.target_name) != 0) {
            ec.assign(errno, std::system_category());
            return {aw::commit_state::unchanged, "rename into place (recording)"};
        }
        return {aw::commit_state::published};
    }
};
static_assert(aw::commit_policy<recording_rename>);

/// A commit policy that refuses every publish with EPERM, naming its own step.
struct refusing_commit {
    static constexpr bool can_replace = true;
    static constexpr bool can_keep = true;
    static constexpr bool links_anonymous = false;
    static constexpr bool renames_open_file = false;
    aw::commit_result publish(const aw::commit_request&, std::error_code& ec) const noexcept {
        ec.assign(EPERM, std::system_category());
        return {aw::commit_state::unchanged, "ask the custom commit policy"};
    }
};
static_assert(aw::commit_policy<refusing_commit>);

/// The editor's way: the temporary file is the target's name followed by "~", created
/// exclusively, so a second writer of the same target fails with EEXIST.
struct tilde_temp {
    static constexpr bool may_be_anonymous = false;
    void create(const aw::temp_request& r, aw::temp_file& t, std::error_code& ec) const noexcept {
        const int n =
            std::snprintf(t.name, sizeof t.name, "%.*s~", static_cast<int>(r.target_name.size()), r.target_name.data());
        if (n < 0 || static_cast<std::size_t>(n) >= sizeof t.name) {
            t.name[0] = '\0';
            ec = std::make_error_code(std::errc::filename_too_long);
            return;
        }
        t.file =
            ::openat(r.dir, t.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(r.mode));
        if (t.file < 0) {
            ec.assign(errno, std::system_category());
            t.name[0] = '\0';
        }
    }
};
static_assert(aw::temp_policy<tilde_temp>);
static_assert(aw::temp_policy<aw::temp::first_of<tilde_temp, aw::temp::mkstemp>>);

}  // namespace concepts_test

using namespace concepts_test;

TEST_CASE("the shipped policies satisfy their concepts", "[concepts]") {
    CHECK(aw::sync_policy<aw::sync::none>);
    CHECK(aw::sync_policy<aw::sync::fdatasync>);
    CHECK(aw::sync_policy<aw::sync::fsync>);
    CHECK(aw::sync_policy<aw::sync::full_fsync>);
    CHECK(aw::commit_policy<aw::commit::rename>);
    CHECK(aw::commit_policy<aw::commit::link_unlink>);
    CHECK(aw::commit_policy<aw::commit::renameat2>);
    CHECK(aw::commit_policy<aw::commit::automatic>);
    CHECK(aw::temp_policy<aw::temp::mkstemp>);
    CHECK(aw::temp_policy<aw::temp::named>);
    CHECK(aw::temp_policy<aw::temp::anonymous>);
    CHECK(aw::temp_policy<aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>);
    // Every commit policy honours at least one value of write_options::overwrite.
    CHECK((aw::commit::rename::can_replace && !aw::commit::rename::can_keep));
    CHECK((!aw::commit::link_unlink::can_replace && aw::commit::link_unlink::can_keep));
    CHECK((!aw::commit::renameat2::can_replace && aw::commit::renameat2::can_keep));
    CHECK((aw::commit::automatic::can_replace && aw::commit::automatic::can_keep));
    CHECK(aw::temp::anonymous::may_be_anonymous);
    CHECK_FALSE(aw::temp::mkstemp::may_be_anonymous);
    CHECK_FALSE(aw::temp::named::may_be_anonymous);
}

TEST_CASE("incomplete or throwing policies do not satisfy the concepts", "[concepts]") {
    CHECK_FALSE(aw::sync_policy<bad_sync::missing_sync_directory>);
    CHECK_FALSE(aw::sync_policy<bad_sync::missing_sync_file>);
    CHECK_FALSE(aw::sync_policy<bad_sync::missing_durable>);
    CHECK_FALSE(aw::sync_policy<bad_sync::sync_file_may_throw>);
    CHECK_FALSE(aw::sync_policy<bad_sync::sync_directory_may_throw>);
    CHECK_FALSE(aw::sync_policy<bad_sync::hook_not_const>);
    CHECK_FALSE(aw::sync_policy<bad_sync::not_default_constructible>);
    CHECK_FALSE(aw::commit_policy<bad_commit::missing_publish>);
    CHECK_FALSE(aw::commit_policy<bad_commit::publish_may_throw>);
    CHECK_FALSE(aw::commit_policy<bad_commit::publish_returns_nothing>);
    CHECK_FALSE(aw::commit_policy<bad_commit::publish_returns_bool>);
    CHECK_FALSE(aw::commit_policy<bad_commit::neither_replaces_nor_keeps>);
    CHECK_FALSE(aw::commit_policy<bad_commit::missing_can_keep>);
    CHECK_FALSE(aw::commit_policy<bad_commit::missing_links_anonymous>);
    CHECK_FALSE(aw::temp_policy<bad_temp::missing_create>);
    CHECK_FALSE(aw::temp_policy<bad_temp::create_may_throw>);
    CHECK_FALSE(aw::temp_policy<bad_temp::missing_may_be_anonymous>);
    CHECK_FALSE(aw::temp_policy<bad_temp::create_takes_no_error_code>);
}

TEST_CASE("a user-written sync policy syncs each file and directory once", "[concepts]") {
    temp_dir d;
    sync_counts counts;
    using writer = aw::basic_atomic_writer<counting_sync>;

    SECTION("a new file") {
        writer w(d / "out.txt", {}, counting_sync{&counts}, {}, {});
        w.write(std::string_view("counted"));
        CHECK(counts.files == 0);  // nothing synced before the commit
        w.commit();
        CHECK(counts.files == 1);
        CHECK(counts.directories == 1);
        CHECK(read_file(d / "out.txt") == "counted");
    }
    SECTION("a replacement with the temporary file in another directory syncs both") {
        write_plain(d / "out.txt", "old");
        std::filesystem::create_directory(d / "staging");
        writer w(d / "out.txt", {.overwrite = true, .temp_directory = d / "staging"}, counting_sync{&counts}, {}, {});
        w.write(std::string_view("new"));
        w.commit();
        CHECK(counts.files == 1);
        CHECK(counts.directories == 2);
        CHECK(read_file(d / "out.txt") == "new");
        CHECK(test::temp_dir::list(d / "staging").empty());
    }
    SECTION("default-constructed, through write_file") {
        aw::write_file<writer>(d / "out.txt", std::string_view("uncounted"));
        CHECK(counts.files == 0);
        CHECK(read_file(d / "out.txt") == "uncounted");
    }
    SECTION("a failing sync stops the commit and names the step") {
        write_plain(d / "out.txt", "old");
        aw::basic_atomic_writer<failing_sync> w(d / "out.txt", {.overwrite = true});
        w.write(std::string_view("new"));
        std::error_code ec;
        CHECK(w.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::io_error);
        CHECK(std::string(w.failed_step()) == "sync temporary file");
        CHECK(read_file(d / "out.txt") == "old");
    }
    CHECK(d.names().size() <= 2);
    for (const auto& name : d.names()) CHECK_FALSE(name.starts_with('.'));
}

TEST_CASE("a user-written commit policy publishes and records", "[concepts]") {
    temp_dir d;
    std::vector<publish_record> log;
    const recording_rename commit{&log};

    SECTION("with a named temporary file") {
        write_plain(d / "target", "old");
        aw::basic_atomic_writer<aw::sync::fsync, recording_rename> w(d / "target", {.overwrite = true}, {}, commit, {});
        const std::string temp_name = w.temp_path().filename().string();
        w.stream() << "new";
        w.commit();
        REQUIRE(log.size() == 1);
        CHECK(log[0].temp_name == temp_name);
        CHECK(log[0].temp_name.starts_with(".target."));
        CHECK(log[0].temp_name.ends_with(".tmp"));
        CHECK(log[0].target_name == "target");
        CHECK(log[0].overwrite);
        CHECK(read_file(d / "target") == "new");
    }
    SECTION("with an anonymous temporary file, the writer names it first") {
        aw::basic_atomic_writer<aw::sync::none, recording_rename, aw::temp::anonymous> w(
            d / "target", {.overwrite = true}, {}, commit, {});
        w.write(std::string_view("anonymous"));
        w.commit();
        REQUIRE(log.size() == 1);
        CHECK(log[0].temp_name.starts_with(".target."));
        CHECK(read_file(d / "target") == "anonymous");
    }
    SECTION("an option it cannot honour is refused before anything is written") {
        std::error_code ec;
        aw::basic_atomic_writer<aw::sync::none, recording_rename> w(d / "target", {.overwrite = false}, ec);
        CHECK(ec == std::errc::invalid_argument);
        CHECK_FALSE(w.is_open());
        CHECK(log.empty());
        CHECK(d.names().empty());
    }
    SECTION("a refused publish leaves the target alone and reports the policy's step") {
        write_plain(d / "target", "old");
        using writer = aw::basic_atomic_writer<aw::sync::none, refusing_commit>;
        try {
            aw::write_file<writer>(d / "target", std::string_view("new"), {.overwrite = true});
            FAIL("no exception");
        } catch (const std::filesystem::filesystem_error& e) {
            CHECK(e.code() == std::errc::operation_not_permitted);
            CHECK(std::string(e.what()).find("ask the custom commit policy") != std::string::npos);
        }
        CHECK(read_file(d / "target") == "old");
    }
    for (const auto& name : d.names()) CHECK_FALSE(name.starts_with('.'));
}

TEST_CASE("a user-written temp policy names the temporary file its own way", "[concepts]") {
    temp_dir d;
    using writer = aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, tilde_temp>;

    SECTION("a write") {
        test::scoped_umask mask(022);
        writer w(d / "notes.txt");
        CHECK(w.temp_path() == d / "notes.txt~");
        CHECK(test::mode_of(d / "notes.txt~") == 0644);
        w.write(std::string_view("tilde"));
        w.commit();
        CHECK(d.names() == std::vector<std::string>{"notes.txt"});
        CHECK(read_file(d / "notes.txt") == "tilde");
        CHECK(test::mode_of(d / "notes.txt") == 0644);
    }
    SECTION("a second writer of the same target is refused") {
        writer first(d / "notes.txt");
        std::error_code ec;
        writer second(d / "notes.txt", {}, ec);
        CHECK(ec == std::errc::file_exists);
        CHECK_FALSE(second.is_open());
        first.write(std::string_view("first"));
        first.commit();
        CHECK(read_file(d / "notes.txt") == "first");
    }
    SECTION("rollback removes it") {
        {
            writer w(d / "notes.txt");
            w.write(std::string_view("discarded"));
        }
        CHECK(d.names().empty());
    }
    SECTION("composed with first_of, a taken name is an error, not a reason to fall back") {
        write_plain(d / "notes.txt~", "stale");
        std::error_code ec;
        aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic,
                                aw::temp::first_of<tilde_temp, aw::temp::mkstemp>>
            w(d / "notes.txt", {}, ec);
        CHECK(ec == std::errc::file_exists);  // only "not supported" errors fall back
        CHECK(d.names() == std::vector<std::string>{"notes.txt~"});
    }
}
