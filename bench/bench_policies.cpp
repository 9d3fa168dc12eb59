// SPDX-License-Identifier: MIT
// What each durability choice costs, against the same system calls written by hand.
//
// Three groups of benchmarks, all working in one fresh directory (see --dir):
//
//   raw/<x>                 a hand-written sequence alone (raw.hpp): (a) O_EXCL temp,
//                           write, fsync, close, rename, fsync dir, the directory kept
//                           open; (a') the same, opening and closing the directory each
//                           time; (b) fdatasync; (c) O_TMPFILE + linkat + rename; (d) no
//                           sync; (e) renameat2 NOREPLACE; (f) link + unlink; (g) fsync
//                           without the directory sync. A prime (x') opens and closes
//                           the directory each time, like a one-shot write by path.
//   policy/<sync>/<commit>/<temp>/<replace|create>
//                           write_file() with those policies, replacing an existing file
//                           or creating a new one, alternating in every iteration with
//                           the hand-written sequence that does the same work (the same
//                           sync calls, temporary file and commit; the label names it).
//   target/<bytes>          the contest the README's targets are read from: the default
//                           write_file() by path, the hand-written (a') and (a), a
//                           directory handle, and the peers built in (GLib, Qt), each
//                           replacing its own file once per iteration, in rotating order.
//
// Counters (times are medians of the per-write latencies of the run, which shrug off the
// outliers a shared machine produces):
//   lib_us, raw_us          library and matching hand-written time per write (µs)
//   vs_raw                  raw_us / lib_us: the library's speed relative to the
//                           hand-written sequence (1.00 = as fast; 0.95 = 5% slower)
//   calls, raw_calls        system calls per write, counted through the library's seam
//                           (syscall_counter), and those of the hand-written sequence
//   <who>_us, <a>_vs_<b>    in target/: each contender's median, and speed ratios
//
// Usage: bench_policies [--dir=PATH] [--full] [--chart-data=FILE] [Google Benchmark options]
//   --dir=PATH        where to write (default: $ATOMICWRITES_BENCH_DIR, else the current
//                     directory); a fresh directory is made inside and removed at the end.
//                     PATH chooses the filesystem measured.
//   --full            every valid policy combination, both scenarios, sizes up to 64 MiB
//                     and every raw sequence; the default is a short matrix.
//   --chart-data=FILE also write the results as a table for bench/chart.gp.
//   --benchmark_min_time=T also sets the time of each target/ repetition (default 0.3 s).
#include "peers.hpp"
#include "raw.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
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
#include <tuple>
#include <vector>

#include <sys/utsname.h>
#if ATOMICWRITES_LINUX
#include <sys/vfs.h>
#endif

namespace {

namespace aw = atomicwrites;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// The directory every benchmark works in.
fs::path work_dir;
bool full_run = false;
bool anonymous_files = false;  // O_TMPFILE works in work_dir
double target_min_time = 0.3;  // per repetition of target/; --benchmark_min_time overrides

constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * KiB;

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

template <class F>
double timed(F&& f) {
    const auto start = clock_type::now();
    f();
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// Makes `name` in the work directory hold `size` bytes: the file a benchmark replaces.
bool make_file(const std::string& name, std::size_t size, benchmark::State& state) {
    std::error_code ec;
    aw::write_file<aw::basic_atomic_writer<aw::sync::none>>(work_dir / name, std::string(size, 'o'),
                                                            {.overwrite = true}, ec);
    if (ec) state.SkipWithError(("cannot create " + name + ": " + ec.message()).c_str());
    return !ec;
}

void fail(benchmark::State& state, const std::string& who, const std::string& what) {
    state.SkipWithError((who + ": " + what).c_str());
}

// --- policy names and their hand-written equivalents ----------------------------

template <class T>
constexpr std::string_view policy_name() {
    using namespace aw;
    if constexpr (std::is_same_v<T, sync::none>)
        return "none";
    else if constexpr (std::is_same_v<T, sync::fdatasync>)
        return "fdatasync";
    else if constexpr (std::is_same_v<T, sync::fsync>)
        return "fsync";
    else if constexpr (std::is_same_v<T, sync::full_fsync>)
        return "full_fsync";
    else if constexpr (std::is_same_v<T, commit::rename>)
        return "rename";
    else if constexpr (std::is_same_v<T, commit::link_unlink>)
        return "link_unlink";
    else if constexpr (std::is_same_v<T, commit::renameat2>)
        return "renameat2";
    else if constexpr (std::is_same_v<T, commit::automatic>)
        return "automatic";
    else if constexpr (std::is_same_v<T, temp::mkstemp>)
        return "mkstemp";
    else if constexpr (std::is_same_v<T, temp::named>)
        return "named";
    else if constexpr (std::is_same_v<T, temp::anonymous>)
        return "anonymous";
    else
        return "first_of";
}

/// The hand-written sequence that does the work a one-shot write_file by path with
/// writer W does: the same sync calls, kind of temporary file and commit, the directory
/// opened each time, the replaced file's mode kept, a new temporary name each time.
template <class W>
raw::sequence matching(bool overwrite) {
    using S = typename W::sync_type;
    raw::sequence s;
    s.sync = std::is_same_v<S, aw::sync::none>        ? raw::file_sync::none
             : std::is_same_v<S, aw::sync::fdatasync> ? raw::file_sync::fdatasync
                                                      : raw::file_sync::fsync;
    s.sync_directory = S::durable;
    s.temp = W::temp_type::may_be_anonymous && anonymous_files ? raw::temp_kind::anonymous : raw::temp_kind::named;
    s.how = overwrite                                                          ? raw::publish::rename
            : std::is_same_v<typename W::commit_type, aw::commit::link_unlink> ? raw::publish::link_unlink
                                                                               : raw::publish::renameat2_noreplace;
    s.keep_directory = false;
    s.keep_mode = true;
    s.unique_name = true;
    return s;
}

/// A short name for a hand-written sequence: its letter where it is one of the named
/// baselines, with a prime when the directory is opened each time, then what it adds.
std::string short_name(const raw::sequence& s) {
    raw::sequence core = s;  // the letters name the calls, not these three variations
    core.keep_directory = true;
    core.keep_mode = false;
    core.unique_name = false;
    std::string n;
    const std::pair<const char*, raw::sequence> named[] = {{"a", raw::a()}, {"b", raw::b()}, {"c", raw::c()},
                                                           {"d", raw::d()}, {"e", raw::e()}, {"f", raw::f()},
                                                           {"g", raw::g()}};
    for (const auto& [letter, seq] : named)
        if (core == seq) n = letter;
    if (n.empty()) {  // a combination without a letter: spell it out
        n = s.sync == raw::file_sync::none ? "nosync" : s.sync == raw::file_sync::fdatasync ? "fdatasync" : "fsync";
        n += s.temp == raw::temp_kind::anonymous ? "+tmpfile" : "+excl";
        n += s.how == raw::publish::rename ? "+rename" : s.how == raw::publish::link_unlink ? "+link" : "+noreplace";
        if (!s.sync_directory) n += "+nodirsync";
    }
    if (!s.keep_directory) n += "'";
    if (s.keep_mode) n += "+mode";
    return s.unique_name ? n + "+unique" : n;
}

// --- raw/<x> --------------------------------------------------------------------

void bm_raw(benchmark::State& state, raw::sequence seq) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'n');
    const bool replaces = seq.how == raw::publish::rename;
    if (replaces && !make_file("raw-target", data.size(), state)) return;
    raw::writer w(work_dir.string(), seq);
    std::uint64_t n = 0;
    for (auto _ : state) {
        std::string name = replaces ? "raw-target" : "raw-" + std::to_string(n++);
        if (int e = w.write(name.c_str(), data.data(), data.size()); e != 0) {
            fail(state, "raw sequence", std::strerror(e));
            break;
        }
        if (!replaces) {
            state.PauseTiming();
            fs::remove(work_dir / name);
            state.ResumeTiming();
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.counters["raw_calls"] = seq.calls(replaces, data.size());
    state.SetLabel(seq.describe());
}

// --- policy/<sync>/<commit>/<temp>/<scenario> -------------------------------------

enum class scenario { replace, create };

template <class W>
void bm_policy(benchmark::State& state, scenario sc) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'n');
    const bool replacing = sc == scenario::replace;
    const bool overwrite = W::commit_type::can_replace;  // create: rename can only replace
    const raw::sequence seq = matching<W>(overwrite);
    if (replacing && (!make_file("lib-target", data.size(), state) || !make_file("raw-target", data.size(), state)))
        return;
    raw::writer raw_writer(work_dir.string(), seq);
    const aw::write_options options{.overwrite = overwrite};

    // The calls of one write, counted once, outside the measurement.
    aw::syscall_counter calls;
    {
        const fs::path probe = work_dir / "lib-probe";
        if (replacing) make_file("lib-probe", data.size(), state);
        aw::scoped_syscall_hook counting(calls);
        std::error_code ec;
        aw::write_file<W>(probe, data, options, ec);
        if (ec) return fail(state, "library", ec.message());
    }
    fs::remove(work_dir / "lib-probe");

    samples lib, raw;
    std::uint64_t n = 0;
    for (auto _ : state) {
        const std::string suffix = replacing ? "target" : std::to_string(n);
        const fs::path lib_path = work_dir / ("lib-" + suffix);  // made before the clock starts
        const std::string raw_name = "raw-" + suffix;
        std::error_code ec;
        int raw_error = 0;
        double lib_time = 0;
        auto run_lib = [&] { lib_time = timed([&] { aw::write_file<W>(lib_path, data, options, ec); }); };
        auto run_raw = [&] {
            raw.add(timed([&] { raw_error = raw_writer.write(raw_name.c_str(), data.data(), data.size()); }));
        };
        // Alternate the order, so that neither always runs on a cache the other warmed.
        if (n++ % 2 == 0) {
            run_lib();
            run_raw();
        } else {
            run_raw();
            run_lib();
        }
        if (ec) return fail(state, "library", ec.message());
        if (raw_error != 0) return fail(state, "raw sequence", std::strerror(raw_error));
        lib.add(lib_time);
        state.SetIterationTime(lib_time);
        if (!replacing) {
            std::error_code ignored;
            fs::remove(lib_path, ignored);
            fs::remove(work_dir / raw_name, ignored);
        }
    }
    const double lib_median = lib.median();
    const double raw_median = raw.median();
    state.counters["lib_us"] = lib_median * 1e6;
    state.counters["raw_us"] = raw_median * 1e6;
    state.counters["vs_raw"] = lib_median > 0 ? raw_median / lib_median : 0;
    state.counters["calls"] = static_cast<double>(calls.total());
    state.counters["raw_calls"] = seq.calls(replacing, data.size());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
    state.SetLabel("vs " + short_name(seq));
}

// --- target/<bytes> -------------------------------------------------------------

/// One contender of the contest: replaces its own file.
struct contender {
    std::string name;
    std::function<std::string()> write;  // empty string, or what went wrong
    samples times;
};

void bm_target(benchmark::State& state) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'n');
    const std::string dir = work_dir.string();
    const aw::directory handle(work_dir);
    raw::writer raw_a(dir, raw::a());
    raw::writer raw_a_prime(dir, raw::a_prime());
    raw::writer raw_a_prime_mode(dir, raw::a_prime_mode());
    raw::writer raw_a_unique(dir, raw::a_unique());
    const fs::path default_target = work_dir / "t-default";
    const fs::path fresh_target = work_dir / "t-fresh";
    const aw::write_options fresh{.overwrite = true, .metadata = aw::metadata_mode::fresh};
    const fs::path handle_name = "t-handle";

    std::vector<contender> all;
    std::vector<std::string> files;
    auto add = [&](std::string name, std::function<std::string()> write) {
        files.push_back("t-" + name);
        all.push_back({std::move(name), std::move(write), {}});
    };
    auto message = [](const std::error_code& ec) { return ec ? ec.message() : std::string(); };
    auto by_hand = [&data](raw::writer& w, const char* file) {
        return [&data, &w, file] {
            const int e = w.write(file, data.data(), data.size());
            return e != 0 ? std::string(std::strerror(e)) : std::string();
        };
    };
    add("default", [&] {
        std::error_code ec;
        aw::write_file(default_target, data, {.overwrite = true}, ec);
        return message(ec);
    });
    add("fresh", [&] {
        std::error_code ec;
        aw::write_file(fresh_target, data, fresh, ec);
        return message(ec);
    });
    add("handle", [&] {
        std::error_code ec;
        aw::write_file(handle, handle_name, data, fresh, ec);
        return message(ec);
    });
    add("raw_a'+mode", by_hand(raw_a_prime_mode, "t-raw_a'+mode"));
    add("raw_a'", by_hand(raw_a_prime, "t-raw_a'"));
    add("raw_a", by_hand(raw_a, "t-raw_a"));
    add("raw_a+unique", by_hand(raw_a_unique, "t-raw_a+unique"));
    for (const peers::peer& p : peers::available()) {
        const std::string path = (work_dir / ("t-" + std::string(p.name))).string();
        add(p.name, [&data, path, p] { return p.write(path.c_str(), data.data(), data.size()); });
    }
    for (const std::string& file : files)
        if (!make_file(file, data.size(), state)) return;

    std::size_t first = 0;
    for (auto _ : state) {
        double default_time = 0;
        for (std::size_t k = 0; k < all.size(); ++k) {
            contender& c = all[(first + k) % all.size()];
            std::string error;
            const double t = timed([&] { error = c.write(); });
            if (!error.empty()) return fail(state, c.name, error);
            c.times.add(t);
            if (&c == &all[0]) default_time = t;
        }
        first = (first + 1) % all.size();  // each contender in each position in turn
        state.SetIterationTime(default_time);
    }
    std::map<std::string, double> median;
    for (contender& c : all) {
        median[c.name] = c.times.median();
        state.counters[c.name + "_us"] = median[c.name] * 1e6;
    }
    auto ratio = [&](const char* who, const char* against) {
        if (median.count(who) != 0 && median.count(against) != 0 && median[who] > 0)
            state.counters[std::string(who) + "_vs_" + against] = median[against] / median[who];
    };
    ratio("default", "raw_a'+mode");
    ratio("default", "raw_a'");
    ratio("default", "raw_a");
    ratio("fresh", "raw_a'");
    ratio("handle", "raw_a");
    ratio("handle", "raw_a+unique");
    for (const peers::peer& p : peers::available()) ratio("default", p.name);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// --- registration ----------------------------------------------------------------

using all_syncs = std::tuple<aw::sync::none, aw::sync::fdatasync, aw::sync::fsync, aw::sync::full_fsync>;
using all_commits =
    std::tuple<aw::commit::rename, aw::commit::link_unlink, aw::commit::renameat2, aw::commit::automatic>;
using all_temps = std::tuple<aw::temp::mkstemp, aw::temp::named, aw::temp::anonymous,
                             aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>;

std::vector<std::int64_t> sizes_for(bool large) {
    std::vector<std::int64_t> s = {0, 4 * KiB, 64 * KiB, 1 * MiB};
    if (large) s.push_back(64 * MiB);
    return s;
}

template <class W>
void register_policy(bool short_set_member, bool with_64m) {
    if (!full_run && !short_set_member) return;
    for (scenario sc : {scenario::replace, scenario::create}) {
        if (sc == scenario::replace && !W::commit_type::can_replace) continue;
        std::string name = "policy/";
        name += policy_name<typename W::sync_type>();
        name += '/';
        name += policy_name<typename W::commit_type>();
        name += '/';
        name += policy_name<typename W::temp_type>();
        name += sc == scenario::replace ? "/replace" : "/create";
        auto* b = benchmark::RegisterBenchmark(name.c_str(), bm_policy<W>, sc);
        b->ArgName("bytes")->UseManualTime()->Unit(benchmark::kMicrosecond);
        for (std::int64_t size : sizes_for(false)) b->Arg(size);
        if (full_run || with_64m) {
            // Large writes take tens of milliseconds: measure for longer, so that the
            // medians come from more than a couple of writes.
            benchmark::RegisterBenchmark(name.c_str(), bm_policy<W>, sc)
                ->ArgName("bytes")
                ->Arg(64 * MiB)
                ->MinTime(1.0)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
        }
    }
}

template <class S, class C, class T>
void register_one() {
    using W = aw::basic_atomic_writer<S, C, T>;
    // The short matrix: each sync policy with the default commit, and the two temporary
    // files that matter (a name, or none); 64 MiB only for the default writer.
    constexpr bool short_member = std::is_same_v<C, aw::commit::automatic> &&
                                  !std::is_same_v<S, aw::sync::full_fsync> &&
                                  (std::is_same_v<T, aw::temp::mkstemp> || std::is_same_v<T, aw::temp::anonymous>);
    constexpr bool is_default = std::is_same_v<W, aw::atomic_writer>;
    if constexpr (std::is_same_v<T, aw::temp::anonymous>) {
        if (!anonymous_files) return;  // the filesystem has no O_TMPFILE
    }
    register_policy<W>(short_member, is_default);
}

template <class S, class C, class... T>
void register_temps(std::tuple<T...>*) {
    (register_one<S, C, T>(), ...);
}
template <class S, class... C>
void register_commits(std::tuple<C...>*) {
    (register_temps<S, C>(static_cast<all_temps*>(nullptr)), ...);
}
template <class... S>
void register_syncs(std::tuple<S...>*) {
    (register_commits<S>(static_cast<all_commits*>(nullptr)), ...);
}

void register_benchmarks() {
    // The contest the targets are read from: medians over five repetitions.
    benchmark::RegisterBenchmark("target", bm_target)
        ->ArgName("bytes")
        ->Arg(4 * KiB)
        ->Arg(64 * MiB)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(target_min_time)
        ->Repetitions(5)
        ->DisplayAggregatesOnly(true);

    const std::pair<const char*, raw::sequence> baselines[] = {
        {"raw/a", raw::a()}, {"raw/b", raw::b()}, {"raw/c", raw::c()}, {"raw/d", raw::d()},
        {"raw/e", raw::e()}, {"raw/f", raw::f()}, {"raw/g", raw::g()},
    };
    for (auto [name, seq] : baselines) {
        if (seq.temp == raw::temp_kind::anonymous && !anonymous_files) continue;
        for (bool keep : {true, false}) {
            if (!keep && !full_run && std::string_view(name) != "raw/a") continue;  // short: (a') only
            seq.keep_directory = keep;
            const std::string full_name = std::string(name) + (keep ? "" : "'");
            auto* b = benchmark::RegisterBenchmark(full_name.c_str(), bm_raw, seq);
            b->ArgName("bytes")->UseRealTime()->Unit(benchmark::kMicrosecond);
            if (full_run)
                for (std::int64_t size : sizes_for(true)) b->Arg(size);
            else
                b->Arg(4 * KiB);
        }
    }
    register_syncs(static_cast<all_syncs*>(nullptr));
}

// --- the report -----------------------------------------------------------------

/// The console table, and the rows the chart is drawn from.
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
std::string filesystem_name(const fs::path& p) {
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

bool probe_anonymous_files(const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    // Take our own options out of the arguments before Google Benchmark sees them.
    std::vector<char*> args;
    bool min_time_given = false;
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
        } else if (i > 0 && arg.starts_with("--chart-data=")) {
            chart_data = arg.substr(13);
        } else {
            if (arg == "--help")
                std::cout
                    << "bench_policies [--dir=PATH] [--full] [--chart-data=FILE]\n"
                       "  --dir=PATH         where the files are written (default: $ATOMICWRITES_BENCH_DIR, else .)\n"
                       "  --full             every policy combination, sizes up to 64 MiB, every raw sequence\n"
                       "  --chart-data=FILE  the policy results as a table for bench/chart.gp\n\n";
            if (arg.starts_with("--benchmark_min_time=")) {
                min_time_given = true;
                target_min_time = std::atof(std::string(arg.substr(21)).c_str());
            }
            if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console") console = false;
            args.push_back(argv[i]);
        }
    }
    // About 0.1 s of measurement per benchmark unless told otherwise.
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
    anonymous_files = probe_anonymous_files(work_dir);
    const std::string fs_name = filesystem_name(work_dir);
    struct ::utsname uts {};
    ::uname(&uts);
    benchmark::AddCustomContext("directory", work_dir.string());
    benchmark::AddCustomContext("filesystem", fs_name);
    benchmark::AddCustomContext("kernel", std::string(uts.sysname) + " " + uts.release);
    benchmark::AddCustomContext("matrix", full_run ? "full" : "short (--full for every combination)");
    std::string peer_names;
    for (const peers::peer& p : peers::available())
        peer_names += std::string(peer_names.empty() ? "" : "; ") + p.name + ": " + p.what;
    benchmark::AddCustomContext("peers", peer_names.empty() ? "none built in (meson option peers)" : peer_names);
    register_benchmarks();

    chart_reporter reporter;
    if (console) {
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();  // JSON or CSV on stdout, as asked
        if (!chart_data.empty()) std::cerr << "bench_policies: --chart-data needs the console format\n";
        chart_data.clear();
    }
    benchmark::Shutdown();
    if (!chart_data.empty()) {
        const std::string title = "on " + fs_name + ", " + uts.release;
        if (!reporter.write(chart_data, title)) std::cerr << "bench_policies: cannot write " << chart_data << '\n';
    }

    std::error_code ec;
    fs::remove_all(work_dir, ec);
    if (reporter.errors != 0) {
        std::cerr << "bench_policies: " << reporter.errors << " benchmark(s) stopped with an error\n";
        return 1;
    }
    return 0;
}
