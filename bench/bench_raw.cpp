// SPDX-License-Identifier: MIT
// What the hand-written system-call sequences of raw.hpp cost alone, without the library:
// the baselines the other programs measure against.
//
//   raw/<x>   (a) O_EXCL temp, write, fsync, close, rename, fsync dir, the directory kept
//             open; (b) fdatasync; (c) O_TMPFILE + linkat + rename; (d) no sync;
//             (e) renameat2 NOREPLACE; (f) link + unlink; (g) fsync without the directory
//             sync. A prime (x') opens and closes the directory each time, like a one-shot
//             write by path.
//
// Counters: raw_calls, the system calls of one write.
//
// Usage: bench_raw [--dir=PATH] [--full] [Google Benchmark options] (see common.hpp)
//   --full   every sequence with and without the prime, sizes up to 64 MiB; the default
//            is each sequence at 4 KiB, and (a').
#include "common.hpp"
#include "raw.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace bench;

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

void add() {
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
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_raw",
                       .options = "  --full             every sequence, also with the prime, sizes up to 64 MiB\n",
                       .full_set = true,
                       .chart_data = false,
                       .add = add});
}
