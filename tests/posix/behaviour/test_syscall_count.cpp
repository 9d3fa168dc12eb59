// SPDX-License-Identifier: MIT
// The system calls of one write, for every policy combination: exactly the minimum each
// policy needs (the table in the README, "System calls per write"), counted through the
// library's seam with the public syscall_counter.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/batch.hpp>

#include <catch2/catch.hpp>

#include <map>

#include <sys/xattr.h>

using namespace test;
using aw::sysop;

namespace {

/// One way of writing a file.
struct scenario {
    bool replacing;  // the target exists (a regular file of ours)
    bool overwrite;  // write_options::overwrite
    bool handle;     // through a directory handle
    bool fresh;      // metadata_mode::fresh
    std::string_view data;
};

/// Whether O_TMPFILE works in `dir` (what temp::first_of<anonymous, ...> finds out).
bool anonymous_files_work(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

/// The calls a write must make, by operation: the minimum table.
template <class W>
std::map<sysop, unsigned long> minimum(const scenario& s, bool anonymous) {
    using S = typename W::sync_type;
    using C = typename W::commit_type;
    std::map<sysop, unsigned long> m;
    auto add = [&m](sysop op, unsigned long n = 1) {
        if (n != 0) m[op] += n;
    };
    if (!s.handle) add(sysop::open_directory);  // the target's directory
    add(sysop::stat);  // mode, owner, type (also fresh: a FIFO or device is refused), existence
    add(anonymous ? sysop::create_anonymous : sysop::create_file);
    if (s.replacing && !s.fresh) {
        add(sysop::stat);         // the new file's owner, group and mode as created (the old mode)
        add(sysop::list_xattrs);  // the old file's extended attributes: none
        // The old file's mode as a minimal ACL, dropping one the directory's default ACL
        // gave the new file; where the filesystem has no ACLs it answers "not supported",
        // and the mode is already right: no fchmod either way.
        add(sysop::set_xattr);
    }
    if (!s.data.empty()) add(sysop::write);
    if constexpr (S::durable) {  // the file's data, before the commit
        if constexpr (std::is_same_v<S, aw::sync::fdatasync>)
            add(sysop::fdatasync);
        else
            add(sysop::fsync);
    }
    add(sysop::close);  // the temporary file
    // The commit.
    const bool renames = s.overwrite;  // rename and automatic; the others cannot replace
    const bool links_only = std::is_same_v<C, aw::commit::link_unlink>;
    if (anonymous) {
        if (renames) {
            add(sysop::link_anonymous);  // a temporary name, then the rename
            add(sysop::rename);
        } else {
            add(sysop::link_anonymous);  // straight onto the target: the no-replace commit
        }
    } else if (renames) {
        add(sysop::rename);
    } else if (links_only) {
        add(sysop::link);
        add(sysop::unlink);
    } else {
        add(sysop::rename_noreplace);
    }
    if constexpr (S::durable) add(sysop::fsync);  // the directory, after the commit
    if (!s.handle) add(sysop::close);             // the directory
    return m;
}

std::map<sysop, unsigned long> counted(const aw::syscall_counter& c) {
    std::map<sysop, unsigned long> m;
    for (unsigned op = 0; op < aw::sysop_count; ++op)
        if (c.count(static_cast<sysop>(op)) != 0) m[static_cast<sysop>(op)] = c.count(static_cast<sysop>(op));
    return m;
}

unsigned long total(const std::map<sysop, unsigned long>& m) {
    unsigned long n = 0;
    for (const auto& [op, count] : m) n += count;
    return n;
}

std::string describe(const std::map<sysop, unsigned long>& m) {
    std::string out;
    for (const auto& [op, count] : m) {
        out += std::string(aw::to_string(op)) + "=" + std::to_string(count) + " ";
    }
    return out;
}

template <class W>
void check_scenario(const temp_dir& dir, const aw::directory& handle, const scenario& s) {
    INFO(type_name<W>() << (s.replacing ? " replacing" : " creating") << (s.overwrite ? ", overwrite" : "")
                        << (s.handle ? ", directory handle" : ", path") << (s.fresh ? ", fresh" : "") << ", "
                        << s.data.size() << " bytes");
    fs::remove(dir / "target");
    if (s.replacing) write_plain(dir / "target", old_content);
    const bool anonymous = W::temp_type::may_be_anonymous && anonymous_files_work(dir.path());
    const aw::write_options options{.overwrite = s.overwrite,
                                    .metadata = s.fresh ? aw::metadata_mode::fresh : aw::metadata_mode::preserve};
    aw::syscall_counter calls;
    {
        aw::scoped_syscall_hook counting(calls);
        if (s.handle)
            aw::write_file<W>(handle, "target", s.data, options);
        else
            aw::write_file<W>(dir / "target", s.data, options);
    }
    CHECK(read_file(dir / "target") == s.data);
    const auto expected = minimum<W>(s, anonymous);
    const auto made = counted(calls);
    INFO("made: " << describe(made) << "\nminimum: " << describe(expected));
    CHECK(made == expected);
    CHECK(calls.total() == total(expected));
}

template <class W>
void check_all_scenarios() {
    temp_dir dir;
    aw::directory handle(dir.path());
    const std::string page(4096, 'x');
    for (bool via_handle : {false, true}) {
        for (bool fresh : {false, true}) {
            for (std::string_view data : {std::string_view(page), std::string_view()}) {
                if constexpr (W::commit_type::can_replace) {
                    check_scenario<W>(dir, handle, {false, true, via_handle, fresh, data});
                    check_scenario<W>(dir, handle, {true, true, via_handle, fresh, data});
                }
                if constexpr (W::commit_type::can_keep)
                    check_scenario<W>(dir, handle, {false, false, via_handle, fresh, data});
            }
        }
    }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("every combination makes exactly the minimum system calls", "[syscalls][typed]", all_writers) {
    check_all_scenarios<TestType>();
}

TEST_CASE("the default write_file: 9 calls for a new file, 12 for a replacement", "[syscalls]") {
    temp_dir dir;
    const std::string page(4096, 'x');
    aw::syscall_counter calls;
    {
        aw::scoped_syscall_hook counting(calls);
        aw::write_file(dir / "target", page, {.overwrite = true});
    }
    CHECK(calls.total() == 9);
    calls.reset();
    CHECK(calls.total() == 0);
    {
        aw::scoped_syscall_hook counting(calls);
        aw::write_file(dir / "target", page, {.overwrite = true});
    }
    // The new file is looked at (its owner, group and mode as created), the old file's
    // extended attributes are listed (none), and the mode is set as a minimal ACL (which
    // drops one the directory's default ACL gave the new file; a filesystem without ACLs
    // refuses it, and the mode is already right: no fchmod).
    CHECK(calls.total() == 12);
    CHECK(calls.count(sysop::stat) == 2);  // the target, then the new file as created
    CHECK(calls.count(sysop::list_xattrs) == 1);
    CHECK(calls.count(sysop::set_xattr) == 1);
    CHECK(calls.count(sysop::chmod) == 0);

    SECTION("a directory handle with fresh metadata: the 6 calls of the hand-written sequence, and fstatat") {
        aw::directory handle(dir.path());
        calls.reset();
        {
            aw::scoped_syscall_hook counting(calls);
            aw::write_file(handle, "target", page, {.overwrite = true, .metadata = aw::metadata_mode::fresh});
        }
        CHECK(calls.total() == 7);
        CHECK(calls.count(sysop::stat) == 1);
    }
}

TEST_CASE("syscall_counter counts only calls that were made", "[syscalls]") {
    temp_dir dir;
    aw::syscall_counter calls;
    {
        aw::scoped_syscall_hook counting(calls);
        std::error_code ec;
        aw::write_file(dir / "missing" / "target", new_content, {}, ec);
        CHECK(ec == std::errc::no_such_file_or_directory);
    }
    CHECK(calls.count(sysop::open_directory) == 1);  // the failed open is a call made
    CHECK(calls.total() == 1);
}

TEST_CASE("a batch of N files in one directory: N file syncs, exactly one directory sync", "[syscalls][batch]") {
    constexpr unsigned long n = 10;
    temp_dir dir;
    const std::string page(4096, 'x');
    for (unsigned long i = 0; i < n; ++i) write_plain(dir / ("f" + std::to_string(i)), old_content);
    // N writes through a directory handle, less N - 1 directory syncs, plus one look at
    // the directory (to tell distinct ones apart); by path, the directory opened and
    // closed once.
    auto expected = minimum<aw::atomic_writer>({true, true, true, false, page}, false);
    for (auto& [op, count] : expected) count *= n;
    expected[sysop::fsync] -= n - 1;
    expected[sysop::stat] += 1;

    SECTION("by path: fewer calls than N write_file calls") {
        expected[sysop::open_directory] += 1;
        expected[sysop::close] += 1;
        aw::syscall_counter calls;
        sync_recording_hook syncs;
        {
            aw::scoped_syscall_hook counting(calls);
            aw::batch b;
            for (unsigned long i = 0; i < n; ++i)
                b.write_file(dir / ("f" + std::to_string(i)), page, {.overwrite = true});
            b.commit();
        }
        const auto made = counted(calls);
        INFO("made: " << describe(made) << "\nexpected: " << describe(expected));
        CHECK(made == expected);
        auto single = minimum<aw::atomic_writer>({true, true, false, false, page}, false);
        CHECK(calls.total() < n * total(single));
        {
            aw::scoped_syscall_hook recording(syncs);
            aw::batch b;
            for (unsigned long i = 0; i < n; ++i)
                b.write_file(dir / ("f" + std::to_string(i)), page, {.overwrite = true});
            b.commit();
        }
        CHECK(syncs.dirs.size() == 1);
        CHECK(syncs.files.size() == n);
    }
    SECTION("through a directory handle") {
        aw::directory handle(dir.path());
        aw::syscall_counter calls;
        {
            aw::scoped_syscall_hook counting(calls);
            aw::batch b;
            for (unsigned long i = 0; i < n; ++i)
                b.write_file(handle, "f" + std::to_string(i), page, {.overwrite = true});
            b.commit();
        }
        const auto made = counted(calls);
        INFO("made: " << describe(made) << "\nexpected: " << describe(expected));
        CHECK(made == expected);
        CHECK(calls.count(sysop::fsync) == n + 1);
    }
}
