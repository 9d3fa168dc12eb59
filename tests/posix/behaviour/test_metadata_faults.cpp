// SPDX-License-Identifier: MIT
// A failure injected at every system call of the metadata controls (write_options::
// owner_ids, create_mode, owner_mode::require), in the error_code and the throwing form:
// the target holds the old content or the new one, never anything else; the new one
// only with the owner and mode asked for (one a failed umask read leaves narrower, never
// wider); a failure before publication reports the target unchanged and leaves it so;
// no temporary file is left. Then every fchown is refused as a kernel refuses it
// (EPERM): an explicit owner and owner_mode::require fail, the target untouched.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"

namespace fs = std::filesystem;
namespace aw = atomicwrites;

namespace {

constexpr unsigned keep = aw::file_owner::unchanged;

struct expected_metadata {
    unsigned uid;
    unsigned gid;
    unsigned mode;
};

struct scenario {
    const char* name;
    bool exists;  // the target exists before the run (owned by old_uid:old_gid, old_mode)
    unsigned old_uid, old_gid, old_mode;
    aw::write_options options;  // overwrite is set
    expected_metadata after;    // what the new file has
    bool refusal_is_error;      // a refused fchown fails the write
};

const std::string old_text = "old content";
const std::string new_text = "new content, longer";

std::vector<scenario> scenarios() {
    // As root the files change hands; otherwise the ids are the process's own (the
    // fchown is made all the same).
    const bool root = test::is_root();
    const unsigned me = ::geteuid(), my_group = ::getegid();
    const unsigned other = root ? 65534u : me, other_group = root ? 100u : my_group;
    std::vector<scenario> out;
    {
        scenario s{
            "a new file with owner_ids and create_mode 0640", false, 0, 0, 0, {}, {other, other_group, 0640}, true};
        s.options.owner_ids = aw::file_owner{other, other_group};
        s.options.create_mode = fs::perms(0640);
        out.push_back(s);
    }
    {
        scenario s{"a new file with owner_ids and mode 02750", false, 0, 0, 0, {}, {other, other_group, 02750}, true};
        s.options.owner_ids = aw::file_owner{other, other_group};
        s.options.mode = fs::perms(02750);
        out.push_back(s);
    }
    {
        scenario s{"replacing, with the group of owner_ids",
                   true,
                   other,
                   my_group,
                   0640,
                   {},
                   {other, other_group, 0640},
                   true};
        s.options.owner_ids = aw::file_owner{keep, other_group};
        out.push_back(s);
    }
    {
        scenario s{"replacing another's file with owner_mode::require",
                   true,
                   other,
                   other_group,
                   0604,
                   {},
                   {other, other_group, 0604},
                   true};
        s.options.owner = aw::owner_mode::require;
        out.push_back(s);
    }
    {
        scenario s{"replacing one's own file with owner_mode::require",
                   true,
                   me,
                   my_group,
                   0640,
                   {},
                   {me, my_group, 0640},
                   true};
        s.options.owner = aw::owner_mode::require;
        out.push_back(s);
    }
    {
        scenario s{"a new file with create_mode 0604", false, 0, 0, 0, {}, {me, my_group, 0604}, false};
        s.options.create_mode = fs::perms(0604);
        out.push_back(s);
    }
    for (scenario& s : out) s.options.overwrite = true;
    return out;
}

void prepare(const test::temp_dir& dir, const scenario& s) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.path())) fs::remove(e.path(), ec);
    if (!s.exists) return;
    test::write_plain(dir / "f", old_text);
    REQUIRE(::chown((dir / "f").c_str(), s.old_uid, s.old_gid) == 0);
    REQUIRE(::chmod((dir / "f").c_str(), s.old_mode) == 0);
}

// After one injected failure: old or new (new only with its metadata), nothing else.
// `narrower_ok`: the umask read failed, and the mode may be the narrower creation mode.
void check_after(const test::temp_dir& dir, const scenario& s, bool failed, bool published, bool narrower_ok) {
    const fs::path p = dir / "f";
    const bool there = fs::exists(p);
    const std::string now = there ? test::read_file(p) : std::string();
    if (published || !failed) {
        REQUIRE(now == new_text);
        const test::ownership st = test::ownership_of(p);
        CHECK(st.uid == s.after.uid);
        CHECK(st.gid == s.after.gid);
        if (narrower_ok)
            CHECK((st.mode & ~s.after.mode) == 0u);
        else
            CHECK(st.mode == s.after.mode);
    } else if (s.exists) {
        CHECK(now == old_text);
        const test::ownership st = test::ownership_of(p);
        CHECK(st.uid == s.old_uid);
        CHECK(st.gid == s.old_gid);
        CHECK(st.mode == s.old_mode);
    } else {
        CHECK_FALSE(there);
    }
    const std::vector<std::string> names = dir.names();
    CHECK(names.size() == (there ? 1u : 0u));
}

}  // namespace

TEST_CASE("every system call of the metadata controls fails in turn", "[faults][metadata-control]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    const test::scoped_umask mask(022);
    std::size_t injected = 0;
    for (const scenario& s : scenarios()) {
        INFO(s.name);
        prepare(dir, s);
        test::scripted_hook recording;
        {
            aw::scoped_syscall_hook scope(recording);
            aw::write_file(p, new_text, s.options);
        }
        check_after(dir, s, false, true, false);
        const std::size_t calls = recording.calls.size();
        INFO("calls: " << recording.trace());
        REQUIRE(calls > 5);
        // The paths of the controls are there to fail: the fchown, and the umask read
        // where the mode is set after a change of group.
        const bool other_group = test::is_root() && s.after.gid != static_cast<unsigned>(::getegid());
        if (s.options.owner_ids) CHECK(recording.count(aw::sysop::chown) == 1);
        CHECK(recording.count(aw::sysop::read_umask) ==
              (other_group && s.options.create_mode != fs::perms::unknown ? 1u : 0u));
        for (std::size_t i = 0; i < calls; ++i) {
            for (const bool throwing : {false, true}) {
                const aw::sysop op = recording.calls[i].op;
                INFO("failing call " << i << " (" << aw::to_string(op) << "), "
                                     << (throwing ? "throwing" : "error_code") << " form");
                prepare(dir, s);
                test::scripted_hook hook;
                hook.fail_call(i, test::err::io);
                bool failed = false;
                bool published = false;
                {
                    aw::scoped_syscall_hook scope(hook);
                    if (throwing) {
                        try {
                            aw::write_file(p, new_text, s.options);
                        } catch (const aw::durability_error&) {
                            failed = published = true;
                        } catch (const fs::filesystem_error& e) {
                            failed = true;
                            CHECK(std::string(e.what()).find("atomicwrites: ") != std::string::npos);
                            CHECK(e.path1() == p);
                        }
                    } else {
                        std::error_code ec;
                        published = aw::write_file(p, new_text, s.options, ec) == aw::commit_state::published;
                        failed = static_cast<bool>(ec);
                    }
                }
                CHECK(hook.injected() == 1);
                // Only a failed close (the descriptor is released all the same), the
                // extended attributes a replacement keeps where it can, and the umask read
                // (the narrower creation mode stays) may go unreported.
                if (!failed)
                    CHECK((op == aw::sysop::close || op == aw::sysop::set_xattr || op == aw::sysop::list_xattrs ||
                           op == aw::sysop::get_xattr || op == aw::sysop::read_umask));
                check_after(dir, s, failed, published, op == aw::sysop::read_umask);
                ++injected;
            }
        }
    }
    CHECK(injected > 100);
    test::report_figure("metadata control faults injected: " + std::to_string(injected));
}

TEST_CASE("a refused fchown fails an explicit owner and owner_mode::require", "[faults][metadata-control]") {
    test::temp_dir dir;
    const fs::path p = dir / "f";
    const test::scoped_umask mask(022);
    for (const scenario& s : scenarios()) {
        for (const int refusal : {EPERM, EINVAL, EOPNOTSUPP}) {
            INFO(s.name << ", refused with " << refusal);
            prepare(dir, s);
            test::scripted_hook hook;
            hook.fail_op(aw::sysop::chown, refusal);
            const test::thrown_error e = [&] {
                aw::scoped_syscall_hook scope(hook);
                return test::catch_error([&] { aw::write_file(p, new_text, s.options); });
            }();
            if (hook.injected() == 0) {
                // No fchown to refuse: one's own file kept as it is, a new file of the process.
                CHECK_FALSE(e.threw);
                continue;
            }
            if (s.refusal_is_error) {
                REQUIRE(e.threw);
                CHECK(e.code.value() == refusal);
                CHECK(e.what.find("set owner of temporary file") != std::string::npos);
                CHECK(e.path1 == p);
                check_after(dir, s, true, false, false);
            } else {
                CHECK_FALSE(e.threw);
            }
        }
    }
}
