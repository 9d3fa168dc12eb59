// SPDX-License-Identifier: MIT
// Crash states of each protocol, the way ALICE and CrashMonkey check update protocols:
// record, through the system-call seam, the ordered operations a real write makes; check
// them against the rules of a persistence model; then enumerate every state a crash
// could leave on disk and check that each holds the complete old or the complete new
// content at the target, and the new one once commit() has returned.
//
// The persistence model (what a crash may keep of the operations issued before it):
// - a write to a file persists only if a later fsync/fdatasync of that file was issued;
//   otherwise it may be lost, torn (only its first half kept) or leave zeros (the size
//   grew, the data did not reach the disk);
// - a change of a directory entry (create, link, rename, unlink) persists only if a
//   later fsync of that directory was issued; otherwise it may be lost, independently
//   of every other;
// - a chmod persists only if a later fsync (not fdatasync) of the file was issued;
// - nothing issued after the crash persists.
// This is more adversarial than ext4, XFS or btrfs (which keep directory operations in
// order); a protocol that passes here passes there.
//
// - a syncfs makes every earlier effect on the filesystem persist (group::syncfs).
// Batches are checked the same way, over several files in two directories.
//
// sync::none syncs nothing: the check must find it failing the durability rules, and
// find crash states with a torn target or the old content after commit() returned —
// proof that the check bites.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/batch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.hpp"
#include "support/crash_model.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

// --- recording ------------------------------------------------------------------------------

/// The calls, with the inodes, created names, bytes written and ACL modes the model needs
/// (the recorder the multi-name crash proofs use too).
using persistence_recorder = test::crash::recorder;

// --- the model ------------------------------------------------------------------------------

/// One effect on persistent state, or a barrier that makes earlier effects persist.
struct effect {
    enum kind_t { write, entry, chmod, sync_file, sync_directory, sync_filesystem } kind;
    std::size_t call;         // the recorded call it comes from
    std::uint64_t inode = 0;  // write, chmod, sync_file: the file; entry: what the name now
                              // refers to (0: removed)
    std::uint64_t dir = 0;    // entry, sync_directory
    std::string name;         // entry
    std::size_t offset = 0;   // write
    std::string bytes;        // write
    unsigned mode = 0;        // chmod
    bool metadata = false;    // sync_file: fsync (data and metadata) or fdatasync (data)
};

struct file_state {
    std::string data;
    unsigned mode = 0;
};

using entry_key = std::pair<std::uint64_t, std::string>;

/// The durable state before the write, and the effects of the recorded calls.
struct model {
    std::map<entry_key, std::uint64_t> entries;  // what is on disk before the write
    std::map<std::uint64_t, file_state> files;   // every file the effects refer to, as created
    std::vector<effect> effects;
    std::size_t calls = 0;
};

/// Turns the recorded calls into effects. Renames and links take the file their source
/// name refers to at that moment.
model build_model(const persistence_recorder& rec, std::map<entry_key, std::uint64_t> initial,
                  std::map<std::uint64_t, file_state> files, unsigned umask) {
    model m;
    m.entries = initial;
    m.calls = rec.calls.size();
    std::map<entry_key, std::uint64_t> now = std::move(initial);
    std::optional<unsigned> anonymous_mode;  // an O_TMPFILE file not yet seen by its inode
    auto known = [&](std::uint64_t ino) {
        if (files.count(ino) == 0 && anonymous_mode) {
            files[ino] = {"", *anonymous_mode & ~umask};
            anonymous_mode.reset();
        }
        return ino;
    };
    for (std::size_t i = 0; i < rec.calls.size(); ++i) {
        const auto& c = rec.calls[i];
        const auto& d = rec.details[i];
        if (c.error != 0) continue;  // a failed call changes nothing
        auto entry = [&](std::uint64_t dir, const std::string& name, std::uint64_t ino) {
            m.effects.push_back({effect::entry, i, ino, dir, name});
            if (ino != 0)
                now[{dir, name}] = ino;
            else
                now.erase({dir, name});
        };
        switch (c.op) {
            case sysop::create_file:
                files[d.created] = {"", static_cast<unsigned>(c.size) & ~umask};
                entry(d.dir, c.name, d.created);
                break;
            case sysop::create_anonymous:
                anonymous_mode = static_cast<unsigned>(c.size);
                break;
            case sysop::write:
                m.effects.push_back(
                    {effect::write, i, known(d.file), 0, "", static_cast<std::size_t>(d.offset), d.bytes});
                break;
            case sysop::fsync:
            case sysop::full_fsync:
            case sysop::fdatasync:
                if (d.file_is_directory)
                    m.effects.push_back({effect::sync_directory, i, 0, d.file});
                else
                    m.effects.push_back(
                        {effect::sync_file, i, known(d.file), 0, "", 0, "", 0, c.op != sysop::fdatasync});
                break;
            case sysop::syncfs:
                m.effects.push_back({effect::sync_filesystem, i});
                break;
            case sysop::chmod:
                m.effects.push_back({effect::chmod, i, known(d.file), 0, "", 0, "", static_cast<unsigned>(c.size)});
                break;
            case sysop::set_xattr:  // only the access ACL changes the mode
                if (c.name2 == "system.posix_acl_access")
                    m.effects.push_back({effect::chmod, i, known(d.file), 0, "", 0, "", d.mode});
                break;
            case sysop::rename:
            case sysop::rename_noreplace: {
                const std::uint64_t ino = now.at({d.dir, c.name});
                entry(d.dir2, c.name2, ino);
                entry(d.dir, c.name, 0);
                break;
            }
            case sysop::link:
                entry(d.dir2, c.name2, now.at({d.dir, c.name}));
                break;
            case sysop::link_anonymous:
                entry(d.dir2, c.name2, known(d.file));
                break;
            case sysop::unlink:
                entry(d.dir, c.name, 0);
                break;
            default:  // open_directory, stat, readlink, open_file, chown, close: nothing on disk
                break;
        }
    }
    m.files = std::move(files);
    return m;
}

/// How a crash treats one effect that no barrier made persist.
enum class fate : unsigned char { kept, lost, torn, zeros };

/// The durable state a crash leaves: the effects issued before call `prefix`, each kept
/// or not as `fates` says (for the ones no barrier covers).
struct disk {
    std::map<entry_key, std::uint64_t> entries;
    std::map<std::uint64_t, file_state> files;
};

disk replay(const model& m, std::size_t prefix, const std::vector<fate>& fates) {
    disk d{m.entries, m.files};
    for (std::size_t e = 0; e < m.effects.size() && m.effects[e].call < prefix; ++e) {
        const effect& x = m.effects[e];
        const fate f = fates[e];
        if (f == fate::lost) continue;
        switch (x.kind) {
            case effect::entry:
                if (x.inode != 0)
                    d.entries[{x.dir, x.name}] = x.inode;
                else
                    d.entries.erase({x.dir, x.name});
                break;
            case effect::write: {
                std::string& data = d.files[x.inode].data;
                std::string bytes = x.bytes;
                if (f == fate::torn) bytes.resize(bytes.size() / 2);
                if (f == fate::zeros) bytes.assign(bytes.size(), '\0');
                if (data.size() < x.offset + bytes.size()) data.resize(x.offset + bytes.size(), '\0');
                data.replace(x.offset, bytes.size(), bytes);
                break;
            }
            case effect::chmod:
                d.files[x.inode].mode = x.mode;
                break;
            default:
                break;
        }
    }
    return d;
}

/// Whether a barrier issued before `prefix` and after effect `e` makes it persist.
bool covered(const model& m, std::size_t e, std::size_t prefix) {
    const effect& x = m.effects[e];
    if (x.kind == effect::sync_file || x.kind == effect::sync_directory || x.kind == effect::sync_filesystem)
        return true;  // nothing to lose
    for (std::size_t b = e + 1; b < m.effects.size() && m.effects[b].call < prefix; ++b) {
        const effect& y = m.effects[b];
        if (y.kind == effect::sync_filesystem) return true;  // one filesystem in these tests
        switch (x.kind) {
            case effect::write:
                if (y.kind == effect::sync_file && y.inode == x.inode) return true;
                break;
            case effect::chmod:
                if (y.kind == effect::sync_file && y.inode == x.inode && y.metadata) return true;
                break;
            case effect::entry:
                if (y.kind == effect::sync_directory && y.dir == x.dir) return true;
                break;
            default:
                break;
        }
    }
    return false;
}

/// Calls `check(disk, returned)` on every state a crash can leave: every prefix of the
/// calls, every choice of fates of the effects issued and not covered by a barrier.
template <class Check>
void each_crash_state(const model& m, Check&& check) {
    for (std::size_t prefix = 0; prefix <= m.calls; ++prefix) {
        std::vector<std::size_t> open;  // effects issued, not covered by a barrier
        for (std::size_t e = 0; e < m.effects.size() && m.effects[e].call < prefix; ++e)
            if (!covered(m, e, prefix)) open.push_back(e);
        std::vector<unsigned> radix;
        std::size_t combinations = 1;
        for (std::size_t e : open) {
            radix.push_back(m.effects[e].kind == effect::write ? 4u : 2u);
            combinations *= radix.back();
        }
        REQUIRE(combinations <= (1u << 22));
        std::vector<fate> fates(m.effects.size(), fate::kept);
        for (std::size_t c = 0; c < combinations; ++c) {
            std::size_t v = c;
            for (std::size_t j = 0; j < open.size(); ++j) {
                fates[open[j]] = static_cast<fate>(v % radix[j]);
                v /= radix[j];
            }
            check(replay(m, prefix, fates), prefix == m.calls);
        }
    }
}

// --- the scenarios and the checks -------------------------------------------------------------

using test::kind_of;
using test::writer_kind;

struct scenario {
    const char* name;
    bool existing;
    bool overwrite;
    bool temp_directory;  // the temporary file in a subdirectory (same filesystem)
};

constexpr scenario scenarios[] = {
    {"new file, overwrite = true", false, true, false},
    {"new file, overwrite = false", false, false, false},
    {"replacement", true, true, false},
    {"replacement, temp_directory in a subdirectory", true, true, true},
    {"new file, overwrite = false, temp_directory in a subdirectory", false, false, true},
};

/// What the checks of one combination found.
struct findings {
    std::size_t scenarios = 0;
    std::size_t states = 0;                  // crash states enumerated
    std::size_t torn = 0;                    // target neither complete old nor complete new
    std::size_t lost_after_commit = 0;       // not the new content once commit() returned
    std::size_t wider_mode = 0;              // the new file's mode wider than the final mode
    std::size_t mode_not_durable = 0;        // commit() returned, and the mode may be lost
    std::vector<std::string> rule_failures;  // rules of the persistence model broken
};

/// The rules a durable protocol follows, checked on the recorded effects: every write of
/// the new file is synced before it is published; the target's directory is synced after
/// the publication and before commit() returns; nothing touches the target's name before
/// the publication.
void check_rules(const model& m, std::uint64_t dir, const std::string& target, std::vector<std::string>& failures) {
    std::size_t publish = m.effects.size();
    std::uint64_t file = 0;
    for (std::size_t e = 0; e < m.effects.size(); ++e) {
        const effect& x = m.effects[e];
        if (x.kind == effect::entry && x.dir == dir && x.name == target) {
            if (publish != m.effects.size()) failures.push_back("the target's name changes twice");
            publish = e;
            file = x.inode;
        }
    }
    if (publish == m.effects.size()) {
        failures.push_back("the target is never published");
        return;
    }
    for (std::size_t e = 0; e < publish; ++e) {
        const effect& x = m.effects[e];
        if (x.kind != effect::write || x.inode != file) continue;
        bool synced = false;
        for (std::size_t b = e + 1; b < publish; ++b)
            synced = synced || (m.effects[b].kind == effect::sync_file && m.effects[b].inode == file) ||
                     m.effects[b].kind == effect::sync_filesystem;
        if (!synced) {
            failures.push_back("a write of the new file is not synced before publication");
            break;
        }
    }
    for (std::size_t e = publish; e < m.effects.size(); ++e) {
        const effect& x = m.effects[e];
        if (x.kind == effect::write && x.inode == file) failures.push_back("the new file is written after publication");
    }
    bool dir_synced = false;
    for (std::size_t b = publish + 1; b < m.effects.size(); ++b)
        dir_synced = dir_synced || (m.effects[b].kind == effect::sync_directory && m.effects[b].dir == dir);
    if (!dir_synced) failures.push_back("the directory is not synced after publication");
}

void check_scenario(const writer_kind& k, const scenario& s, findings& out) {
    INFO(k.name << ", " << s.name);
    test::temp_dir dir(test::fast_base());
    const fs::path target = dir / "target";
    const std::string old_content = test::pattern(2000, 11);
    const std::string new_content = test::pattern(3000, 12);
    aw::write_options options{.overwrite = s.overwrite};
    if (s.temp_directory) {
        fs::create_directory(dir / "tmp");
        options.temp_directory = dir / "tmp";
    }
    const unsigned umask = static_cast<unsigned>(test::current_umask());
    std::map<entry_key, std::uint64_t> initial;
    std::map<std::uint64_t, file_state> files;
    std::uint64_t old_inode = 0;
    const unsigned old_mode = 0640;
    if (s.existing) {
        test::write_plain(target, old_content);
        REQUIRE(::chmod(target.c_str(), old_mode) == 0);
        old_inode = test::inode_of(target);
        initial[{test::inode_of(dir.path()), "target"}] = old_inode;
        files[old_inode] = {old_content, old_mode};
    }
    const unsigned final_mode = s.existing ? old_mode : 0666u & ~umask;

    // Record a real write, in three write calls so that writes can be lost apart.
    persistence_recorder rec;
    rec.limit_writes(new_content.size() / 3 + 1);
    std::error_code ec;
    aw::commit_state state;
    {
        aw::scoped_syscall_hook scope(rec);
        state = k.write(target, new_content, options, ec);
    }
    INFO("calls: " << rec.trace());
    REQUIRE_FALSE(ec);
    REQUIRE(state == aw::commit_state::published);
    REQUIRE(rec.count(sysop::write) == 3);
    const model m = build_model(rec, initial, files, umask);
    const std::uint64_t dir_inode = test::inode_of(dir.path());

    // The model, with every effect kept, is the real outcome.
    {
        const disk all = replay(m, m.calls, std::vector<fate>(m.effects.size(), fate::kept));
        const auto it = all.entries.find({dir_inode, "target"});
        REQUIRE(it != all.entries.end());
        CHECK(it->second == test::inode_of(target));
        CHECK(all.files.at(it->second).data == test::read_file(target));
        std::vector<std::string> names;
        for (const auto& [key, ino] : all.entries)
            if (key.first == dir_inode) names.push_back(key.second);
        std::vector<std::string> real = dir.names();
        real.erase(std::remove(real.begin(), real.end(), "tmp"), real.end());
        CHECK(names == real);
    }

    std::vector<std::string> failures;
    check_rules(m, dir_inode, "target", failures);
    for (const auto& f : failures)
        if (std::find(out.rule_failures.begin(), out.rule_failures.end(), f) == out.rule_failures.end())
            out.rule_failures.push_back(f);

    // Every crash point, every choice of what the unsynced effects leave.
    each_crash_state(m, [&](const disk& d, bool returned) {
        ++out.states;
        const auto it = d.entries.find({dir_inode, "target"});
        bool is_new = false;
        bool is_old = false;
        if (it == d.entries.end()) {
            is_old = !s.existing;
        } else if (it->second == old_inode && s.existing) {
            is_old = d.files.at(old_inode).data == old_content;
        } else {
            const file_state& f = d.files.at(it->second);
            is_new = f.data == new_content;
            if ((f.mode & ~final_mode & 07777u) != 0) ++out.wider_mode;
            if (returned && is_new && k.syncs_metadata && k.durable && f.mode != final_mode) ++out.mode_not_durable;
        }
        if (!is_new && !is_old) ++out.torn;
        if (returned && !is_new) ++out.lost_after_commit;
    });
    ++out.scenarios;
}

findings check_writer(const writer_kind& k) {
    findings f;
    for (const scenario& s : scenarios) {
        if (s.overwrite ? !k.can_replace : !k.can_keep) continue;
        check_scenario(k, s, f);
    }
    return f;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
    return out;
}

void check_durable(const writer_kind& k) {
    const findings f = check_writer(k);
    INFO(k.name);
    INFO("rules broken: " << join(f.rule_failures));
    CHECK(f.scenarios >= 2);
    CHECK(f.rule_failures.empty());
    CHECK(f.torn == 0);
    CHECK(f.lost_after_commit == 0);
    CHECK(f.wider_mode == 0);
    CHECK(f.mode_not_durable == 0);
    CHECK(f.states > 0);
    test::report_figure("crash states: " + k.name + ": " + std::to_string(f.states) + " states in " +
                        std::to_string(f.scenarios) + " scenarios, 0 torn, 0 lost after commit");
}

void check_not_durable(const writer_kind& k) {
    const findings f = check_writer(k);
    INFO(k.name);
    // The check bites: without syncs, the durability rules are broken, and crash states
    // exist where the target is torn or, after commit() returned, not the new content.
    CHECK_FALSE(f.rule_failures.empty());
    CHECK(f.torn > 0);
    CHECK(f.lost_after_commit > 0);
    // Atomicity towards readers and modes do not depend on syncs.
    CHECK(f.wider_mode == 0);
    test::report_figure("crash states: " + k.name + ": " + std::to_string(f.states) + " states in " +
                        std::to_string(f.scenarios) + " scenarios: fails durability as expected (" +
                        std::to_string(f.torn) + " torn, " + std::to_string(f.lost_after_commit) +
                        " lost after commit; rules broken: " + join(f.rule_failures) + ")");
}

}  // namespace

namespace {

/// Broken protocols, to show that the check tells them apart: a policy that syncs the
/// file but not the directory, and one that syncs the directory but not the file. Both
/// claim to be durable.
struct file_only {
    static constexpr bool durable = true;
    void sync_file(aw::native_handle_type f, std::error_code& ec) const noexcept { aw::detail::sys::fsync(f, ec); }
    void sync_directory(aw::native_handle_type, std::error_code&) const noexcept {}
};
struct directory_only {
    static constexpr bool durable = true;
    void sync_file(aw::native_handle_type, std::error_code&) const noexcept {}
    void sync_directory(aw::native_handle_type d, std::error_code& ec) const noexcept { aw::detail::sys::fsync(d, ec); }
};
static_assert(aw::sync_policy<file_only> && aw::sync_policy<directory_only>);

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("the crash check tells which half of a protocol is missing", "[crash]") {
    SECTION("the file is synced, the directory is not: complete, but maybe old after commit") {
        const findings f = check_writer(kind_of<aw::basic_atomic_writer<file_only>>());
        INFO("rules broken: " << join(f.rule_failures));
        CHECK(f.torn == 0);
        CHECK(f.lost_after_commit > 0);
        CHECK(has(f.rule_failures, "the directory is not synced after publication"));
        CHECK_FALSE(has(f.rule_failures, "a write of the new file is not synced before publication"));
    }
    SECTION("the directory is synced, the file is not: the target may be torn") {
        const findings f = check_writer(kind_of<aw::basic_atomic_writer<directory_only>>());
        INFO("rules broken: " << join(f.rule_failures));
        CHECK(f.torn > 0);
        CHECK(f.lost_after_commit > 0);  // published, but the data may be lost
        CHECK(has(f.rule_failures, "a write of the new file is not synced before publication"));
        CHECK_FALSE(has(f.rule_failures, "the directory is not synced after publication"));
    }
}

TEMPLATE_LIST_TEST_CASE("every crash state of a durable protocol leaves the old or the new file; sync::none fails",
                        "[crash]", test::all_writers) {
    if constexpr (TestType::sync_type::durable) {
        check_durable(kind_of<TestType>());
    } else {
        check_not_durable(kind_of<TestType>());
    }
}

// --- batches --------------------------------------------------------------------------------

namespace {

/// What the checks of one batch found.
struct batch_findings {
    std::size_t states = 0;
    std::size_t torn = 0;               // a target neither complete old nor complete new
    std::size_t lost_after_commit = 0;  // a target not new once commit() returned
    std::size_t directory_syncs = 0;    // after the first publication
    std::vector<std::string> rule_failures;
};

void add_failure(std::vector<std::string>& v, const std::string& f) {
    if (std::find(v.begin(), v.end(), f) == v.end()) v.push_back(f);
}

/// Records a batch of n (3 or 4) files over two directories (two of them replacing old
/// files, one staged through a directory handle, the fourth streamed through add()),
/// then checks the
/// rules for every target, the batch's order (no publication before the last file
/// sync), and every crash state.
template <class Batch>
batch_findings check_batch(std::size_t n) {
    test::temp_dir dir(test::fast_base());
    const fs::path a = dir / "a";
    const fs::path b = dir / "b";
    fs::create_directory(a);
    fs::create_directory(b);
    const std::uint64_t a_ino = test::inode_of(a);
    const std::uint64_t b_ino = test::inode_of(b);
    std::vector<fs::path> targets;
    std::vector<std::string> old_content(n), new_content(n);
    std::map<entry_key, std::uint64_t> initial;
    std::map<std::uint64_t, file_state> files;
    std::vector<std::uint64_t> old_inode(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        targets.push_back((i % 2 == 0 ? a : b) / ("t" + std::to_string(i)));
        old_content[i] = test::pattern(300 + i, static_cast<std::uint32_t>(20 + i));
        new_content[i] = test::pattern(500 + i, static_cast<std::uint32_t>(40 + i));
        if (i < 2) {
            test::write_plain(targets[i], old_content[i]);
            old_inode[i] = test::inode_of(targets[i]);
            initial[{i % 2 == 0 ? a_ino : b_ino, targets[i].filename().string()}] = old_inode[i];
            files[old_inode[i]] = {old_content[i], test::mode_of(targets[i])};
        }
    }
    const unsigned umask = static_cast<unsigned>(test::current_umask());

    persistence_recorder rec;
    {
        aw::directory b_dir(b);
        aw::scoped_syscall_hook scope(rec);
        Batch batch;
        batch.write_file(targets[0], new_content[0], {.overwrite = true});
        batch.write_file(b_dir, targets[1].filename(), new_content[1], {.overwrite = true});
        batch.write_file(targets[2], new_content[2], {.overwrite = true});
        if (n > 3) batch.add(targets[3], {.overwrite = true}).write(new_content[3]);
        batch.commit();
    }
    INFO("calls: " << rec.trace());
    const model m = build_model(rec, initial, files, umask);

    batch_findings out;
    std::size_t first_publish = m.effects.size();
    std::size_t last_file_sync = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t d = i % 2 == 0 ? a_ino : b_ino;
        check_rules(m, d, targets[i].filename().string(), out.rule_failures);
        for (std::size_t e = 0; e < m.effects.size(); ++e)
            if (m.effects[e].kind == effect::entry && m.effects[e].dir == d &&
                m.effects[e].name == targets[i].filename().string())
                first_publish = std::min(first_publish, e);
    }
    for (std::size_t e = 0; e < m.effects.size(); ++e) {
        const effect& x = m.effects[e];
        if (x.kind == effect::sync_file || x.kind == effect::sync_filesystem) last_file_sync = e;
        if (x.kind == effect::sync_directory && e > first_publish) ++out.directory_syncs;
    }
    if (first_publish < last_file_sync)
        add_failure(out.rule_failures, "a file is published before every file is synced");

    each_crash_state(m, [&](const disk& d, bool returned) {
        ++out.states;
        for (std::size_t i = 0; i < n; ++i) {
            const auto it = d.entries.find({i % 2 == 0 ? a_ino : b_ino, targets[i].filename().string()});
            bool is_new = false;
            bool is_old = false;
            if (it == d.entries.end()) {
                is_old = old_inode[i] == 0;
            } else if (old_inode[i] != 0 && it->second == old_inode[i]) {
                is_old = d.files.at(it->second).data == old_content[i];
            } else {
                is_new = d.files.at(it->second).data == new_content[i];
            }
            if (!is_new && !is_old) ++out.torn;
            if (returned && !is_new) ++out.lost_after_commit;
        }
    });
    return out;
}

template <class Batch>
void check_durable_batch() {
    const std::string name = test::type_name<Batch>();
    const batch_findings f = check_batch<Batch>(4);
    INFO(name);
    INFO("rules broken: " << join(f.rule_failures));
    CHECK(f.rule_failures.empty());
    CHECK(f.torn == 0);
    CHECK(f.lost_after_commit == 0);
    CHECK(f.directory_syncs == 2);  // a and b, once each
    CHECK(f.states > 0);
    test::report_figure("crash states: " + name + ": " + std::to_string(f.states) +
                        " states of 4 files in 2 directories, 0 torn, 0 lost after commit");
}

using sequential_batch = aw::basic_batch<aw::atomic_writer, aw::group::sequential>;
using concurrent_batch = aw::basic_batch<aw::atomic_writer, aw::group::concurrent>;
using syncfs_batch = aw::basic_batch<aw::atomic_writer, aw::group::syncfs>;
using automatic_batch = aw::basic_batch<aw::atomic_writer, aw::group::automatic>;
using anonymous_batch =
    aw::basic_batch<aw::basic_atomic_writer<aw::sync::fdatasync, aw::commit::automatic, aw::temp::anonymous>>;
using unsynced_batch = aw::basic_batch<aw::basic_atomic_writer<aw::sync::none>, aw::group::syncfs>;

}  // namespace

TEMPLATE_TEST_CASE("every crash state of a batch leaves each target old or new, all new after commit()",
                   "[crash][batch]", sequential_batch, concurrent_batch, syncfs_batch, automatic_batch,
                   anonymous_batch) {
    if (std::is_same_v<TestType, anonymous_batch> && !test::features().anonymous_files) {
        WARN("skipped: O_TMPFILE is not supported here");
        return;
    }
    check_durable_batch<TestType>();
}

TEST_CASE("a batch of writers that do not sync fails the crash check", "[crash][batch]") {
    // Three files: without syncs every effect stays open, and the states multiply.
    const batch_findings f = check_batch<unsynced_batch>(3);
    INFO("rules broken: " << join(f.rule_failures));
    CHECK_FALSE(f.rule_failures.empty());
    CHECK(f.torn > 0);
    CHECK(f.lost_after_commit > 0);
    test::report_figure("crash states: " + test::type_name<unsynced_batch>() + ": " + std::to_string(f.states) +
                        " states: fails durability as expected (" + std::to_string(f.torn) + " torn, " +
                        std::to_string(f.lost_after_commit) + " lost after commit)");
}

namespace {
/// A broken group policy: it skips the files' syncs and claims nothing failed.
struct skips_files {
    void sync_files(std::span<aw::sync_item>, const aw::sync_step&) const noexcept {}
    void sync_directories(std::span<aw::sync_item> items, const aw::sync_step& step) const noexcept {
        for (aw::sync_item& i : items) step(i);
    }
};
static_assert(aw::group_policy<skips_files>);
}  // namespace

TEST_CASE("the batch crash check catches a group policy that skips the files' syncs", "[crash][batch]") {
    const batch_findings f = check_batch<aw::basic_batch<aw::atomic_writer, skips_files>>(3);
    INFO("rules broken: " << join(f.rule_failures));
    CHECK(has(f.rule_failures, "a write of the new file is not synced before publication"));
    CHECK(f.torn > 0);
    CHECK(f.lost_after_commit > 0);
}
