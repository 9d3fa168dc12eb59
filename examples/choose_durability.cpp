// SPDX-License-Identifier: MIT
// Choosing the durability: every write is atomic (readers see the old file or the new
// one), and the sync policy decides what survives a crash, at what cost. The choice is a
// template argument, so it costs nothing at run time, and code that must be durable can
// refuse a writer that is not, at compile time.
//
//   sync::fsync (the default on Linux)  the data, mode and owner, then the directory
//   sync::fdatasync                     the data, then the directory; mode and owner may
//                                       be lost (never wider than asked)
//   sync::full_fsync (default on Apple) also flushes the drive's cache where the system
//                                       can (F_FULLFSYNC); fsync(2) elsewhere
//   sync::none                          nothing: after a crash the file may be old, or
//                                       empty on some filesystems. For caches.
//
// Each write below counts the system calls it makes through the library's seam, to show
// what each policy does; what they cost on a real disk is in the README's measured
// costs section. The temp policy is a second choice: temp::first_of<temp::anonymous,
// temp::mkstemp> makes the temporary file unnamed where the filesystem can (O_TMPFILE),
// so a crash in the middle of a write leaves nothing behind.
// Usage: choose_durability [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include "example_dir.hpp"

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

namespace aw = atomicwrites;

/// A cache entry can be rebuilt: atomic is enough.
using cache_writer = aw::basic_atomic_writer<aw::sync::none>;
/// Bulk data: the bytes must survive, the metadata is ours anyway.
using data_writer = aw::basic_atomic_writer<aw::sync::fdatasync>;
/// Records: durable, and nothing left behind by a crash mid-write (temp::anonymous is
/// Linux's O_TMPFILE; first_of falls back to a named file where it is not supported).
using record_writer = aw::basic_atomic_writer<aw::default_sync, aw::default_commit,
                                              aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>;

/// Saves a ledger: a lost entry is a lost payment. Accepts only durable writers;
/// `save_ledger<cache_writer>(...)` does not compile.
template <class Writer>
requires aw::is_durable<typename Writer::sync_type>
void save_ledger(const std::filesystem::path& path, std::string_view entries) {
    aw::write_file<Writer>(path, entries, {.overwrite = true});
}

/// Counts the system calls of this thread while installed.
struct call_counter : aw::syscall_hook {
    int file_syncs = 0;  // fsync(2), fdatasync(2) or F_FULLFSYNC, of files and directories
    int calls = 0;
    void after(const aw::syscall_info& call, int) noexcept override {
        ++calls;
        if (call.op == aw::sysop::fsync || call.op == aw::sysop::fdatasync || call.op == aw::sysop::full_fsync)
            ++file_syncs;
    }
};

/// Writes `text` to `path` with Writer and reports the system calls it made.
template <class Writer>
call_counter write_counted(const char* label, const std::filesystem::path& path, std::string_view text) {
    call_counter counter;
    {
        aw::scoped_syscall_hook installed(counter);
        aw::write_file<Writer>(path, text, {.overwrite = true});
    }
    expect(read_file(path) == text, std::string(label) + ": the file holds what was written");
    std::cout << label << ": " << counter.calls << " system calls, " << counter.file_syncs << " of them syncs\n";
    return counter;
}

int main(int argc, char** argv) {
    try {
        example_dir dir(argc, argv);

        const call_counter cache =
            write_counted<cache_writer>("cache entry (sync::none)", dir / "page.html", "<p>hi</p>");
        expect(cache.file_syncs == 0, "sync::none syncs nothing");

        const call_counter data =
            write_counted<data_writer>("data file (sync::fdatasync)", dir / "samples.bin", "0123");
        expect(data.file_syncs == 2, "fdatasync: the file, then the directory");

        const call_counter config = write_counted<aw::atomic_writer>("config (default)", dir / "app.conf", "a=1\n");
        expect(config.file_syncs == 2, "the default: the file, then the directory");

        const call_counter record =
            write_counted<record_writer>("record (default + unnamed temp)", dir / "r.json", "{}");
        expect(record.file_syncs == 2, "the temp policy does not change the syncs");

        save_ledger<aw::atomic_writer>(dir / "ledger.csv", "2024-01-01,42.00\n");
        expect(read_file(dir / "ledger.csv") == "2024-01-01,42.00\n", "the ledger was saved");
        static_assert(!aw::is_durable<cache_writer::sync_type>, "a cache writer is not durable");
        static_assert(aw::is_durable<data_writer::sync_type> && aw::is_durable<aw::atomic_writer::sync_type>);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "choose_durability: " << e.what() << '\n';
        return 1;
    }
}
