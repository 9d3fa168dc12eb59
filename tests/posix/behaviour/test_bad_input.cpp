// SPDX-License-Identifier: MIT
// Bad input: each is a clear error (the step and the path in the message, the errc in
// the error_code), with the target untouched and nothing left behind.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

using test::new_content;
using test::old_content;

/// Every regular file of a directory with its content, and every other entry by name
/// (to tell that nothing was added, removed or changed).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        out[name] = e.is_regular_file() && !e.is_symlink() ? test::read_file(e.path()) : std::string("(not a file)");
    }
    return out;
}

using test::contains;

/// Checks that writing `target` fails with `expected` at `step`, in the error_code form,
/// the writer's error_code constructor and the throwing form, and that `dir` is as it
/// was afterwards.
template <class W = aw::atomic_writer>
void expect_refused(const fs::path& target, const aw::write_options& options, std::errc expected,
                    const std::string& step, const fs::path& dir) {
    const auto before = snapshot(dir);
    INFO("target: " << target << ", expected step: " << step);
    {
        std::error_code ec;
        CHECK(aw::write_file<W>(target, new_content, options, ec) == aw::commit_state::unchanged);
        CHECK(ec == expected);
    }
    {
        std::error_code ec;
        W w(target, options, ec);
        CHECK(ec == expected);
        CHECK_FALSE(w.is_open());
        CHECK(w.failed_step() != nullptr);
        if (w.failed_step() != nullptr) CHECK(contains(w.failed_step(), step));
        CHECK(w.native_handle() == aw::invalid_handle);
    }
    const test::thrown_error e = test::catch_error([&] { aw::write_file<W>(target, new_content, options); });
    INFO("what(): " << e.what);
    CHECK(e.threw);
    CHECK(e.code == expected);
    CHECK(contains(e.what, step));
    CHECK(e.path1 == target);
    if (!target.empty()) CHECK(contains(e.what, target.string()));
    try {
        aw::write_file<W>(target, new_content, options);
    } catch (const aw::durability_error&) {
        FAIL("a failure before publication must not be a durability_error");
    } catch (const fs::filesystem_error&) {
    }
    CHECK(snapshot(dir) == before);
}

using some_writers =
    test::type_list<aw::atomic_writer, aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::named>,
                    aw::basic_atomic_writer<aw::sync::fsync, aw::commit::automatic, aw::temp::anonymous>,
                    aw::basic_atomic_writer<aw::sync::fdatasync, aw::commit::automatic,
                                            aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>>;

}  // namespace

TEST_CASE("an empty path is an invalid argument", "[bad_input]") {
    test::temp_dir dir;
    expect_refused("", {}, std::errc::invalid_argument, "check path", dir.path());
    expect_refused("", {.overwrite = true}, std::errc::invalid_argument, "check path", dir.path());
    CHECK(dir.names().empty());
}

TEST_CASE("a path that names a directory is refused", "[bad_input]") {
    test::temp_dir dir;
    fs::create_directory(dir / "sub");
    test::write_plain(dir / "sub" / "inside", old_content);
    for (bool overwrite : {false, true}) {
        const aw::write_options o{.overwrite = overwrite};
        expect_refused(dir / "sub", o, std::errc::is_a_directory, "inspect target", dir.path());
        expect_refused(dir.path().string() + "/sub/", o, std::errc::is_a_directory, "check path", dir.path());
        expect_refused(dir / "sub" / ".", o, std::errc::is_a_directory, "check path", dir.path());
        expect_refused(dir / "sub" / "..", o, std::errc::is_a_directory, "check path", dir.path());
        test::scoped_cwd cwd(dir / "sub");
        expect_refused(".", o, std::errc::is_a_directory, "check path", dir / "sub");
        expect_refused("..", o, std::errc::is_a_directory, "check path", dir.path());
    }
    CHECK(fs::is_directory(dir / "sub"));
    CHECK(test::temp_dir::list(dir / "sub") == std::vector<std::string>{"inside"});
    CHECK(test::read_file(dir / "sub" / "inside") == old_content);
}

TEST_CASE("a missing parent directory is reported as such", "[bad_input]") {
    test::temp_dir dir;
    expect_refused(dir / "missing" / "f", {}, std::errc::no_such_file_or_directory, "open directory", dir.path());
    expect_refused(dir / "missing" / "deeper" / "f", {.overwrite = true}, std::errc::no_such_file_or_directory,
                   "open directory", dir.path());
    CHECK(dir.names().empty());
}

TEST_CASE("a parent that is a file is not a directory", "[bad_input]") {
    test::temp_dir dir;
    test::write_plain(dir / "file", old_content);
    expect_refused(dir / "file" / "f", {.overwrite = true}, std::errc::not_a_directory, "open directory", dir.path());
    CHECK(test::read_file(dir / "file") == old_content);
}

TEST_CASE("a parent directory that is not writable: permission denied", "[bad_input][root]") {
    if (!test::is_root()) {
        WARN("skipped: dropping privileges needs root");
        return;
    }
    test::temp_dir dir;
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    const fs::path ro = dir / "ro";
    fs::create_directory(ro);
    test::write_plain(ro / "existing", old_content);
    REQUIRE(::chmod((ro / "existing").c_str(), 0644) == 0);
    REQUIRE(::chmod(ro.c_str(), 0555) == 0);
    const auto before = snapshot(ro);

    // The checks run in a child with the ids of nobody; the exit status says which
    // check failed.
    const int code = test::as_nobody(ro, X_OK, [&] {
        for (const char* name : {"new", "existing"}) {
            const int failed = test::failure_check(ro / name, {.overwrite = true}, std::errc::permission_denied,
                                                   "create temporary file");
            if (failed != 0) return failed;
        }
        return 0;
    });
    if (code == test::nobody_unreachable) {
        WARN("skipped: the test directory is not reachable for uid 65534");
        return;
    }
    INFO("the child's failed check: " << code << " (70: could not drop privileges)");
    CHECK(code == 0);
    CHECK(snapshot(ro) == before);
    CHECK(test::temp_dir::list(ro) == std::vector<std::string>{"existing"});
}

TEMPLATE_LIST_TEST_CASE("a read-only filesystem: read_only_file_system", "[bad_input][root]", some_writers) {
    test::temp_dir dir;
    test::tmpfs_mount mnt(dir / "mnt");
    if (!mnt.mounted()) {
        WARN("skipped: " << mnt.why_not());
        return;
    }
    test::write_plain(dir / "mnt" / "existing", old_content);
    if (!mnt.remount_read_only()) {
        WARN("skipped: cannot remount the tmpfs read-only");
        return;
    }
    INFO(test::type_name<TestType>());
    expect_refused<TestType>(dir / "mnt" / "existing", {.overwrite = true}, std::errc::read_only_file_system,
                             "create temporary file", dir / "mnt");
    expect_refused<TestType>(dir / "mnt" / "new", {.overwrite = true}, std::errc::read_only_file_system,
                             "create temporary file", dir / "mnt");
    expect_refused<TestType>(dir / "mnt" / "new", {}, std::errc::read_only_file_system, "create temporary file",
                             dir / "mnt");
    CHECK(test::temp_dir::list(dir / "mnt") == std::vector<std::string>{"existing"});
    CHECK(test::read_file(dir / "mnt" / "existing") == old_content);
}

TEST_CASE("a name longer than 255 bytes is too long", "[bad_input]") {
    test::temp_dir dir;
    const std::string name(256, 'n');
    expect_refused(dir / name, {}, std::errc::filename_too_long, "check path", dir.path());
    expect_refused(dir / name, {.overwrite = true}, std::errc::filename_too_long, "check path", dir.path());
    // A directory component that is too long fails when the directory is opened.
    expect_refused(dir / name / "f", {.overwrite = true}, std::errc::filename_too_long, "open directory", dir.path());
    CHECK(dir.names().empty());
}

TEMPLATE_LIST_TEST_CASE("a name of exactly 255 bytes works: the temporary name is shortened", "[bad_input]",
                        some_writers) {
    test::temp_dir dir;
    const std::string name(255, 'n');
    INFO(test::type_name<TestType>());
    aw::write_file<TestType>(dir / name, old_content);
    CHECK(test::read_file(dir / name) == old_content);
    aw::write_file<TestType>(dir / name, new_content, {.overwrite = true});
    CHECK(test::read_file(dir / name) == new_content);
    CHECK(dir.names() == std::vector<std::string>{name});
}

TEST_CASE("using a writer after commit or rollback: bad_file_descriptor", "[bad_input]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    aw::atomic_writer w(target);
    w.write(new_content);
    w.commit();
    CHECK_FALSE(w.is_open());
    CHECK(w.state() == aw::commit_state::published);

    std::error_code ec;
    w.write("more", ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    w.write(std::span<const std::byte>(test::as_bytes("more")), ec);
    CHECK(ec == std::errc::bad_file_descriptor);
    w.flush(ec);
    CHECK(ec == std::errc::bad_file_descriptor);

    const test::thrown_error write_error = test::catch_error([&] { w.write("more"); });
    CHECK(write_error.threw);
    CHECK(write_error.code == std::errc::bad_file_descriptor);
    CHECK(contains(write_error.what, "already committed"));
    CHECK(write_error.path1 == target);

    CHECK(w.commit(ec) == aw::commit_state::published);  // still published, but refused
    CHECK(ec == std::errc::bad_file_descriptor);
    const test::thrown_error commit_error = test::catch_error([&] { w.commit(); });
    CHECK(commit_error.threw);
    CHECK(commit_error.code == std::errc::bad_file_descriptor);
    CHECK(contains(commit_error.what, "already committed"));

    std::ostream& out = w.stream();
    out << "more";
    CHECK_FALSE(out.good());
    CHECK(w.native_handle() == aw::invalid_handle);

    CHECK(test::read_file(target) == new_content);
    CHECK(dir.names() == std::vector<std::string>{"f"});

    SECTION("after a rollback") {
        aw::atomic_writer r(dir / "g");
        r.write(new_content);
        r.rollback();
        CHECK(r.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::bad_file_descriptor);
        r.write("x", ec);
        CHECK(ec == std::errc::bad_file_descriptor);
        const test::thrown_error e = test::catch_error([&] { r.commit(); });
        CHECK(e.code == std::errc::bad_file_descriptor);
        CHECK(contains(e.what, "not open"));
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
    SECTION("a moved-from writer") {
        aw::atomic_writer a(dir / "g");
        aw::atomic_writer b(std::move(a));
        a.write("x", ec);  // a moved-from writer is closed
        CHECK(ec == std::errc::bad_file_descriptor);
        CHECK(a.commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::bad_file_descriptor);
        b.write(old_content);
        b.commit();
        CHECK(test::read_file(dir / "g") == old_content);
        CHECK(dir.names() == std::vector<std::string>{"f", "g"});
    }
}

TEST_CASE("a FIFO at the target is refused without blocking", "[bad_input]") {
    test::temp_dir dir;
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    // First on another thread, without assertions (Catch2's are not thread-safe), so
    // that a writer stuck opening the FIFO can be released and reported.
    auto attempt = std::async(std::launch::async, [&] {
        std::vector<std::error_code> out(3);
        aw::write_file(fifo, new_content, {.overwrite = true}, out[0]);
        aw::write_file(fifo, new_content, {}, out[1]);
        aw::atomic_writer w(fifo, {.overwrite = true}, out[2]);
        return out;
    });
    if (attempt.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        const int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        attempt.wait();
        if (fd >= 0) ::close(fd);
        FAIL("writing over a FIFO blocked");
    }
    for (const std::error_code& ec : attempt.get()) CHECK(ec == std::errc::invalid_argument);
    expect_refused(fifo, {.overwrite = true}, std::errc::invalid_argument, "inspect target", dir.path());
    expect_refused(fifo, {}, std::errc::invalid_argument, "inspect target", dir.path());
    CHECK(fs::is_fifo(fifo));
    CHECK(dir.names() == std::vector<std::string>{"fifo"});
}

TEMPLATE_LIST_TEST_CASE("a temp_prefix or temp_suffix containing '/' is an invalid argument", "[bad_input]",
                        some_writers) {
    test::temp_dir dir;
    test::write_plain(dir / "existing", old_content);
    INFO(test::type_name<TestType>());
    for (bool overwrite : {true, false}) {
        const fs::path target = dir / (overwrite ? "existing" : "new");
        expect_refused<TestType>(target, {.overwrite = overwrite, .temp_prefix = "sub/"}, std::errc::invalid_argument,
                                 "temp", dir.path());
        expect_refused<TestType>(target, {.overwrite = overwrite, .temp_suffix = "/x"}, std::errc::invalid_argument,
                                 "temp", dir.path());
    }
    CHECK(dir.names() == std::vector<std::string>{"existing"});
    CHECK(test::read_file(dir / "existing") == old_content);
}

TEST_CASE("a temp_prefix or temp_suffix longer than 64 bytes is too long", "[bad_input]") {
    test::temp_dir dir;
    const std::string long_affix(65, 'p');
    expect_refused(dir / "f", {.temp_prefix = long_affix}, std::errc::filename_too_long, "check options", dir.path());
    expect_refused(dir / "f", {.temp_suffix = long_affix}, std::errc::filename_too_long, "check options", dir.path());
    CHECK(dir.names().empty());
}

TEST_CASE("a missing temp_directory is reported when the writer is made", "[bad_input]") {
    test::temp_dir dir;
    test::write_plain(dir / "f", old_content);
    expect_refused(dir / "f", {.overwrite = true, .temp_directory = dir / "missing"},
                   std::errc::no_such_file_or_directory, "open temporary directory", dir.path());
    CHECK(test::read_file(dir / "f") == old_content);
}

TEMPLATE_LIST_TEST_CASE("a temp_directory on another filesystem is refused before anything is written",
                        "[bad_input][root]", some_writers) {
    test::temp_dir dir;
    test::tmpfs_mount mnt(dir / "mnt");
    if (!mnt.mounted()) {
        WARN("skipped: " << mnt.why_not());
        return;
    }
    test::write_plain(dir / "existing", old_content);
    INFO(test::type_name<TestType>());
    for (bool overwrite : {true, false}) {
        const fs::path target = dir / (overwrite ? "existing" : "new");
        const aw::write_options options{.overwrite = overwrite, .temp_directory = dir / "mnt"};
        INFO("overwrite: " << overwrite);
        {
            std::error_code ec;
            TestType w(target, options, ec);
            CHECK(ec == std::errc::cross_device_link);
            CHECK_FALSE(w.is_open());  // refused when made: no data was taken
            REQUIRE(w.failed_step() != nullptr);
            CHECK(contains(w.failed_step(), "temp_directory is on another filesystem"));
        }
        const test::thrown_error e = test::catch_error([&] { aw::write_file<TestType>(target, new_content, options); });
        CHECK(e.threw);
        CHECK(e.code == std::errc::cross_device_link);
        CHECK(contains(e.what, "another filesystem"));
        CHECK(e.path1 == target);
        CHECK(e.path2 == dir / "mnt");
        CHECK(contains(e.what, target.string()));
        CHECK(contains(e.what, (dir / "mnt").string()));
        CHECK(test::temp_dir::list(dir / "mnt").empty());
        CHECK(dir.names() == std::vector<std::string>{"existing", "mnt"});
        CHECK(test::read_file(dir / "existing") == old_content);
    }
    // The same filesystem in another directory is fine.
    fs::create_directory(dir / "staging");
    aw::write_file(dir / "existing", new_content, {.overwrite = true, .temp_directory = dir / "staging"});
    CHECK(test::read_file(dir / "existing") == new_content);
}
