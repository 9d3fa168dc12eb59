// SPDX-License-Identifier: MIT
// Hostile directories, for every policy combination: a link (or a file, or a FIFO)
// planted at the very name a temporary file is about to get is never followed or
// opened; the temporary file is never more permissive than the final file at any moment
// of the write (its mode is looked at around every system call); renaming the parent
// directory, or putting a link in its place, in the middle of a write does not redirect
// the commit; and a link or directory put at the target after the writer was made is
// never written through.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;
using names = std::vector<std::string>;

using test::new_content;
using test::old_content;

/// One policy combination behind plain functions, for checks compiled once: the general
/// kind, and a write that pauses between two halves.
struct writer_kind : test::writer_kind {
    /// Makes a writer for `target`, calls `middle` between two writes, then commits.
    aw::commit_state (*write_paused)(const fs::path& target, const aw::write_options& options,
                                     const std::function<void()>& middle, std::error_code& ec);
};

template <class W>
aw::commit_state write_with(const fs::path& target, const aw::write_options& options,
                            const std::function<void()>& middle, std::error_code& ec) {
    W w(target, options, ec);
    if (ec) return aw::commit_state::unchanged;
    const std::string half = new_content.substr(0, 5);
    w.write(half, ec);
    if (!ec && middle) middle();
    if (!ec) w.write(new_content.substr(5), ec);
    if (ec) return aw::commit_state::unchanged;
    return w.commit(ec);
}

template <class W>
writer_kind kind_of() {
    return {test::kind_of<W>(), &write_with<W>};
}

/// The overwrite value for a writer to replace an existing target, or create a new one.
bool overwrite_for(const writer_kind& k, bool existing) { return existing || !k.can_keep; }

// --- planted at the temporary name ---------------------------------------------------------

/// Plants something at the name the library is about to create or link its temporary
/// file under, the instant before it does.
class planting_hook : public aw::syscall_hook {
public:
    enum class what { symlink, hard_link, fifo, directory };
    planting_hook(what w, fs::path victim) : what_(w), victim_(std::move(victim)) {}

    int before(aw::syscall_info& info) noexcept override {
        const bool naming = info.op == sysop::create_file ||
                            (info.op == sysop::link_anonymous && info.name2 != nullptr && is_temp(info.name2));
        if (!naming || planted_ >= 1) return 0;
        const int dir = info.op == sysop::create_file ? info.dir : info.dir2;
        const char* name = info.op == sysop::create_file ? info.name : info.name2;
        int r = -1;
        switch (what_) {
            case what::symlink:
                r = ::symlinkat(victim_.c_str(), dir, name);
                break;
            case what::hard_link:
                r = ::linkat(AT_FDCWD, victim_.c_str(), dir, name, 0);
                break;
            case what::fifo:
                r = ::mkfifoat(dir, name, 0666);
                break;
            case what::directory:
                r = ::mkdirat(dir, name, 0777);
                break;
        }
        if (r == 0) {
            ++planted_;
            planted_name = name;
        }
        return 0;
    }
    int planted() const { return planted_; }
    std::string planted_name;

private:
    static bool is_temp(const char* name) { return aw::is_temp_name(name); }
    what what_;
    fs::path victim_;
    int planted_ = 0;
};

void planted_at_temp_name(const writer_kind& k) {
    using what = planting_hook::what;
    for (const what w : {what::symlink, what::hard_link, what::fifo, what::directory}) {
        for (const bool existing : {false, true}) {
            if (existing && !k.can_replace) continue;
            const bool overwrite = overwrite_for(k, existing);
            INFO("planted: " << static_cast<int>(w) << ", existing target: " << existing);
            test::temp_dir dir(test::fast_base());
            test::temp_dir elsewhere(test::fast_base());
            const fs::path victim = elsewhere / "victim";
            test::write_plain(victim, "not to be touched");
            ::chmod(victim.c_str(), 0600);
            const fs::path target = dir / "target";
            if (existing) test::write_plain(target, old_content);
            planting_hook hook(w, victim);
            std::error_code ec;
            aw::commit_state st;
            {
                aw::scoped_syscall_hook scope(hook);
                st = k.write_paused(target, {.overwrite = overwrite}, {}, ec);
            }
            // The victim is never written, its mode never changed, whatever happened.
            CHECK(test::read_file(victim) == "not to be touched");
            CHECK(test::mode_of(victim) == 0600);
            CHECK(elsewhere.names() == names{"victim"});
            if (k.may_be_anonymous && !overwrite) {
                // An anonymous temporary file linked straight onto the target: no
                // temporary name to plant at.
                CHECK(hook.planted() == 0);
                CHECK_FALSE(ec);
                continue;
            }
            REQUIRE(hook.planted() == 1);
            if (k.named_temp) {
                // A fixed name that is taken: the writer refuses, and leaves what is there.
                CHECK(ec == std::errc::file_exists);
                CHECK(st == aw::commit_state::unchanged);
                if (existing)
                    CHECK(test::read_file(target) == old_content);
                else
                    CHECK_FALSE(fs::exists(fs::symlink_status(target)));
            } else {
                // A random name that is taken: another one is drawn.
                CHECK_FALSE(ec);
                CHECK(st == aw::commit_state::published);
                CHECK(test::read_file(target) == new_content);
                CHECK_FALSE(fs::is_symlink(target));
            }
            names expected{hook.planted_name};
            if (existing || !ec) expected.push_back("target");
            std::sort(expected.begin(), expected.end());
            CHECK(dir.names() == expected);
        }
    }
}

// --- the temporary file's mode at every moment ---------------------------------------------

/// Looks at the temporary file's mode and owner around every system call, from its
/// creation to its publication, and keeps the widest it saw.
class mode_watch : public aw::syscall_hook {
public:
    mode_watch(unsigned final_mode, unsigned final_uid, unsigned final_gid)
        : final_mode_(final_mode), final_uid_(final_uid), final_gid_(final_gid) {}
    ~mode_watch() override {
        if (watch_ >= 0) ::close(watch_);
    }

    int before(aw::syscall_info&) noexcept override {
        look();
        return 0;
    }
    void after(const aw::syscall_info& info, int error) noexcept override {
        if (error == 0 && watch_ < 0) {
            if (info.op == sysop::create_file)
                watch_ = ::openat(info.dir, info.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            else if (info.op == sysop::create_anonymous)
                anonymous_ = true;
        }
        if (watch_ < 0 && anonymous_ && info.file >= 0) {
            // The first call on the anonymous file's descriptor names it for us.
            struct ::stat st {};
            if (::fstat(info.file, &st) == 0 && S_ISREG(st.st_mode)) watch_ = ::fcntl(info.file, F_DUPFD_CLOEXEC, 0);
        }
        look();
    }

    int looks = 0;
    int too_wide = 0;
    std::string first_problem;

private:
    void look() {
        if (watch_ < 0) return;
        struct ::stat st {};
        if (::fstat(watch_, &st) != 0) return;
        ++looks;
        const unsigned mode = static_cast<unsigned>(st.st_mode) & 07777u;
        // What each class of users may do with the temporary file must be no more than
        // what it may do with the final file: others; the group, if it is the final
        // group (else its members count as others); set-id bits at all.
        unsigned allowed = final_mode_ & 07007u;
        allowed |= st.st_gid == final_gid_ ? final_mode_ & 0070u : (final_mode_ & 0007u) << 3;
        allowed |= st.st_uid == final_uid_ ? final_mode_ & 0700u : 0700u;  // the writer's own file
        if ((mode & ~allowed) != 0) {
            ++too_wide;
            if (first_problem.empty())
                first_problem = "mode " + std::to_string(mode) + " (octal " + octal(mode) + "), uid " +
                                std::to_string(st.st_uid) + ", gid " + std::to_string(st.st_gid);
        }
    }
    static std::string octal(unsigned v) {
        char b[16];
        std::snprintf(b, sizeof b, "%o", v);
        return b;
    }
    unsigned final_mode_;
    unsigned final_uid_;
    unsigned final_gid_;
    int watch_ = -1;
    bool anonymous_ = false;
};

void temp_never_wider(const writer_kind& k) {
    struct setup {
        const char* name;
        bool existing;
        unsigned mode;  // the existing file's mode, or the umask for a new one
        bool foreign;   // the existing file belongs to another user (root only)
        fs::perms explicit_mode = fs::perms::unknown;
    };
    const setup setups[] = {
        {"new file, umask 022", false, 022, false},
        {"new file, umask 077", false, 077, false},
        {"new file, umask 000", false, 000, false},
        {"new file, write_options::mode 0600", false, 000, false, fs::perms(0600)},
        {"replacing 0600", true, 0600, false},
        {"replacing 0640", true, 0640, false},
        {"replacing 0444", true, 0444, false},
        {"replacing 04750", true, 04750, false},
        {"replacing 0640 of another user", true, 0640, true},
        {"replacing 02770 of another user", true, 02770, true},
        {"replacing 0604 of another user", true, 0604, true},
    };
    for (const setup& s : setups) {
        if (s.existing && !k.can_replace) continue;
        if (s.foreign && !test::is_root()) continue;
        INFO(s.name);
        test::temp_dir dir(test::fast_base());
        const fs::path target = dir / "target";
        const test::scoped_umask umask(s.existing ? 022 : s.mode);
        unsigned final_mode = s.existing ? s.mode : 0666u & ~s.mode;
        unsigned uid = ::geteuid();
        unsigned gid = ::getegid();
        if (s.existing) {
            test::write_plain(target, old_content);
            if (s.foreign) {
                REQUIRE(::chown(target.c_str(), 65534, 65534) == 0);
                uid = gid = 65534;
            }
            REQUIRE(::chmod(target.c_str(), s.mode) == 0);
        }
        if (s.explicit_mode != fs::perms::unknown) final_mode = static_cast<unsigned>(s.explicit_mode);
        mode_watch hook(final_mode, uid, gid);
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(hook);
            k.write_paused(target, {.overwrite = overwrite_for(k, s.existing), .mode = s.explicit_mode}, {}, ec);
        }
        INFO("first problem: " << hook.first_problem);
        REQUIRE_FALSE(ec);
        CHECK(hook.looks >= 6);
        CHECK(hook.too_wide == 0);
        CHECK(test::mode_of(target) == final_mode);
    }
}

// --- the parent directory moved in the middle of a write -----------------------------------

void parent_moved(const writer_kind& k) {
    enum class swap { renamed, replaced_by_link, moved_far };
    for (const swap how : {swap::renamed, swap::replaced_by_link, swap::moved_far}) {
        for (const bool existing : {false, true}) {
            if (existing && !k.can_replace) continue;
            INFO("parent " << static_cast<int>(how) << ", existing target: " << existing);
            test::temp_dir dir(test::fast_base());
            test::temp_dir elsewhere(test::fast_base());
            fs::create_directory(dir / "a");
            fs::create_directory(dir / "far");
            if (existing) test::write_plain(dir / "a" / "target", old_content);
            test::write_plain(elsewhere / "target", "attacker's");
            const fs::path moved_to = how == swap::moved_far ? dir / "far" / "b" : dir / "b";
            auto middle = [&] {
                fs::rename(dir / "a", moved_to);
                if (how == swap::replaced_by_link)
                    fs::create_directory_symlink(elsewhere.path(), dir / "a");
                else
                    fs::create_directory(dir / "a");
            };
            std::error_code ec;
            const aw::commit_state st =
                k.write_paused(dir / "a" / "target", {.overwrite = overwrite_for(k, existing)}, middle, ec);
            CHECK_FALSE(ec);
            CHECK(st == aw::commit_state::published);
            // The commit went to the directory the writer opened, wherever it is now.
            CHECK(test::read_file(moved_to / "target") == new_content);
            CHECK(test::temp_dir::list(moved_to) == names{"target"});
            CHECK(test::read_file(elsewhere / "target") == "attacker's");
            CHECK(elsewhere.names() == names{"target"});
            if (how != swap::replaced_by_link) CHECK(test::temp_dir::list(dir / "a").empty());
        }
    }
}

/// The same, with the move made during the commit itself: after the data is synced and
/// before the file is published.
void parent_moved_during_commit(const writer_kind& k) {
    struct move_before_publish : aw::syscall_hook {
        fs::path from, to;
        bool moved = false;
        int before(aw::syscall_info& info) noexcept override {
            const bool publishing = info.op == sysop::rename || info.op == sysop::rename_noreplace ||
                                    info.op == sysop::link || info.op == sysop::link_anonymous;
            if (publishing && !moved) {
                std::error_code ec;
                fs::rename(from, to, ec);
                fs::create_directory(from, ec);
                moved = !ec;
            }
            return 0;
        }
    };
    for (const bool existing : {false, true}) {
        if (existing && !k.can_replace) continue;
        INFO("existing target: " << existing);
        test::temp_dir dir(test::fast_base());
        fs::create_directory(dir / "a");
        if (existing) test::write_plain(dir / "a" / "target", old_content);
        move_before_publish hook;
        hook.from = dir / "a";
        hook.to = dir / "b";
        std::error_code ec;
        {
            aw::scoped_syscall_hook scope(hook);
            k.write_paused(dir / "a" / "target", {.overwrite = overwrite_for(k, existing)}, {}, ec);
        }
        CHECK(hook.moved);
        CHECK_FALSE(ec);
        CHECK(test::read_file(dir / "b" / "target") == new_content);
        CHECK(test::temp_dir::list(dir / "b") == names{"target"});
        CHECK(test::temp_dir::list(dir / "a").empty());
    }
}

void temp_directory_moved(const writer_kind& k) {
    if (!k.can_replace) return;
    test::temp_dir dir(test::fast_base());
    fs::create_directory(dir / "scratch");
    test::write_plain(dir / "target", old_content);
    std::error_code ec;
    k.write_paused(
        dir / "target", {.overwrite = true, .temp_directory = dir / "scratch"},
        [&] {
            fs::rename(dir / "scratch", dir / "moved");
            fs::create_directory_symlink(dir.path(), dir / "scratch");  // a loop back, to confuse
        },
        ec);
    CHECK_FALSE(ec);
    CHECK(test::read_file(dir / "target") == new_content);
    CHECK(test::temp_dir::list(dir / "moved").empty());
    CHECK(dir.names() == names{"moved", "scratch", "target"});
}

// --- the target replaced in the middle of a write ------------------------------------------

void target_swapped(const writer_kind& k) {
    // A link put at the target after the writer was made, whatever the symlink_mode.
    for (const aw::symlink_mode mode :
         {aw::symlink_mode::replace, aw::symlink_mode::follow, aw::symlink_mode::refuse}) {
        for (const bool overwrite : {true, false}) {
            if (overwrite ? !k.can_replace : !k.can_keep) continue;
            INFO("symlink_mode " << static_cast<int>(mode) << ", overwrite: " << overwrite);
            test::temp_dir dir(test::fast_base());
            test::temp_dir elsewhere(test::fast_base());
            test::write_plain(elsewhere / "victim", "not to be touched");
            if (overwrite) test::write_plain(dir / "target", old_content);
            std::error_code ec;
            const aw::commit_state st = k.write_paused(
                dir / "target", {.overwrite = overwrite, .symlinks = mode},
                [&] {
                    std::error_code ignored;
                    fs::remove(dir / "target", ignored);
                    fs::create_symlink(elsewhere / "victim", dir / "target");
                },
                ec);
            INFO(ec.message());
            CHECK(test::read_file(elsewhere / "victim") == "not to be touched");
            CHECK(elsewhere.names() == names{"victim"});
            if (overwrite) {
                // The link itself is replaced: nothing is written through it.
                CHECK_FALSE(ec);
                CHECK(st == aw::commit_state::published);
                CHECK_FALSE(fs::is_symlink(dir / "target"));
                CHECK(test::read_file(dir / "target") == new_content);
            } else {
                // Something is at the target now: the no-overwrite commit refuses.
                CHECK(ec == std::errc::file_exists);
                CHECK(st == aw::commit_state::unchanged);
                CHECK(fs::is_symlink(dir / "target"));
            }
            CHECK(dir.names() == names{"target"});
        }
    }
    // A directory put at the target: the rename fails, the directory stays as it is.
    if (!k.can_replace) return;
    test::temp_dir dir(test::fast_base());
    test::write_plain(dir / "target", old_content);
    std::error_code ec;
    const aw::commit_state st = k.write_paused(
        dir / "target", {.overwrite = true},
        [&] {
            fs::remove(dir / "target");
            fs::create_directory(dir / "target");
            test::write_plain(dir / "target" / "inside", "kept");
        },
        ec);
    CHECK(st == aw::commit_state::unchanged);
    CHECK((ec == std::errc::is_a_directory || ec == std::errc::directory_not_empty));
    CHECK(test::read_file(dir / "target" / "inside") == "kept");
    CHECK(dir.names() == names{"target"});
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("something planted at the temporary name is never followed or opened", "[hostile]",
                        test::all_writers) {
    planted_at_temp_name(kind_of<TestType>());
}

TEMPLATE_LIST_TEST_CASE("the temporary file is never more permissive than the final file, at any moment",
                        "[hostile][permissions]", test::all_writers) {
    temp_never_wider(kind_of<TestType>());
}

TEMPLATE_LIST_TEST_CASE("moving the parent directory mid-write does not redirect the commit", "[hostile]",
                        test::all_writers) {
    parent_moved(kind_of<TestType>());
    parent_moved_during_commit(kind_of<TestType>());
    temp_directory_moved(kind_of<TestType>());
}

TEMPLATE_LIST_TEST_CASE("a link or directory put at the target mid-write is never written through", "[hostile]",
                        test::all_writers) {
    target_swapped(kind_of<TestType>());
}
