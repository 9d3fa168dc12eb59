// SPDX-License-Identifier: MIT
// What the policies cost, against the same system calls written by hand.
//
// Every benchmark replaces an existing file of N bytes (0 B, 4 KiB, 64 KiB, 1 MiB) with
// new content of N bytes.
//
//   raw/<sync>              the hand-written sequence, no library code: open the
//                           directory (O_DIRECTORY), openat the temporary file
//                           (O_CREAT|O_EXCL), write, sync it, close, renameat, sync the
//                           directory, close it. <sync> is fsync, fdatasync (file; the
//                           directory is fsynced) or none (no sync call at all).
//   library/<sync>/<temp>   atomicwrites::write_file(target, data, {.overwrite = true})
//                           with sync::<sync>, temp::<temp> and the default commit policy.
//
// A library benchmark also runs the raw sequence with the matching sync calls, one raw
// write and one library write per iteration, in alternating order, so that the disk's
// and the machine's moods affect both alike. Its time is the library's; the counters are
// raw_us (the raw sequence, microseconds per write) and ratio_to_raw (library time /
// raw time: 1.0 means no overhead). Its CPU time covers both writes.
//
// Usage: bench_policies [--dir=PATH] [Google Benchmark options]
// Each benchmark measures for about 0.1 s unless --benchmark_min_time says otherwise.
// Works in a fresh directory made inside PATH (default: $ATOMICWRITES_BENCH_DIR, else
// the current directory) and removed at the end: PATH chooses the filesystem measured.
#include <atomicwrites/atomic_writer.hpp>

#include <benchmark/benchmark.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <unistd.h>
#if ATOMICWRITES_LINUX
#include <sys/vfs.h>
#endif

namespace {

namespace aw = atomicwrites;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// The directory every benchmark works in.
fs::path work_dir;

/// The sync calls of a raw sequence.
enum class raw_sync { none, fdatasync, fsync };

/// The hand-written replacement of dir/target. Returns 0, or the errno of the first
/// failing call (after removing the temporary file).
int raw_replace(const char* dir_path, const char* target, const char* data, std::size_t size, raw_sync sync) {
    static constexpr const char* temp = ".raw-target.tmp";
    const int dir = ::open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const int fd = ::openat(dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        const int e = errno;
        ::close(dir);
        return e;
    }
    int error = 0;
    for (std::size_t done = 0; done < size && error == 0;) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno != EINTR) error = errno;
        if (n > 0) done += static_cast<std::size_t>(n);
    }
    if (error == 0 && sync == raw_sync::fsync && ::fsync(fd) != 0) error = errno;
    if (error == 0 && sync == raw_sync::fdatasync && ::fdatasync(fd) != 0) error = errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error == 0 && ::renameat(dir, temp, dir, target) != 0) error = errno;
    if (error != 0) ::unlinkat(dir, temp, 0);
    if (error == 0 && sync != raw_sync::none && ::fsync(dir) != 0) error = errno;
    ::close(dir);
    return error;
}

/// Makes `name` in the work directory hold `size` bytes (the target to replace).
bool make_target(const char* name, std::size_t size, benchmark::State& state) {
    std::error_code ec;
    aw::write_file<aw::basic_atomic_writer<aw::sync::none>>(work_dir / name, std::string(size, 'o'),
                                                            {.overwrite = true}, ec);
    if (ec) state.SkipWithError(("cannot create the target: " + ec.message()).c_str());
    return !ec;
}

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// raw/<sync>: the hand-written sequence alone.
void bm_raw(benchmark::State& state, raw_sync sync) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'n');
    if (!make_target("raw-target", data.size(), state)) return;
    const std::string dir = work_dir.string();
    for (auto _ : state) {
        if (int e = raw_replace(dir.c_str(), "raw-target", data.data(), data.size(), sync); e != 0) {
            state.SkipWithError(("raw sequence: " + std::string(std::strerror(e))).c_str());
            break;
        }
    }
}

/// library/<sync>/<temp>: write_file with Writer, alternating with the raw sequence
/// that makes the same sync calls.
template <class Writer>
void bm_library(benchmark::State& state, raw_sync matching) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'n');
    if (!make_target("raw-target", data.size(), state) || !make_target("library-target", data.size(), state)) return;
    const std::string dir = work_dir.string();
    const fs::path target = work_dir / "library-target";

    double library_seconds = 0;
    double raw_seconds = 0;
    bool library_first = false;
    for (auto _ : state) {
        double library_time = 0;
        std::error_code ec;
        int raw_error = 0;
        auto run_library = [&] {
            const auto start = clock_type::now();
            aw::write_file<Writer>(target, data, {.overwrite = true}, ec);
            library_time = seconds_since(start);
        };
        auto run_raw = [&] {
            const auto start = clock_type::now();
            raw_error = raw_replace(dir.c_str(), "raw-target", data.data(), data.size(), matching);
            raw_seconds += seconds_since(start);
        };
        library_first = !library_first;
        if (library_first) {
            run_library();
            run_raw();
        } else {
            run_raw();
            run_library();
        }
        if (ec || raw_error != 0) {
            state.SkipWithError(ec ? ("library: " + ec.message()).c_str()
                                   : ("raw sequence: " + std::string(std::strerror(raw_error))).c_str());
            break;
        }
        library_seconds += library_time;
        state.SetIterationTime(library_time);
    }
    if (raw_seconds > 0) {
        state.counters["ratio_to_raw"] = library_seconds / raw_seconds;
        state.counters["raw_us"] = benchmark::Counter(raw_seconds * 1e6, benchmark::Counter::kAvgIterations);
    }
}

/// The sizes written: empty, a page, a typical configuration or document, a large file.
void sizes(benchmark::internal::Benchmark* b) {
    b->ArgName("bytes")->Arg(0)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
}

template <class Sync, class Temp>
using writer = aw::basic_atomic_writer<Sync, aw::default_commit, Temp>;

void register_benchmarks() {
    benchmark::RegisterBenchmark("raw/none", bm_raw, raw_sync::none)->Apply(sizes)->UseRealTime();
    benchmark::RegisterBenchmark("raw/fdatasync", bm_raw, raw_sync::fdatasync)->Apply(sizes)->UseRealTime();
    benchmark::RegisterBenchmark("raw/fsync", bm_raw, raw_sync::fsync)->Apply(sizes)->UseRealTime();

    benchmark::RegisterBenchmark("library/none/mkstemp", bm_library<writer<aw::sync::none, aw::temp::mkstemp>>,
                                 raw_sync::none)
        ->Apply(sizes)
        ->UseManualTime();
    benchmark::RegisterBenchmark("library/fdatasync/mkstemp",
                                 bm_library<writer<aw::sync::fdatasync, aw::temp::mkstemp>>, raw_sync::fdatasync)
        ->Apply(sizes)
        ->UseManualTime();
    benchmark::RegisterBenchmark("library/fsync/mkstemp", bm_library<writer<aw::sync::fsync, aw::temp::mkstemp>>,
                                 raw_sync::fsync)
        ->Apply(sizes)
        ->UseManualTime();
#if ATOMICWRITES_LINUX && defined(O_TMPFILE)
    benchmark::RegisterBenchmark("library/none/anonymous", bm_library<writer<aw::sync::none, aw::temp::anonymous>>,
                                 raw_sync::none)
        ->Apply(sizes)
        ->UseManualTime();
    benchmark::RegisterBenchmark("library/fsync/anonymous", bm_library<writer<aw::sync::fsync, aw::temp::anonymous>>,
                                 raw_sync::fsync)
        ->Apply(sizes)
        ->UseManualTime();
#endif
}

/// The filesystem type of `p`, for the report (the figures depend on it).
std::string filesystem_name(const fs::path& p) {
#if ATOMICWRITES_LINUX
    struct ::statfs s {};
    if (::statfs(p.c_str(), &s) != 0) return "unknown";
    struct known {
        unsigned long magic;
        const char* name;
    };
    static constexpr known names[] = {
        {0xEF53, "ext2/3/4"},      {0x58465342, "xfs"},  {0x9123683E, "btrfs"}, {0x01021994, "tmpfs"},
        {0x794C7630, "overlayfs"}, {0x6969, "nfs"},      {0xF2F52010, "f2fs"},  {0x2FC12FC1, "zfs"},
        {0x65735546, "fuse"},      {0x5346544E, "ntfs"}, {0x4d44, "vfat"},
    };
    for (const auto& k : names)
        if (static_cast<unsigned long>(s.f_type) == k.magic) return k.name;
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(s.f_type));
    return hex;
#else
    (void)p;
    return "unknown";
#endif
}

}  // namespace

int main(int argc, char** argv) {
    // Take --dir=PATH out of the arguments before Google Benchmark sees them.
    std::vector<char*> args;
    bool min_time_given = false;
    fs::path base = ".";
    if (const char* env = std::getenv("ATOMICWRITES_BENCH_DIR"); env != nullptr && *env != '\0') base = env;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i > 0 && arg.starts_with("--dir=")) {
            base = arg.substr(6);
        } else {
            if (arg == "--help") std::cout << "bench_policies [--dir=PATH]: PATH is where the files are written\n";
            if (arg.starts_with("--benchmark_min_time")) min_time_given = true;
            args.push_back(argv[i]);
        }
    }
    // Short by default: about 0.1 s of measurement per benchmark.
    static char short_runs[] = "--benchmark_min_time=0.1";
    if (!min_time_given) args.insert(args.begin() + (args.empty() ? 0 : 1), short_runs);
    int bench_argc = static_cast<int>(args.size());
    args.push_back(nullptr);

    benchmark::Initialize(&bench_argc, args.data());
    if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 1;

    std::string pattern = (base / "atomicwrites-bench.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << "bench_policies: cannot make a directory in " << base << ": " << std::strerror(errno) << '\n';
        return 1;
    }
    work_dir = fs::absolute(pattern);
    benchmark::AddCustomContext("directory", work_dir.string());
    benchmark::AddCustomContext("filesystem", filesystem_name(work_dir));
    register_benchmarks();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();

    std::error_code ec;
    fs::remove_all(work_dir, ec);
    return 0;
}
