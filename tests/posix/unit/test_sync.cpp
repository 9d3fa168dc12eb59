// SPDX-License-Identifier: MIT
// <atomicwrites/sync.hpp>: each sync policy makes exactly the calls it documents, on the
// descriptors it documents, and reports their errors.
#include <catch2/catch.hpp>

#include <atomicwrites/sync.hpp>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

const std::string content = "durable content\n";

/// The calls a new-file write with sync policy S makes, with their descriptors.
template <class S>
test::scripted_hook write_new(const fs::path& target) {
    test::scripted_hook hook;
    aw::scoped_syscall_hook scope(hook);
    aw::write_file<aw::basic_atomic_writer<S, aw::commit::automatic, aw::temp::mkstemp>>(target, content,
                                                                                         {.overwrite = true});
    return hook;
}

/// Where the calls of a write stand: the temporary file's descriptor (the one written),
/// the directory's (the one renamed in) and the position of the rename.
struct landmarks {
    int file = -1;
    int dir = -1;
    std::size_t rename_at = 0;
};

landmarks find_landmarks(const test::scripted_hook& hook) {
    landmarks l;
    for (std::size_t i = 0; i < hook.calls.size(); ++i) {
        const auto& c = hook.calls[i];
        if (c.op == sysop::write) l.file = c.file;
        if (c.op == sysop::rename) {
            l.dir = c.dir2;
            l.rename_at = i;
        }
    }
    return l;
}

/// A real open file for the direct policy calls.
class open_file {
public:
    explicit open_file(const fs::path& p) : fd_(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (fd_ < 0) throw std::runtime_error("cannot open " + p.string());
    }
    ~open_file() { ::close(fd_); }
    open_file(const open_file&) = delete;
    open_file& operator=(const open_file&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

}  // namespace

TEST_CASE("sync::none makes no sync call and is not durable", "[sync]") {
    STATIC_REQUIRE_FALSE(aw::sync::none::durable);
    STATIC_REQUIRE(aw::sync_policy<aw::sync::none>);
    test::temp_dir dir;
    const auto hook = write_new<aw::sync::none>(dir / "f");
    CHECK(hook.count(sysop::fsync) == 0);
    CHECK(hook.count(sysop::fdatasync) == 0);
    CHECK(hook.count(sysop::full_fsync) == 0);
    CHECK(test::read_file(dir / "f") == content);

    // Called directly it does nothing at all, even with a descriptor that names nothing.
    test::scripted_hook direct;
    aw::scoped_syscall_hook scope(direct);
    std::error_code ec;
    aw::sync::none{}.sync_file(aw::invalid_handle, ec);
    CHECK_FALSE(ec);
    aw::sync::none{}.sync_directory(aw::invalid_handle, ec);
    CHECK_FALSE(ec);
    CHECK(direct.calls.empty());
}

TEST_CASE("sync::fdatasync: fdatasync the file before the rename, fsync the directory after", "[sync]") {
    STATIC_REQUIRE(aw::sync::fdatasync::durable);
    test::temp_dir dir;
    const auto hook = write_new<aw::sync::fdatasync>(dir / "f");
    const landmarks l = find_landmarks(hook);
    REQUIRE(hook.count(sysop::fdatasync) == 1);
    REQUIRE(hook.count(sysop::fsync) == 1);
    for (std::size_t i = 0; i < hook.calls.size(); ++i) {
        const auto& c = hook.calls[i];
        if (c.op == sysop::fdatasync) {
            CHECK(i < l.rename_at);
            CHECK(c.file == l.file);
        }
        if (c.op == sysop::fsync) {
            CHECK(i > l.rename_at);
            CHECK(c.file == l.dir);
        }
    }
    CHECK(test::read_file(dir / "f") == content);
}

TEST_CASE("sync::fsync: fsync the file before the rename and the directory after", "[sync]") {
    STATIC_REQUIRE(aw::sync::fsync::durable);
    test::temp_dir dir;
    const auto hook = write_new<aw::sync::fsync>(dir / "f");
    const landmarks l = find_landmarks(hook);
    REQUIRE(hook.count(sysop::fsync) == 2);
    CHECK(hook.count(sysop::fdatasync) == 0);
    std::vector<int> synced;
    std::vector<bool> before_rename;
    for (std::size_t i = 0; i < hook.calls.size(); ++i) {
        if (hook.calls[i].op != sysop::fsync) continue;
        synced.push_back(hook.calls[i].file);
        before_rename.push_back(i < l.rename_at);
    }
    CHECK(synced == std::vector<int>{l.file, l.dir});
    CHECK(before_rename == std::vector<bool>{true, false});
}

TEST_CASE("sync::full_fsync: fsync on Linux, where F_FULLFSYNC does not exist", "[sync]") {
    STATIC_REQUIRE(aw::sync::full_fsync::durable);
    test::temp_dir dir;
    const auto hook = write_new<aw::sync::full_fsync>(dir / "f");
    if constexpr (aw::detail::sys::has_full_fsync) {
        CHECK(hook.count(sysop::full_fsync) == 2);
    } else {
        CHECK(hook.count(sysop::full_fsync) == 0);
        CHECK(hook.count(sysop::fsync) == 2);
        const landmarks l = find_landmarks(hook);
        std::vector<int> synced;
        for (const auto& c : hook.calls)
            if (c.op == sysop::fsync) synced.push_back(c.file);
        CHECK(synced == std::vector<int>{l.file, l.dir});
    }
}

TEST_CASE("the default sync policy is durable and syncs file and directory", "[sync]") {
    STATIC_REQUIRE(aw::default_sync::durable);
    STATIC_REQUIRE(aw::is_durable<aw::default_sync>);
    STATIC_REQUIRE_FALSE(aw::is_durable<aw::sync::none>);
    test::temp_dir dir;
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "f", content);
    }
    CHECK(hook.count(sysop::fsync) + hook.count(sysop::fdatasync) + hook.count(sysop::full_fsync) == 2);
}

TEST_CASE("the policies called directly sync the descriptor they are given", "[sync]") {
    test::temp_dir dir;
    open_file file(dir / "f");
    const int dfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        aw::sync::fdatasync{}.sync_file(file.fd(), ec);
        CHECK_FALSE(ec);
        aw::sync::fdatasync{}.sync_directory(dfd, ec);
        CHECK_FALSE(ec);
        aw::sync::fsync{}.sync_file(file.fd(), ec);
        CHECK_FALSE(ec);
        aw::sync::fsync{}.sync_directory(dfd, ec);
        CHECK_FALSE(ec);
    }
    ::close(dfd);
    REQUIRE(hook.calls.size() == 4);
    CHECK(hook.ops() == std::vector<sysop>{sysop::fdatasync, sysop::fsync, sysop::fsync, sysop::fsync});
    CHECK(hook.calls[0].file == file.fd());
    CHECK(hook.calls[1].file == dfd);
    CHECK(hook.calls[2].file == file.fd());
    CHECK(hook.calls[3].file == dfd);
    for (const auto& c : hook.calls) CHECK(c.error == 0);
}

TEST_CASE("sync errors are reported with their errno", "[sync]") {
    test::temp_dir dir;
    open_file file(dir / "f");
    for (int error : {EIO, ENOSPC, EDQUOT, EROFS, EINVAL}) {
        test::scripted_hook hook;
        hook.fail_every(sysop::fsync, error).fail_every(sysop::fdatasync, error);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        aw::sync::fsync{}.sync_file(file.fd(), ec);
        CHECK(ec == std::error_code(error, std::system_category()));
        ec.clear();
        aw::sync::fdatasync{}.sync_file(file.fd(), ec);
        CHECK(ec == std::error_code(error, std::system_category()));
        ec.clear();
        aw::sync::full_fsync{}.sync_directory(file.fd(), ec);
        CHECK(ec == std::error_code(error, std::system_category()));
    }
    // A real error, without the seam failing anything: a descriptor that is not open.
    std::error_code ec;
    aw::sync::fsync{}.sync_file(aw::invalid_handle, ec);
    CHECK(ec == std::error_code(EBADF, std::system_category()));
}

TEST_CASE("an interrupted sync is retried", "[sync]") {
    test::temp_dir dir;
    open_file file(dir / "f");
    for (sysop op : {sysop::fsync, sysop::fdatasync}) {
        test::scripted_hook hook;
        hook.fail_op(op, EINTR, 0).fail_op(op, EINTR, 1);
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        if (op == sysop::fsync)
            aw::sync::fsync{}.sync_file(file.fd(), ec);
        else
            aw::sync::fdatasync{}.sync_file(file.fd(), ec);
        CHECK_FALSE(ec);
        CHECK(hook.count(op) == 3);  // two interrupted, then made
        CHECK(hook.calls.back().injected == false);
    }
}

TEST_CASE("replace_atomic syncs the source file and both directories", "[sync]") {
    test::temp_dir dir;
    fs::create_directory(dir / "a");
    fs::create_directory(dir / "b");
    test::write_plain(dir / "a" / "src", content);
    test::write_plain(dir / "b" / "dst", "old\n");
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::replace_atomic(dir / "a" / "src", dir / "b" / "dst");
    }
    CHECK(test::read_file(dir / "b" / "dst") == content);
    CHECK_FALSE(fs::exists(dir / "a" / "src"));
    std::size_t rename_at = hook.calls.size();
    int src_dir = -1;
    int dst_dir = -1;
    for (std::size_t i = 0; i < hook.calls.size(); ++i) {
        if (hook.calls[i].op == sysop::rename) {
            rename_at = i;
            src_dir = hook.calls[i].dir;
            dst_dir = hook.calls[i].dir2;
        }
    }
    REQUIRE(rename_at < hook.calls.size());
    CHECK(src_dir != dst_dir);
    std::vector<int> before;
    std::vector<int> after;
    for (std::size_t i = 0; i < hook.calls.size(); ++i) {
        if (hook.calls[i].op != sysop::fsync) continue;
        (i < rename_at ? before : after).push_back(hook.calls[i].file);
    }
    CHECK(before.size() == 1);  // the source file
    CHECK(after == std::vector<int>{dst_dir, src_dir});
    CHECK(hook.count(sysop::open_file) == 1);
}

TEST_CASE("replace_atomic with sync::none syncs nothing", "[sync]") {
    test::temp_dir dir;
    test::write_plain(dir / "src", content);
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::replace_atomic<aw::sync::none>(dir / "src", dir / "dst");
    }
    CHECK(test::read_file(dir / "dst") == content);
    CHECK(hook.count(sysop::fsync) == 0);
    CHECK(hook.count(sysop::open_file) == 0);
}

TEST_CASE("a temp_directory is synced along with the target's directory", "[sync]") {
    test::temp_dir dir;
    fs::create_directory(dir / "tmp");
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir / "f", content, {.overwrite = true, .temp_directory = dir / "tmp"});
    }
    CHECK(test::read_file(dir / "f") == content);
    int target_dir = -1;
    int temp_dir = -1;
    for (const auto& c : hook.calls) {
        if (c.op == sysop::rename) {
            temp_dir = c.dir;
            target_dir = c.dir2;
        }
    }
    REQUIRE(target_dir != temp_dir);
    std::vector<int> synced;
    for (const auto& c : hook.calls)
        if (c.op == sysop::fsync) synced.push_back(c.file);
    REQUIRE(synced.size() == 3);
    CHECK(synced[1] == target_dir);
    CHECK(synced[2] == temp_dir);
}
