// SPDX-License-Identifier: MIT
// atomic-write: replaces a file atomically, and durably, with standard input or the
// output of a command. See atomic-write --help or the man page atomic-write(1).
#include "atomic_write/run.hpp"

#include <iostream>

#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    namespace cli = atomic_write_cli;
    // A closed standard descriptor would be reused by the first file the command opens
    // (the target's directory, say), which would then be read as the input or get the
    // messages. Hold each closed one with /dev/null; a closed standard input is still
    // reported as the read error it is (EBADF).
    int input = STDIN_FILENO;
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) == fd && fd == 0) {
            input = -1;
        }
    }
    cli::options options;
    if (int status = cli::parse(argc, argv, options, std::cerr); status != cli::success) return status;
    const cli::signal_setup signals;
    const int status = cli::run(options, input, signals.wait_mask(), std::cout, std::cerr);
    if (status < 0) cli::signal_setup::die_by(-status);
    std::cout.flush();
    if (!std::cout) {
        std::cerr << cli::program << ": write standard output: failed\n";
        return cli::failed;
    }
    return status;
}
