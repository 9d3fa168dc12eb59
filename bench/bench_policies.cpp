// SPDX-License-Identifier: MIT
// What each durability choice costs, against the same system calls written by hand.
//
//   policy/<sync>/<commit>/<temp>/<replace|create>
//       write_file() with those policies, replacing an existing file or creating a new
//       one, alternating in every iteration with the hand-written sequence (raw.hpp) that
//       does the same work: the same sync calls, temporary file and commit. The label
//       names that sequence (see bench_raw for the letters).
//
// Counters (times are medians of the per-write latencies of the run, which shrug off the
// outliers a shared machine produces):
//   lib_us, raw_us     library and matching hand-written time per write (µs)
//   vs_raw             raw_us / lib_us: the library's speed relative to the hand-written
//                      sequence (1.00 = as fast; 0.95 = 5% slower)
//   calls, raw_calls   system calls per write, counted through the library's seam
//                      (syscall_counter), and those of the hand-written sequence
//
// Usage: bench_policies [--dir=PATH] [--full] [--chart-data=FILE] [Google Benchmark options]
//   --full             every policy combination of tests/support/policy_lists.hpp, both
//                      scenarios, sizes up to 64 MiB; the default is a short matrix.
//   --chart-data=FILE  also write the replace results as a table for bench/chart.gp.
#include "../tests/support/policy_lists.hpp"
#include "common.hpp"
#include "raw.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace {

using namespace bench;

// --- what the benchmark knows of each policy ------------------------------------

template <class T>
inline constexpr bool always_false = false;

/// Each policy's name in the benchmark names and, for sync and commit policies, the
/// hand-written calls that do its work. A policy missing here does not compile: it would
/// otherwise be measured against the wrong sequence.
template <class T>
struct known_policy {
    static_assert(always_false<T>,
                  "bench_policies: unknown policy; add a known_policy specialisation with its name "
                  "(and, for a sync or commit policy, the hand-written calls that do its work)");
};

template <raw::file_sync Calls>
struct sync_entry {
    static constexpr raw::file_sync calls = Calls;
};
template <>
struct known_policy<aw::sync::none> : sync_entry<raw::file_sync::none> {
    static constexpr std::string_view name = "none";
};
template <>
struct known_policy<aw::sync::fdatasync> : sync_entry<raw::file_sync::fdatasync> {
    static constexpr std::string_view name = "fdatasync";
};
template <>
struct known_policy<aw::sync::fsync> : sync_entry<raw::file_sync::fsync> {
    static constexpr std::string_view name = "fsync";
};
template <>
struct known_policy<aw::sync::full_fsync> : sync_entry<raw::file_sync::fsync> {  // fsync on Linux
    static constexpr std::string_view name = "full_fsync";
};

// `without_replacing`: how the sequence publishes a new file when the policy cannot
// replace one (rename and automatic can, so they are always measured replacing).
template <raw::publish How>
struct commit_entry {
    static constexpr raw::publish without_replacing = How;
};
template <>
struct known_policy<aw::commit::rename> : commit_entry<raw::publish::rename> {
    static constexpr std::string_view name = "rename";
};
template <>
struct known_policy<aw::commit::link_unlink> : commit_entry<raw::publish::link_unlink> {
    static constexpr std::string_view name = "link_unlink";
};
template <>
struct known_policy<aw::commit::renameat2> : commit_entry<raw::publish::renameat2_noreplace> {
    static constexpr std::string_view name = "renameat2";
};
template <>
struct known_policy<aw::commit::automatic> : commit_entry<raw::publish::renameat2_noreplace> {
    static constexpr std::string_view name = "automatic";
};

// The temporary file's kind comes from the policy itself (may_be_anonymous).
template <>
struct known_policy<aw::temp::mkstemp> {
    static constexpr std::string_view name = "mkstemp";
};
template <>
struct known_policy<aw::temp::named> {
    static constexpr std::string_view name = "named";
};
template <>
struct known_policy<aw::temp::anonymous> {
    static constexpr std::string_view name = "anonymous";
};
template <class First, class Second>
struct known_policy<aw::temp::first_of<First, Second>> {
    static_assert(!known_policy<First>::name.empty() && !known_policy<Second>::name.empty());
    static constexpr std::string_view name = "first_of";
};

template <class T>
constexpr std::string_view policy_name() {
    return known_policy<T>::name;
}

/// The hand-written sequence that does the work a one-shot write_file by path with
/// writer W does: the same sync calls, kind of temporary file and commit, the directory
/// opened each time, the replaced file's mode kept, a new temporary name each time.
template <class W>
raw::sequence matching(bool overwrite) {
    using S = typename W::sync_type;
    using C = typename W::commit_type;
    using T = typename W::temp_type;
    static_assert(!policy_name<T>().empty());  // a known temporary file policy
    raw::sequence s;
    s.sync = known_policy<S>::calls;
    s.sync_directory = S::durable;
    s.temp = T::may_be_anonymous && anonymous_files ? raw::temp_kind::anonymous : raw::temp_kind::named;
    s.how = overwrite ? raw::publish::rename : known_policy<C>::without_replacing;
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

// --- registration ----------------------------------------------------------------

template <class W>
void add_policy(bool short_set_member, bool with_64m) {
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
void add_one() {
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
    add_policy<W>(short_member, is_default);
}

template <class S, class C, class... T>
void add_temps(test::type_list<T...>*) {
    (add_one<S, C, T>(), ...);
}
template <class S, class... C>
void add_commits(test::type_list<C...>*) {
    (add_temps<S, C>(static_cast<test::all_temps*>(nullptr)), ...);
}
template <class... S>
void add_syncs(test::type_list<S...>*) {
    (add_commits<S>(static_cast<test::all_commits*>(nullptr)), ...);
}

void add() { add_syncs(static_cast<test::all_syncs*>(nullptr)); }

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_policies",
                       .options = "  --full             every policy combination, sizes up to 64 MiB\n"
                                  "  --chart-data=FILE  the replace results as a table for bench/chart.gp\n",
                       .full_set = true,
                       .chart_data = true,
                       .add = add});
}
