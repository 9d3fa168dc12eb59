// SPDX-License-Identifier: MIT
// What links.hpp and write_options::backup cost against the sequences written by hand,
// measured in the same loop (alternating, so that neither always runs on a cache the
// other warmed):
//
//   links/symlink        symlink_atomic(overwrite) vs open dir, symlinkat a temporary
//                        link, renameat over the name, fsync dir, close dir
//   links/exchange       exchange_atomic vs open dir, renameat2(RENAME_EXCHANGE), fsync
//                        dir, close dir (the library also syncs the two files first)
//   links/backup         write_file with a backup vs open dir, O_EXCL temp, write, fsync,
//                        close, linkat the target to a temporary name, renameat it to the
//                        backup name, fsync dir, renameat the temp over the target, fsync
//                        dir, close dir
//   links/no-backup      write_file without a backup vs the same sequence without the
//                        three backup steps: what the backup adds, on each side
//   tree/files:N         a tree_writer publishing N files of 4 KiB (half of them in a
//                        subdirectory) over the previous version, keeping one, vs by
//                        hand: mkdir the version, each file O_EXCL, write, fsync, close
//                        in turn, fsync the subdirectory and the version, fsync the
//                        parent, symlinkat a temporary link, renameat it over the name,
//                        fsync the parent, remove the version before the previous one
//
// Counters: lib_us, raw_us (median µs per operation), vs_raw (raw_us / lib_us: the
// library's speed relative to the hand-written sequence), calls, raw_calls.
//
// Usage: bench_links [--dir=PATH] [Google Benchmark options] (see common.hpp)
#include "common.hpp"

#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace bench;

// --- the hand-written sequences ---------------------------------------------------

/// Replaces the link `name` with one to `text`, durably.
int raw_symlink(const char* text, const char* name) {
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const std::string temp = std::string(".") + name + ".tmp";
    if (::symlinkat(text, dir, temp.c_str()) != 0) return fail_errno(dir);
    if (::renameat(dir, temp.c_str(), dir, name) != 0) return fail_errno(dir);
    if (::fsync(dir) != 0) return fail_errno(dir);
    return ::close(dir) == 0 ? 0 : errno;
}

/// Swaps `a` and `b`, durably.
int raw_exchange(const char* a, const char* b) {
#if ATOMICWRITES_HAS_RENAME_EXCHANGE
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    if (::renameat2(dir, a, dir, b, RENAME_EXCHANGE) != 0) return fail_errno(dir);
    if (::fsync(dir) != 0) return fail_errno(dir);
    return ::close(dir) == 0 ? 0 : errno;
#else
    (void)a;
    (void)b;
    return ENOTSUP;
#endif
}

/// Replaces `name` with `data`, durably; with `backup`, keeps the old file under it.
int raw_write(const char* name, const std::string& data, const char* backup) {
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const std::string temp = std::string(".") + name + ".tmp";
    const int f = ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0) return fail_errno(dir);
    if (!data.empty() && ::write(f, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
        ::close(f);
        return fail_errno(dir);
    }
    if (::fsync(f) != 0 || ::close(f) != 0) return fail_errno(dir);
    if (backup != nullptr) {
        const std::string backup_temp = std::string(".") + backup + ".tmp";
        if (::linkat(dir, name, dir, backup_temp.c_str(), 0) != 0) return fail_errno(dir);
        if (::renameat(dir, backup_temp.c_str(), dir, backup) != 0) return fail_errno(dir);
        if (::fsync(dir) != 0) return fail_errno(dir);
    }
    if (::renameat(dir, temp.c_str(), dir, name) != 0) return fail_errno(dir);
    if (::fsync(dir) != 0) return fail_errno(dir);
    return ::close(dir) == 0 ? 0 : errno;
}

/// The path of file `i` of a tree in the version directory `version`.
std::string tree_file_path(const std::string& version, std::int64_t i) {
    std::string f = version;
    f += i % 2 == 0 ? "/f" : "/sub/f";
    f += std::to_string(i);
    return f;
}

/// `.NAME.vN`
std::string version_name(const std::string& name, std::uint64_t v) {
    std::string out = ".";
    out += name;
    out += ".v";
    out += std::to_string(v);
    return out;
}

/// Removes the version directory `version` in `dir` and its n files.
int raw_remove_version(int dir, const std::string& version, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
        if (::unlinkat(dir, tree_file_path(version, i).c_str(), 0) != 0) return errno;
    if (::unlinkat(dir, (version + "/sub").c_str(), AT_REMOVEDIR) != 0) return errno;
    return ::unlinkat(dir, version.c_str(), AT_REMOVEDIR) == 0 ? 0 : errno;
}

/// Publishes version `v` of a tree of `n` files at `name`, durably, one file at a time,
/// and removes version v - 2.
int raw_tree(const std::string& name, std::uint64_t v, std::int64_t n, const std::string& data) {
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const std::string version = version_name(name, v);
    if (::mkdirat(dir, version.c_str(), 0777) != 0) return fail_errno(dir);
    if (::mkdirat(dir, (version + "/sub").c_str(), 0777) != 0) return fail_errno(dir);
    const int vdir = ::openat(dir, version.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (vdir < 0) return fail_errno(dir);
    const int sdir = ::openat(vdir, "sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sdir < 0) return fail_errno(dir);
    for (std::int64_t i = 0; i < n; ++i) {
        std::string f = std::to_string(i);
        f.insert(f.begin(), 'f');
        const int fd = ::openat(i % 2 == 0 ? vdir : sdir, f.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) return fail_errno(dir);
        if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()) || ::fsync(fd) != 0) {
            ::close(fd);
            return fail_errno(dir);
        }
        if (::close(fd) != 0) return fail_errno(dir);
    }
    if (::fsync(sdir) != 0 || ::fsync(vdir) != 0 || ::close(sdir) != 0 || ::close(vdir) != 0) return fail_errno(dir);
    if (::fsync(dir) != 0) return fail_errno(dir);
    std::string temp = ".";
    temp += name;
    temp += ".tmp";
    if (::symlinkat(version.c_str(), dir, temp.c_str()) != 0) return fail_errno(dir);
    if (::renameat(dir, temp.c_str(), dir, name.c_str()) != 0) return fail_errno(dir);
    if (::fsync(dir) != 0) return fail_errno(dir);
    if (v > 2) {
        if (const int e = raw_remove_version(dir, version_name(name, v - 2), n); e != 0) {
            ::close(dir);
            return e;
        }
    }
    return ::close(dir) == 0 ? 0 : errno;
}

// --- the measurement --------------------------------------------------------------

void bm_symlink(benchmark::State& state) {
    const fs::path lib_link = work_dir / "lib-link";
    std::error_code ec;
    for (const char* name : {"lib-link", "raw-link"}) fs::create_symlink("a", work_dir / name, ec);
    std::uint64_t n = 0;
    const unsigned long calls = count_calls([&] { aw::symlink_atomic("b", lib_link, {.overwrite = true}, ec); });
    compare(
        state,
        [&]() -> std::string {
            aw::symlink_atomic(n % 2 == 0 ? "a" : "b", lib_link, {.overwrite = true}, ec);
            return ec ? ec.message() : "";
        },
        [&] { return raw_symlink(n++ % 2 == 0 ? "a" : "b", "raw-link"); }, calls, 5);
}

void bm_exchange(benchmark::State& state) {
    for (const char* name : {"lib-a", "lib-b", "raw-a", "raw-b"})
        if (!make_file(name, 4 * KiB, state)) return;
    std::error_code ec;
    aw::exchange_atomic(work_dir / "lib-a", work_dir / "lib-b", ec);
    if (ec) return fail(state, "library", "exchange: " + ec.message());
    const unsigned long calls = count_calls([&] { aw::exchange_atomic(work_dir / "lib-a", work_dir / "lib-b", ec); });
    compare(
        state,
        [&]() -> std::string {
            aw::exchange_atomic(work_dir / "lib-a", work_dir / "lib-b", ec);
            return ec ? ec.message() : "";
        },
        [&] { return raw_exchange("raw-a", "raw-b"); }, calls, 4);
}

void bm_write(benchmark::State& state, bool backup) {
    const std::string data(static_cast<std::size_t>(state.range(0)), 'n');
    if (!make_file("lib-target", data.size(), state) || !make_file("raw-target", data.size(), state)) return;
    const aw::write_options options{.overwrite = true, .backup = backup ? "lib-target.bak" : ""};
    std::error_code ec;
    const fs::path target = work_dir / "lib-target";
    const unsigned long calls = count_calls([&] { aw::write_file(target, data, options, ec); });
    compare(
        state,
        [&]() -> std::string {
            aw::write_file(target, data, options, ec);
            return ec ? ec.message() : "";
        },
        [&] { return raw_write("raw-target", data, backup ? "raw-target.bak" : nullptr); }, calls, backup ? 11 : 8);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void bm_tree(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const std::string data(4 * KiB, 'n');
    // Google Benchmark runs this function more than once: each run has its own trees.
    static unsigned runs = 0;
    const std::string run = std::to_string(++runs);
    const fs::path site = work_dir / ("lib-site" + run);
    const std::string raw_site = "raw-site" + run;
    auto lib_tree = [&](std::error_code& ec) {
        aw::tree_writer t(site, {.keep = 1}, ec);
        for (std::int64_t i = 0; i < n && !ec; ++i)
            t.write_file((i % 2 == 0 ? fs::path("f") : fs::path("sub") / "f") += std::to_string(i), data, ec);
        if (!ec) t.commit(ec);
    };
    std::error_code ec;
    lib_tree(ec);
    if (ec) return fail(state, "library", "tree: " + ec.message());
    std::uint64_t v = 1;
    if (const int e = raw_tree(raw_site, v, n, data); e != 0) return fail(state, "raw sequence", std::strerror(e));
    const unsigned long calls = count_calls([&] { lib_tree(ec); });
    compare(
        state,
        [&]() -> std::string {
            lib_tree(ec);
            return ec ? ec.message() : "";
        },
        [&] { return raw_tree(raw_site, ++v, n, data); }, calls, static_cast<int>(5 * n + 16));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

void add() {
    {
        auto* b = benchmark::RegisterBenchmark("tree", bm_tree);
        b->ArgName("files")->UseManualTime()->Unit(benchmark::kMicrosecond);
        for (std::int64_t n : {10, 100}) b->Arg(n);
    }
    benchmark::RegisterBenchmark("links/symlink", bm_symlink)->UseManualTime()->Unit(benchmark::kMicrosecond);
    if (aw::detail::sys::has_rename_exchange)
        benchmark::RegisterBenchmark("links/exchange", bm_exchange)->UseManualTime()->Unit(benchmark::kMicrosecond);
    for (bool backup : {true, false}) {
        auto* b = benchmark::RegisterBenchmark(backup ? "links/backup" : "links/no-backup", bm_write, backup);
        b->ArgName("bytes")->UseManualTime()->Unit(benchmark::kMicrosecond);
        for (std::int64_t size : full_run ? sizes_for(false) : std::vector<std::int64_t>{4 * KiB}) b->Arg(size);
    }
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_links",
                       .options = "  --full             the writes at every size up to 1 MiB\n",
                       .full_set = true,
                       .chart_data = false,
                       .add = add});
}
