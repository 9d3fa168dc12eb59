// SPDX-License-Identifier: MIT
// Crash states of the metadata controls (write_options::owner_ids, create_mode,
// owner_mode::require). They add no publication step: the content is checked in the
// model of support/crash_model.hpp (old or new at every crash prefix, new once the call
// returned). The owner and the mode are part of "new": in every crash state where the
// new file is visible at the target, it has the owner, group and mode asked for.
//
// Metadata in the model: a created file has its creation mode narrowed by the umask and
// the process's ids; an fchown or fchmod of it persists only if a later fsync (not
// fdatasync) of the file was issued, else a crash may keep or lose it, independently
// of the others; an fchown clears the set-id bits (as Linux does); an access ACL set
// (fsetxattr) sets the mode as fchmod does. sync::fdatasync,
// documented as keeping data only, must be found failing.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"
#include "support/crash_model.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
namespace crash = test::crash;
using aw::sysop;

const std::string old_text = "old content";
const std::string new_text = "the new content, longer than the old";
constexpr unsigned keep = aw::file_owner::unchanged;

struct meta {
    unsigned uid = 0, gid = 0, mode = 0;
    bool operator==(const meta&) const = default;
};

meta meta_of(const fs::path& p) {
    struct ::stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return {st.st_uid, st.st_gid, static_cast<unsigned>(st.st_mode) & 07777u};
}

/// One change of the new file's metadata, and whether a later fsync covers it.
struct meta_effect {
    std::size_t call;
    bool is_chown;
    unsigned uid, gid, mode;
};

/// crash::recorder, and the mode an access ACL left (fsetxattr of
/// system.posix_acl_access sets the permission bits as fchmod does).
class meta_recorder : public crash::recorder {
public:
    std::vector<unsigned> acl_mode;  // by call; 0 for other calls
    void after(const aw::syscall_info& info, int error) noexcept override {
        crash::recorder::after(info, error);
        unsigned mode = 0;
        struct ::stat st {};
        if (error == 0 && info.op == sysop::set_xattr && info.name2 != nullptr &&
            std::string(info.name2) == "system.posix_acl_access" && ::fstat(info.file, &st) == 0)
            mode = static_cast<unsigned>(st.st_mode) & 07777u;
        try {
            acl_mode.resize(details.size(), 0);
            acl_mode.back() = mode;
        } catch (...) {
        }
    }
};

struct result {
    crash::findings content;      // old or new, new once returned
    std::size_t meta_states = 0;  // crash states with the new file visible, by metadata fates
    std::size_t meta_bad = 0;     // of which the new file lacks its owner or mode
    std::size_t wider = 0;        // of which the mode is wider than the final one
};

/// Runs write_file<Writer> with `options` in a fresh directory (the target existing with
/// old_text, owned by `old` when `existed`), and checks every crash state.
template <class Writer>
result run(bool existed, meta old, const aw::write_options& options) {
    test::temp_dir dir(test::fast_base());
    const fs::path target = dir / "f";
    if (existed) {
        test::write_plain(target, old_text);
        REQUIRE(::chown(target.c_str(), old.uid, old.gid) == 0);
        REQUIRE(::chmod(target.c_str(), old.mode) == 0);
    }
    const test::scoped_umask mask(022);
    const crash::disk before = crash::snapshot(dir.path());
    meta_recorder rec;
    std::error_code ec;
    {
        aw::scoped_syscall_hook scope(rec);
        aw::write_file<Writer>(target, new_text, options, ec);
    }
    INFO("calls: " << rec.trace());
    REQUIRE_FALSE(ec);
    const meta final = meta_of(target);
    const crash::model m = crash::build(rec, before);
    CHECK(m.unknown.empty());
    const std::uint64_t root = crash::inode_at(dir.path());

    result out;
    out.content = crash::enumerate(m, [&](const crash::disk& d, bool returned) -> std::string {
        const std::string* f = d.read(root, "f");
        if (f == nullptr) return existed || returned ? "the target is missing" : "";
        if (*f == new_text) return "";
        if (*f != old_text || !existed) return "the target is neither old nor new";
        return returned ? "the old content after the call returned" : "";
    });

    // The new file: the inode at the target now; its creation, its metadata changes,
    // the fsyncs that make them durable, and the call that published it.
    const std::uint64_t new_inode = crash::inode_at(target);
    meta created{static_cast<unsigned>(::geteuid()), static_cast<unsigned>(::getegid()), 0};
    std::vector<meta_effect> effects;
    std::vector<std::size_t> metadata_syncs;
    std::size_t published = rec.calls.size();
    for (std::size_t i = 0; i < rec.calls.size(); ++i) {
        const auto& c = rec.calls[i];
        const auto& d = rec.details[i];
        if (c.error != 0) continue;
        if (c.op == sysop::create_file && d.created == new_inode)
            created.mode = static_cast<unsigned>(c.size) & 0777u & ~022u;
        if (d.file != new_inode) {
            if ((c.op == sysop::rename || c.op == sysop::rename_noreplace || c.op == sysop::link) && c.name2 == "f" &&
                published == rec.calls.size())
                published = i;
            continue;
        }
        if (c.op == sysop::chown)
            effects.push_back({i, true, static_cast<unsigned>(c.size >> 32), static_cast<unsigned>(c.size), 0});
        if (c.op == sysop::chmod) effects.push_back({i, false, 0, 0, static_cast<unsigned>(c.size)});
        if (c.op == sysop::set_xattr && i < rec.acl_mode.size() && rec.acl_mode[i] != 0)
            effects.push_back({i, false, 0, 0, rec.acl_mode[i]});
        if (c.op == sysop::fsync || c.op == sysop::full_fsync) metadata_syncs.push_back(i);
    }
    REQUIRE(published < rec.calls.size());
    for (std::size_t prefix = published + 1; prefix <= rec.calls.size(); ++prefix) {
        std::vector<std::size_t> open;  // effects before the crash no fsync before it covers
        for (std::size_t e = 0; e < effects.size() && effects[e].call < prefix; ++e) {
            bool covered = false;
            for (std::size_t s : metadata_syncs) covered = covered || (s > effects[e].call && s < prefix);
            if (!covered) open.push_back(e);
        }
        for (std::size_t combo = 0; combo < (std::size_t{1} << open.size()); ++combo) {
            meta now = created;
            for (std::size_t e = 0; e < effects.size() && effects[e].call < prefix; ++e) {
                bool lost = false;
                for (std::size_t j = 0; j < open.size(); ++j) lost = lost || (open[j] == e && ((combo >> j) & 1) != 0);
                if (lost) continue;
                const meta_effect& x = effects[e];
                if (x.is_chown) {
                    if (x.uid != keep) now.uid = x.uid;
                    if (x.gid != keep) now.gid = x.gid;
                    now.mode &= ~06000u;
                } else {
                    now.mode = x.mode;
                }
            }
            ++out.meta_states;
            if (!(now == final)) ++out.meta_bad;
            if ((now.mode & ~final.mode) != 0) ++out.wider;
        }
    }
    return out;
}

struct scenario {
    const char* name;
    bool existed;
    meta old;
    aw::write_options options;
    meta expected;
};

std::vector<scenario> scenarios() {
    const bool root = test::is_root();
    const unsigned me = ::geteuid(), my_group = ::getegid();
    const unsigned other = root ? 65534u : me, other_group = root ? 100u : my_group;
    std::vector<scenario> out;
    aw::write_options o;
    o.owner_ids = aw::file_owner{other, other_group};
    o.create_mode = fs::perms(0640);
    out.push_back({"owner_ids and create_mode, a new file", false, {}, o, {other, other_group, 0640}});
    o = {.overwrite = true};
    o.owner_ids = aw::file_owner{keep, other_group};
    out.push_back({"owner_ids, a replaced file", true, {other, my_group, 0604}, o, {other, other_group, 0604}});
    o = {.overwrite = true, .owner = aw::owner_mode::require};
    out.push_back({"owner_mode::require", true, {other, other_group, 0640}, o, {other, other_group, 0640}});
    o = {.mode = fs::perms(02750)};
    o.owner_ids = aw::file_owner{other, other_group};
    out.push_back({"owner_ids and a set-group-ID mode", false, {}, o, {other, other_group, 02750}});
    out.push_back({"create_mode, a new file", false, {}, {.create_mode = fs::perms(0604)}, {me, my_group, 0604}});
    return out;
}

}  // namespace

TEST_CASE("every crash state with the new file visible has its owner and mode", "[crash][metadata-control]") {
    for (const scenario& s : scenarios()) {
        INFO(s.name);
        const result r = run<aw::atomic_writer>(s.existed, s.old, s.options);
        CHECK(r.content.states > 10);
        CHECK(r.content.bad == 0);
        INFO(r.content.first_problem);
        CHECK(r.meta_states > 0);
        CHECK(r.meta_bad == 0);
        CHECK(r.wider == 0);
        test::report_figure(std::string("crash states (") + s.name + "): " + std::to_string(r.content.states) +
                            ", with the new file visible, by metadata: " + std::to_string(r.meta_states));
    }
}

TEST_CASE("sync::fdatasync is found losing an owner or a mode", "[crash][metadata-control]") {
    // fdatasync does not flush the inode's owner and mode: the model must find a state
    // with the new file visible without them, never with a wider mode.
    const scenario s = scenarios().front();
    const result r = run<aw::basic_atomic_writer<aw::sync::fdatasync>>(s.existed, s.old, s.options);
    CHECK(r.content.bad == 0);
    CHECK(r.meta_bad > 0);
    CHECK(r.wider == 0);
}
