// SPDX-License-Identifier: MIT
// <atomicwrites/detail/metadata.hpp> and the pure part of <atomicwrites/detail/target.hpp>:
// the mode and owner rules (plan_metadata) and the reading of a symbolic link's text
// (parse_link), each checked from given statuses and strings, with no file and no
// system call.
#include <catch2/catch.hpp>

#include <atomicwrites/detail/metadata.hpp>
#include <atomicwrites/detail/target.hpp>
#include <atomicwrites/types.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace {

namespace aw = atomicwrites;
namespace sys = atomicwrites::detail::sys;
using aw::detail::metadata_plan;
using aw::detail::plan_metadata;
using kind = sys::file_kind;
using perms = std::filesystem::perms;

constexpr unsigned me_uid = 1000;
constexpr unsigned me_gid = 100;

// Stands in for the system: the ids at exec and now, and how often each was asked.
struct fake_ids {
    sys::owner_ids at_exec{me_uid, me_gid};
    sys::owner_ids now{me_uid, me_gid};
    mutable int asked_process = 0;
    mutable int asked_current = 0;
    sys::owner_ids process() const noexcept {
        ++asked_process;
        return at_exec;
    }
    sys::owner_ids current() const noexcept {
        ++asked_current;
        return now;
    }
};

sys::file_status status(kind k, unsigned mode = 0, unsigned uid = me_uid, unsigned gid = me_gid) {
    sys::file_status st;
    st.kind = k;
    st.mode = mode;
    st.uid = uid;
    st.gid = gid;
    return st;
}

sys::file_status missing() { return status(kind::none, 0, 0, 0); }

// The status a replaced link is given: a link has no mode or owner of its own.
sys::file_status replaced_link() { return status(kind::symlink, 0, 0, 0); }

void check_nothing_to_set(const metadata_plan& p) {
    CHECK(p.create_mode == 0666u);
    CHECK_FALSE(p.set_mode);
    CHECK_FALSE(p.set_owner);
}

}  // namespace

TEST_CASE("a new file is created 0666 and nothing is set: the umask is the kernel's job", "[metadata]") {
    fake_ids ids;
    check_nothing_to_set(plan_metadata(missing(), {}, ids));
    check_nothing_to_set(plan_metadata(missing(), {.overwrite = true}, ids));
    CHECK(ids.asked_process == 0);
    CHECK(ids.asked_current == 0);
}

TEST_CASE("a replaced symbolic link counts as a missing file", "[metadata]") {
    fake_ids ids;
    check_nothing_to_set(plan_metadata(replaced_link(), {.overwrite = true}, ids));
    CHECK(ids.asked_process == 0);
}

TEST_CASE("targets other than regular files give nothing to keep", "[metadata]") {
    fake_ids ids;
    for (kind k : {kind::directory, kind::other, kind::symlink}) {
        CAPTURE(static_cast<int>(k));
        check_nothing_to_set(plan_metadata(status(k, 04755, 0, 0), {.overwrite = true}, ids));
    }
    CHECK(ids.asked_process == 0);
}

TEST_CASE("an explicit mode is created without its special bits and then set exactly", "[metadata]") {
    fake_ids ids;
    SECTION("for a new file") {
        const metadata_plan p = plan_metadata(missing(), {.mode = perms(0640)}, ids);
        CHECK(p.create_mode == 0640u);
        CHECK(p.final_mode == 0640u);
        CHECK(p.set_mode);
        CHECK_FALSE(p.set_owner);
    }
    SECTION("with set-id and sticky bits") {
        const metadata_plan p = plan_metadata(missing(), {.mode = perms(07755)}, ids);
        CHECK(p.create_mode == 0755u);
        CHECK(p.final_mode == 07755u);
        CHECK(p.set_mode);
    }
    SECTION("over a replaced file's own mode") {
        const metadata_plan p =
            plan_metadata(status(kind::regular, 0600), {.overwrite = true, .mode = perms(0644)}, ids);
        CHECK(p.create_mode == 0644u);
        CHECK(p.final_mode == 0644u);
        CHECK(p.set_mode);
        CHECK_FALSE(p.set_owner);
    }
    SECTION("bits beyond 07777 are ignored") {
        const metadata_plan p = plan_metadata(missing(), {.mode = perms(0100644)}, ids);
        CHECK(p.final_mode == 0644u);
    }
    SECTION("with metadata_mode::fresh too") {
        const metadata_plan p = plan_metadata(status(kind::regular, 0600),
                                              {.mode = perms(0444), .metadata = aw::metadata_mode::fresh}, ids);
        CHECK(p.final_mode == 0444u);
        CHECK(p.set_mode);
        CHECK_FALSE(p.set_owner);
    }
}

TEST_CASE("a replaced regular file keeps its mode", "[metadata]") {
    fake_ids ids;
    const metadata_plan p = plan_metadata(status(kind::regular, 0640), {.overwrite = true}, ids);
    // Created without the group's read: until the new file's group is looked at, it
    // may be another group's (a set-group-ID directory). Windows has no owner ids.
    CHECK(p.create_mode == (sys::has_owners ? 0600u : 0640u));
    CHECK(p.final_mode == 0640u);
    CHECK(p.set_mode);
    CHECK_FALSE(p.set_owner);
    CHECK(ids.asked_process == 1);
    CHECK(ids.asked_current == 0);  // no set-id bits: the exec-time ids are enough
}

TEST_CASE("until its group is known, a replacement is created no wider for any class", "[metadata]") {
    // mode -> creation mode: the group and the others get what the old file gave both.
    const std::pair<unsigned, unsigned> cases[] = {
        {0644, 0644}, {0600, 0600}, {0755, 0755}, {0640, 0600}, {0664, 0644},
        {0604, 0600}, {0660, 0600}, {0666, 0666}, {0751, 0711}, {04755, 0755},
    };
    for (const auto& [mode, created] : cases) {
        INFO("mode 0" << std::oct << mode);
        fake_ids ids;
        const metadata_plan p = plan_metadata(status(kind::regular, mode), {.overwrite = true}, ids);
        CHECK(p.check_owner == sys::has_owners);
        CHECK(p.create_mode == (sys::has_owners ? created : mode & 0777u));
        CHECK(p.final_mode == mode);
        CHECK(p.set_mode);
    }
}

TEST_CASE("a replaced file's special bits are set, never created", "[metadata]") {
    fake_ids ids;
    const metadata_plan p = plan_metadata(status(kind::regular, 01644), {.overwrite = true}, ids);
    CHECK(p.create_mode == 0644u);
    CHECK(p.final_mode == 01644u);
    CHECK(p.set_mode);
    CHECK(ids.asked_current == 0);  // sticky is not set-id
}

TEST_CASE("metadata_mode::fresh takes nothing from the replaced file", "[metadata]") {
    fake_ids ids;
    const aw::write_options fresh{.overwrite = true, .metadata = aw::metadata_mode::fresh};
    check_nothing_to_set(plan_metadata(status(kind::regular, 04750, 0, 0), fresh, ids));
    CHECK(ids.asked_process == 0);
}

TEST_CASE("another owner: created 0700-narrowed, the owner given, then the mode", "[metadata]") {
    fake_ids ids;
    SECTION("another user") {
        const metadata_plan p = plan_metadata(status(kind::regular, 0644, 0, me_gid), {.overwrite = true}, ids);
        CHECK(p.create_mode == 0600u);
        CHECK(p.final_mode == 0644u);
        CHECK(p.set_mode);
        CHECK(p.set_owner);
        CHECK(p.owner.uid == 0u);
        CHECK(p.owner.gid == me_gid);
    }
    SECTION("another group") {
        const metadata_plan p = plan_metadata(status(kind::regular, 0664, me_uid, 5), {.overwrite = true}, ids);
        CHECK(p.create_mode == 0600u);
        CHECK(p.final_mode == 0664u);
        CHECK(p.set_owner);
        CHECK(p.owner.uid == me_uid);
        CHECK(p.owner.gid == 5u);
    }
    SECTION("an explicit mode is narrowed the same way") {
        const metadata_plan p =
            plan_metadata(status(kind::regular, 0600, 0, 0), {.overwrite = true, .mode = perms(0666)}, ids);
        CHECK(p.create_mode == 0600u);
        CHECK(p.final_mode == 0666u);
        CHECK(p.set_owner);
    }
    SECTION("a mode without owner bits creates the file with none") {
        const metadata_plan p = plan_metadata(status(kind::regular, 0044, 0, 0), {.overwrite = true}, ids);
        CHECK(p.create_mode == 0u);
        CHECK(p.final_mode == 0044u);
    }
    CHECK(ids.asked_process == 1);
    CHECK(ids.asked_current == 0);  // the exec-time ids already differ
}

TEST_CASE("owner_mode::process never gives the file away", "[metadata]") {
    fake_ids ids;
    const metadata_plan p =
        plan_metadata(status(kind::regular, 04755, 0, 0), {.overwrite = true, .owner = aw::owner_mode::process}, ids);
    CHECK(p.create_mode == 0755u);
    CHECK(p.final_mode == 04755u);
    CHECK(p.set_mode);
    CHECK_FALSE(p.set_owner);
    CHECK(ids.asked_process == 0);
    CHECK(ids.asked_current == 0);
}

TEST_CASE("set-id bits with the same owner: the ids in force now decide", "[metadata]") {
    fake_ids ids;
    SECTION("still the same owner: kept as they are") {
        const metadata_plan p = plan_metadata(status(kind::regular, 06755), {.overwrite = true}, ids);
        CHECK(p.create_mode == 0755u);
        CHECK(p.final_mode == 06755u);
        CHECK(p.set_mode);
        CHECK_FALSE(p.set_owner);
    }
    SECTION("the process changed its uid since exec: the owner is given back") {
        ids.now = {me_uid + 1, me_gid};
        const metadata_plan p = plan_metadata(status(kind::regular, 04755), {.overwrite = true}, ids);
        CHECK(p.create_mode == 0700u);
        CHECK(p.final_mode == 04755u);
        CHECK(p.set_owner);
        CHECK(p.owner.uid == me_uid);
        CHECK(p.owner.gid == me_gid);
    }
    SECTION("the process changed its gid since exec") {
        ids.now = {me_uid, me_gid + 1};
        const metadata_plan p = plan_metadata(status(kind::regular, 02750), {.overwrite = true}, ids);
        CHECK(p.create_mode == 0700u);
        CHECK(p.final_mode == 02750u);
        CHECK(p.set_owner);
    }
    CHECK(ids.asked_process == 1);
    CHECK(ids.asked_current == 1);
}

TEST_CASE("the system's ids are what the writer asks by default", "[metadata]") {
    // A new file asks nothing: plan_metadata with the real ids is callable and pure there.
    check_nothing_to_set(plan_metadata(missing(), {}));
    const sys::owner_ids me = aw::detail::system_ids::process();
    const metadata_plan p = plan_metadata(status(kind::regular, 0640, me.uid, me.gid), {.overwrite = true});
    CHECK(p.final_mode == 0640u);
    CHECK_FALSE(p.set_owner);
}

// --- the metadata controls: owner_ids, create_mode, owner_mode::require -------------

TEST_CASE("create_mode is what a new file is created with, nothing set after", "[metadata]") {
    fake_ids ids;
    for (const unsigned cm : {0600u, 0640u, 0755u, 0777u}) {
        const metadata_plan p = plan_metadata(missing(), {.create_mode = perms(cm)}, ids);
        CHECK(p.create_mode == cm);
        CHECK_FALSE(p.set_mode);
        CHECK_FALSE(p.set_owner);
        CHECK_FALSE(p.apply_umask);
    }
    // A replaced file keeps its mode; with metadata_mode::fresh it counts as new.
    const metadata_plan kept =
        plan_metadata(status(kind::regular, 0600), {.overwrite = true, .create_mode = perms(0644)}, ids);
    CHECK(kept.final_mode == 0600u);
    const metadata_plan fresh =
        plan_metadata(status(kind::regular, 0600),
                      {.overwrite = true, .metadata = aw::metadata_mode::fresh, .create_mode = perms(0644)}, ids);
    CHECK(fresh.create_mode == 0644u);
    CHECK_FALSE(fresh.set_mode);
    CHECK(ids.asked_process == 1);  // the kept file's owner only
}

TEST_CASE("owner_ids: one fchown that must succeed, the mode after it", "[metadata]") {
    fake_ids ids;
    constexpr unsigned keep = aw::file_owner::unchanged;
    const auto with = [](aw::file_owner o, aw::write_options w = {}) {
        w.owner_ids = o;
        return w;
    };
    SECTION("a new file given another owner only: created as asked (our group and the others keep their bits)") {
        const metadata_plan p = plan_metadata(missing(), with({7, keep}), ids);
        CHECK(p.set_owner);
        CHECK(p.owner_required);
        CHECK(p.owner.uid == 7u);
        CHECK(p.owner.gid == keep);
        CHECK(p.create_mode == 0666u);
        CHECK_FALSE(p.set_mode);
    }
    SECTION("another group: created with only the bits the others get too, the umask read for the rest") {
        aw::write_options w = with({keep, 5});
        w.create_mode = perms(0640);
        const metadata_plan p = plan_metadata(missing(), w, ids);
        CHECK(p.create_mode == 0600u);
        CHECK(p.final_mode == 0640u);
        CHECK(p.set_mode);
        CHECK(p.apply_umask);
        // 0666 and 0644 give the group what the others get: nothing to narrow.
        const metadata_plan q = plan_metadata(missing(), with({keep, 5}), ids);
        CHECK(q.create_mode == 0666u);
        CHECK_FALSE(q.set_mode);
    }
    SECTION("with mode: set exactly after the fchown, set-id bits kept for the commit") {
        aw::write_options w = with({7, 5});
        w.mode = perms(02750);
        const metadata_plan p = plan_metadata(missing(), w, ids);
        CHECK(p.create_mode == 0700u);
        CHECK(p.final_mode == 02750u);
        CHECK(p.set_mode);
        CHECK_FALSE(p.apply_umask);
    }
    SECTION("replacing: unchanged ids are the old file's, unless owner_mode::process") {
        const metadata_plan p =
            plan_metadata(status(kind::regular, 0640, 3, 4), with({keep, 5}, {.overwrite = true}), ids);
        CHECK(p.owner.uid == 3u);
        CHECK(p.owner.gid == 5u);
        CHECK(p.final_mode == 0640u);
        CHECK(p.create_mode == 0600u);
        CHECK_FALSE(p.check_owner);
        const metadata_plan q =
            plan_metadata(status(kind::regular, 0640, 3, 4),
                          with({keep, 5}, {.overwrite = true, .owner = aw::owner_mode::process}), ids);
        CHECK(q.owner.uid == keep);
        CHECK(q.owner.gid == 5u);
    }
    SECTION("neither id: nothing to set") { check_nothing_to_set(plan_metadata(missing(), with({keep, keep}), ids)); }
}

TEST_CASE("owner_mode::require plans as preserve, with the refusal an error", "[metadata]") {
    fake_ids ids;
    const metadata_plan other =
        plan_metadata(status(kind::regular, 0644, 0, 0), {.overwrite = true, .owner = aw::owner_mode::require}, ids);
    CHECK(other.set_owner);
    CHECK(other.owner_required);
    CHECK_FALSE(other.owner_explicit);
    CHECK(other.create_mode == 0600u);  // 0644, only the owner's bits until the fchown
    if constexpr (sys::has_owners) {
        const metadata_plan mine =
            plan_metadata(status(kind::regular, 0644), {.overwrite = true, .owner = aw::owner_mode::require}, ids);
        CHECK(mine.check_owner);
        CHECK(mine.owner_required);
    }
    check_nothing_to_set(plan_metadata(missing(), {.owner = aw::owner_mode::require}, ids));
}

// --- parse_link --------------------------------------------------------------------

namespace {

aw::native_string_view view(const std::filesystem::path::string_type& s) { return s; }

std::filesystem::path::string_type native(const char* s) { return std::filesystem::path(s).native(); }

std::string utf8(aw::native_string_view s) {
    return std::filesystem::path(std::filesystem::path::string_type(s)).generic_string();
}

}  // namespace

TEST_CASE("a link to a name beside it stays in its directory", "[target]") {
    const auto text = native("data.txt");
    std::error_code ec;
    const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
    CHECK_FALSE(ec);
    CHECK(l.parent.empty());
    CHECK(utf8(l.name) == "data.txt");
    CHECK_FALSE(l.absolute);
}

TEST_CASE("a relative link names a directory and a name in it", "[target]") {
    std::error_code ec;
    SECTION("one level") {
        const auto text = native("sub/data.txt");
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(utf8(l.parent) == "sub");
        CHECK(utf8(l.name) == "data.txt");
        CHECK_FALSE(l.absolute);
    }
    SECTION("up and down, doubled separators dropped before the name") {
        const auto text = native("../a//b.txt");
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(utf8(l.parent) == "../a");
        CHECK(utf8(l.name) == "b.txt");
    }
    SECTION("trailing separators: 'dir/' names dir") {
        const auto text = native("sub/target//");
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(utf8(l.parent) == "sub");
        CHECK(utf8(l.name) == "target");
    }
    SECTION("a bare name with a trailing separator") {
        const auto text = native("target/");
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(l.parent.empty());
        CHECK(utf8(l.name) == "target");
    }
}

TEST_CASE("an absolute link is opened from the root", "[target]") {
    std::error_code ec;
    SECTION("in a directory") {
        const auto text = native("/etc/data.txt");
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(utf8(l.parent) == "/etc");
        CHECK(utf8(l.name) == "data.txt");
        CHECK(l.absolute);
    }
    SECTION("in the root") {
        const auto text = native("/data.txt");
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(utf8(l.parent) == "/");
        CHECK(utf8(l.name) == "data.txt");
        CHECK(l.absolute);
    }
}

TEST_CASE("link texts that name no file are errors", "[target]") {
    std::error_code ec;
    SECTION("empty") {
        aw::detail::parse_link({}, ec);
        CHECK(ec == std::errc::no_such_file_or_directory);
    }
    SECTION("the root") {
        const auto text = native("/");
        aw::detail::parse_link(view(text), ec);
        CHECK(ec == std::errc::is_a_directory);
    }
    SECTION("the root, with separators doubled") {
        const auto text = native("//");
        aw::detail::parse_link(view(text), ec);
        CHECK(ec);
    }
    SECTION("a name longer than the system allows") {
        const auto text = native(std::string(sys::max_name + 1, 'n').c_str());
        aw::detail::parse_link(view(text), ec);
        CHECK(ec == std::errc::filename_too_long);
    }
    SECTION("a name longer than the system allows, in a directory") {
        const auto text = native(("dir/" + std::string(sys::max_name + 1, 'n')).c_str());
        aw::detail::parse_link(view(text), ec);
        CHECK(ec == std::errc::filename_too_long);
    }
    SECTION("the longest name is fine") {
        const auto text = native(("dir/" + std::string(sys::max_name, 'n')).c_str());
        const aw::detail::link_text l = aw::detail::parse_link(view(text), ec);
        CHECK_FALSE(ec);
        CHECK(l.name.size() == sys::max_name);
    }
}
