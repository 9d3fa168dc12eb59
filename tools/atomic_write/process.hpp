// SPDX-License-Identifier: MIT
// The atomic-write command's process handling (POSIX): the stop signals, reading the
// input so that a signal interrupts the wait, and COMMAND as a child process whose
// standard output is the input.
#ifndef ATOMICWRITES_TOOLS_ATOMIC_WRITE_PROCESS_HPP
#define ATOMICWRITES_TOOLS_ATOMIC_WRITE_PROCESS_HPP

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <string>
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

// --- COMMAND -------------------------------------------------------------------------

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

}  // namespace atomic_write_cli

#endif  // ATOMICWRITES_TOOLS_ATOMIC_WRITE_PROCESS_HPP
