// SPDX-License-Identifier: MIT
// A crash-state model of a whole directory tree, for operations that change several
// names (links, exchanges, backups, versioned trees): record the calls an operation
// makes through the seam, turn them into effects on directory entries and files, and
// enumerate every state a crash could leave on disk. POSIX only (it reads inodes).
//
// The persistence model is test_crash.cpp's, with names as the unit:
// - a write persists only if a later fsync/fdatasync of its file was issued; otherwise
//   it may be lost, torn (its first half kept) or leave zeros;
// - a change of directory entries persists only if a later fsync of every directory it
//   changes was issued; otherwise it may be lost. One call's changes are one effect:
//   a rename or an exchange is kept or lost as a whole (a journal commits a call at
//   once), and effects are kept or lost independently of each other;
// - a new directory (mkdir) is an entry like any other; a symbolic link's text is
//   written with its entry (a link cannot be flushed on its own);
// - a call that changes a file's data other than by write(2) (a clone, a copy in the
//   kernel, pwrite, truncate, fallocate) is recorded as the whole content it left, and
//   persists as a write does: only if a later fsync/fdatasync of its file was issued;
// - nothing issued after the crash persists.
#ifndef ATOMICWRITES_TESTS_SUPPORT_CRASH_MODEL_HPP
#define ATOMICWRITES_TESTS_SUPPORT_CRASH_MODEL_HPP

#include <atomicwrites/syscall_hook.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.hpp"

namespace test::crash {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

/// What an inode is.
struct object {
    enum kind_t { file, symlink, directory } kind = file;
    std::string data;  // a file's bytes, a link's text
};

using entry_key = std::pair<std::uint64_t, std::string>;  // directory inode, name

/// The durable state: names and what they refer to.
struct disk {
    std::map<entry_key, std::uint64_t> entries;
    std::map<std::uint64_t, object> objects;

    /// The inode at `name` in the directory `dir`, or 0.
    std::uint64_t at(std::uint64_t dir, const std::string& name) const {
        const auto it = entries.find({dir, name});
        return it == entries.end() ? 0 : it->second;
    }
    /// What `name` in `dir` refers to, or null.
    const object* find(std::uint64_t dir, const std::string& name) const {
        const std::uint64_t ino = at(dir, name);
        if (ino == 0) return nullptr;
        const auto it = objects.find(ino);
        return it == objects.end() ? nullptr : &it->second;
    }
    /// The inode at a relative path below `dir` ("a/b/c"), following links whose text is
    /// a relative path below the same directory as the link; 0 if missing.
    std::uint64_t resolve(std::uint64_t dir, const std::string& path, int depth = 0) const {
        std::uint64_t cur = dir;
        std::size_t start = 0;
        while (start <= path.size()) {
            const std::size_t slash = path.find('/', start);
            const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
            std::uint64_t next = at(cur, part);
            if (next == 0) return 0;
            const auto it = objects.find(next);
            if (it != objects.end() && it->second.kind == object::symlink) {
                if (depth > 8) return 0;
                next = resolve(cur, it->second.data, depth + 1);
                if (next == 0) return 0;
            }
            if (slash == std::string::npos) return next;
            cur = next;
            start = slash + 1;
        }
        return 0;
    }
    /// The bytes of the file at `path` below `dir`, or null if it is missing or not a file.
    const std::string* read(std::uint64_t dir, const std::string& path) const {
        const std::uint64_t ino = resolve(dir, path);
        const auto it = objects.find(ino);
        if (ino == 0 || it == objects.end() || it->second.kind != object::file) return nullptr;
        return &it->second.data;
    }
};

inline std::uint64_t inode_at(const fs::path& p) {
    struct ::stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
    return st.st_ino;
}

/// The real tree below `root` (and `root` itself, by its inode), as a disk.
inline disk snapshot(const fs::path& root) {
    disk d;
    d.objects[inode_at(root)] = {object::directory, ""};
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        const fs::path p = it->path();
        const std::uint64_t ino = inode_at(p);
        d.entries[{inode_at(p.parent_path()), p.filename().string()}] = ino;
        if (it->is_symlink())
            d.objects[ino] = {object::symlink, fs::read_symlink(p).string()};
        else if (it->is_directory())
            d.objects[ino] = {object::directory, ""};
        else {
            std::string data;
            if (FILE* f = std::fopen(p.c_str(), "rb")) {
                char buf[4096];
                for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) data.append(buf, n);
                std::fclose(f);
            }
            d.objects[ino] = {object::file, data};
        }
    }
    return d;
}

/// Records the calls of this thread with what the model needs: the inodes of the
/// descriptors and directories involved, the inode a name was created with, and the
/// bytes each write put where.
class recorder : public scripted_hook {
public:
    struct detail {
        std::uint64_t file = 0;
        bool file_is_directory = false;
        std::uint64_t dir = 0, dir2 = 0;
        std::uint64_t created = 0;  // create_file, symlink: the new inode
        unsigned mode = 0;          // set_xattr of an access ACL: the mode it left
        long long offset = 0;
        std::string bytes;
    };
    std::vector<detail> details;

    /// Whether `op` changes a file's data other than by write(2).
    static bool changes_data(sysop op) {
        return op == sysop::clone || op == sysop::copy_range || op == sysop::pwrite || op == sysop::truncate ||
               op == sysop::fallocate;
    }

    int before(aw::syscall_info& info) noexcept override {
        const int error = scripted_hook::before(info);
        detail d;
        struct ::stat st {};
        if (info.file >= 0 && ::fstat(info.file, &st) == 0) {
            d.file = st.st_ino;
            d.file_is_directory = S_ISDIR(st.st_mode);
        }
        if (info.dir >= 0 && ::fstat(info.dir, &st) == 0) d.dir = st.st_ino;
        if (info.dir == AT_FDCWD && ::stat(".", &st) == 0) d.dir = st.st_ino;
        if (info.dir2 >= 0 && ::fstat(info.dir2, &st) == 0) d.dir2 = st.st_ino;
        if (info.op == sysop::write) d.offset = ::lseek(info.file, 0, SEEK_CUR);
        details.push_back(std::move(d));
        return error;
    }
    void after(const aw::syscall_info& info, int error) noexcept override {
        scripted_hook::after(info, error);
        detail& d = details.back();
        if (error != 0) return;
        struct ::stat st {};
        if ((info.op == sysop::create_file || info.op == sysop::symlink || info.op == sysop::make_directory ||
             info.op == sysop::open_lock_file) &&
            ::fstatat(info.dir, info.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            d.created = st.st_ino;
        // An access ACL sets the permission bits as fchmod does (its owner, mask or
        // group, and other entries): the mode it left, for models that follow modes.
        if (info.op == sysop::set_xattr && std::string_view(info.name2) == "system.posix_acl_access" &&
            ::fstat(info.file, &st) == 0)
            d.mode = static_cast<unsigned>(st.st_mode) & 07777u;
        if (info.op == sysop::write) {
            // Read back what the call wrote, through a read-only descriptor of its own
            // (the writer's is write-only; an anonymous file has no name to open).
            const long long end = ::lseek(info.file, 0, SEEK_CUR);
            const std::string proc = "/proc/self/fd/" + std::to_string(info.file);
            const int fd = ::open(proc.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0 && end > d.offset) {
                d.bytes.resize(static_cast<std::size_t>(end - d.offset));
                const ssize_t n = ::pread(fd, d.bytes.data(), d.bytes.size(), d.offset);
                d.bytes.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
            }
            if (fd >= 0) ::close(fd);
        }
        if (changes_data(info.op)) {
            const std::string proc = "/proc/self/fd/" + std::to_string(info.file);
            const int fd = ::open(proc.c_str(), O_RDONLY | O_CLOEXEC);
            struct ::stat fst {};
            if (fd >= 0 && ::fstat(fd, &fst) == 0) {
                d.bytes.resize(static_cast<std::size_t>(fst.st_size));
                std::size_t got = 0;
                while (got < d.bytes.size()) {
                    const ssize_t n = ::pread(fd, d.bytes.data() + got, d.bytes.size() - got, static_cast<off_t>(got));
                    if (n <= 0) break;
                    got += static_cast<std::size_t>(n);
                }
                d.bytes.resize(got);
            }
            if (fd >= 0) ::close(fd);
        }
    }
};

/// One effect on persistent state, or a barrier.
struct effect {
    enum kind_t { write, entries, sync_file, sync_directory } kind = entries;
    std::size_t call = 0;
    std::uint64_t inode = 0;                                   // write, sync_file
    std::uint64_t dir = 0;                                     // sync_directory
    std::vector<std::pair<entry_key, std::uint64_t>> changes;  // entries: name -> inode (0: removed)
    std::size_t offset = 0;                                    // write
    std::string bytes;                                         // write
    bool whole = false;                                        // write: `bytes` is the whole file
};

/// The durable state before the operation, and the effects of its calls.
struct model {
    disk initial;
    std::vector<effect> effects;
    std::size_t calls = 0;
    std::set<std::string> unknown;  // operations the model does not know (a test fails on them)
};

inline model build(const recorder& rec, disk initial) {
    model m;
    m.calls = rec.calls.size();
    std::map<entry_key, std::uint64_t> now = initial.entries;
    auto lookup = [&](std::uint64_t dir, const std::string& name) {
        const auto it = now.find({dir, name});
        return it == now.end() ? std::uint64_t{0} : it->second;
    };
    for (std::size_t i = 0; i < rec.calls.size(); ++i) {
        const auto& c = rec.calls[i];
        const auto& d = rec.details[i];
        if (c.error != 0) continue;
        effect e;
        e.call = i;
        switch (c.op) {
            case sysop::create_file:
                initial.objects[d.created] = {object::file, ""};
                e.changes = {{{d.dir, c.name}, d.created}};
                break;
            case sysop::symlink:
                initial.objects[d.created] = {object::symlink, c.name2};
                e.changes = {{{d.dir, c.name}, d.created}};
                break;
            case sysop::make_directory:
                initial.objects[d.created] = {object::directory, ""};
                e.changes = {{{d.dir, c.name}, d.created}};
                break;
            case sysop::open_lock_file:  // creates the (empty) lock file if it is not there
                if (lookup(d.dir, c.name) == d.created) continue;
                initial.objects[d.created] = {object::file, ""};
                e.changes = {{{d.dir, c.name}, d.created}};
                break;
            case sysop::write:
                e.kind = effect::write;
                e.inode = d.file;
                e.offset = static_cast<std::size_t>(d.offset);
                e.bytes = d.bytes;
                break;
            case sysop::clone:
            case sysop::copy_range:
            case sysop::pwrite:
            case sysop::truncate:
            case sysop::fallocate:
                e.kind = effect::write;
                e.inode = d.file;
                e.bytes = d.bytes;
                e.whole = true;
                break;
            case sysop::fsync:
            case sysop::fdatasync:
            case sysop::full_fsync:
                e.kind = d.file_is_directory ? effect::sync_directory : effect::sync_file;
                (d.file_is_directory ? e.dir : e.inode) = d.file;
                break;
            case sysop::rename:
            case sysop::rename_noreplace: {
                const std::uint64_t ino = lookup(d.dir, c.name);
                e.changes = {{{d.dir2, c.name2}, ino}, {{d.dir, c.name}, 0}};
                break;
            }
            case sysop::rename_exchange: {
                const std::uint64_t a = lookup(d.dir, c.name);
                const std::uint64_t b = lookup(d.dir2, c.name2);
                e.changes = {{{d.dir, c.name}, b}, {{d.dir2, c.name2}, a}};
                break;
            }
            case sysop::link:
                e.changes = {{{d.dir2, c.name2}, lookup(d.dir, c.name)}};
                break;
            case sysop::unlink:
            case sysop::remove_directory:
                e.changes = {{{d.dir, c.name}, 0}};
                break;
            case sysop::open_directory:
            case sysop::open_file:
            case sysop::stat:
            case sysop::readlink:
            case sysop::close:
            case sysop::chmod:
            case sysop::chown:
            case sysop::list_xattrs:
            case sysop::get_xattr:
            case sysop::set_xattr:  // metadata, as chmod: the model follows names and bytes
            case sysop::open_beneath:
            case sysop::read_directory:
            case sysop::read:
            case sysop::seek:
            case sysop::statfs:
            case sysop::lock:
            case sysop::unlock:
            case sysop::read_umask:
                continue;
            default:
                m.unknown.insert(std::string(aw::to_string(c.op)));
                continue;
        }
        if (e.kind == effect::entries)
            for (const auto& [key, ino] : e.changes) {
                if (ino != 0)
                    now[key] = ino;
                else
                    now.erase(key);
            }
        m.effects.push_back(std::move(e));
    }
    m.initial = std::move(initial);
    return m;
}

/// How a crash treats one effect no barrier made persist.
enum class fate : unsigned char { kept, lost, torn, zeros };

inline disk replay(const model& m, std::size_t prefix, const std::vector<fate>& fates) {
    disk d = m.initial;
    for (std::size_t e = 0; e < m.effects.size() && m.effects[e].call < prefix; ++e) {
        const effect& x = m.effects[e];
        if (fates[e] == fate::lost) continue;
        if (x.kind == effect::entries) {
            for (const auto& [key, ino] : x.changes) {
                if (ino != 0)
                    d.entries[key] = ino;
                else
                    d.entries.erase(key);
            }
        } else if (x.kind == effect::write) {
            std::string& data = d.objects[x.inode].data;
            std::string bytes = x.bytes;
            if (fates[e] == fate::torn) bytes.resize(bytes.size() / 2);
            if (fates[e] == fate::zeros) bytes.assign(bytes.size(), '\0');
            if (x.whole) {
                data = bytes;
                continue;
            }
            if (data.size() < x.offset + bytes.size()) data.resize(x.offset + bytes.size(), '\0');
            data.replace(x.offset, bytes.size(), bytes);
        }
    }
    return d;
}

/// Whether barriers issued before `prefix` after effect `e` make it persist.
inline bool covered(const model& m, std::size_t e, std::size_t prefix) {
    const effect& x = m.effects[e];
    if (x.kind == effect::sync_file || x.kind == effect::sync_directory) return true;
    std::set<std::uint64_t> dirs;
    if (x.kind == effect::entries)
        for (const auto& c : x.changes) dirs.insert(c.first.first);
    for (std::size_t b = e + 1; b < m.effects.size() && m.effects[b].call < prefix; ++b) {
        const effect& y = m.effects[b];
        if (x.kind == effect::write && y.kind == effect::sync_file && y.inode == x.inode) return true;
        if (x.kind == effect::entries && y.kind == effect::sync_directory) dirs.erase(y.dir);
    }
    return x.kind == effect::entries && dirs.empty();
}

/// One operation recorded in a directory, and its model.
struct recording {
    model m;
    std::uint64_t root = 0;  // the directory's inode: where names are looked up
    disk after;              // what is on disk once the operation returned
    std::string trace;       // the calls, for messages
};

/// Runs `action` in `dir` under a recorder (given its `rules` first), and builds the
/// model of its calls. Checks what every use of the model rests on: it knows every call,
/// and it replays, with every effect kept, to what is really on disk.
inline recording record(const fs::path& dir, const std::function<void()>& action,
                        const std::function<void(recorder&)>& rules = {}) {
    recording out;
    disk before = snapshot(dir);
    recorder rec;
    if (rules) rules(rec);
    {
        aw::scoped_syscall_hook scope(rec);
        action();
    }
    out.trace = rec.trace();
    INFO("calls: " << out.trace);
    out.m = build(rec, std::move(before));
    CHECK(out.m.unknown.empty());
    out.root = inode_at(dir);
    out.after = snapshot(dir);
    const disk all = replay(out.m, out.m.calls, std::vector<fate>(out.m.effects.size(), fate::kept));
    CHECK(all.entries == out.after.entries);
    return out;
}

/// What enumerating the crash states found.
struct findings {
    std::size_t states = 0;
    std::size_t bad = 0;             // states the check refused
    std::string first_problem;       // the first refusal, for the message
    std::set<std::string> problems;  // every kind of refusal (what `check` answered)
};

/// Calls `check(disk, returned)` on every crash state (every prefix of the calls, every
/// choice of fates of the effects not yet made durable); `check` answers an empty string
/// for a good state, else what is wrong with it.
inline findings enumerate(const model& m, const std::function<std::string(const disk&, bool)>& check) {
    findings out;
    for (std::size_t prefix = 0; prefix <= m.calls; ++prefix) {
        std::vector<std::size_t> open;
        for (std::size_t e = 0; e < m.effects.size() && m.effects[e].call < prefix; ++e)
            if (!covered(m, e, prefix)) open.push_back(e);
        std::vector<unsigned> radix;
        std::size_t combinations = 1;
        for (std::size_t e : open) {
            radix.push_back(m.effects[e].kind == effect::write ? 4u : 2u);
            combinations *= radix.back();
            if (combinations > (1u << 22)) throw std::runtime_error("too many crash states");
        }
        std::vector<fate> fates(m.effects.size(), fate::kept);
        for (std::size_t c = 0; c < combinations; ++c) {
            std::size_t v = c;
            for (std::size_t j = 0; j < open.size(); ++j) {
                fates[open[j]] = static_cast<fate>(v % radix[j]);
                v /= radix[j];
            }
            ++out.states;
            const std::string problem = check(replay(m, prefix, fates), prefix == m.calls);
            if (!problem.empty()) {
                out.problems.insert(problem);
                if (out.bad == 0) out.first_problem = problem + " (crash before call " + std::to_string(prefix) + ")";
                ++out.bad;
            }
        }
    }
    return out;
}

}  // namespace test::crash

#endif  // ATOMICWRITES_TESTS_SUPPORT_CRASH_MODEL_HPP
