// SPDX-License-Identifier: MIT
// What an atomic edit of a big file costs (edit.hpp, write_options::start), against
// rewriting the whole file and against the sequence written by hand, measured in the
// same loop (alternating, so that none always runs on a cache another warmed). Each
// changes 4 KiB in the middle of a file of `bytes` and makes it durable:
//
//   edit     atomic_edit(): the temporary file starts as a copy of the target (a clone
//            where the filesystem shares blocks, else copy_file_range), one pwrite, then
//            the usual commit
//   rewrite  write_file() of the whole new content (what every other library must do)
//   raw      by hand: open dir, open the target, O_EXCL temp, FICLONE (else a
//            copy_file_range loop), pwrite, fsync, close, renameat, fsync dir, close dir
//   edit-rw  (where there is no clone) atomic_edit() with the copy made by reads and
//            writes (clone and copy_file_range refused through the seam): which copy is
//            faster where the data must be copied
//
// Counters: edit_us, rewrite_us, raw_us, rw_us (median µs per edit), vs_rewrite
// (rewrite_us / edit_us: how many times faster the edit is than the rewrite), vs_raw
// (raw_us / edit_us), vs_rw (rw_us / edit_us).
//
// Usage: bench_edit [--dir=PATH] [--full] [Google Benchmark options] (see common.hpp)
//   --full   1 GiB as well as 1 MiB and 256 MiB
#include "common.hpp"

#include <atomicwrites/edit.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <unistd.h>
#if ATOMICWRITES_LINUX
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif

namespace {

using namespace bench;

/// Whether a clone or copy_file_range answer says "not here, try the next way".
bool unsupported(int e) { return e == EOPNOTSUPP || e == EXDEV || e == EINVAL || e == ENOTTY || e == ENOSYS; }

/// The edit by hand: a copy of `name` (a clone where possible) with `block` at `at`,
/// made durable and renamed over `name`.
int raw_edit(const char* name, const std::string& block, off_t at) {
#if ATOMICWRITES_LINUX
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const int src = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
    if (src < 0) return fail_errno(dir);
    const std::string temp = std::string(".") + name + ".tmp";
    const int f = ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0) return fail_errno(src, dir);
    if (::ioctl(f, FICLONE, src) != 0) {
        if (!unsupported(errno)) return fail_errno(f, src, dir);
        for (;;) {
            const ssize_t n = ::copy_file_range(src, nullptr, f, nullptr, std::size_t{1} << 30, 0);
            if (n < 0) return fail_errno(f, src, dir);
            if (n == 0) break;
        }
    }
    ::close(src);
    if (::pwrite(f, block.data(), block.size(), at) != static_cast<ssize_t>(block.size())) return fail_errno(f, dir);
    if (::fsync(f) != 0) return fail_errno(f, dir);
    if (::close(f) != 0) return fail_errno(dir);
    if (::renameat(dir, temp.c_str(), dir, name) != 0) return fail_errno(dir);
    if (::fsync(dir) != 0) return fail_errno(dir);
    return ::close(dir) == 0 ? 0 : errno;
#else
    (void)name;
    (void)block;
    (void)at;
    return ENOTSUP;
#endif
}

/// Refuses clones and copies in the kernel: the library copies by reads and writes.
class no_kernel_copy : public aw::syscall_hook {
public:
    int before(aw::syscall_info& info) noexcept override {
        return info.op == aw::sysop::clone || info.op == aw::sysop::copy_range ? EOPNOTSUPP : 0;
    }
};

/// Whether FICLONE works in the work directory.
bool can_clone() {
#if ATOMICWRITES_LINUX
    const fs::path a = work_dir / "clone-probe-a", b = work_dir / "clone-probe-b";
    const int fa = ::open(a.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    const int fb = ::open(b.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    const bool yes = fa >= 0 && fb >= 0 && ::write(fa, "x", 1) == 1 && ::ioctl(fb, FICLONE, fa) == 0;
    for (int fd : {fa, fb})
        if (fd >= 0) ::close(fd);
    std::error_code ec;
    fs::remove(a, ec);
    fs::remove(b, ec);
    return yes;
#else
    return false;
#endif
}

void bm_edit(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const std::size_t at = size / 2;
    const bool with_rw = !can_clone();
    std::string whole(size, 'o');  // the rewrite's content, changed in place each time
    for (const char* name : {"edit-target", "rewrite-target", "raw-target", "rw-target"})
        if ((with_rw || std::strcmp(name, "rw-target") != 0) && !make_file(name, size, state)) return;
    ::sync();  // the files start on disk, as a big file being edited would be
    samples edit_samples, rewrite_samples, raw_samples, rw_samples;
    std::uint64_t n = 0;
    std::error_code ec;
    for (auto _ : state) {
        const std::string block(4096, static_cast<char>('a' + n % 26));
        std::memcpy(whole.data() + at, block.data(), block.size());
        std::string lib_error;
        int raw_error = 0;
        double edit_time = 0;
        auto edit = [&] {
            edit_time = timed([&] {
                aw::atomic_edit(
                    work_dir / "edit-target", [&](aw::atomic_writer& w) { w.pwrite(at, block); }, {}, ec);
            });
            if (ec) lib_error = "atomic_edit: " + ec.message();
        };
        auto rewrite = [&] {
            rewrite_samples.add(
                timed([&] { aw::write_file(work_dir / "rewrite-target", whole, {.overwrite = true}, ec); }));
            if (ec) lib_error = "write_file: " + ec.message();
        };
        auto raw = [&] {
            raw_samples.add(timed([&] { raw_error = raw_edit("raw-target", block, static_cast<off_t>(at)); }));
        };
        auto rw = [&] {
            if (!with_rw) return;
            no_kernel_copy refuse;
            aw::scoped_syscall_hook scope(refuse);
            rw_samples.add(timed([&] {
                aw::atomic_edit(
                    work_dir / "rw-target", [&](aw::atomic_writer& w) { w.pwrite(at, block); }, {}, ec);
            }));
            if (ec) lib_error = "atomic_edit (read/write copy): " + ec.message();
        };
        // A different order each time: none always follows the same one.
        switch (n++ % 4) {
            case 0:
                edit(), rewrite(), raw(), rw();
                break;
            case 1:
                rewrite(), raw(), rw(), edit();
                break;
            case 2:
                raw(), rw(), edit(), rewrite();
                break;
            default:
                rw(), edit(), rewrite(), raw();
                break;
        }
        if (!lib_error.empty()) return fail(state, "library", lib_error);
        if (raw_error != 0) return fail(state, "raw sequence", std::strerror(raw_error));
        edit_samples.add(edit_time);
        state.SetIterationTime(edit_time);
    }
    const double e = edit_samples.median(), w = rewrite_samples.median(), r = raw_samples.median();
    state.counters["edit_us"] = e * 1e6;
    state.counters["rewrite_us"] = w * 1e6;
    state.counters["raw_us"] = r * 1e6;
    state.counters["vs_rewrite"] = e > 0 ? w / e : 0;
    state.counters["vs_raw"] = e > 0 ? r / e : 0;
    if (with_rw) {
        const double rw = rw_samples.median();
        state.counters["rw_us"] = rw * 1e6;
        state.counters["vs_rw"] = e > 0 ? rw / e : 0;
    }
}

void add() {
    auto* b = benchmark::RegisterBenchmark("edit/4KiB-in-the-middle", bm_edit);
    b->ArgName("bytes")->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(full_run ? 9 : 5);
    b->Arg(1 * MiB);  // the smoke run's
    b->Arg(256 * MiB);
    if (full_run) b->Arg(1024 * MiB);
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_edit",
                       .options = "  --full             1 GiB files as well as 256 MiB\n",
                       .full_set = true,
                       .chart_data = false,
                       .add = add});
}
