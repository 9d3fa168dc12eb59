// SPDX-License-Identifier: MIT
// Writing your own policies: a sync policy that counts what it syncs, and a temp policy
// that names the temporary file "<target>.<pid>.part". A policy is a small struct
// with the hooks its concept asks for (see <atomicwrites/concepts.hpp>); check it with
// static_assert next to its definition, so that a mistake is reported there and not
// deep inside the writer.
// Usage: custom_policy [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/concepts.hpp>

#include "example_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <exception>
#include <iostream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace aw = atomicwrites;

/// How many files and directories a counting_fsync synced.
struct sync_counts {
    int files = 0;
    int directories = 0;
};

/// A sync policy: fsync(2) the temporary file before the commit and the directory after
/// it, like aw::sync::fsync, and count the calls. Hooks must be const and noexcept and
/// report errors through `ec`. A policy must also be default-constructible and copyable;
/// this one then simply counts nothing.
struct counting_fsync {
    /// True: a commit that returned survives a crash.
    static constexpr bool durable = true;

    sync_counts* counts = nullptr;

    void sync_file(aw::native_handle_type file, std::error_code& ec) const noexcept {
        if (counts != nullptr) ++counts->files;
        fsync_retrying(file, ec);
    }
    void sync_directory(aw::native_handle_type dir, std::error_code& ec) const noexcept {
        if (counts != nullptr) ++counts->directories;
        fsync_retrying(dir, ec);
    }

private:
    // fsync(2) may be interrupted by a signal (EINTR): try again. Any other error is real.
    static void fsync_retrying(aw::native_handle_type fd, std::error_code& ec) noexcept {
        while (::fsync(fd) != 0) {
            if (errno != EINTR) {
                ec.assign(errno, std::system_category());
                return;
            }
        }
    }
};
static_assert(aw::sync_policy<counting_fsync>);

/// A temp policy: the temporary file is "<target>.<pid>.part" in the target's
/// directory (r.dir, an open directory descriptor). It must be created exclusively
/// (O_EXCL: never reuse a file someone else made) with the mode the writer asks for.
/// On failure, leave nothing behind and set `ec`.
struct pid_part_temp {
    /// False: the file always has a name (it is not an O_TMPFILE file).
    static constexpr bool may_be_anonymous = false;

    void create(const aw::temp_request& r, aw::temp_file& t, std::error_code& ec) const noexcept {
        const int n = std::snprintf(t.name, sizeof t.name, "%.*s.%ld.part", static_cast<int>(r.target_name.size()),
                                    r.target_name.data(), static_cast<long>(::getpid()));
        if (n < 0 || static_cast<std::size_t>(n) >= sizeof t.name) {
            t.name[0] = '\0';
            ec = std::make_error_code(std::errc::filename_too_long);
            return;
        }
        t.file =
            ::openat(r.dir, t.name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, static_cast<mode_t>(r.mode));
        if (t.file < 0) {
            ec.assign(errno, std::system_category());
            t.name[0] = '\0';
        }
    }
};
static_assert(aw::temp_policy<pid_part_temp>);

/// The writer with both policies, and the library's default commit policy.
using my_writer = aw::basic_atomic_writer<counting_fsync, aw::default_commit, pid_part_temp>;

int main(int argc, char** argv) {
    try {
        example_dir dir(argc, argv);
        const std::filesystem::path path = dir / "data.csv";

        // Stateless policies need nothing more: aw::write_file<my_writer>(path, text).
        // Ours carries a pointer to its counters, so the writer is given the policy
        // objects (sync, commit, temp) explicitly.
        sync_counts counts;
        my_writer writer(path, {.overwrite = true}, counting_fsync{&counts}, aw::default_commit{}, pid_part_temp{});
        std::cout << "writing through " << writer.temp_path().filename().string() << '\n';
        expect(writer.temp_path().extension() == ".part", "the temporary file has our name");

        writer.stream() << "id,name\n1,alpha\n2,beta\n";
        writer.commit();

        expect(read_file(path) == "id,name\n1,alpha\n2,beta\n", "data.csv holds what was written");
        expect(counts.files == 1 && counts.directories == 1, "one file sync and one directory sync");
        expect(!std::filesystem::exists(dir / ("data.csv." + std::to_string(::getpid()) + ".part")),
               "the temporary name is gone");
        std::cout << "wrote " << path.string() << " with " << counts.files << " file sync and " << counts.directories
                  << " directory sync\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "custom_policy: " << e.what() << '\n';
        return 1;
    }
}
