// SPDX-License-Identifier: MIT
// Handling errors. Every operation comes in two forms: one throws
// std::filesystem::filesystem_error, the other takes a std::error_code& and never throws.
// Both tell whether the target changed:
//   - before the new content is visible (a failed write, sync or rename), the target is
//     exactly as it was: filesystem_error, or commit_state::unchanged with `ec` set;
//   - after it is visible (the directory sync after the rename), the target holds the
//     new content, which may not survive a crash: durability_error (a filesystem_error),
//     or commit_state::published with `ec` set.
// To show the second case, a hook on the library's system-call seam makes the directory
// sync fail the way a failing disk would.
// Usage: error_handling [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include "example_dir.hpp"

#include <cerrno>
#include <exception>
#include <iostream>
#include <string_view>
#include <system_error>

namespace aw = atomicwrites;

/// Saves settings, telling the user what happened. Returns true if the new settings
/// are in place.
bool save_settings(const std::filesystem::path& path, std::string_view text) {
    try {
        aw::write_file(path, text, {.overwrite = true});
        return true;
    } catch (const aw::durability_error& e) {
        // Catch this one first: it is also a filesystem_error. The file has the new
        // content; only its durability is in doubt (warn, or try again later).
        std::cout << "  saved, but a crash now could lose it: " << e.what() << '\n';
        return true;
    } catch (const std::filesystem::filesystem_error& e) {
        // Nothing changed: the old settings are intact and no temporary file is left.
        // what() names the step that failed and the path; code() is the errno.
        std::cout << "  not saved (" << e.code().message() << "): " << e.what() << '\n';
        return false;
    }
}

/// Fails the n-th (0-based) fsync of this thread with EIO. With the default policies a
/// write makes two: the temporary file's, then the directory's after the rename.
struct fail_nth_fsync : aw::syscall_hook {
    explicit fail_nth_fsync(int n) : n_(n) {}
    int before(aw::syscall_info& call) noexcept override {
        if (call.op == aw::sysop::fsync && seen_++ == n_) return EIO;
        return 0;
    }

private:
    int n_;
    int seen_ = 0;
};

int main(int argc, char** argv) {
    try {
        example_dir dir(argc, argv);
        const std::filesystem::path settings = dir / "settings.ini";

        std::cout << "1. exceptions\n";
        expect(save_settings(settings, "volume=3\n"), "a normal save works");
        expect(!save_settings(dir / "no-such-dir" / "settings.ini", "volume=4\n"), "a missing directory is an error");
        {
            fail_nth_fsync disk_error(0);  // the temporary file's sync fails: before the rename
            aw::scoped_syscall_hook installed(disk_error);
            expect(!save_settings(settings, "volume=5\n"), "a failed file sync is an error");
        }
        expect(read_file(settings) == "volume=3\n", "after an error before the rename, the old content is intact");
        {
            fail_nth_fsync disk_error(1);  // the directory's sync fails: after the rename
            aw::scoped_syscall_hook installed(disk_error);
            expect(save_settings(settings, "volume=6\n"), "a failed directory sync still publishes");
        }
        expect(read_file(settings) == "volume=6\n", "after an error after the rename, the new content is in place");

        std::cout << "2. error codes\n";
        std::error_code ec;
        // overwrite is false by default: the target must not exist yet.
        aw::commit_state state = aw::write_file(settings, std::string_view("volume=7\n"), {}, ec);
        std::cout << "  without overwrite: " << ec.message() << '\n';
        expect(state == aw::commit_state::unchanged && ec == std::errc::file_exists, "file_exists, nothing changed");
        expect(read_file(settings) == "volume=6\n", "the existing file is untouched");

        {
            fail_nth_fsync disk_error(1);
            aw::scoped_syscall_hook installed(disk_error);
            // A writer reports the same way; failed_step() says which step failed.
            aw::atomic_writer writer(settings, {.overwrite = true});
            writer.write(std::string_view("volume=8\n"));
            state = writer.commit(ec);
            const char* step = writer.failed_step();  // null when nothing failed
            std::cout << "  commit: " << (state == aw::commit_state::published ? "published" : "unchanged") << ", "
                      << (step != nullptr ? step : "no failed step") << ": " << ec.message() << '\n';
            expect(state == aw::commit_state::published && ec == std::errc::io_error, "published, with EIO");
        }
        expect(read_file(settings) == "volume=8\n", "the new content is in place");

        // Moving an existing file into place has the same two forms.
        aw::write_file(dir / "settings.ini.new", std::string_view("volume=9\n"));
        state = aw::move_atomic(dir / "settings.ini.new", settings, ec);  // refuses to replace
        std::cout << "  move_atomic onto an existing file: " << ec.message() << '\n';
        expect(state == aw::commit_state::unchanged && ec == std::errc::file_exists, "move_atomic does not replace");
        state = aw::replace_atomic(dir / "settings.ini.new", settings, ec);
        expect(state == aw::commit_state::published && !ec, "replace_atomic replaces");
        expect(read_file(settings) == "volume=9\n", "the moved content is in place");

        std::cout << "every outcome was as expected\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "error_handling: " << e.what() << '\n';
        return 1;
    }
}
