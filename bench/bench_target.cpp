// SPDX-License-Identifier: MIT
// The contest the README's targets are read from: the library's usual ways of replacing
// a file against the hand-written sequences (raw.hpp) and other libraries.
//
//   target/<bytes>   the default write_file() by path, the same with metadata fresh, a
//                    directory handle, with prealloc_mode::always and ::never, the hand-written (a'), (a'+mode), (a)
//                    and (a+unique), and the peers built in (GLib, Qt: peers.hpp), each replacing its own file once per
//                    iteration, in rotating order; medians over five repetitions (or
//                    --benchmark_repetitions=N).
//
// Counters (medians of the per-write latencies of the run):
//   <who>_us         each contender's time per write (µs)
//   <a>_vs_<b>       b's time / a's time: a's speed relative to b (1.00 = as fast)
//
// Usage: bench_target [--dir=PATH] [Google Benchmark options] (see common.hpp)
//   --benchmark_min_time=T also sets the time of each repetition (default 0.3 s).
#include "common.hpp"
#include "peers.hpp"
#include "raw.hpp"

#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace bench;

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
    // write_options::prealloc: what reserving the space first does on this filesystem.
    const fs::path always_target = work_dir / "t-prealloc";
    const fs::path never_target = work_dir / "t-no-prealloc";
    add("prealloc", [&] {
        std::error_code ec;
        aw::write_file(always_target, data, {.overwrite = true, .prealloc = aw::prealloc_mode::always}, ec);
        return message(ec);
    });
    add("no-prealloc", [&] {
        std::error_code ec;
        aw::write_file(never_target, data, {.overwrite = true, .prealloc = aw::prealloc_mode::never}, ec);
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
    // The files start on disk: otherwise the first syncs of the run (the default's, which
    // comes first) pay for writing out every contender's file (on btrfs, 3x the others).
    ::sync();

    // Kept across repetitions: each starts where the last stopped, so that no contender
    // always comes first after the files were made (btrfs is still discarding then).
    static std::size_t first = 0;
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
    ratio("prealloc", "no-prealloc");
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void add() {
    std::string names;
    for (const peers::peer& p : peers::available())
        names += std::string(names.empty() ? "" : "; ") + p.name + ": " + p.what;
    benchmark::AddCustomContext("peers", names.empty() ? "none built in (meson option peers)" : names);

    benchmark::RegisterBenchmark("target", bm_target)
        ->ArgName("bytes")
        ->Arg(4 * KiB)
        ->Arg(64 * MiB)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(given_min_time > 0 ? given_min_time : 0.3)
        ->Repetitions(given_repetitions > 0 ? given_repetitions : 5)
        ->DisplayAggregatesOnly(true);
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_target", .options = "", .full_set = false, .chart_data = false, .add = add});
}
