// SPDX-License-Identifier: MIT
// Large files stream: the memory a write takes does not grow with its size. A child
// process writes 1 MiB, another 1 GiB, each through write() and through stream(); their
// peak resident memory (getrusage, as /usr/bin/time -v reports it) must agree within a
// few MiB.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>

using namespace test;

namespace {

constexpr std::size_t MiB = 1024 * 1024;

enum class how { write, stream };

/// Writes `size` bytes to `target` in a child process, 64 KiB at a time; returns the
/// child's peak resident memory in KiB, or -1 if the write failed.
long peak_kib_of_child(const fs::path& target, std::size_t size, how h) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        int status = 0;
        try {
            // The data is not synced: memory, not the disk, is what this measures.
            aw::basic_atomic_writer<aw::sync::none> w(target, {.overwrite = true});
            const std::string chunk(64 * 1024, 'x');
            for (std::size_t done = 0; done < size; done += chunk.size()) {
                if (h == how::write)
                    w.write(chunk);
                else
                    w.stream() << chunk;
            }
            w.commit();
        } catch (...) {
            status = 1;
        }
        ::_exit(status);
    }
    int status = 0;
    struct ::rusage usage {};
    if (pid < 0 || ::wait4(pid, &status, 0, &usage) != pid) return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return usage.ru_maxrss;
}

}  // namespace

TEST_CASE("peak memory while writing 1 GiB is that of 1 MiB", "[streaming]") {
    temp_dir dir;
    for (how h : {how::write, how::stream}) {
        const char* name = h == how::write ? "write()" : "stream()";
        INFO(name);
        const long small = peak_kib_of_child(dir / "small", 1 * MiB, h);
        const long large = peak_kib_of_child(dir / "large", 1024 * MiB, h);
        REQUIRE(small > 0);
        REQUIRE(large > 0);
        CHECK(fs::file_size(dir / "large") == 1024 * MiB);
        // Printed for the record: the figures the README quotes.
        std::printf("streaming through %s: peak RSS %ld KiB for 1 MiB, %ld KiB for 1 GiB\n", name, small, large);
        CHECK(large - small < 4 * 1024);  // within 4 MiB
        fs::remove(dir / "large");
    }
}
