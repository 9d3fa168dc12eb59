// SPDX-License-Identifier: MIT
// The atomic-write command's write: the input, from standard input or COMMAND, streamed
// into an atomic writer and committed once it has ended. Kept in a header so that the
// test suite can drive the same code in-process, with the library's system-call seam,
// for the failures a real disk will not produce on demand.
#ifndef ATOMICWRITES_TOOLS_ATOMIC_WRITE_RUN_HPP
#define ATOMICWRITES_TOOLS_ATOMIC_WRITE_RUN_HPP

#include "options.hpp"
#include "process.hpp"
#include "progress.hpp"

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>
#include <atomicwrites/versions.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace atomic_write_cli {

/// Where the temporary file is made: unnamed (O_TMPFILE) where the filesystem can, so
/// that SIGKILL while writing leaves nothing behind (a replace names it just before the
/// rename: a kill in between leaves that name); a named ".FILE.XXXXXXXX.tmp" elsewhere.
#if ATOMICWRITES_HAS_O_TMPFILE
using temp_policy = aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>;
#else
using temp_policy = aw::temp::mkstemp;
#endif

/// Writes "atomic-write: FILE: STEP: REASON (CONSEQUENCE)" to `err`.
inline void report(std::ostream& err, const std::filesystem::path& target, std::string_view step,
                   std::string_view reason, bool published) {
    err << program << ": " << target.string() << ": " << step << ": " << reason
        << (published ? " (the new content is in place, but may not survive a crash)" : " (file not changed)") << '\n';
}

/// The library's name for a failed step, in the command's own terms: the options the
/// user typed (--no-clobber, --symlink=refuse) instead of the library's, and the
/// directory that could not be opened.
inline std::string step_in_command_terms(const options& o, const char* step, const char* otherwise,
                                         const std::error_code& ec) {
    if (o.no_clobber && ec == std::errc::file_exists) return "--no-clobber";
    if (ec == aw::errc::target_changed) return "--expect-unchanged";
    std::string s = step != nullptr ? step : otherwise;
    if (s == "open directory") {
        const std::filesystem::path dir = o.target.parent_path();
        return s + " '" + (dir.empty() ? std::string(".") : dir.string()) + "'";
    }
    constexpr std::string_view terms[][2] = {{"symlink_mode::refuse", "--symlink=refuse"},
                                             {"overwrite is false", "--no-clobber"},
                                             {"write_options::owner_ids", "--owner"},
                                             {"owner_mode::require", "--require-owner"}};
    for (const auto& t : terms) {
        if (const std::size_t at = s.find(t[0]); at != s.npos) s.replace(at, t[0].size(), t[1]);
    }
    return s;
}

/// The reason for a failure, in the command's terms for a changed FILE.
inline std::string changed_reason(const std::error_code& ec) {
    if (ec == aw::errc::target_changed) return "FILE changed while the input was read";
    return ec.message();
}

/// The size of the chunks the input is read and written in: the input is streamed,
/// never held in memory as a whole.
inline constexpr std::size_t chunk_size = 64 * 1024;

/// Does the write with sync policy Sync. Returns an exit status, or -N when stop signal
/// N arrived before the input ended (the write was rolled back).
template <class Sync>
int write_with(const options& o, int input_fd, const sigset_t* wait_mask, std::ostream& err) {
    using writer_type = aw::basic_atomic_writer<Sync, aw::commit::automatic, temp_policy>;
    aw::write_options wo;
    wo.overwrite = !o.no_clobber;
    wo.mode = o.mode;
    wo.symlinks = o.symlinks;
    wo.lock = o.lock ? aw::lock_mode::exclusive : aw::lock_mode::none;
    wo.owner_ids = o.owner;
    wo.create_mode = o.create_mode;
    if (o.require_owner) wo.owner = aw::owner_mode::require;

    progress_meter meter(err, o.target, o.progress, o.progress && ::isatty(STDERR_FILENO) == 1,
                         progress_meter::clock::now());
    // A failure's message starts on a line of its own, after a progress line.
    auto failure = [&](auto&&... args) {
        meter.end_line();
        report(err, std::forward<decltype(args)>(args)...);
    };

    std::error_code ec;
    if (o.expect_unchanged && !o.no_clobber) {  // --no-clobber already refuses any file
        // The snapshot comes before the lock: a writer that held the lock and changed
        // FILE meanwhile is a change too.
        wo.expect = aw::version_of(o.target, ec);
        if (ec) {
            failure(o.target, "inspect file (--expect-unchanged)", ec.message(), false);
            return failed;
        }
    }
    // The writer comes first: a target that cannot be written is reported before any
    // input is consumed or COMMAND is run.
    writer_type w(o.target, wo, ec);
    if (ec) {
        failure(o.target, step_in_command_terms(o, w.failed_step(), "open", ec), changed_reason(ec), false);
        if (ec == aw::errc::target_changed) return target_changed;
        return o.no_clobber && ec == std::errc::file_exists ? target_exists : failed;
    }

    child_process child;
    if (!o.command.empty()) {
        const int error = child.start(o.command, wait_mask);
        if (error != 0) {
            failure(o.target, "run command '" + o.command[0] + "'", std::generic_category().message(error), false);
            return error == ENOENT ? not_found : cannot_run;
        }
        input_fd = child.read_fd();
    }

    auto stopped = [&]() {
        const int s = received_signal;
        meter.end_line();
        child.forward(s);
        w.rollback();
        return -s;
    };

    input_reader in(input_fd, wait_mask);
    std::vector<char> buf(chunk_size);
    bool empty = true;
    std::uint64_t total = 0;
    for (;;) {
        const long n = in.read(buf.data(), buf.size(), ec);
        if (n < 0 && !ec) return stopped();
        if (n < 0) {
            w.rollback();
            failure(o.target, o.command.empty() ? "read standard input" : "read output of command", ec.message(),
                    false);
            return input_failed;
        }
        if (n == 0) break;
        empty = false;
        w.write(std::string_view(buf.data(), static_cast<std::size_t>(n)), ec);
        total += static_cast<std::uint64_t>(n);
        if (o.progress) meter.written(total, progress_meter::clock::now());
        if (ec) {
            w.rollback();
            failure(o.target, step_in_command_terms(o, w.failed_step(), "write temporary file", ec), ec.message(),
                    false);
            return failed;
        }
    }

    if (!o.command.empty()) {
        child.close_pipe();
        int error = 0;
        const int status = child.wait(wait_mask, error);
        if (status < 0 && error == 0) return stopped();
        if (status < 0) {
            w.rollback();
            failure(o.target, "wait for command '" + o.command[0] + "'", std::generic_category().message(error), false);
            return failed;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            w.rollback();
            failure(o.target, "run command '" + o.command[0] + "'", "it " + describe_status(status), false);
            return input_failed;
        }
    }
    if (received_signal != 0) return stopped();
    if (empty && o.no_empty) {
        w.rollback();
        failure(o.target, "--no-empty",
                o.command.empty() ? "the input is empty" : "command '" + o.command[0] + "' wrote nothing", false);
        return input_failed;
    }

    // The input is complete: the write is finished whatever happens now. A stop signal
    // stays blocked, and is ignored: the exit status tells what became of FILE.
    meter.committing(progress_meter::clock::now());
    const aw::commit_state state = w.commit(ec);
    if (!ec) {
        meter.done(progress_meter::clock::now());
        return success;
    }
    const bool published = state == aw::commit_state::published;
    failure(o.target, step_in_command_terms(o, w.failed_step(), "commit", ec), changed_reason(ec), published);
    if (published) return not_durable;
    if (ec == aw::errc::target_changed) return target_changed;
    return o.no_clobber && ec == std::errc::file_exists ? target_exists : failed;
}

/// The step a library exception names ("atomicwrites: STEP: REASON [paths]"), or
/// `otherwise`.
inline std::string step_of(const std::filesystem::filesystem_error& e, const char* otherwise) {
    const std::string what = e.what();
    const std::string_view lead = "atomicwrites: ";
    const std::size_t from = what.find(lead);
    const std::size_t to = what.find(": " + e.code().message(), from == what.npos ? 0 : from);
    if (from == what.npos || to == what.npos || to < from + lead.size()) return otherwise;
    return what.substr(from + lead.size(), to - from - lead.size());
}

/// --link: makes o.target a symbolic link to o.link_target with sync policy Sync.
/// Returns an exit status.
template <class Sync>
int link_with(const options& o, std::ostream& err) {
    try {
        aw::symlink_atomic<Sync>(o.link_target, o.target, {.overwrite = !o.no_clobber});
        return success;
    } catch (const aw::durability_error& e) {
        report(err, o.target, step_of(e, "link"), e.code().message(), true);
        return not_durable;
    } catch (const std::filesystem::filesystem_error& e) {
        const bool exists = o.no_clobber && e.code() == std::errc::file_exists;
        std::string step = exists ? "--no-clobber" : step_of(e, "link");
        if (step == "open directory") {
            const std::filesystem::path dir = o.target.parent_path();
            step += " '" + (dir.empty() ? std::string(".") : dir.string()) + "'";
        }
        report(err, o.target, step, e.code().message(), false);
        return exists ? target_exists : failed;
    }
}

/// --tree: copies the files and directories of o.tree_source into a tree_writer for
/// o.target and publishes it, with sync policy Sync. Returns an exit status: a problem
/// with DIR (unreadable, a link or special file in it) is input_failed, a failed step
/// of the publication failed (nothing published) or not_durable (published).
template <class Sync>
int tree_with(const options& o, std::ostream& err) {
    namespace fs = std::filesystem;
    auto input_problem = [&](const fs::path& p, const std::string& what) {
        err << program << ": " << p.string() << ": " << what << " (" << o.target.string() << " not changed)\n";
        return input_failed;
    };
    // What to copy, read before anything is made: sorted, directories before what is
    // in them, nothing followed.
    std::vector<fs::path> dirs, files;
    {
        std::error_code ec;
        const fs::file_status top = fs::status(o.tree_source, ec);
        if (ec) return input_problem(o.tree_source, "read directory: " + ec.message());
        if (!fs::is_directory(top)) return input_problem(o.tree_source, "not a directory");
        fs::recursive_directory_iterator it(o.tree_source, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const fs::path relative = it->path().lexically_relative(o.tree_source);
            const fs::file_status st = it->symlink_status(ec);
            if (ec) break;
            if (fs::is_directory(st)) {
                dirs.push_back(relative);
            } else if (fs::is_regular_file(st)) {
                files.push_back(relative);
            } else {
                return input_problem(it->path(), fs::is_symlink(st)
                                                     ? "a symbolic link (--tree copies regular files and directories)"
                                                     : "a special file (--tree copies regular files and directories)");
            }
        }
        if (ec) return input_problem(o.tree_source, "read directory: " + ec.message());
        std::sort(dirs.begin(), dirs.end());
        std::sort(files.begin(), files.end());
    }
    try {
        aw::basic_tree_writer<Sync> t(o.target, {.keep = o.keep, .mode = o.mode});
        for (const fs::path& d : dirs) t.make_directory(d);
        std::vector<char> buffer(64 * 1024);
        for (const fs::path& f : files) {
            const fs::path from = o.tree_source / f;
            const int fd = ::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            struct ::stat st {};
            if (fd < 0 || ::fstat(fd, &st) != 0) {
                const int e = errno;
                if (fd >= 0) ::close(fd);
                return input_problem(from, std::string("open: ") + std::strerror(e));
            }
            if (!S_ISREG(st.st_mode)) {
                ::close(fd);
                return input_problem(from, "no longer a regular file");
            }
            // Permission bits as in DIR, or MODE; set-id bits are not copied.
            const fs::perms mode = o.mode != fs::perms::unknown ? o.mode : static_cast<fs::perms>(st.st_mode & 0777);
            aw::tree_file& out = t.add(f, mode);
            for (;;) {
                const ssize_t n = ::read(fd, buffer.data(), buffer.size());
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    const int e = errno;
                    ::close(fd);
                    return input_problem(from, std::string("read: ") + std::strerror(e));
                }
                if (n == 0) break;
                out.write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            }
            ::close(fd);
            out.close();
        }
        t.commit();
        return success;
    } catch (const aw::durability_error& e) {
        report(err, o.target, step_of(e, "publish tree"), e.code().message(), true);
        return not_durable;
    } catch (const std::filesystem::filesystem_error& e) {
        std::string step = step_of(e, "publish tree");
        if (!e.path2().empty()) step += " '" + e.path2().string() + "'";
        report(err, o.target, step, e.code().message(), false);
        return failed;
    } catch (const std::bad_alloc&) {
        report(err, o.target, "copy tree", "out of memory", false);
        return failed;
    }
}

/// Calls `f.operator()<Sync>()` with the sync policy --sync=LEVEL names, and returns
/// what it returns.
template <class F>
int with_sync_policy(sync_level level, F&& f) {
    switch (level) {
        case sync_level::none:
            return f.template operator()<aw::sync::none>();
        case sync_level::data:
            return f.template operator()<aw::sync::fdatasync>();
        case sync_level::full:
            break;
    }
    return f.template operator()<aw::sync::full_fsync>();
}

/// Runs the command as parsed. `input_fd` is standard input; `wait_mask` comes from a
/// signal_setup (null without one). Returns an exit status, or -N when stop signal N
/// ended the write before the input did (the caller then dies by that signal).
inline int run(const options& o, int input_fd, const sigset_t* wait_mask, std::ostream& out, std::ostream& err) {
    if (o.help) {
        out << help_text;
        return success;
    }
    if (o.version) {
        out << version_text();
        return success;
    }
    if (o.tree) return with_sync_policy(o.sync, [&]<class Sync>() { return tree_with<Sync>(o, err); });
    if (o.link) return with_sync_policy(o.sync, [&]<class Sync>() { return link_with<Sync>(o, err); });
    return with_sync_policy(o.sync, [&]<class Sync>() { return write_with<Sync>(o, input_fd, wait_mask, err); });
}

}  // namespace atomic_write_cli

#endif  // ATOMICWRITES_TOOLS_ATOMIC_WRITE_RUN_HPP
