// SPDX-License-Identifier: MIT
// write_options::prealloc on real filesystems (a tmpfs, and as root loop-mounted ext4,
// XFS and btrfs): the automatic choice reserves space only on ext4 and only for big
// writes, always and never do what they say, a reservation never changes the file's
// size or content, a filesystem that cannot reserve is not an error and a full one is.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

struct place {
    std::string name;
    fs::path dir;
};

std::vector<place> places(const test::temp_dir& base, std::vector<std::unique_ptr<test::loop_image>>& keep) {
    fs::create_directory(base / "tmpfs");
    std::vector<place> out{{"tmpfs", base / "tmpfs"}};
    for (const char* type : {"ext4", "xfs", "btrfs"}) {
        const fs::path d = base / type;
        fs::create_directory(d);
        keep.push_back(std::make_unique<test::loop_image>(d, type));
        if (!keep.back()->mounted()) {
            WARN("no " << type << ": " << keep.back()->why_not());
            continue;
        }
        fs::create_directory(keep.back()->path() / "d");
        out.push_back({type, keep.back()->path() / "d"});
    }
    return out;
}

/// Bytes allocated to the open file `fd`.
std::uint64_t allocated(int fd) {
    struct ::stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

}  // namespace

TEST_CASE("prealloc reserves space where it pays: automatic on ext4 for big writes; always; never", "[prealloc]") {
    test::temp_dir base(test::fast_base());
    std::vector<std::unique_ptr<test::loop_image>> images;
    const std::string big = test::pattern(16 * 1024 * 1024 + 5, 4);
    const std::string small = test::pattern(4096, 4);
    for (const place& p : places(base, images)) {
        INFO("filesystem " << p.name);
        const fs::path target = p.dir / "target";
        struct expectation {
            aw::prealloc_mode mode;
            const std::string* data;
            std::size_t statfs, fallocate;
        };
        const bool ext4 = p.name == "ext4";
        const std::vector<expectation> cases{
            {aw::prealloc_mode::automatic, &big, 1, ext4 ? 1u : 0u},
            {aw::prealloc_mode::automatic, &small, 0, 0},
            {aw::prealloc_mode::always, &big, 0, 1},
            {aw::prealloc_mode::always, &small, 0, 1},
            {aw::prealloc_mode::never, &big, 0, 0},
        };
        for (const expectation& e : cases) {
            INFO("mode " << static_cast<int>(e.mode) << ", " << e.data->size() << " bytes");
            test::scripted_hook hook;
            {
                aw::scoped_syscall_hook scope(hook);
                aw::write_file(target, *e.data, {.overwrite = true, .prealloc = e.mode});
            }
            INFO("calls: " << hook.trace());
            CHECK(hook.count(sysop::statfs) == e.statfs);
            CHECK(hook.count(sysop::fallocate) == e.fallocate);
            CHECK(test::read_file(target) == *e.data);
            CHECK(test::temp_dir::list(p.dir) == std::vector<std::string>{"target"});
        }
    }
}

TEST_CASE("a reservation keeps the size: fewer bytes written than reserved leave no zeros", "[prealloc]") {
    test::temp_dir base(test::fast_base());
    std::vector<std::unique_ptr<test::loop_image>> images;
    for (const place& p : places(base, images)) {
        INFO("filesystem " << p.name);
        const fs::path target = p.dir / "target";
        aw::atomic_write(target,
                         [&](aw::atomic_writer& w) {
                             w.reserve(4 * 1024 * 1024);
                             // prealloc_mode::always: the blocks are there before a byte is written.
                             CHECK(allocated(w.native_handle()) >= 4 * 1024 * 1024);
                             w.write(std::string_view("short"));
                         },
                         {.overwrite = true, .prealloc = aw::prealloc_mode::always});
        CHECK(test::read_file(target) == "short");
        CHECK(fs::file_size(target) == 5);
    }
}

TEST_CASE("a filesystem that cannot reserve is no error; a full one names the step", "[prealloc]") {
    test::temp_dir dir(test::fast_base());
    const fs::path target = dir / "target";
    test::write_plain(target, test::old_content);
    const std::string data = test::pattern(1024 * 1024, 2);
    const aw::write_options always{.overwrite = true, .prealloc = aw::prealloc_mode::always};
    for (const int refusal : {EOPNOTSUPP, ENOSYS, EINVAL}) {
        test::scripted_hook hook;
        hook.fail_every(sysop::fallocate, refusal);
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(target, data, always);
        }
        CHECK(hook.count(sysop::fallocate) == 1);
        CHECK(test::read_file(target) == data);
    }
    test::write_plain(target, test::old_content);
    for (const int failure : {ENOSPC, EDQUOT, EIO}) {
        INFO("errno " << failure);
        test::scripted_hook hook;
        hook.fail_every(sysop::fallocate, failure);
        std::string what;
        {
            aw::scoped_syscall_hook scope(hook);
            try {
                aw::write_file(target, data, always);
            } catch (const fs::filesystem_error& e) {
                what = e.what();
                CHECK(e.code().value() == failure);
            }
        }
        CHECK(test::contains(what, "reserve space for temporary file"));
        CHECK(test::contains(what, target.string()));
        CHECK(test::read_file(target) == test::old_content);
        CHECK(dir.names() == std::vector<std::string>{"target"});
        // The error_code form says the same.
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(hook);
            CHECK(aw::write_file(target, data, always, ec) == aw::commit_state::unchanged);
        }
        CHECK(ec.value() == failure);
        CHECK(dir.names() == std::vector<std::string>{"target"});
    }
    // A failure of the fstatfs that chooses is no error: nothing is reserved.
    const std::string big = test::pattern(16 * 1024 * 1024, 3);
    test::scripted_hook hook;
    hook.fail_every(sysop::statfs, EIO);
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(target, big, {.overwrite = true});
    }
    CHECK(hook.count(sysop::statfs) == 1);
    CHECK(hook.count(sysop::fallocate) == 0);
    CHECK(test::read_file(target) == big);
}
