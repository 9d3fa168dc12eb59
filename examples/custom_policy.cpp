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

/// A sync policy: count the calls, and leave the syncing to aw::sync::fsync. Delegating
/// to a library policy is the easy, portable way to add to one. Hooks must be const and
/// noexcept and report errors through `ec`. A policy must also be default-constructible
/// and copyable; this one then simply counts nothing.
struct counting_fsync {
    /// True: a commit that returned survives a crash.
    static constexpr bool durable = true;

    sync_counts* counts = nullptr;

    void sync_file(aw::native_handle_type file, std::error_code& ec) const noexcept {
        if (counts != nullptr) ++counts->files;
        aw::sync::fsync{}.sync_file(file, ec);
    }
    void sync_directory(aw::native_handle_type dir, std::error_code& ec) const noexcept {
        if (counts != nullptr) ++counts->directories;
        aw::sync::fsync{}.sync_directory(dir, ec);
    }
};
static_assert(aw::sync_policy<counting_fsync>);

/// A temp policy written out in full: the temporary file is "<target>.<pid>.part" in the
/// target's directory (r.dir, an open directory descriptor). (A policy that only wants
/// another prefix or suffix can instead pass aw::temp::named{} or aw::temp::mkstemp{} a
/// copy of the request with its own r.prefix and r.suffix.) It must be created exclusively
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

        // A stateless policy needs nothing more: given alone, it replaces its kind in the
        // default writer.
        aw::write_file<pid_part_temp>(dir / "first.csv", "id\n");
        expect(read_file(dir / "first.csv") == "id\n", "write_file<pid_part_temp> wrote first.csv");

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
