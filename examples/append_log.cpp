// SPDX-License-Identifier: MIT
// Appending to a log and fixing a record in place, atomically, without rewriting the
// file: each atomic_edit() starts from a copy of the log (on btrfs and XFS a clone that
// shares its blocks, so the cost is that of the change), and publishes the result in one
// step. A reader, or a crash, sees the log before or after an edit, never half of one.
// Usage: append_log [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/edit.hpp>

#include "example_dir.hpp"

#include <exception>
#include <iostream>
#include <ostream>
#include <string>

namespace aw = atomicwrites;

int main(int argc, char** argv) {
    try {
        example_dir dir(argc, argv);
        const std::filesystem::path log = dir / "events.log";

        // Fixed-size records, so that one can be found and changed by its offset.
        auto record = [](int n, const char* state) {
            std::string r = "event " + std::to_string(n) + ": " + state;
            r.resize(31, ' ');
            return r + '\n';
        };

        // The log does not exist yet: an edit of a missing file starts empty.
        for (int n = 0; n < 3; ++n) aw::atomic_edit(log, [&](aw::atomic_writer& w) { w.append(record(n, "pending")); });

        // Mark event 1 done: 32 bytes change, the rest of the log is not written again.
        aw::atomic_edit(log, [&](aw::atomic_writer& w) { w.pwrite(1 * 32, record(1, "done")); });

        // Drop the last record and add another, in one atomic step.
        aw::atomic_edit(log, [&](aw::atomic_writer& w) {
            w.truncate(2 * 32);
            w.append(record(3, "pending"));
        });

        const std::string content = read_file(log);
        expect(content == record(0, "pending") + record(1, "done") + record(3, "pending"),
               "the log holds every edit, in order");
        std::cout << "wrote " << log.string() << ":\n" << content;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "append_log: " << e.what() << '\n';
        return 1;
    }
}
