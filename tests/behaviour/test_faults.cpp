// SPDX-License-Identifier: MIT
// Fault injection through the system-call seam, for every policy combination: each
// call of a successful write fails in turn, with an error that call can really report
// (an errno on POSIX, a GetLastError() value on Windows).
// The error names the step and the target, commit_state tells whether the target
// changed, the target holds exactly the old or exactly the new content, and nothing is
// left behind: no temporary file, no open descriptor.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

using test::old_content;
const std::string new_content = "new content, longer than the old one\n";

/// What the non-template driver needs to know about one writer type.
struct writer_info {
    std::string name;
    bool can_replace;
    bool can_keep;
    bool durable;            // the sync policy syncs
    sysop file_sync;         // ... with this call for the file
    bool may_be_anonymous;   // the temp policy may make an O_TMPFILE file
    bool fixed_name;         // temp::named: a taken name is an error, not a retry
    bool falls_back;         // temp::first_of<anonymous, mkstemp>: O_TMPFILE may be missing
    bool renames_open_file;  // the commit renames through the handle first (Windows), then by name
    aw::commit_state (*run_ec)(const fs::path&, std::string_view, const aw::write_options&, std::error_code&);
    void (*run_throwing)(const fs::path&, std::string_view, const aw::write_options&);
};

template <class W>
aw::commit_state run_ec(const fs::path& p, std::string_view data, const aw::write_options& o, std::error_code& ec) {
    return aw::write_file<W>(p, data, o, ec);
}

/// The throwing form goes through atomic_write() and the stream, so that the buffered
/// path (flushed by commit()) is covered too; its system calls are the same.
template <class W>
void run_throwing(const fs::path& p, std::string_view data, const aw::write_options& o) {
    aw::atomic_write<W>(
        p, [data](std::ostream& out) { out << data; }, o);
}

/// The call a sync policy makes for the file: fdatasync(2) for sync::fdatasync, fsync(2)
/// (FlushFileBuffers on Windows) for the others.
template <class S>
constexpr sysop file_sync_of() {
#if !defined(_WIN32)
    if constexpr (std::is_same_v<S, aw::sync::fdatasync>) return sysop::fdatasync;
#endif
    return sysop::fsync;
}

/// Whether a temp policy falls back from O_TMPFILE (which only Linux declares).
template <class T>
constexpr bool falls_back_from_anonymous() {
#if defined(__linux__)
    return std::is_same_v<T, aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>;
#else
    return false;
#endif
}

template <class W>
writer_info info_of() {
    return {test::type_name<W>(),
            test::can_replace<W>,
            test::can_keep<W>,
            W::sync_type::durable,
            file_sync_of<typename W::sync_type>(),
            W::temp_type::may_be_anonymous,
            std::is_same_v<typename W::temp_type, aw::temp::named>,
            falls_back_from_anonymous<typename W::temp_type>(),
            aw::detail::renames_open_file<typename W::commit_type>(),
            &run_ec<W>,
            &run_throwing<W>};
}

struct scenario {
    const char* name;
    bool existing;  // the target exists (mode 0640; writable on Windows) before the write
    bool foreign;   // ... and belongs to another user (root only): adds the chown step
    bool overwrite;
};

constexpr scenario scenarios[] = {
    {"new file, overwrite = true", false, false, true},
    {"new file, overwrite = false", false, false, false},
    {"replacement", true, false, true},
    {"replacement of another user's file", true, true, true},
};

bool applies(const writer_info& w, const scenario& s) {
    if (s.foreign && !test::is_root()) return false;
    return s.overwrite ? w.can_replace : w.can_keep;
}

void prepare(const test::temp_dir& dir, const scenario& s) {
    if (!s.existing) return;
    const fs::path target = dir / "target";
    test::write_plain(target, old_content);
#if !defined(_WIN32)
    REQUIRE(::chmod(target.c_str(), 0640) == 0);
    if (s.foreign) REQUIRE(::chown(target.c_str(), 65534, 65534) == 0);
#endif
}

/// Checks that a replaced target kept its mode (0640; on Windows: still writable) and,
/// for the foreign scenario, its owner; `owner_kept` false: only its group (the library
/// was refused the owner, and kept the group instead).
void check_kept_mode(const fs::path& target, const scenario& s, bool owner_kept = true) {
#if defined(_WIN32)
    (void)s;
    (void)owner_kept;
    CHECK_FALSE(test::is_read_only(target));
#else
    struct ::stat st {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    if (s.foreign) CHECK(st.st_gid == 65534);
    if (s.foreign) CHECK(st.st_uid == (owner_kept ? 65534 : ::geteuid()));
#endif
}

enum class form { error_code, throwing };

struct outcome {
    bool threw = false;
    bool durability = false;  // the exception was a durability_error
    aw::commit_state state = aw::commit_state::unchanged;
    std::error_code ec;
    std::string what;
    fs::path path1;
    fs::path path2;
};

outcome run(const writer_info& w, form f, const fs::path& target, const aw::write_options& options,
            test::scripted_hook& hook) {
    outcome out;
    aw::scoped_syscall_hook scope(hook);
    if (f == form::error_code) {
        out.state = w.run_ec(target, new_content, options, out.ec);
        return out;
    }
    try {
        w.run_throwing(target, new_content, options);
        out.state = aw::commit_state::published;
    } catch (const aw::durability_error& e) {
        out = {true, true, aw::commit_state::published, e.code(), e.what(), e.path1(), e.path2()};
    } catch (const fs::filesystem_error& e) {
        out = {true, false, aw::commit_state::unchanged, e.code(), e.what(), e.path1(), e.path2()};
    }
    return out;
}

/// The index of the call that publishes (the last rename or link of the sequence).
std::size_t publish_index(const std::vector<sysop>& ops) {
    std::size_t at = ops.size();
    for (std::size_t i = 0; i < ops.size(); ++i) {
        switch (ops[i]) {
            case sysop::rename:
            case sysop::rename_noreplace:
            case sysop::link:
            case sysop::link_anonymous:
                at = i;
                break;
            default:
                break;
        }
    }
    return at;
}

/// The step a failure of call `i` must be reported as.
std::string expected_step(const std::vector<sysop>& ops, std::size_t i, std::size_t published_at) {
    const bool before = i < published_at;
    switch (ops[i]) {
        case sysop::open_directory:
            return "open directory";
        case sysop::stat:  // the target; after the creation, the new file as created
            for (std::size_t j = 0; j < i; ++j)
                if (ops[j] == sysop::create_file || ops[j] == sysop::create_anonymous) return "inspect temporary file";
            return "inspect target";
        case sysop::create_file:
        case sysop::create_anonymous:
            return "create temporary file";
        case sysop::chown:
            return "set owner of temporary file";
        case sysop::chmod:
        case sysop::set_xattr:  // the mode, as a minimal ACL
            return "set mode of temporary file";
        case sysop::list_xattrs:
        case sysop::get_xattr:
            return "copy extended attributes";
        case sysop::write:
            return "write temporary file";
        case sysop::fsync:
        case sysop::fdatasync:
        case sysop::full_fsync:
            return before ? "sync temporary file" : "sync directory";
        case sysop::link_anonymous:
            return before ? "name temporary file" : "link into place";
        case sysop::link:
            return "link into place";
        case sysop::rename:
            return "rename into place";
        case sysop::rename_noreplace:
            return "rename into place (no replace)";
        case sysop::unlink:
            return "remove temporary name";
        case sysop::close:
            if (before) return "close temporary file";
            return i + 1 == ops.size() ? "close directory" : "close temporary file";
        default:
            return "(unexpected operation)";
    }
}

/// The errnos each operation really reports and the library reports in turn (as
/// opposed to those it answers by retrying or falling back: see handled_errnos()).
/// EINTR: open(2) on NFS, FUSE or a slow device; close(2)'s EIO/ENOSPC/EDQUOT: delayed
/// write errors on NFS; EINVAL from fsync(2): a file or filesystem that cannot be
/// synced. On Windows, the
/// GetLastError() values of the same kinds, without the sharing violations and
/// access-denied answers of the calls that retry them.
std::vector<int> errnos_for(const writer_info& w, sysop op, bool publishing) {
#if defined(_WIN32)
    (void)publishing;
    switch (op) {
        case sysop::open_directory:
            return {ERROR_TOO_MANY_OPEN_FILES, ERROR_ACCESS_DENIED,        ERROR_PATH_NOT_FOUND,
                    ERROR_DIRECTORY,           ERROR_FILENAME_EXCED_RANGE, ERROR_NOT_ENOUGH_MEMORY};
        case sysop::open_file:
            return {ERROR_TOO_MANY_OPEN_FILES, ERROR_FILE_NOT_FOUND, ERROR_IO_DEVICE};
        case sysop::stat:
            return {ERROR_ACCESS_DENIED, ERROR_IO_DEVICE, ERROR_NOT_ENOUGH_MEMORY};
        case sysop::create_file: {
            std::vector<int> e{ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL, ERROR_WRITE_PROTECT, ERROR_TOO_MANY_OPEN_FILES,
                               ERROR_FILENAME_EXCED_RANGE};
            if (w.fixed_name) e.push_back(ERROR_FILE_EXISTS);
            return e;
        }
        case sysop::chmod:
            return {ERROR_WRITE_PROTECT, ERROR_IO_DEVICE, ERROR_ACCESS_DENIED};
        case sysop::write:
            return {ERROR_IO_DEVICE, ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL};
        case sysop::fsync:
            return {ERROR_IO_DEVICE, ERROR_DISK_FULL, ERROR_WRITE_PROTECT};
        case sysop::close:
            return {ERROR_IO_DEVICE, ERROR_INVALID_HANDLE};
        case sysop::rename:
            return {ERROR_NOT_SAME_DEVICE, ERROR_DISK_FULL, ERROR_WRITE_PROTECT, ERROR_IO_DEVICE};
        case sysop::rename_noreplace:
            return {ERROR_ALREADY_EXISTS, ERROR_NOT_SAME_DEVICE, ERROR_DISK_FULL, ERROR_WRITE_PROTECT};
        case sysop::unlink:
            return {ERROR_IO_DEVICE, ERROR_WRITE_PROTECT};
        default:
            return {ERROR_IO_DEVICE};
    }
#else
    switch (op) {
        case sysop::open_directory:
            return {EMFILE, ENFILE, EACCES, ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, ENOMEM, EIO};
        case sysop::open_file:
            return {EACCES, EMFILE, ENFILE, EIO};
        case sysop::stat:
            return {EACCES, EIO, ENOMEM, EOVERFLOW};
        case sysop::create_file: {
            std::vector<int> e{ENOSPC, EDQUOT, EACCES, EPERM, EROFS, EMFILE, ENFILE, EINTR, ENAMETOOLONG, EIO};
            if (w.fixed_name) e.push_back(EEXIST);
            return e;
        }
        case sysop::create_anonymous: {
            std::vector<int> e{ENOSPC, EDQUOT, EACCES, EPERM, EROFS, EMFILE, ENFILE, EINTR, EIO};
            if (!w.falls_back) e.insert(e.end(), {EOPNOTSUPP, EISDIR, EINVAL});
            return e;
        }
        case sysop::chown:
            return {EIO, EROFS};
        case sysop::chmod:
            return {EROFS, EIO};
        case sysop::list_xattrs:
            return {EIO, ENOMEM, EACCES};
        case sysop::get_xattr:
            return {EIO, ENOMEM};
        case sysop::set_xattr:
            return {};  // the mode's minimal ACL: fchmod instead (see handled_errnos)
        case sysop::write:
            return {EIO, ENOSPC, EDQUOT, EFBIG, EPERM};
        case sysop::fsync:
        case sysop::fdatasync:
        case sysop::full_fsync:
            return {EIO, ENOSPC, EDQUOT, EROFS, EINVAL};
        case sysop::close:
            return {EIO, ENOSPC, EDQUOT};
        case sysop::rename:
            return {EXDEV, EACCES, EPERM, EROFS, ENOSPC, EDQUOT, EBUSY, EISDIR, ENOENT, ENAMETOOLONG, EIO};
        case sysop::rename_noreplace:
            return {EEXIST, EXDEV, EACCES, EPERM, EROFS, ENOSPC, EDQUOT, ENAMETOOLONG, EIO};
        case sysop::link:
            return {EEXIST, EXDEV, EACCES, EPERM, EROFS, EMLINK, ENOSPC, EDQUOT, ENAMETOOLONG, EIO};
        case sysop::link_anonymous:
            return publishing ? std::vector<int>{EEXIST, EXDEV, EACCES, EPERM, EROFS, ENOSPC, EDQUOT, EMLINK, EIO}
                              : std::vector<int>{EACCES, EPERM, EROFS, ENOSPC, EDQUOT, EMLINK, EIO};
        case sysop::unlink:
            return {EIO, EROFS, EBUSY, EACCES, EPERM};
        default:
            return {EIO};
    }
#endif
}

/// One of errnos_for(), chosen by `k`.
int errno_for(const writer_info& w, sysop op, std::size_t k, bool publishing) {
    const std::vector<int> e = errnos_for(w, op, publishing);
    return e[k % e.size()];
}

/// The errnos of an operation that the library answers without failing: retried
/// (EINTR of write and sync; EEXIST of a random name), or falling back (no O_TMPFILE
/// here; no renameat2 here; EPERM of fchown: the group is kept instead). On Windows:
/// a sharing violation of the calls that retry it, a taken random name, and the
/// answers that make a rename through the open handle fall back to MoveFileExW
/// (`handle_rename`: call `op` is that rename).
std::vector<int> handled_errnos(const writer_info& w, sysop op, bool publishing, bool handle_rename) {
#if defined(_WIN32)
    (void)publishing;
    switch (op) {
        case sysop::create_file:
            return w.fixed_name ? std::vector<int>{ERROR_SHARING_VIOLATION}
                                : std::vector<int>{ERROR_SHARING_VIOLATION, ERROR_FILE_EXISTS};
        case sysop::open_file:
        case sysop::unlink:
            return {ERROR_SHARING_VIOLATION};
        case sysop::rename:
        case sysop::rename_noreplace:
            return handle_rename ? std::vector<int>{ERROR_SHARING_VIOLATION, ERROR_INVALID_PARAMETER,
                                                    ERROR_NOT_SUPPORTED, ERROR_INVALID_FUNCTION}
                                 : std::vector<int>{ERROR_SHARING_VIOLATION};
        default:
            return {};
    }
#else
    (void)handle_rename;
    switch (op) {
        case sysop::write:
        case sysop::fsync:
        case sysop::fdatasync:
            return {EINTR};
        case sysop::create_file:
            return w.fixed_name ? std::vector<int>{} : std::vector<int>{EEXIST};
        case sysop::create_anonymous:
            return w.falls_back ? std::vector<int>{EOPNOTSUPP, EISDIR, EINVAL} : std::vector<int>{};
        case sysop::link_anonymous:
            return publishing ? std::vector<int>{} : std::vector<int>{EEXIST};
        case sysop::rename_noreplace:
            return {EINVAL, ENOSYS, EOPNOTSUPP};
        case sysop::open_directory:  // a write-only directory: opened O_PATH instead
            return {EACCES};
        case sysop::chown:  // not permitted, ids not mapped (user namespaces), no owners here
            return {EPERM, EINVAL, ENOSYS, EOPNOTSUPP};
        case sysop::chmod:  // the mode is only kept: the creation mode is never wider
            return {EPERM, EINVAL, ENOSYS, EOPNOTSUPP};
        case sysop::list_xattrs:  // no extended attributes on this filesystem
            return {EOPNOTSUPP};
        case sysop::set_xattr:  // the minimal ACL that sets the mode: fchmod instead
            return {EOPNOTSUPP, EPERM, EIO};
        case sysop::close:
            return {EINTR};
        default:
            return {};
    }
#endif
}

/// The error a retried call was given once, to be made again: EINTR; on Windows a
/// sharing violation.
#if defined(_WIN32)
constexpr int retried_error = ERROR_SHARING_VIOLATION;
#else
constexpr int retried_error = EINTR;
#endif

using test::contains;

struct totals {
    std::size_t faults = 0;
};

void inject_one(const writer_info& w, const scenario& s, form f, const std::vector<sysop>& recorded, std::size_t i,
                int error, totals& t);

/// Records a successful write of `s` in form `f`, then fails each of its calls in turn.
void inject_every_call(const writer_info& w, const scenario& s, form f, std::size_t variant, totals& t) {
    const aw::write_options options{.overwrite = s.overwrite};
    std::vector<sysop> recorded;
    {
        test::temp_dir dir(test::fast_base());
        prepare(dir, s);
        test::scripted_hook hook;
        outcome o = run(w, f, dir / "target", options, hook);
        INFO("recorded: " << hook.trace());
        REQUIRE_FALSE(o.ec);
        REQUIRE(o.state == aw::commit_state::published);
        REQUIRE(test::read_file(dir / "target") == new_content);
        REQUIRE(dir.names() == std::vector<std::string>{"target"});
        if (s.existing) check_kept_mode(dir / "target", s);
        REQUIRE(hook.injected() == 0);
        recorded = hook.ops();
    }
    const std::size_t published_at = publish_index(recorded);
    REQUIRE(published_at < recorded.size());

    for (std::size_t i = 0; i < recorded.size(); ++i) {
        // The error_code form meets every errno of the call, the throwing form one.
        std::vector<int> errors = errnos_for(w, recorded[i], i == published_at);
        if (errors.empty()) continue;  // every errno of this call is answered (see handled_errnos())
        if (f == form::throwing) errors = {errno_for(w, recorded[i], i + variant, i == published_at)};
#if !defined(_WIN32)
        // A writer answers EACCES from opening the target's directory by opening it
        // O_PATH (a write-only directory): see handled_errnos().
        if (recorded[i] == sysop::open_directory) std::erase(errors, EACCES);
        if (errors.empty()) errors = {EMFILE};
#endif
        for (const int error : errors) inject_one(w, s, f, recorded, i, error, t);
    }
}

/// Fails call `i` of the recorded sequence with `error` and checks what follows.
void inject_one(const writer_info& w, const scenario& s, form f, const std::vector<sysop>& recorded, std::size_t i,
                int error, totals& t) {
    const aw::write_options options{.overwrite = s.overwrite};
    const std::size_t published_at = publish_index(recorded);
    {
        const bool published = i > published_at;
        const std::string step = expected_step(recorded, i, published_at);
        test::temp_dir dir(test::fast_base());
        prepare(dir, s);
        const fs::path target = dir / "target";
        const std::size_t descriptors = test::open_descriptor_count();

        test::scripted_hook hook;
        hook.fail_call(i, error);
        const outcome o = run(w, f, target, options, hook);
        ++t.faults;

        INFO("call " << i << " (" << aw::to_string(recorded[i]) << ") fails with " << error << ", "
                     << std::error_code(error, std::system_category()).message());
        INFO("expected step: " << step);
        INFO("calls: " << hook.trace());
        REQUIRE(hook.calls.size() > i);
        CHECK(hook.calls[i].op == recorded[i]);
        CHECK(hook.calls[i].injected);
        CHECK(hook.injected() == 1);
        const std::vector<sysop> made = hook.ops();
        CHECK(std::equal(recorded.begin(), recorded.begin() + static_cast<std::ptrdiff_t>(i), made.begin()));

        CHECK(o.ec == std::error_code(error, std::system_category()));
        CHECK(o.state == (published ? aw::commit_state::published : aw::commit_state::unchanged));
        if (f == form::throwing) {
            INFO("what(): " << o.what);
            CHECK(o.threw);
            CHECK(o.durability == published);
            CHECK(contains(o.what, step));
            CHECK(contains(o.what, test::utf8(target)));
            CHECK(o.path1 == target);
        }

        // The target: exactly the old state, or exactly the new content; a replaced
        // file's mode and owner either way.
        if (published) {
            CHECK(test::read_file(target) == new_content);
        } else if (s.existing) {
            CHECK(test::read_file(target) == old_content);
        } else {
            CHECK_FALSE(fs::exists(fs::symlink_status(target)));
        }
        if (s.existing) check_kept_mode(target, s);

        // Nothing left behind, except the one documented case: link_unlink's unlink of
        // the temporary name failed after the link published the file. The name is then
        // left as a second link to the new file, and the exception names it.
        const std::vector<std::string> names = dir.names();
        if (recorded[i] == sysop::unlink) {
            REQUIRE(names.size() == 2);
            const std::string& left = names[0] == "target" ? names[1] : names[0];
            CHECK(left.rfind(".target.", 0) == 0);
            CHECK(test::inode_of(dir / left) == test::inode_of(target));
            if (f == form::throwing) CHECK(o.path2 == dir / left);
        } else if (published || s.existing) {
            CHECK(names == std::vector<std::string>{"target"});
        } else {
            CHECK(names.empty());
        }
        CHECK(test::open_descriptor_count() == descriptors);
    }
}

/// Injects, at each call of the sequence, each errno the library answers without
/// failing (see handled_errnos()): the write still succeeds, with the new content at the
/// target, nothing left behind and no descriptor leaked.
void handle_every_call(const writer_info& w, const scenario& s, totals& t) {
    const aw::write_options options{.overwrite = s.overwrite};
    std::vector<sysop> recorded;
    {
        test::temp_dir dir(test::fast_base());
        prepare(dir, s);
        test::scripted_hook hook;
        REQUIRE_FALSE(run(w, form::error_code, dir / "target", options, hook).ec);
        recorded = hook.ops();
    }
    const std::size_t published_at = publish_index(recorded);
    std::size_t first_rename = recorded.size();
    for (std::size_t i = recorded.size(); i-- > 0;)
        if (recorded[i] == sysop::rename || recorded[i] == sysop::rename_noreplace) first_rename = i;
    for (std::size_t i = 0; i < recorded.size(); ++i) {
        const bool handle_rename = w.renames_open_file && i == first_rename;
        for (const int error : handled_errnos(w, recorded[i], i == published_at, handle_rename)) {
            test::temp_dir dir(test::fast_base());
            prepare(dir, s);
            const fs::path target = dir / "target";
            const std::size_t descriptors = test::open_descriptor_count();
            test::scripted_hook hook;
            hook.fail_call(i, error);
            const outcome o = run(w, form::error_code, target, options, hook);
            ++t.faults;
            INFO("call " << i << " (" << aw::to_string(recorded[i]) << ") fails with "
                         << std::error_code(error, std::system_category()).message() << "; calls: " << hook.trace());
            CHECK(hook.injected() == 1);
            CHECK_FALSE(o.ec);
            CHECK(o.state == aw::commit_state::published);
            CHECK(test::read_file(target) == new_content);
            CHECK(dir.names() == std::vector<std::string>{"target"});
            CHECK(test::open_descriptor_count() == descriptors);
            // Not allowed to give the file away (EPERM of fchown): the group is kept,
            // the owner is ours.
            if (s.existing) check_kept_mode(target, s, recorded[i] != sysop::chown);
            if (error == retried_error && recorded[i] != sysop::close) {
                // Retried: the same calls, with the interrupted one twice.
                std::vector<sysop> expected = recorded;
                expected.insert(expected.begin() + static_cast<std::ptrdiff_t>(i), recorded[i]);
                CHECK(hook.ops() == expected);
            }
        }
    }
}

/// Every call of every applicable scenario, in both forms.
void check_every_call(const writer_info& w) {
#if !defined(_WIN32)
    if (const char* why = test::missing_feature(w.may_be_anonymous && !w.falls_back)) {
        WARN("skipped: " << why << " (" << w.name << ")");
        return;
    }
#endif
    totals t;
    std::size_t variant = 0;
    for (const scenario& s : scenarios) {
        if (!applies(w, s)) continue;
        for (form f : {form::error_code, form::throwing}) {
            INFO(w.name << ", " << s.name << ", " << (f == form::throwing ? "throwing form" : "error_code form"));
            inject_every_call(w, s, f, variant++, t);
        }
    }
    CHECK(t.faults >= 14);  // at least two scenarios' worth of calls (7 calls each at least)
    test::report_figure("faults: " + w.name + ": " + std::to_string(t.faults) + " failures injected");
}

void check_handled(const writer_info& w) {
#if !defined(_WIN32)
    if (const char* why = test::missing_feature(w.may_be_anonymous && !w.falls_back)) {
        WARN("skipped: " << why << " (" << w.name << ")");
        return;
    }
#endif
    totals t;
    for (const scenario& s : scenarios) {
        if (!applies(w, s)) continue;
        INFO(w.name << ", " << s.name);
        handle_every_call(w, s, t);
    }
    CHECK(t.faults >= 2);  // at least the write and the close
    test::report_figure("faults: " + w.name + ": " + std::to_string(t.faults) + " retried or answered errnos injected");
}

/// The original failure: the sync of the temporary file, or (when nothing is synced)
/// the publishing call. Every unlink of the rollback fails too.
void check_failing_rollback(const writer_info& w) {
#if !defined(_WIN32)
    if (const char* why = test::missing_feature(w.may_be_anonymous && !w.falls_back)) {
        WARN("skipped: " << why << " (" << w.name << ")");
        return;
    }
#endif
    for (const scenario& s : scenarios) {
        if (!applies(w, s) || s.foreign) continue;
        for (form f : {form::error_code, form::throwing}) {
            INFO(w.name << ", " << s.name << ", " << (f == form::throwing ? "throwing form" : "error_code form"));
            test::temp_dir dir;
            prepare(dir, s);
            const fs::path target = dir / "target";
            test::scripted_hook hook;
            std::string step;
            if (w.durable) {
                hook.fail_op(w.file_sync, test::err::io);
                step = "sync temporary file";
            } else {
                // The publishing call: rename when overwriting, else the exclusive one.
                for (sysop op : {sysop::rename, sysop::rename_noreplace, sysop::link}) hook.fail_op(op, test::err::io);
                hook.fail_op(sysop::link_anonymous, test::err::io, s.overwrite ? 1 : 0);
                step = "into place";
            }
            // A lasting refusal (on Windows an access-denied answer would be retried).
            hook.fail_every(sysop::unlink, test::err::read_only);
            const outcome o = run(w, f, target, {.overwrite = s.overwrite}, hook);
            INFO("calls: " << hook.trace());
            // A named temporary exists when the failure happens, so the rollback did try
            // (and fail) to remove it; an anonymous one has a name only once it is named
            // for a rename.
            const bool named = !w.may_be_anonymous || (!w.durable && s.overwrite);
            if (named) CHECK(hook.count(sysop::unlink) >= 1);
            CHECK(o.ec == std::error_code(test::err::io, std::system_category()));
            CHECK(o.state == aw::commit_state::unchanged);
            if (f == form::throwing) {
                CHECK(o.threw);
                CHECK_FALSE(o.durability);
                CHECK(contains(o.what, step));
            }
            if (s.existing)
                CHECK(test::read_file(target) == old_content);
            else
                CHECK_FALSE(fs::exists(target));
        }
    }
}

}  // namespace

// The typed cases only gather what the checks need to know about each writer: the
// checks themselves are compiled once.
TEMPLATE_LIST_TEST_CASE("every system call of a write fails in turn", "[faults]", test::all_writers) {
    check_every_call(info_of<TestType>());
}

TEMPLATE_LIST_TEST_CASE("an errno the library retries or answers with a fallback is no failure", "[faults][eintr]",
                        test::all_writers) {
    check_handled(info_of<TestType>());
}

TEMPLATE_LIST_TEST_CASE("a failing rollback never masks the original error", "[faults][rollback]", test::all_writers) {
    check_failing_rollback(info_of<TestType>());
}

TEST_CASE("a short write is continued until every byte is written", "[faults][short]") {
    for (std::size_t limit : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        for (std::size_t size : {std::size_t{100}, std::size_t{10000}, std::size_t{200000}}) {
            if (limit == 1 && size > 10000) continue;  // 200000 one-byte calls add nothing
            test::temp_dir dir;
            const std::string content = test::pattern(size, static_cast<std::uint32_t>(limit));
            test::scripted_hook hook;
            hook.limit_writes(limit);
            {
                aw::scoped_syscall_hook scope(hook);
                aw::write_file(dir / "f", content, {.overwrite = true});
            }
            INFO("limit " << limit << ", size " << size);
            CHECK(test::read_file(dir / "f") == content);
            CHECK(hook.count(sysop::write) == (size + limit - 1) / limit);
            for (const auto& c : hook.calls)
                if (c.op == sysop::write) CHECK(c.size <= limit);
            CHECK(dir.names() == std::vector<std::string>{"f"});
        }
    }
}

TEST_CASE("short writes through the stream keep every byte in order", "[faults][short]") {
    test::temp_dir dir;
    const std::string content = test::pattern(300000, 7);  // several buffer fills
    test::scripted_hook hook;
    hook.limit_writes(5000);
    {
        aw::scoped_syscall_hook scope(hook);
        aw::atomic_write(dir / "f",
                         [&](std::ostream& out) {
                             for (std::size_t at = 0; at < content.size(); at += 777) out << content.substr(at, 777);
                         },
                         {.overwrite = true});
    }
    CHECK(test::read_file(dir / "f") == content);
    CHECK(hook.count(sysop::write) >= content.size() / 5000);
}

#if !defined(_WIN32)  // CloseHandle is not interrupted
TEST_CASE("an interrupted close is not an error and is not retried", "[faults][eintr]") {
    test::temp_dir dir;
    test::scripted_hook plain;
    {
        aw::scoped_syscall_hook scope(plain);
        aw::write_file(dir / "a", new_content, {.overwrite = true});
    }
    for (std::size_t nth = 0; nth < plain.count(sysop::close); ++nth) {
        fs::path target = dir / "b";
        target += std::to_string(nth);
        test::scripted_hook hook;
        hook.fail_op(sysop::close, EINTR, nth);
        const std::size_t descriptors = test::open_descriptor_count();
        std::error_code ec;
        aw::commit_state st;
        {
            aw::scoped_syscall_hook scope(hook);
            st = aw::write_file(target, new_content, {.overwrite = true}, ec);
        }
        INFO("EINTR on close number " << nth << "; calls: " << hook.trace());
        CHECK_FALSE(ec);
        CHECK(st == aw::commit_state::published);
        CHECK(hook.ops() == plain.ops());
        CHECK(test::read_file(target) == new_content);
        CHECK(test::open_descriptor_count() == descriptors);
    }
    CHECK(plain.count(sysop::close) == 2);  // the temporary file, then the directory
    CHECK(dir.names() == std::vector<std::string>{"a", "b0", "b1"});
}
#endif

TEST_CASE("write errors keep their step when the writer is used directly", "[faults]") {
    // A large write goes straight to the file: its error is reported at once, and the
    // commit afterwards fails with the same error and leaves nothing.
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, old_content);
    const std::string big = test::pattern(aw::detail::stream_buffer::capacity * 2);
    test::scripted_hook hook;
    hook.fail_op(sysop::write, test::err::no_space);
    aw::scoped_syscall_hook scope(hook);
    aw::atomic_writer w(target, {.overwrite = true});
    std::error_code ec;
    w.write(big, ec);
    CHECK(ec == std::error_code(test::err::no_space, std::system_category()));
    CHECK(std::string(w.failed_step()) == "write temporary file");
    w.write("more", ec);
    CHECK(ec == std::error_code(test::err::no_space, std::system_category()));
    CHECK(w.commit(ec) == aw::commit_state::unchanged);
    CHECK(ec == std::error_code(test::err::no_space, std::system_category()));
    CHECK(hook.count(sysop::rename) == 0);
    CHECK(test::read_file(target) == old_content);
    CHECK(dir.names() == std::vector<std::string>{"target"});
}

namespace {

/// The step a failure of call `i` of replace_atomic()/move_atomic() must be reported as;
/// empty if the library ignores that failure (closing the source file it only synced).
std::string expected_move_step(const std::vector<sysop>& ops, std::size_t i, std::size_t published_at) {
    const auto seen_before = [&](sysop op) {
        return static_cast<std::size_t>(std::count(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(i), op));
    };
    switch (ops[i]) {
        case sysop::open_directory:
            return seen_before(sysop::open_directory) == 0 ? "open source directory" : "open target directory";
        case sysop::open_file:
            return "open source file";
        case sysop::fsync:
            if (i < published_at) return "sync source file";
            return seen_before(sysop::fsync) == 1 ? "sync target directory" : "sync source directory";
        case sysop::rename:
            return "rename into place";
        case sysop::rename_noreplace:
            return "rename into place (no replace)";
        case sysop::close:
            return i < published_at ? "" : "close directory";
        default:
            return "(unexpected operation)";
    }
}

}  // namespace

TEST_CASE("every system call of replace_atomic and move_atomic fails in turn", "[faults][move]") {
#if !defined(_WIN32)
    // The steps below are those of renameat2; without it (a FUSE filesystem) the move
    // links and unlinks instead, which the typed cases cover.
    if (!test::features().rename_noreplace) {
        WARN("skipped: the test directory's filesystem has no RENAME_NOREPLACE");
        return;
    }
#endif
    // The error_code form meets every errno of each call, the throwing form one.
    const writer_info move_writer = info_of<aw::atomic_writer>();
    auto move_faults = [&](sysop op, std::size_t i) {
        std::vector<std::pair<form, int>> out;
        for (int e : errnos_for(move_writer, op, false)) out.emplace_back(form::error_code, e);
        out.emplace_back(form::throwing, errno_for(move_writer, op, i + 1, false));
        return out;
    };
    struct move_case {
        const char* name;
        bool replace;  // replace_atomic over an existing file, else move_atomic to a new name
        bool cross;    // source and target in different directories
    };
    const move_case cases[] = {
        {"replace_atomic, one directory", true, false},
        {"replace_atomic, two directories", true, true},
        {"move_atomic, one directory", false, false},
        {"move_atomic, two directories", false, true},
    };
    for (const move_case& m : cases) {
        auto prepare_move = [&](const test::temp_dir& dir) {
            fs::create_directory(dir / "a");
            fs::create_directory(dir / "b");
            test::write_plain(dir / "a" / "src", new_content);
            if (m.replace) test::write_plain(dir / (m.cross ? "b" : "a") / "dst", old_content);
            return std::pair<fs::path, fs::path>(dir / "a" / "src", dir / (m.cross ? "b" : "a") / "dst");
        };
        auto run_move = [&](const fs::path& src, const fs::path& dst, form f, test::scripted_hook& hook) {
            outcome out;
            aw::scoped_syscall_hook scope(hook);
            if (f == form::error_code) {
                out.state = m.replace ? aw::replace_atomic(src, dst, out.ec) : aw::move_atomic(src, dst, out.ec);
                return out;
            }
            try {
                if (m.replace)
                    aw::replace_atomic(src, dst);
                else
                    aw::move_atomic(src, dst);
                out.state = aw::commit_state::published;
            } catch (const aw::durability_error& e) {
                out = {true, true, aw::commit_state::published, e.code(), e.what(), e.path1(), e.path2()};
            } catch (const fs::filesystem_error& e) {
                out = {true, false, aw::commit_state::unchanged, e.code(), e.what(), e.path1(), e.path2()};
            }
            return out;
        };

        std::vector<sysop> recorded;
        {
            test::temp_dir dir;
            const auto [src, dst] = prepare_move(dir);
            test::scripted_hook hook;
            const outcome o = run_move(src, dst, form::error_code, hook);
            INFO(m.name << ": " << hook.trace());
            REQUIRE_FALSE(o.ec);
            REQUIRE(test::read_file(dst) == new_content);
            recorded = hook.ops();
        }
        const std::size_t published_at = publish_index(recorded);
        REQUIRE(published_at < recorded.size());
        for (std::size_t i = 0; i < recorded.size(); ++i) {
            for (const auto& [f, error] : move_faults(recorded[i], i)) {
                // An access error on the source's read-only open is answered by a write-only
                // open (a source that may be written but not read), and one on opening a
                // directory by a search-only open (a drop box; POSIX): the move goes on.
                const bool denied = std::error_code(error, std::system_category()) == std::errc::permission_denied;
                bool reopened = recorded[i] == sysop::open_file && denied;
#if !defined(_WIN32)
                reopened = reopened || (recorded[i] == sysop::open_directory && denied);
#endif
                const std::string step = reopened ? std::string() : expected_move_step(recorded, i, published_at);
                const bool ignored = step.empty();
                const bool published = ignored || i > published_at;
                test::temp_dir dir(test::fast_base());
                const auto [src, dst] = prepare_move(dir);
                const std::size_t descriptors = test::open_descriptor_count();
                test::scripted_hook hook;
                hook.fail_call(i, error);
                const outcome o = run_move(src, dst, f, hook);
                INFO(m.name << (f == form::throwing ? ", throwing form" : ", error_code form") << ": call " << i << " ("
                            << aw::to_string(recorded[i]) << ") fails; expected step: " << step);
                INFO("calls: " << hook.trace() << (o.threw ? "; what(): " + o.what : std::string()));
                CHECK(hook.injected() == 1);
                if (ignored) {
                    CHECK_FALSE(o.ec);
                    CHECK_FALSE(o.threw);
                } else {
                    CHECK(o.ec == std::error_code(error, std::system_category()));
                }
                CHECK(o.state == (published ? aw::commit_state::published : aw::commit_state::unchanged));
                if (f == form::throwing && !ignored) {
                    CHECK(o.threw);
                    CHECK(o.durability == published);
                    CHECK(contains(o.what, step));
                    CHECK(o.path1 == src);
                    CHECK(o.path2 == dst);
                }
                if (published) {
                    CHECK(test::read_file(dst) == new_content);
                    CHECK_FALSE(fs::exists(src));
                } else {
                    CHECK(test::read_file(src) == new_content);
                    if (m.replace)
                        CHECK(test::read_file(dst) == old_content);
                    else
                        CHECK_FALSE(fs::exists(dst));
                }
                CHECK(test::open_descriptor_count() == descriptors);
            }
        }
    }
}
