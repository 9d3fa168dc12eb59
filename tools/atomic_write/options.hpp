// SPDX-License-Identifier: MIT
// The atomic-write command's interface: its options, the help text and the exit
// statuses. Portable and pure: parsing reads only its arguments and writes only to the
// stream it is given; it makes no system call.
//
// Not part of the library's API: the command's interface is its options, its exit codes
// and its messages, documented in --help and in the man page (atomic-write.1).
#ifndef ATOMICWRITES_TOOLS_ATOMIC_WRITE_OPTIONS_HPP
#define ATOMICWRITES_TOOLS_ATOMIC_WRITE_OPTIONS_HPP

#include <atomicwrites/types.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace atomic_write_cli {

namespace aw = atomicwrites;

/// The exit statuses, as documented in --help and the man page.
enum exit_status : int {
    success = 0,
    /// A step of the write failed: FILE is unchanged.
    failed = 1,
    /// Bad usage: nothing was done.
    usage_error = 2,
    /// --no-clobber and FILE exists (or appeared during the write): FILE is unchanged.
    target_exists = 3,
    /// Reading the input failed, COMMAND did not exit with status 0, or the input was
    /// empty with --no-empty: FILE is unchanged.
    input_failed = 4,
    /// FILE has the new content, but a step after it was put in place failed (the
    /// directory sync): the change may not survive a crash.
    not_durable = 5,
    /// --expect-unchanged and FILE changed (or appeared, or went) while the input was
    /// read: FILE is left as the other writer made it.
    target_changed = 6,
    /// COMMAND was found but could not be run.
    cannot_run = 126,
    /// COMMAND was not found.
    not_found = 127,
};

/// --sync=LEVEL.
enum class sync_level { none, data, full };

/// What the command line asks for.
struct options {
    std::filesystem::path target;
    bool no_clobber = false;
    /// --no-empty: an empty input leaves FILE as it is (status 4).
    bool no_empty = false;
    sync_level sync = sync_level::full;
    std::filesystem::perms mode = std::filesystem::perms::unknown;
    /// As sponge(1) does: a link stays a link, and the file it points to is replaced.
    aw::symlink_mode symlinks = aw::symlink_mode::follow;
    /// COMMAND and its arguments; empty: read standard input.
    std::vector<std::string> command;
    /// --link TARGET LINKNAME: make LINKNAME (in `target`) a symbolic link to TARGET.
    bool link = false;
    std::filesystem::path link_target;
    /// --tree DIR NAME: publish a copy of the directory DIR at NAME (in `target`).
    bool tree = false;
    std::filesystem::path tree_source;
    /// --keep=N: previous versions kept by --tree.
    unsigned keep = 1;
    bool help = false;
    bool version = false;
    /// --expect-unchanged: FILE's version is taken at the start and must be the same at
    /// the commit (status 6 otherwise).
    bool expect_unchanged = false;
    /// --lock: hold FILE's lock file (.FILE.lock) from the start to the end, waiting for
    /// other writers that hold it.
    bool lock = false;
    /// --owner=UID:GID: the owner and group FILE is given (either may be left out).
    std::optional<aw::file_owner> owner;
    /// --create-mode=MODE: the permission bits of a new FILE, narrowed by the umask.
    std::filesystem::perms create_mode = std::filesystem::perms::unknown;
    /// --require-owner: fail rather than give a replaced FILE to the writer.
    bool require_owner = false;
    /// --progress: how much has been written, on standard error, while it is written.
    bool progress = false;
};

inline constexpr std::string_view program = "atomic-write";

inline std::string version_text() {
    return std::string(program) + " (atomicwrites) " + std::to_string(ATOMICWRITES_VERSION_MAJOR) + '.' +
           std::to_string(ATOMICWRITES_VERSION_MINOR) + '.' + std::to_string(ATOMICWRITES_VERSION_PATCH) + '\n';
}

inline constexpr std::string_view help_text =
    R"(Usage: atomic-write [OPTION]... FILE [COMMAND [ARG]...]
  or:  atomic-write --link [-n] [-s LEVEL] TARGET LINKNAME
  or:  atomic-write --tree [-s LEVEL] [-m MODE] [--keep=N] DIR NAME
Replace FILE atomically, and durably, with standard input, or with the standard output
of COMMAND. Readers of FILE, and a crash at any moment, see the complete old content or
the complete new content, never a mix. The input goes to a temporary file next to FILE,
which is synced and renamed over FILE once the input has ended.

With COMMAND, FILE is replaced only if COMMAND exits with status 0. Prefer it to a
pipeline: in 'producer | atomic-write FILE' a producer that dies mid-stream looks
like the end of the input, and the partial output would replace FILE.

Options (before FILE):
  -n, --no-clobber     fail (status 3) if FILE exists, instead of replacing it
      --no-empty       if the input is empty, leave FILE as it is (status 4)
  -s, --sync=LEVEL     what is flushed to stable storage before and after the rename:
                         full  the data and metadata of the file, then the directory
                               (the default; F_FULLFSYNC where the system has it)
                         data  the data of the file (fdatasync), then the directory
                         none  nothing: atomic, but a crash may lose the new content
  -m, --mode=MODE      octal permission bits for FILE (umask not applied); default:
                       those of the file replaced, or 0666 minus the umask
      --create-mode=MODE
                       octal permission bits for FILE if it is new, narrowed by the
                       umask as open(2) narrows them (a replaced file keeps its own);
                       not with --mode
      --owner=UID:GID  give FILE this numeric owner and group (UID: or :GID sets one
                       only); a refusal (not root) fails (status 1), FILE unchanged
      --require-owner  fail (status 1) rather than give a replaced FILE to the
                       writer when its owner or group cannot be kept
  -l, --symlink=HOW    if FILE is a symbolic link:
                         follow   keep the link; replace the file it points to
                                  (the default, as sponge does)
                         keep     the same as follow
                         replace  replace the link with a regular file
                         refuse   fail (status 1) and change nothing
      --link           make LINKNAME a symbolic link to TARGET (replacing what is
                       there, a directory excepted; with -n, only if nothing is):
                       a temporary link renamed over LINKNAME, then the directory
                       synced. Readers find the old link or the new one, never none
      --tree           publish a copy of the directory DIR at NAME, all or nothing:
                       the files and directories of DIR (with their permission
                       bits, or MODE) are copied to a new version '.NAME.vN' beside
                       NAME, flushed together, then NAME, a symbolic link, is
                       switched to it in one step. Readers that resolve NAME once
                       see the whole old tree or the whole new one. A symbolic link
                       or special file in DIR fails the copy (status 4)
      --keep=N         with --tree: previous versions kept (default 1); older
                       ones are removed
      --expect-unchanged
                       fail (status 6) if FILE changed while the input was read:
                       its version (inode, size, times) is taken at the start
                       (before waiting for --lock) and checked right before the
                       rename; FILE is then left as the other writer made it
      --lock           serialise with other writers of FILE that lock it (--lock,
                       update_file in the library): hold the lock file '.FILE.lock'
                       beside FILE from the start until FILE is synced, waiting for
                       it first. Cooperative: it does not stop writers that do not
                       lock. The lock file stays; the lock dies with the process
      --progress       show on standard error how much has been written, while it
                       is written (a line rewritten in place on a terminal, a line
                       a second elsewhere), then how long the sync took
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Exit status:
  0    FILE has the new content, durably (unless --sync=none)
  1    a step failed (the message names it and the path); FILE is unchanged
  2    bad usage; nothing was done
  3    --no-clobber and FILE exists; FILE is unchanged
  4    reading the input failed, COMMAND failed or was killed, or the input was
       empty with --no-empty; FILE is unchanged
  5    FILE has the new content, but syncing the directory failed: a crash may
       still lose it
  6    --expect-unchanged and FILE changed while the input was read; FILE is as
       the other writer left it
  126  COMMAND could not be run; 127: COMMAND was not found; FILE is unchanged
  If atomic-write is killed by SIGINT, SIGTERM or SIGHUP before its input ended,
  FILE is unchanged and no temporary file is left. Killed by SIGKILL, FILE is
  unchanged or complete, and a temporary file '.FILE.XXXXXXXX.tmp' may be left
  behind: always where the filesystem cannot make unnamed files (O_TMPFILE), and
  even where it can, when the kill comes in the instant between naming the
  unnamed file and renaming it over FILE.

Examples:
  generate-config | atomic-write /etc/app.conf
  atomic-write -m 600 secrets.env decrypt secrets.env.gpg
  sort data.txt | atomic-write data.txt
  atomic-write --link releases/42 current
  atomic-write --tree build/site /srv/www/site
  atomic-write --lock --expect-unchanged hosts.txt sh -c 'edit-hosts < hosts.txt'
  render-unit | atomic-write --owner=0:0 --create-mode=644 /etc/app/unit.conf
  atomic-write --progress disk.img xz -dc disk.img.xz
)";

/// Parses the command line. On bad usage writes the problem to `err` and returns
/// usage_error; otherwise success.
inline int parse(int argc, const char* const* argv, options& out, std::ostream& err) {
    auto bad = [&err](const std::string& what) {
        err << program << ": " << what << "\nTry '" << program << " --help' for more information.\n";
        return usage_error;
    };
    // Options that take a value: the short and long name.
    struct valued {
        char short_name;
        std::string_view long_name;
    };
    constexpr valued with_value[] = {{'s', "sync"}, {'m', "mode"},  {'l', "symlink"},
                                     {'k', "keep"}, {'o', "owner"}, {'c', "create-mode"}};
    bool symlink_given = false;
    bool keep_given = false;

    // A decimal id of at most 10 digits below 2^32 - 1 (which means "unchanged").
    auto parse_id = [](std::string_view text, unsigned& id) {
        if (text.empty() || text.size() > 10) return false;
        unsigned long long n = 0;
        for (char c : text) {
            if (c < '0' || c > '9') return false;
            n = n * 10 + static_cast<unsigned>(c - '0');
        }
        if (n >= aw::file_owner::unchanged) return false;
        id = static_cast<unsigned>(n);
        return true;
    };

    auto apply = [&](char name, std::string_view value) -> int {
        if (name == 'o') {
            const std::size_t colon = value.find(':');
            const std::string_view uid = value.substr(0, colon);
            const std::string_view gid = colon == value.npos ? std::string_view() : value.substr(colon + 1);
            aw::file_owner o;
            if ((uid.empty() && gid.empty()) || (!uid.empty() && !parse_id(uid, o.uid)) ||
                (!gid.empty() && !parse_id(gid, o.gid)))
                return bad("invalid owner '" + std::string(value) + "' (numeric UID:GID, UID or :GID, as 0:0)");
            out.owner = o;
            return success;
        }
        if (name == 'c') {
            unsigned mode = 0;
            if (value.empty() || value.size() > 4) return bad("invalid create mode '" + std::string(value) + "'");
            for (char c : value) {
                if (c < '0' || c > '7') return bad("invalid create mode '" + std::string(value) + "' (octal, as 644)");
                mode = mode * 8 + static_cast<unsigned>(c - '0');
            }
            if (mode > 0777) return bad("invalid create mode '" + std::string(value) + "' (at most 777)");
            out.create_mode = static_cast<std::filesystem::perms>(mode);
            return success;
        }
        if (name == 's') {
            if (value == "full") {
                out.sync = sync_level::full;
            } else if (value == "data") {
                out.sync = sync_level::data;
            } else if (value == "none") {
                out.sync = sync_level::none;
            } else {
                return bad("invalid sync level '" + std::string(value) + "' (none, data or full)");
            }
        } else if (name == 'm') {
            unsigned mode = 0;
            if (value.empty() || value.size() > 5) return bad("invalid mode '" + std::string(value) + "'");
            for (char c : value) {
                if (c < '0' || c > '7') return bad("invalid mode '" + std::string(value) + "' (octal, as 644)");
                mode = mode * 8 + static_cast<unsigned>(c - '0');
            }
            if (mode > 07777) return bad("invalid mode '" + std::string(value) + "' (at most 7777)");
            out.mode = static_cast<std::filesystem::perms>(mode);
        } else if (name == 'k') {
            keep_given = true;
            unsigned n = 0;
            if (value.empty() || value.size() > 4) return bad("invalid --keep '" + std::string(value) + "'");
            for (char c : value) {
                if (c < '0' || c > '9')
                    return bad("invalid --keep '" + std::string(value) + "' (a number of versions, as 1)");
                n = n * 10 + static_cast<unsigned>(c - '0');
            }
            out.keep = n;
        } else {
            symlink_given = true;
            if (value == "replace") {
                out.symlinks = aw::symlink_mode::replace;
            } else if (value == "follow" || value == "keep") {
                out.symlinks = aw::symlink_mode::follow;
            } else if (value == "refuse") {
                out.symlinks = aw::symlink_mode::refuse;
            } else {
                return bad("invalid symlink handling '" + std::string(value) + "' (replace, follow or refuse)");
            }
        }
        return success;
    };

    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') break;  // FILE ("-" alone is a file name too)
        if (arg[1] == '-') {
            const std::string_view body = arg.substr(2);
            const std::size_t eq = body.find('=');
            const std::string_view name = body.substr(0, eq);
            if (name == "help" || name == "version" || name == "no-clobber" || name == "no-empty" || name == "link" ||
                name == "tree" || name == "expect-unchanged" || name == "lock" || name == "require-owner" ||
                name == "progress") {
                if (eq != body.npos) return bad("option '--" + std::string(name) + "' takes no value");
                if (name == "link") out.link = true;
                if (name == "tree") out.tree = true;
                if (name == "help") out.help = true;
                if (name == "version") out.version = true;
                if (name == "no-clobber") out.no_clobber = true;
                if (name == "no-empty") out.no_empty = true;
                if (name == "expect-unchanged") out.expect_unchanged = true;
                if (name == "lock") out.lock = true;
                if (name == "require-owner") out.require_owner = true;
                if (name == "progress") out.progress = true;
                continue;
            }
            const valued* v = nullptr;
            for (const valued& w : with_value) {
                if (w.long_name == name) v = &w;
            }
            if (v == nullptr) return bad("unknown option '--" + std::string(name) + "'");
            std::string_view value;
            if (eq != body.npos) {
                value = body.substr(eq + 1);
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return bad("option '--" + std::string(name) + "' needs a value");
            }
            if (int r = apply(v->short_name, value); r != success) return r;
            continue;
        }
        // Short options, possibly grouped (-nV); a value may follow attached (-m644) or
        // as the next argument (-m 644).
        for (std::size_t k = 1; k < arg.size(); ++k) {
            const char c = arg[k];
            if (c == 'h') {
                out.help = true;
            } else if (c == 'V') {
                out.version = true;
            } else if (c == 'n') {
                out.no_clobber = true;
            } else if (c == 's' || c == 'm' || c == 'l') {
                std::string_view value;
                if (k + 1 < arg.size()) {
                    value = arg.substr(k + 1);
                } else if (i + 1 < argc) {
                    value = argv[++i];
                } else {
                    return bad(std::string("option '-") + c + "' needs a value");
                }
                if (int r = apply(c, value); r != success) return r;
                break;
            } else {
                return bad(std::string("unknown option '-") + c + "'");
            }
        }
    }
    if (out.help || out.version) return success;
    if (keep_given && !out.tree) return bad("--keep goes with --tree");
    const bool metadata_given = out.owner || out.create_mode != std::filesystem::perms::unknown || out.require_owner;
    if (metadata_given && (out.tree || out.link))
        return bad("--owner, --create-mode and --require-owner go with a FILE, not --tree or --link");
    if (out.create_mode != std::filesystem::perms::unknown && out.mode != std::filesystem::perms::unknown)
        return bad("--mode and --create-mode: give one (--mode is exact, --create-mode is narrowed by the umask)");
    if (out.tree) {
        // A tree has no input and no single file: only --sync, --mode and --keep apply.
        if (out.link || out.no_clobber || out.no_empty || symlink_given || out.expect_unchanged || out.lock ||
            out.progress)
            return bad("--tree takes only --sync, --mode and --keep");
        if (argc - i != 2) return bad("--tree needs DIR and NAME");
        if (argv[i][0] == '\0' || argv[i + 1][0] == '\0')
            return bad("--tree needs a DIR and a NAME that are not empty");
        out.tree_source = argv[i];
        out.target = argv[i + 1];
        return success;
    }
    if (out.link) {
        // A link has no content, mode or input: only --no-clobber and --sync apply.
        if (out.no_empty || out.mode != std::filesystem::perms::unknown || symlink_given || out.expect_unchanged ||
            out.lock || out.progress)
            return bad("--link takes only --no-clobber and --sync");
        if (argc - i != 2) return bad("--link needs TARGET and LINKNAME");
        if (argv[i][0] == '\0') return bad("--link needs a TARGET that is not empty");
        out.link_target = argv[i];
        out.target = argv[i + 1];
        return success;
    }
    // A version is of the file a link leads to: with --symlink=replace the link itself
    // would be compared, which no version taken through it can match.
    if (out.expect_unchanged && out.symlinks == aw::symlink_mode::replace)
        return bad("--expect-unchanged compares the file a link leads to: it cannot go with --symlink=replace");
    if (i >= argc) return bad("missing FILE");
    out.target = argv[i++];
    if (i < argc && std::string_view(argv[i]) == "--") {
        ++i;
    } else if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        // Everything after FILE is COMMAND; a COMMAND starting with '-' is an option
        // put in the wrong place far more often than a program's name.
        return bad("'" + std::string(argv[i]) + "' after FILE: options go before FILE (a COMMAND that starts with " +
                   "'-' goes after '--')");
    }
    for (; i < argc; ++i) out.command.emplace_back(argv[i]);
    return success;
}

}  // namespace atomic_write_cli

#endif  // ATOMICWRITES_TOOLS_ATOMIC_WRITE_OPTIONS_HPP
