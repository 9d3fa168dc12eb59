// SPDX-License-Identifier: MIT
// The atomic-write command: replaces a file atomically, and durably, with what it reads
// from standard input (or from the standard output of a command it runs). Kept in a
// header so that the test suite can drive the same code in-process, with the library's
// system-call seam, for the failures a real disk will not produce on demand.
//
// Not part of the library's API: the command's interface is its options, its exit codes
// and its messages, documented in --help and in the man page (atomic-write.1).
#ifndef ATOMICWRITES_TOOLS_ATOMIC_WRITE_CLI_HPP
#define ATOMICWRITES_TOOLS_ATOMIC_WRITE_CLI_HPP

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

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
    /// Reading the input failed, or COMMAND did not exit with status 0: FILE is unchanged.
    input_failed = 4,
    /// FILE has the new content, but a step after it was put in place failed (the
    /// directory sync): the change may not survive a crash.
    not_durable = 5,
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
    sync_level sync = sync_level::full;
    std::filesystem::perms mode = std::filesystem::perms::unknown;
    aw::symlink_mode symlinks = aw::symlink_mode::replace;
    /// COMMAND and its arguments; empty: read standard input.
    std::vector<std::string> command;
    bool help = false;
    bool version = false;
};

inline constexpr std::string_view program = "atomic-write";

inline std::string version_text() {
    return std::string(program) + " (atomicwrites) " + std::to_string(ATOMICWRITES_VERSION_MAJOR) + '.' +
           std::to_string(ATOMICWRITES_VERSION_MINOR) + '.' + std::to_string(ATOMICWRITES_VERSION_PATCH) + '\n';
}

inline constexpr std::string_view help_text =
    R"(Usage: atomic-write [OPTION]... FILE [COMMAND [ARG]...]
Replace FILE atomically, and durably, with standard input, or with the standard output
of COMMAND. Readers of FILE, and a crash at any moment, see the complete old content or
the complete new content, never a mix. The input goes to a temporary file next to FILE,
which is synced and renamed over FILE once the input has ended.

With COMMAND, FILE is replaced only if COMMAND exits with status 0. Prefer it to a
pipeline: in 'producer | atomic-write FILE' a producer that dies mid-stream looks
like the end of the input, and the partial output would replace FILE.

Options (before FILE):
  -n, --no-clobber     fail (status 3) if FILE exists, instead of replacing it
  -s, --sync=LEVEL     what is flushed to stable storage before and after the rename:
                         full  the data and metadata of the file, then the directory
                               (the default; F_FULLFSYNC where the system has it)
                         data  the data of the file (fdatasync), then the directory
                         none  nothing: atomic, but a crash may lose the new content
  -m, --mode=MODE      octal permission bits for FILE (umask not applied); default:
                       those of the file replaced, or 0666 minus the umask
  -l, --symlink=HOW    if FILE is a symbolic link:
                         replace  replace the link with a regular file (the default)
                         follow   keep the link; replace the file it points to
                         keep     the same as follow
                         refuse   fail (status 1) and change nothing
  -h, --help           print this help and exit
  -V, --version        print the version and exit

Exit status:
  0    FILE has the new content, durably (unless --sync=none)
  1    a step failed (the message names it and the path); FILE is unchanged
  2    bad usage; nothing was done
  3    --no-clobber and FILE exists; FILE is unchanged
  4    reading the input failed, or COMMAND failed or was killed; FILE is unchanged
  5    FILE has the new content, but syncing the directory failed: a crash may
       still lose it
  126  COMMAND could not be run; 127: COMMAND was not found; FILE is unchanged
  If atomic-write is killed by SIGINT, SIGTERM or SIGHUP before its input ended,
  FILE is unchanged and no temporary file is left. Killed by SIGKILL, FILE is
  unchanged, and where the filesystem cannot make unnamed files (O_TMPFILE) a
  temporary file '.FILE.XXXXXXXX.tmp' is left behind.

Examples:
  generate-config | atomic-write /etc/app.conf
  atomic-write -m 600 secrets.env decrypt secrets.env.gpg
  sort data.txt | atomic-write data.txt
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
    constexpr valued with_value[] = {{'s', "sync"}, {'m', "mode"}, {'l', "symlink"}};

    auto apply = [&](char name, std::string_view value) -> int {
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
        } else {
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
            if (name == "help" || name == "version" || name == "no-clobber") {
                if (eq != body.npos) return bad("option '--" + std::string(name) + "' takes no value");
                if (name == "help") out.help = true;
                if (name == "version") out.version = true;
                if (name == "no-clobber") out.no_clobber = true;
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
    if (i >= argc) return bad("missing FILE");
    out.target = argv[i++];
    if (i < argc && std::string_view(argv[i]) == "--") ++i;
    for (; i < argc; ++i) out.command.emplace_back(argv[i]);
    return success;
}

// --- signals -------------------------------------------------------------------------

/// The last of the stop signals received (SIGINT, SIGTERM, SIGHUP), or 0.
inline volatile std::sig_atomic_t received_signal = 0;

/// The signals that abandon the write while the input is read.
inline constexpr int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/// Catches the stop signals (those not ignored on entry) for the lifetime of the
/// object, and keeps them (and SIGCHLD) blocked except while the command waits for
/// input or for COMMAND: a signal then interrupts the wait, with no window in which it
/// could be missed (pselect(2), sigsuspend(2)). SIGXFSZ is ignored, so that exceeding
/// the file size limit is a write error (EFBIG) that the command reports, not a silent
/// death. Only main() installs it.
class signal_setup {
public:
    signal_setup() {
        sigset_t block;
        sigemptyset(&block);
        for (int s : stop_signals) sigaddset(&block, s);
        sigaddset(&block, SIGCHLD);
        sigprocmask(SIG_BLOCK, &block, &wait_mask_);
        for (int s : stop_signals) sigdelset(&wait_mask_, s);
        sigdelset(&wait_mask_, SIGCHLD);
        struct sigaction sa {};
        sa.sa_handler = [](int s) {
            if (s != SIGCHLD) received_signal = s;
        };
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0;  // no SA_RESTART: the waits must return EINTR
        for (int s : stop_signals) {
            // A signal ignored on entry stays ignored (a background job of a
            // non-interactive shell ignores SIGINT: ^C on the terminal is not for it).
            struct sigaction old {};
            sigaction(s, nullptr, &old);
            if (old.sa_handler != SIG_IGN) sigaction(s, &sa, nullptr);
        }
        sigaction(SIGCHLD, &sa, nullptr);  // a handler, so that sigsuspend returns on it
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        sigaction(SIGXFSZ, &ignore, nullptr);
    }
    signal_setup(const signal_setup&) = delete;
    signal_setup& operator=(const signal_setup&) = delete;

    /// The signal mask to wait with: the original one, with the stop signals and
    /// SIGCHLD open.
    const sigset_t* wait_mask() const { return &wait_mask_; }

    /// Ends the process by the signal received, as if it had not been caught, so that
    /// the caller sees the real cause (status 128 + N in a shell). For a write
    /// abandoned before its input ended.
    [[noreturn]] static void die_by(int s) {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(s, &dfl, nullptr);
        sigset_t only;
        sigemptyset(&only);
        sigaddset(&only, s);
        ::raise(s);
        sigprocmask(SIG_UNBLOCK, &only, nullptr);
        ::_exit(128 + s);  // not reached: the signal ends the process when unblocked
    }

private:
    sigset_t wait_mask_;
};

// --- input ---------------------------------------------------------------------------

/// Reads the input: standard input, or the read end of a pipe from COMMAND.
class input_reader {
public:
    /// `wait_mask`: null when no signal_setup is installed (then reads simply block).
    input_reader(int fd, const sigset_t* wait_mask) : fd_(fd), wait_mask_(wait_mask) {}

    /// Reads up to `size` bytes. Returns the count (0 at the end of the input), or -1
    /// with `ec` set on a read error, or -1 with `ec` clear when a stop signal arrived.
    long read(char* buf, std::size_t size, std::error_code& ec) {
        ec.clear();
        if (fd_ < 0) {  // no input at all (standard input was closed)
            ec = std::make_error_code(std::errc::bad_file_descriptor);
            return -1;
        }
        for (;;) {
            if (received_signal != 0) return -1;
            if (wait_mask_ != nullptr) {
                // Wait with the stop signals open; they stay blocked during the read
                // and the writes, so none is lost between the check and the wait.
                fd_set readable;
                FD_ZERO(&readable);
                FD_SET(fd_, &readable);
                if (::pselect(fd_ + 1, &readable, nullptr, nullptr, nullptr, wait_mask_) < 0) {
                    if (errno == EINTR) continue;
                    // EBADF: there is no such input (standard input closed); let read
                    // report it.
                    if (errno != EBADF) {
                        ec.assign(errno, std::system_category());
                        return -1;
                    }
                }
            }
            const ssize_t n = ::read(fd_, buf, size);
            if (n >= 0) return static_cast<long>(n);
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (wait_mask_ != nullptr) continue;  // non-blocking input: wait again
                fd_set readable;
                FD_ZERO(&readable);
                FD_SET(fd_, &readable);
                ::select(fd_ + 1, &readable, nullptr, nullptr, nullptr);
                continue;
            }
            ec.assign(errno, std::system_category());
            return -1;
        }
    }

private:
    int fd_;
    const sigset_t* wait_mask_;
};

/// COMMAND, running with its standard output into a pipe that the command reads.
class child_process {
public:
    child_process() = default;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() {
        close_pipe();
        if (pid_ > 0) {
            int status = 0;
            ::waitpid(pid_, &status, WNOHANG);  // reap it if it is done; never block here
        }
    }

    /// Starts `argv[0]` (searched in PATH). Returns 0 or the errno of the failure.
    int start(const std::vector<std::string>& command, const sigset_t* wait_mask) {
        int fds[2];
        if (::pipe(fds) != 0) return errno;
        // Keep the pipe off descriptors 0-2, which the child's dup2 must not confuse
        // with its own (a parent started with a closed standard descriptor).
        for (int& fd : fds) {
            const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
            const int error = errno;
            ::close(fd);
            fd = moved;
            if (moved < 0) {
                close_fds(fds);
                return error;
            }
        }
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        // The child gets the signal mask atomic-write waits with (its original mask, the
        // stop signals and SIGCHLD open) and the default SIGXFSZ, which atomic-write
        // ignores for itself; the caught signals are reset by exec, and those ignored on
        // entry stay ignored.
        sigset_t mask;
        sigset_t defaults;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGXFSZ);
        short flags = POSIX_SPAWN_SETSIGDEF;
        if (wait_mask != nullptr) {
            mask = *wait_mask;
            posix_spawnattr_setsigmask(&attr, &mask);
            flags |= POSIX_SPAWN_SETSIGMASK;
        }
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, flags);
        std::vector<char*> args;
        for (const std::string& a : command) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        const int error = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        ::close(fds[1]);
        read_fd_ = fds[0];
        if (error != 0) {
            pid_ = -1;
            close_pipe();
        }
        return error;
    }

    int read_fd() const { return read_fd_; }
    pid_t pid() const { return pid_; }

    /// Closes the read end: a COMMAND still writing gets SIGPIPE.
    void close_pipe() {
        if (read_fd_ >= 0) ::close(read_fd_);
        read_fd_ = -1;
    }

    /// Waits for COMMAND to end. Returns its wait status, or -1 if a stop signal arrived
    /// first (or waiting failed: `error` set).
    int wait(const sigset_t* wait_mask, int& error) {
        error = 0;
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, wait_mask != nullptr ? WNOHANG : 0);
            if (r == pid_) {
                pid_ = -1;
                return status;
            }
            if (r < 0 && errno != EINTR) {
                error = errno;
                return -1;
            }
            if (received_signal != 0) return -1;
            if (wait_mask != nullptr && r == 0) ::sigsuspend(wait_mask);  // until SIGCHLD or a stop signal
        }
    }

    /// Passes a stop signal on to COMMAND.
    void forward(int s) const {
        if (pid_ > 0) ::kill(pid_, s);
    }

private:
    static void close_fds(int (&fds)[2]) {
        for (int fd : fds) {
            if (fd >= 0) ::close(fd);
        }
    }
    pid_t pid_ = -1;
    int read_fd_ = -1;
};

// --- the write -----------------------------------------------------------------------

/// Where the temporary file is made: unnamed (O_TMPFILE) where the filesystem can, so
/// that even SIGKILL leaves nothing behind; a named ".FILE.XXXXXXXX.tmp" elsewhere.
#if ATOMICWRITES_LINUX && defined(O_TMPFILE)
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

/// A description of how a child ended, from its wait status.
inline std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int s = WTERMSIG(status);
        const char* name = ::strsignal(s);
        return "was killed by signal " + std::to_string(s) + (name != nullptr ? std::string(" (") + name + ")" : "");
    }
    return "ended with wait status " + std::to_string(status);
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

    std::error_code ec;
    // The writer comes first: a target that cannot be written is reported before any
    // input is consumed or COMMAND is run.
    writer_type w(o.target, wo, ec);
    if (ec) {
        report(err, o.target, w.failed_step() != nullptr ? w.failed_step() : "open", ec.message(), false);
        return o.no_clobber && ec == std::errc::file_exists ? target_exists : failed;
    }

    child_process child;
    if (!o.command.empty()) {
        const int error = child.start(o.command, wait_mask);
        if (error != 0) {
            report(err, o.target, "run command '" + o.command[0] + "'", std::generic_category().message(error), false);
            return error == ENOENT ? not_found : cannot_run;
        }
        input_fd = child.read_fd();
    }

    auto stopped = [&]() {
        const int s = received_signal;
        child.forward(s);
        w.rollback();
        return -s;
    };

    input_reader in(input_fd, wait_mask);
    std::vector<char> buf(chunk_size);
    for (;;) {
        const long n = in.read(buf.data(), buf.size(), ec);
        if (n < 0 && !ec) return stopped();
        if (n < 0) {
            w.rollback();
            report(err, o.target, o.command.empty() ? "read standard input" : "read output of command", ec.message(),
                   false);
            return input_failed;
        }
        if (n == 0) break;
        w.write(std::string_view(buf.data(), static_cast<std::size_t>(n)), ec);
        if (ec) {
            w.rollback();
            report(err, o.target, w.failed_step() != nullptr ? w.failed_step() : "write temporary file", ec.message(),
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
            report(err, o.target, "wait for command '" + o.command[0] + "'", std::generic_category().message(error),
                   false);
            return failed;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            w.rollback();
            report(err, o.target, "run command '" + o.command[0] + "'", "it " + describe_status(status), false);
            return input_failed;
        }
    }
    if (received_signal != 0) return stopped();

    // The input is complete: the write is finished whatever happens now. A stop signal
    // stays blocked, and is ignored: the exit status tells what became of FILE.
    const aw::commit_state state = w.commit(ec);
    if (!ec) return success;
    const bool published = state == aw::commit_state::published;
    report(err, o.target, w.failed_step() != nullptr ? w.failed_step() : "commit", ec.message(), published);
    if (published) return not_durable;
    return o.no_clobber && ec == std::errc::file_exists ? target_exists : failed;
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
    switch (o.sync) {
        case sync_level::none:
            return write_with<aw::sync::none>(o, input_fd, wait_mask, err);
        case sync_level::data:
            return write_with<aw::sync::fdatasync>(o, input_fd, wait_mask, err);
        case sync_level::full:
            break;
    }
    return write_with<aw::sync::full_fsync>(o, input_fd, wait_mask, err);
}

}  // namespace atomic_write_cli

#endif  // ATOMICWRITES_TOOLS_ATOMIC_WRITE_CLI_HPP
