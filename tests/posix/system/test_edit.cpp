// SPDX-License-Identifier: MIT
// Atomic edits (edit.hpp, write_options::start) on real filesystems: a tmpfs and, as
// root, loop-mounted XFS (reflink: the copy is a clone), btrfs (clone) and ext4 (a copy
// in the kernel), and the read/write copy forced through the seam. Edits at the start,
// the middle, the end, past the end, and cuts give exactly the expected bytes; the target
// is untouched until the commit; a failed copy leaves nothing; a failure injected at
// every call of an edit leaves the old file or the new one and no temporary file; every
// crash state of an edit by a durable writer is the old file or the new one; in the long
// run, writes over 2 GiB loop. What holds on every platform (a missing target, a failed
// copy, the stream's position) is tests/behaviour/test_edit_portable.cpp's.
#include <catch2/catch.hpp>

#include <atomicwrites/edit.hpp>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "support.hpp"
#include "support/crash_model.hpp"
#include "support/edits.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using test::edits::check_edits;

/// Where the edits are tried: a fast tmpfs always, loop images as root.
struct place {
    std::string name;
    fs::path dir;
    sysop copy;  // the call that should have made the copy
};

/// The places available here; the loop images live as long as `keep`.
std::vector<place> places(const test::temp_dir& base, std::vector<std::unique_ptr<test::loop_image>>& keep) {
    fs::create_directory(base / "tmpfs");
    std::vector<place> out{{"tmpfs", base / "tmpfs", sysop::copy_range}};
    for (const char* type : {"xfs", "btrfs", "ext4"}) {
        const fs::path d = base / type;
        fs::create_directory(d);
        keep.push_back(std::make_unique<test::loop_image>(d, type));
        if (!keep.back()->mounted()) {
            WARN("no " << type << ": " << keep.back()->why_not());
            continue;
        }
        // A directory of its own: ext4 has lost+found at its root.
        fs::create_directory(keep.back()->path() / "d");
        out.push_back(
            {type, keep.back()->path() / "d", std::string(type) == "ext4" ? sysop::copy_range : sysop::clone});
    }
    return out;
}

}  // namespace

TEST_CASE("edits of a copy of the target give exactly the expected bytes on each filesystem", "[edit]") {
    test::temp_dir base(test::fast_base());
    std::vector<std::unique_ptr<test::loop_image>> images;
    for (const place& p : places(base, images)) {
        INFO("filesystem " << p.name);
        check_edits(p.dir, {p.copy}, [](test::scripted_hook&) {});
        // The fallbacks, forced through the seam: no clone, then no copy in the kernel.
        check_edits(p.dir, {sysop::copy_range}, [](test::scripted_hook& h) { h.fail_every(sysop::clone, EOPNOTSUPP); });
        check_edits(p.dir, {sysop::read}, [](test::scripted_hook& h) {
            h.fail_every(sysop::clone, ENOTTY);
            h.fail_every(sysop::copy_range, EXDEV);
        });
        // A fallback after part of the copy carries on where the kernel stopped.
        check_edits(p.dir, {sysop::read}, [](test::scripted_hook& h) {
            h.fail_every(sysop::clone, EINVAL);
            h.fail_op(sysop::copy_range, ENOSYS, 1);
        });
    }
}

TEST_CASE("a failure injected at every call of an edit leaves the old file or the new one", "[edit][faults]") {
    test::temp_dir base(test::fast_base());
    std::vector<std::unique_ptr<test::loop_image>> images;
    const std::string original = test::pattern(200 * 1024, 5);
    std::string expected = original;
    expected.replace(1000, 4, "EDIT");
    expected += "tail";
    // The error_code forms: an edit's failure sticks, and the commit reports it.
    auto edit = [](aw::atomic_writer& w) {
        std::error_code e;
        w.pwrite(1000, std::string_view("EDIT"), e);
        w.truncate(200 * 1024, e);
        w.append("tail", e);
    };
    for (const place& p : places(base, images)) {
        for (const bool forced_fallback : {false, true}) {
            INFO("filesystem " << p.name << (forced_fallback ? ", read/write copy" : ""));
            const fs::path target = p.dir / "target";
            auto rules = [&](test::scripted_hook& h) {
                if (!forced_fallback) return;
                h.fail_every(sysop::clone, EOPNOTSUPP);
                h.fail_every(sysop::copy_range, EOPNOTSUPP);
            };
            test::write_plain(target, original);
            test::scripted_hook all;
            rules(all);
            {
                aw::scoped_syscall_hook scope(all);
                aw::atomic_edit(target, edit);
            }
            REQUIRE(test::read_file(target) == expected);
            const std::size_t n = all.calls.size();
            std::size_t tolerated = 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (all.calls[i].injected) continue;
                test::write_plain(target, original);
                test::scripted_hook hook;
                rules(hook);
                hook.fail_call(i, EIO);
                std::error_code ec;
                aw::commit_state s;
                {
                    aw::scoped_syscall_hook scope(hook);
                    s = aw::atomic_edit(target, edit, {}, ec);
                }
                INFO("failing call " << i << ": " << hook.trace());
                // Failures that are not errors: the minimal ACL of the new file's mode
                // (set_xattr: its mode is set anyway) and the close of the target's
                // read-only descriptor.
                if (!ec) CHECK((all.calls[i].op == sysop::set_xattr || all.calls[i].op == sysop::close));
                if (!ec) ++tolerated;
                if (s == aw::commit_state::unchanged) {
                    CHECK(ec);
                    CHECK(test::read_file(target) == original);
                } else {
                    CHECK(test::read_file(target) == expected);
                }
                CHECK(test::temp_dir::list(p.dir) == std::vector<std::string>{"target"});
            }
            CHECK(tolerated <= 2);
        }
    }
}

namespace {

namespace crash = test::crash;

/// Records an edit by Writer in `dir` and enumerates its crash states: each must hold the
/// old or the new target, and the new one once the edit returned.
template <class Writer>
crash::findings crash_states(const fs::path& dir, const std::function<void(test::scripted_hook&)>& rules) {
    const std::string original = test::pattern(6000, 9);
    std::string expected = original;
    expected.replace(3000, 5, "EDIT!");
    expected = expected.substr(0, 5000) + "end";
    test::write_plain(dir / "target", original);
    const crash::recording r = crash::record(
        dir,
        [&] {
            aw::atomic_edit<Writer>(dir / "target", [](Writer& w) {
                w.pwrite(3000, std::string_view("EDIT!"));
                w.truncate(5000);
                w.append("end");
            });
        },
        [&](crash::recorder& rec) { rules(rec); });
    INFO("calls: " << r.trace);
    REQUIRE(test::read_file(dir / "target") == expected);
    const std::uint64_t root = r.root;
    return crash::enumerate(r.m, [&](const crash::disk& d, bool returned) -> std::string {
        const std::string* s = d.read(root, "target");
        if (s == nullptr) return "target missing";
        if (*s == expected) return "";
        if (*s == original) return returned ? "old content after the edit returned" : "";
        return "a mix of old and new";
    });
}

template <class Writer>
void check_crash_states(const fs::path& dir, bool durable) {
    const std::vector<std::pair<std::string, std::function<void(test::scripted_hook&)>>> paths{
        {"cheapest copy", [](test::scripted_hook&) {}},
        {"copy in the kernel", [](test::scripted_hook& h) { h.fail_every(sysop::clone, EOPNOTSUPP); }},
        {"read/write copy",
         [](test::scripted_hook& h) {
             h.fail_every(sysop::clone, EOPNOTSUPP);
             h.fail_every(sysop::copy_range, EOPNOTSUPP);
         }},
    };
    for (const auto& [name, rules] : paths) {
        INFO(name);
        const crash::findings f = crash_states<Writer>(dir, rules);
        INFO(f.states << " crash states, " << f.bad << " bad; first: " << f.first_problem);
        CHECK(f.states > 0);
        if (durable)
            CHECK(f.bad == 0);
        else
            CHECK(f.bad > 0);
    }
}

}  // namespace

TEST_CASE("every crash state of an edit is the old file or the new one; sync::none fails", "[edit][crash]") {
    test::temp_dir base(test::fast_base());
    std::vector<std::unique_ptr<test::loop_image>> images;
    for (const place& p : places(base, images)) {
        INFO("filesystem " << p.name);
        check_crash_states<aw::atomic_writer>(p.dir, true);
        check_crash_states<aw::basic_atomic_writer<aw::sync::fdatasync>>(p.dir, true);
        check_crash_states<aw::basic_atomic_writer<aw::sync::none>>(p.dir, false);
    }
}

namespace {

/// `size` bytes of zeros that cost no memory (untouched anonymous pages all map the zero
/// page) but for a marker byte every 256 MiB; unmapped on destruction.
class zero_pages {
public:
    explicit zero_pages(std::size_t size) : size_(size) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        REQUIRE(p != MAP_FAILED);
        data_ = static_cast<char*>(p);
        for (std::size_t at = 0; at < size; at += marker_step) data_[at] = marker(at);
        data_[size - 1] = 'E';
    }
    ~zero_pages() { ::munmap(data_, size_); }
    zero_pages(const zero_pages&) = delete;
    zero_pages& operator=(const zero_pages&) = delete;

    std::string_view view() const { return {data_, size_}; }
    static constexpr std::size_t marker_step = std::size_t{256} << 20;
    static char marker(std::size_t at) { return static_cast<char>('A' + at / marker_step); }

private:
    char* data_ = nullptr;
    std::size_t size_;
};

/// The byte at `at` of the file `p`.
char byte_at(const fs::path& p, std::uint64_t at) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    char c = '?';
    const ssize_t n = ::pread(fd, &c, 1, static_cast<off_t>(at));
    ::close(fd);
    REQUIRE(n == 1);
    return c;
}

}  // namespace

TEST_CASE("writes over the 2 GiB of one system call loop correctly (long run)", "[edit][long]") {
    if (!test::long_run()) {
        WARN("skipped: a 2.5 GiB write, only in the long run (ATOMICWRITES_LONG_TESTS=1, scripts/test-long)");
        return;
    }
    // On the disk's filesystem: 2.5 GiB of file would take as much memory on a tmpfs.
    test::temp_dir dir;
    const std::size_t size = (std::size_t{5} << 29) + 7;  // 2.5 GiB and a bit
    const zero_pages source(size);
    const fs::path target = dir / "big";
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(target, source.view(), {.overwrite = true});
    }
    // write(2) moves at most 0x7ffff000 bytes per call: the library looped.
    std::size_t writes = 0, most = 0;
    for (const auto& c : hook.calls)
        if (c.op == sysop::write) ++writes, most = std::max(most, c.size);
    CHECK(writes >= 2);
    CHECK(most <= 0x7ffff000u);
    CHECK(fs::file_size(target) == size);
    for (std::size_t at = 0; at < size; at += zero_pages::marker_step) {
        CHECK(byte_at(target, at) == zero_pages::marker(at));
        CHECK(byte_at(target, at + 1) == '\0');
    }
    CHECK(byte_at(target, size - 1) == 'E');

    // pwrite() of more than 2 GiB at an offset past 2 GiB, in a copy of the file.
    const std::uint64_t offset = std::uint64_t{3} << 30;
    hook.calls.clear();
    {
        aw::scoped_syscall_hook scope(hook);
        aw::atomic_edit(target, [&](aw::atomic_writer& w) { w.pwrite(offset, source.view()); });
    }
    std::size_t pwrites = 0;
    for (const auto& c : hook.calls)
        if (c.op == sysop::pwrite) ++pwrites;
    CHECK(pwrites >= 2);
    CHECK(fs::file_size(target) == offset + size);
    CHECK(byte_at(target, 0) == 'A');
    CHECK(byte_at(target, size) == '\0');  // the hole between the old end and the offset
    CHECK(byte_at(target, offset + zero_pages::marker_step) == 'B');
    CHECK(byte_at(target, offset + size - 1) == 'E');
}
