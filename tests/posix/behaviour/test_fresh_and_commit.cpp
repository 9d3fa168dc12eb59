// SPDX-License-Identifier: MIT
// What a writer refuses and reports even where it takes nothing from the old file:
// metadata_mode::fresh refuses a FIFO or a device node at the target as the constructor
// documents; atomic_write accepts a callback that commits or rolls back the writer
// itself; and a second commit() is a usage error, never a durability_error.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>

using namespace test;

namespace {

/// Whether writing `target` is refused before anything changes with invalid_argument,
/// at the step that says it is not a regular file, in both forms.
bool refused_as_not_regular(const fs::path& target, const aw::write_options& o) {
    std::error_code ec;
    const aw::commit_state s = aw::write_file(target, new_content, o, ec);
    const thrown_error e = catch_error([&] { aw::write_file(target, new_content, o); });
    INFO("error_code form: " << ec.message() << "; thrown: " << e.what);
    return s == aw::commit_state::unchanged && ec == std::errc::invalid_argument && e.threw &&
           e.code == std::errc::invalid_argument && contains(e.what, "not a regular file") && e.path1 == target;
}

}  // namespace

TEST_CASE("metadata_mode::fresh refuses a FIFO at the target: invalid_argument, nothing changed", "[fresh]") {
    temp_dir dir;
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
    for (const aw::symlink_mode links : {aw::symlink_mode::replace, aw::symlink_mode::follow}) {
        INFO("symlink mode " << static_cast<int>(links));
        const aw::write_options o{.overwrite = true, .metadata = aw::metadata_mode::fresh, .symlinks = links};
        CHECK(refused_as_not_regular(dir / "fifo", o));
        CHECK(fs::is_fifo(fs::symlink_status(dir / "fifo")));
        CHECK(temp_dir::list(dir.path()) == std::vector<std::string>{"fifo"});
    }
}

TEST_CASE("metadata_mode::fresh refuses a device node at the target: invalid_argument, nothing changed",
          "[fresh][root]") {
    if (!is_root()) {
        WARN("skipped: making a device node needs root");
        return;
    }
    temp_dir dir;
    if (::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
        WARN("skipped: mknod failed here (errno " << errno << ")");
        return;
    }
    const aw::write_options o{.overwrite = true, .metadata = aw::metadata_mode::fresh};
    CHECK(refused_as_not_regular(dir / "null", o));
    CHECK(fs::is_character_file(fs::symlink_status(dir / "null")));
    CHECK(temp_dir::list(dir.path()) == std::vector<std::string>{"null"});
}

TEST_CASE("atomic_write: a callback that commits the writer itself is not an error", "[atomic_write]") {
    temp_dir dir;
    const fs::path target = dir / "f";
    const thrown_error e = catch_error([&] {
        aw::atomic_write(target,
                         [](aw::atomic_writer& w) {
                             w.write(new_content);
                             w.commit();
                         },
                         {.overwrite = true});
    });
    CHECK_FALSE(e.threw);
    CHECK(read_file(target) == new_content);
}

TEST_CASE("atomic_write: a callback that rolls the writer back is not an error, and changes nothing",
          "[atomic_write]") {
    temp_dir dir;
    const fs::path target = dir / "f";
    write_plain(target, old_content);
    const thrown_error e = catch_error([&] {
        aw::atomic_write(target,
                         [](aw::atomic_writer& w) {
                             w.write(new_content);
                             w.rollback();
                         },
                         {.overwrite = true});
    });
    CHECK_FALSE(e.threw);
    CHECK(read_file(target) == old_content);
    CHECK(temp_dir::list(dir.path()) == std::vector<std::string>{"f"});
}

TEST_CASE("a second commit() is a usage error (filesystem_error), never a durability_error", "[commit]") {
    temp_dir dir;
    aw::atomic_writer w(dir / "f");
    w.write(new_content);
    w.commit();
    bool durability = false;
    bool usage = false;
    try {
        w.commit();
    } catch (const aw::durability_error&) {
        durability = true;
    } catch (const fs::filesystem_error& e) {
        usage = e.code() == std::errc::bad_file_descriptor;
    }
    CHECK_FALSE(durability);
    CHECK(usage);
    CHECK(read_file(dir / "f") == new_content);
}
