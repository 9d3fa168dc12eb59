// SPDX-License-Identifier: MIT
// What a batch saves: N files of 4 KiB made durable together, against the same N files
// written one at a time, with the library and by hand, alternating in every iteration.
//
//   batch/<group>/files:N
//       a basic_batch<atomic_writer, group::<group>> replacing N files in one directory,
//       then N default write_file() calls replacing N others, then N times the
//       hand-written sequence (a) of raw.hpp (O_EXCL temp, write, fsync, close, rename,
//       fsync of the directory, kept open), in alternating order.
//   descriptors/<how>/files:N
//       how the batch bounds its descriptors: the default batch with every temporary
//       file open until the commit (open), synced and closed in groups of
//       batch_options::max_open_files, 256 (bounded),
//       and by hand, each file closed after its write and opened again to be synced
//       (reopen; the syncs issued from 16 threads, as group::concurrent does).
//
// Counters (medians of the per-iteration times, divided by N):
//   batch_us, single_us, raw_us   time per file of the batch, of write_file(), of (a)
//   vs_raw                        raw_us / batch_us: the batch's throughput relative to
//                                 the hand-written sequence (5.0 = five times as many files)
//   vs_single                     single_us / batch_us
//
// Usage: bench_batch [--dir=PATH] [--full] [Google Benchmark options] (see common.hpp)
//   --full   N up to 1000 for every group policy, and group::concurrent with 64 threads;
//            the default stops at 100.
#include "common.hpp"
#include "raw.hpp"

#include <atomicwrites/batch.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace bench;

constexpr std::size_t file_size = 4 * KiB;

/// Makes `dir` in the work directory with n files of file_size bytes.
bool make_files(const std::string& dir, std::int64_t n, benchmark::State& state) {
    std::error_code ec;
    fs::create_directories(work_dir / dir, ec);
    for (std::int64_t i = 0; i < n && !ec; ++i)
        aw::write_file<aw::basic_atomic_writer<aw::sync::none>>(work_dir / dir / ("f" + std::to_string(i)),
                                                                std::string(file_size, 'o'), {.overwrite = true}, ec);
    if (ec) fail(state, "setup", ec.message());
    return !ec;
}

template <class Group>
void bm_batch(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const std::string data(file_size, 'n');
    if (!make_files("batch", n, state) || !make_files("single", n, state) || !make_files("raw", n, state)) return;
    std::vector<fs::path> batch_paths, single_paths;
    std::vector<std::string> raw_names;
    for (std::int64_t i = 0; i < n; ++i) {
        batch_paths.push_back(work_dir / "batch" / ("f" + std::to_string(i)));
        single_paths.push_back(work_dir / "single" / ("f" + std::to_string(i)));
        raw_names.push_back("f" + std::to_string(i));
    }
    raw::writer raw_writer((work_dir / "raw").string(), raw::a());
    samples batch_t, single_t, raw_t;
    std::uint64_t round = 0;
    for (auto _ : state) {
        std::error_code ec;
        int raw_error = 0;
        auto run_batch = [&] {
            batch_t.add(timed([&] {
                aw::basic_batch<aw::atomic_writer, Group> b;
                for (const fs::path& p : batch_paths) {
                    b.write_file(p, data, {.overwrite = true}, ec);
                    if (ec) return;
                }
                b.commit(ec);
            }));
        };
        auto run_single = [&] {
            single_t.add(timed([&] {
                for (const fs::path& p : single_paths) {
                    aw::write_file(p, data, {.overwrite = true}, ec);
                    if (ec) return;
                }
            }));
        };
        auto run_raw = [&] {
            raw_t.add(timed([&] {
                for (const std::string& name : raw_names)
                    if ((raw_error = raw_writer.write(name.c_str(), data.data(), data.size())) != 0) return;
            }));
        };
        // Rotate the order, so that none always runs on a cache another warmed.
        switch (round++ % 3) {
            case 0:
                run_batch(), run_single(), run_raw();
                break;
            case 1:
                run_single(), run_raw(), run_batch();
                break;
            default:
                run_raw(), run_batch(), run_single();
                break;
        }
        if (ec) return fail(state, "library", ec.message());
        if (raw_error != 0) return fail(state, "raw sequence", std::strerror(raw_error));
        state.SetIterationTime(batch_t.median());
    }
    const double per = 1e6 / static_cast<double>(n);
    const double b = batch_t.median() * per, s = single_t.median() * per, r = raw_t.median() * per;
    state.counters["batch_us"] = b;
    state.counters["single_us"] = s;
    state.counters["raw_us"] = r;
    state.counters["vs_raw"] = b > 0 ? r / b : 0;
    state.counters["vs_single"] = b > 0 ? s / b : 0;
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

// --- descriptors: open, bounded, reopen ---------------------------------------------

enum class bound { open, bounded, reopen };

/// By hand: each temporary file written and closed, then opened again, synced (16
/// threads) and closed, then every rename, then one directory sync.
int reopen_sequence(int dir, std::int64_t n, const std::string& data) {
    std::vector<std::string> temps, names;
    for (std::int64_t i = 0; i < n; ++i) {
        temps.push_back(".f" + std::to_string(i) + ".tmp");
        names.push_back("f" + std::to_string(i));
    }
    for (const std::string& t : temps) {
        const int fd = ::openat(dir, t.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return errno;
        if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return EIO;
        if (::close(fd) != 0) return errno;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<int> error{0};
    auto work = [&] {
        for (std::size_t k = next++; k < temps.size(); k = next++) {
            const int fd = ::openat(dir, temps[k].c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::fsync(fd) != 0) error = errno;
            if (fd >= 0) ::close(fd);
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 15 && t + 1 < n; ++t) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    if (error != 0) return error;
    for (std::int64_t i = 0; i < n; ++i)
        if (::renameat(dir, temps[static_cast<std::size_t>(i)].c_str(), dir,
                       names[static_cast<std::size_t>(i)].c_str()) != 0)
            return errno;
    return ::fsync(dir) == 0 ? 0 : errno;
}

void bm_descriptors(benchmark::State& state, bound how) {
    const std::int64_t n = state.range(0);
    const std::string data(file_size, 'n');
    if (!make_files("d", n, state)) return;
    const int dir = ::open((work_dir / "d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::vector<fs::path> paths;
    for (std::int64_t i = 0; i < n; ++i) paths.push_back(work_dir / "d" / ("f" + std::to_string(i)));
    samples t;
    for (auto _ : state) {
        std::error_code ec;
        int error = 0;
        t.add(timed([&] {
            if (how == bound::reopen) {
                error = reopen_sequence(dir, n, data);
                return;
            }
            aw::batch_options options;  // bounded: the default bound
            if (how == bound::open) options.max_open_files = static_cast<std::size_t>(n) + 1;
            aw::batch b(options);
            for (const fs::path& p : paths) b.write_file(p, data, {.overwrite = true}, ec);
            if (!ec) b.commit(ec);
        }));
        if (ec) return fail(state, "library", ec.message());
        if (error != 0) return fail(state, "raw sequence", std::strerror(error));
        state.SetIterationTime(t.median());
    }
    ::close(dir);
    state.counters["us_per_file"] = t.median() * 1e6 / static_cast<double>(n);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

template <class Group>
void add_group(const char* name) {
    auto* b = benchmark::RegisterBenchmark((std::string("batch/") + name).c_str(), bm_batch<Group>);
    b->ArgName("files")->UseManualTime()->Unit(benchmark::kMillisecond);
    for (std::int64_t n : {1, 10, 100, 1000})
        if (full_run || n <= 100) b->Arg(n);
}

/// group::concurrent with 64 threads instead of 16 (--full): does more help?
struct concurrent_64 : aw::group::concurrent {
    concurrent_64() { max_threads = 64; }
};

void add() {
    add_group<aw::group::sequential>("sequential");
    add_group<aw::group::concurrent>("concurrent");
    if (full_run) add_group<concurrent_64>("concurrent-64");
    add_group<aw::group::syncfs>("syncfs");
    add_group<aw::group::automatic>("automatic");
    const std::pair<const char*, bound> bounds[] = {{"descriptors/open", bound::open},
                                                    {"descriptors/bounded", bound::bounded},
                                                    {"descriptors/reopen", bound::reopen}};
    for (auto [name, how] : bounds) {
        auto* b = benchmark::RegisterBenchmark(name, bm_descriptors, how);
        b->ArgName("files")->UseManualTime()->Unit(benchmark::kMillisecond);
        b->Arg(full_run ? 1000 : 200);
    }
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_batch",
                       .options = "  --full             N up to 1000 files for every group policy\n",
                       .full_set = true,
                       .chart_data = false,
                       .add = add});
}
