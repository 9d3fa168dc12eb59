// SPDX-License-Identifier: MIT
// What the benchmark programs share: the directory they write in, the options every one
// of them takes, per-write timing, and the report (a console table that counts the
// benchmarks that failed and collects the rows bench/chart.gp draws).
//
// Every program takes:
//   --dir=PATH        where to write (default: $ATOMICWRITES_BENCH_DIR, else the current
//                     directory); a fresh directory is made inside and removed at the end.
//                     PATH chooses the filesystem measured.
//   --full            the full set of the program's benchmarks, where it has one; the
//                     default is a short set.
//   [Google Benchmark options]; --benchmark_min_time defaults to 0.1 s.
#ifndef ATOMICWRITES_BENCH_COMMON_HPP
#define ATOMICWRITES_BENCH_COMMON_HPP

#include <atomicwrites/atomic_writer.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>
#if ATOMICWRITES_LINUX
#include <sys/vfs.h>
#endif

namespace bench {

namespace aw = atomicwrites;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

inline constexpr std::int64_t KiB = 1024;
inline constexpr std::int64_t MiB = 1024 * KiB;

/// The directory every benchmark works in.
inline fs::path work_dir;
/// --full: the full set of benchmarks.
inline bool full_run = false;
/// O_TMPFILE works in work_dir.
inline bool anonymous_files = false;
/// --benchmark_min_time when given, else 0.
inline double given_min_time = 0;
/// --benchmark_repetitions=N as given (0: not given), for programs that set their own
/// count: a count set in the program would otherwise override the option silently.
inline int given_repetitions = 0;

// --- measuring ---------------------------------------------------------------------

/// Per-write latencies of one contender, in seconds.
class samples {
public:
    void reserve(std::size_t n) { v_.reserve(n); }
    void add(double s) { v_.push_back(s); }
    double median() {
        if (v_.empty()) return 0;
        auto mid = v_.begin() + static_cast<std::ptrdiff_t>(v_.size() / 2);
        std::nth_element(v_.begin(), mid, v_.end());
        return *mid;
    }

private:
    std::vector<double> v_;
};

/// The time `f()` takes, in seconds.
template <class F>
double timed(F&& f) {
    const auto start = clock_type::now();
    f();
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Makes `name` in the work directory hold `size` bytes: the file a benchmark replaces.
inline bool make_file(const std::string& name, std::size_t size, benchmark::State& state) {
    std::error_code ec;
    aw::write_file<aw::basic_atomic_writer<aw::sync::none>>(work_dir / name, std::string(size, 'o'),
                                                            {.overwrite = true}, ec);
    if (ec) state.SkipWithError(("cannot create " + name + ": " + ec.message()).c_str());
    return !ec;
}

/// Stops the benchmark: `who` failed with `what`.
inline void fail(benchmark::State& state, const std::string& who, const std::string& what) {
    state.SkipWithError((who + ": " + what).c_str());
}

/// The sizes a benchmark runs with; `large` adds 64 MiB.
inline std::vector<std::int64_t> sizes_for(bool large) {
    std::vector<std::int64_t> s = {0, 4 * KiB, 64 * KiB, 1 * MiB};
    if (large) s.push_back(64 * MiB);
    return s;
}

// --- the report -----------------------------------------------------------------

/// The console table, and the rows the chart is drawn from (policy/.../replace runs).
class chart_reporter : public benchmark::ConsoleReporter {
public:
    struct row {
        std::string policy;
        std::int64_t bytes;
        double lib_us, raw_us, vs_raw;
    };
    std::vector<row> rows;
    int errors = 0;  // benchmarks that stopped with an error

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& r : runs) {
            if (r.error_occurred) ++errors;
            if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
            const std::string name = r.benchmark_name();
            if (!name.starts_with("policy/") || name.find("/replace/") == std::string::npos) continue;
            const auto at = name.find("/bytes:");
            auto counter = [&r](const char* c) {
                auto it = r.counters.find(c);
                return it == r.counters.end() ? 0.0 : static_cast<double>(it->second);
            };
            rows.push_back({name.substr(7, name.find("/replace/") - 7), std::atoll(name.c_str() + at + 7),
                            counter("lib_us"), counter("raw_us"), counter("vs_raw")});
        }
        ConsoleReporter::ReportRuns(runs);
    }

    /// One block per policy (gnuplot's index), rows by size.
    bool write(const fs::path& file, const std::string& title) const {
        std::ofstream out(file);
        out << "# " << title << "\n";
        std::map<std::string, std::vector<row>> by_policy;
        for (const row& r : rows) by_policy[r.policy].push_back(r);
        for (auto& [policy, list] : by_policy) {
            std::sort(list.begin(), list.end(), [](const row& a, const row& b) { return a.bytes < b.bytes; });
            if (&policy != &by_policy.begin()->first) out << "\n\n";  // a new block: gnuplot's index
            out << "\"" << policy << "\"\n";
            for (const row& r : list)
                out << size_label(r.bytes) << '\t' << r.lib_us << '\t' << r.raw_us << '\t' << r.vs_raw << '\n';
        }
        return static_cast<bool>(out);
    }

    static std::string size_label(std::int64_t b) {
        if (b >= MiB) return std::to_string(b / MiB) + "MiB";
        if (b >= KiB) return std::to_string(b / KiB) + "KiB";
        return std::to_string(b) + "B";
    }
};

/// The filesystem type of `p`, for the report (the figures depend on it).
inline std::string filesystem_name(const fs::path& p) {
#if ATOMICWRITES_LINUX
    struct ::statfs s {};
    if (::statfs(p.c_str(), &s) != 0) return "unknown";
    struct known {
        unsigned long magic;
        const char* name;
    };
    static constexpr known names[] = {
        {0xEF53, "ext4"},          {0x58465342, "xfs"},  {0x9123683E, "btrfs"}, {0x01021994, "tmpfs"},
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

inline bool probe_anonymous_files(const fs::path& dir) {
#ifdef O_TMPFILE
    const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    ::close(fd);
    return true;
#else
    (void)dir;
    return false;
#endif
}

/// For the hand-written sequences: errno, after closing the descriptors given (-1: none).
inline int fail_errno(int a, int b = -1, int c = -1) {
    const int e = errno;
    for (int fd : {a, b, c})
        if (fd >= 0) ::close(fd);
    return e;
}

// --- one operation against the hand-written sequence -------------------------------

/// Times `lib` and `raw` alternately, once each per iteration (so that neither always
/// runs on a cache the other warmed), after `setup` (untimed; an errno, 0 for success)
/// when given, and reports the medians (lib_us, raw_us) and their ratio (vs_raw:
/// raw_us / lib_us). `lib` returns an error message or "", `raw` an errno; an error
/// stops the benchmark with it. False if it stopped.
inline bool alternate(benchmark::State& state, const std::function<std::string()>& lib, const std::function<int()>& raw,
                      const std::function<int()>& setup = {}) {
    samples lib_samples, raw_samples;
    std::uint64_t n = 0;
    for (auto _ : state) {
        if (const int e = setup ? setup() : 0; e != 0) {
            fail(state, "setup", std::strerror(e));
            return false;
        }
        std::string lib_error;
        int raw_error = 0;
        double lib_time = 0;
        auto run_lib = [&] { lib_time = timed([&] { lib_error = lib(); }); };
        auto run_raw = [&] { raw_samples.add(timed([&] { raw_error = raw(); })); };
        if (n++ % 2 == 0) {
            run_lib();
            run_raw();
        } else {
            run_raw();
            run_lib();
        }
        if (!lib_error.empty() || raw_error != 0) {
            fail(state, lib_error.empty() ? "raw sequence" : "library",
                 lib_error.empty() ? std::strerror(raw_error) : lib_error);
            return false;
        }
        lib_samples.add(lib_time);
        state.SetIterationTime(lib_time);
    }
    const double lib_median = lib_samples.median();
    const double raw_median = raw_samples.median();
    state.counters["lib_us"] = lib_median * 1e6;
    state.counters["raw_us"] = raw_median * 1e6;
    state.counters["vs_raw"] = lib_median > 0 ? raw_median / lib_median : 0;
    return true;
}

/// One operation of the library against the same work written by hand: alternate(), and
/// the calls each makes (calls, raw_calls).
inline void compare(benchmark::State& state, const std::function<std::string()>& lib, const std::function<int()>& raw,
                    unsigned long lib_calls, int raw_calls) {
    if (!alternate(state, lib, raw)) return;
    state.counters["calls"] = static_cast<double>(lib_calls);
    state.counters["raw_calls"] = raw_calls;
}

/// The library's calls for one run of `f`.
template <class F>
unsigned long count_calls(F&& f) {
    aw::syscall_counter calls;
    aw::scoped_syscall_hook counting(calls);
    f();
    return calls.total();
}

// --- the program ------------------------------------------------------------------

/// One benchmark program: what `run` needs to know of it.
struct program {
    const char* name;     ///< for messages and --help
    const char* options;  ///< its own lines of --help, after the shared ones
    bool full_set;        ///< has a --full set (the others accept and ignore --full)
    bool chart_data;      ///< takes --chart-data=FILE
    void (*add)();        ///< registers its benchmarks; may add context to the report
};

/// The main function of every benchmark program: takes the shared options out of the
/// arguments, makes the work directory, registers and runs the benchmarks, removes the
/// directory. Returns 1 if a benchmark stopped with an error.
inline int run(int argc, char** argv, const program& p) {
    // Take our own options out of the arguments before Google Benchmark sees them.
    std::vector<char*> args;
    bool console = true;  // the console table is ours (it also collects the chart rows)
    fs::path base = ".";
    fs::path chart_data;
    if (const char* env = std::getenv("ATOMICWRITES_BENCH_DIR"); env != nullptr && *env != '\0') base = env;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i > 0 && arg.starts_with("--dir=")) {
            base = arg.substr(6);
        } else if (i > 0 && arg == "--full") {
            full_run = true;
        } else if (i > 0 && p.chart_data && arg.starts_with("--chart-data=")) {
            chart_data = arg.substr(13);
        } else {
            if (arg == "--help")
                std::cout << p.name << " [--dir=PATH]" << (p.full_set ? " [--full]" : "")
                          << (p.chart_data ? " [--chart-data=FILE]" : "")
                          << "\n  --dir=PATH         where the files are written (default: $ATOMICWRITES_BENCH_DIR, "
                             "else .)\n"
                          << p.options << "\n";
            if (arg.starts_with("--benchmark_min_time="))
                given_min_time = std::atof(std::string(arg.substr(21)).c_str());
            if (arg.starts_with("--benchmark_repetitions="))
                given_repetitions = std::atoi(std::string(arg.substr(24)).c_str());
            if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console") console = false;
            args.push_back(argv[i]);
        }
    }
    // About 0.1 s of measurement per benchmark unless told otherwise.
    static char short_runs[] = "--benchmark_min_time=0.1";
    if (given_min_time <= 0) args.insert(args.begin() + (args.empty() ? 0 : 1), short_runs);
    int bench_argc = static_cast<int>(args.size());
    args.push_back(nullptr);

    benchmark::Initialize(&bench_argc, args.data());
    if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 1;

    std::string pattern = (base / "atomicwrites-bench.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << p.name << ": cannot make a directory in " << base << ": " << std::strerror(errno) << '\n';
        return 1;
    }
    work_dir = fs::absolute(pattern);
    anonymous_files = probe_anonymous_files(work_dir);
    const std::string fs_name = filesystem_name(work_dir);
    struct ::utsname uts {};
    ::uname(&uts);
    benchmark::AddCustomContext("directory", work_dir.string());
    benchmark::AddCustomContext("filesystem", fs_name);
    benchmark::AddCustomContext("kernel", std::string(uts.sysname) + " " + uts.release);
    if (p.full_set) benchmark::AddCustomContext("set", full_run ? "full" : "short (--full for every benchmark)");
    p.add();

    chart_reporter reporter;
    if (console) {
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();  // JSON or CSV on stdout, as asked
        if (!chart_data.empty()) std::cerr << p.name << ": --chart-data needs the console format\n";
        chart_data.clear();
    }
    benchmark::Shutdown();
    if (!chart_data.empty()) {
        const std::string title = "on " + fs_name + ", " + uts.release;
        if (!reporter.write(chart_data, title)) std::cerr << p.name << ": cannot write " << chart_data << '\n';
    }

    std::error_code ec;
    fs::remove_all(work_dir, ec);
    if (reporter.errors != 0) {
        std::cerr << p.name << ": " << reporter.errors << " benchmark(s) stopped with an error\n";
        return 1;
    }
    return 0;
}

}  // namespace bench

#endif  // ATOMICWRITES_BENCH_COMMON_HPP
