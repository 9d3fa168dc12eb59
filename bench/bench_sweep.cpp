// SPDX-License-Identifier: MIT
// remove_stale_temps() against the same sweep written by hand: a directory of N stale
// temporary files, swept where a read lease tells whether a file is in use (the local
// case), and where none answers (NFS, filesystems without leases: forced here through
// the seam), so that the files open in the processes of this machine decide, listed once
// per sweep; and that list alone. Both sides remove every file; the list's cost grows
// with the processes and descriptors of the machine, reported beside it.
//
// Where some process cannot be looked into (another user's when not root, or one with
// more privileges than root has in a container), the library keeps every file as
// undecided, which this program reports as an error: run it as root where every process
// is visible, or in a PID namespace of its own (unshare --pid --fork --mount-proc).
#include "common.hpp"

#include <atomicwrites/stale_temps.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <set>
#include <utility>

namespace bench {
namespace {

/// Fails every lease with EINVAL, as a filesystem without leases answers.
class no_lease_hook : public aw::syscall_hook {
public:
    int before(aw::syscall_info& info) noexcept override { return info.op == aw::sysop::lease ? EINVAL : 0; }
};

/// Makes `n` closed temporary files of the target "data" in `dir`, named as the library
/// names them. 0 or an errno.
int make_temps(const fs::path& dir, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        std::string random = "AAAAAAAA";
        random[0] = static_cast<char>('A' + i % 26);
        random[1] = static_cast<char>('A' + i / 26 % 26);
        random[2] = static_cast<char>('A' + i / 676 % 26);
        const fs::path p = dir / (".data." + random + ".tmp");
        const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return errno;
        const bool ok = ::write(fd, "partial", 7) == 7;
        ::close(fd);
        if (!ok) return EIO;
    }
    return 0;
}

/// The (device, inode) of every file the processes of this machine have open, by hand:
/// /proc, each /proc/PID/fd, a statx of each link. Counts the descriptors looked at.
int raw_open_files(std::set<std::pair<std::uint64_t, std::uint64_t>>& ids, std::size_t& descriptors) {
    const int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc < 0) return errno;
    DIR* processes = ::fdopendir(proc);
    if (processes == nullptr) return fail_errno(proc);
    while (const struct ::dirent* p = ::readdir(processes)) {
        if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
        const std::string fd_dir = std::string(p->d_name) + "/fd";
        const int fds = ::openat(proc, fd_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fds < 0) continue;
        DIR* list = ::fdopendir(fds);
        if (list == nullptr) {
            ::close(fds);
            continue;
        }
        while (const struct ::dirent* f = ::readdir(list)) {
            if (f->d_name[0] < '0' || f->d_name[0] > '9') continue;
            struct ::statx sx {};
            ++descriptors;
            if (::statx(proc, (fd_dir + "/" + f->d_name).c_str(), AT_STATX_DONT_SYNC, STATX_INO, &sx) == 0)
                ids.insert({::makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino});
        }
        ::closedir(list);
    }
    ::closedir(processes);
    return 0;
}

/// The sweep by hand: each name of ours in `dir` that is a regular file nobody has open
/// for writing (a read lease: `leases`) or that no process has open (`open`, listed
/// first) is removed. 0 or an errno.
int raw_sweep(const fs::path& dir, bool leases) {
    std::set<std::pair<std::uint64_t, std::uint64_t>> open;
    std::size_t descriptors = 0;
    if (!leases)
        if (const int e = raw_open_files(open, descriptors); e != 0) return e;
    const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return errno;
    const int own = ::dup(d);
    DIR* names = ::fdopendir(own);
    if (names == nullptr) return fail_errno(d, own);
    int error = 0;
    while (const struct ::dirent* e = ::readdir(names)) {
        if (!aw::is_temp_name(e->d_name)) continue;
        struct ::stat st {};
        if (::fstatat(d, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (leases) {
            const int f = ::openat(d, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (f < 0) continue;
            const bool unused = ::fcntl(f, F_SETLEASE, F_RDLCK) == 0;
            if (unused && ::unlinkat(d, e->d_name, 0) != 0) error = errno;
            ::close(f);
        } else if (open.count({st.st_dev, st.st_ino}) == 0 && ::unlinkat(d, e->d_name, 0) != 0) {
            error = errno;
        }
        if (error != 0) break;
    }
    ::closedir(names);
    ::close(d);
    return error;
}

void bm_sweep(benchmark::State& state, bool leases) {
    const std::int64_t n = state.range(0);
    static unsigned runs = 0;
    const fs::path lib_dir = work_dir / ("lib" + std::to_string(++runs));
    const fs::path raw_dir = work_dir / ("raw" + std::to_string(runs));
    fs::create_directory(lib_dir);
    fs::create_directory(raw_dir);
    const aw::stale_temp_options options{.older_than = std::chrono::seconds(0)};
    unsigned long calls = 0;
    // Untimed: the leftovers of each round.
    const auto setup = [&] {
        const int e = make_temps(lib_dir, n);
        return e != 0 ? e : make_temps(raw_dir, n);
    };
    const auto lib = [&]() -> std::string {
        std::error_code ec;
        aw::sweep_report report;
        no_lease_hook no_lease;
        aw::syscall_counter counter;
        std::size_t removed = 0;
        {
            aw::scoped_syscall_hook scope(leases ? static_cast<aw::syscall_hook&>(counter) : no_lease);
            removed = aw::remove_stale_temps(lib_dir, options, report, ec);
        }
        if (leases) calls = counter.total();
        if (ec) return ec.message();
        if (removed == static_cast<std::size_t>(n)) return "";
        const std::string why = report.undecided.empty() ? std::string("in use") : report.undecided[0].reason.message();
        return "removed " + std::to_string(removed) + " of " + std::to_string(n) + " (" + why +
               "; run as root where every process is visible, or under unshare --pid --fork --mount-proc)";
    };
    if (!alternate(
            state, lib, [&] { return raw_sweep(raw_dir, leases); }, setup))
        return;
    if (leases) state.counters["calls"] = static_cast<double>(calls);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}

void bm_list(benchmark::State& state) {
    std::size_t listed = 0;
    std::size_t descriptors = 0;
    const auto lib = [&]() -> std::string {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> ids;
        std::error_code incomplete;
        aw::detail::sys::list_open_files(aw::invalid_handle, ids, incomplete);
        std::sort(ids.begin(), ids.end());
        listed = ids.size();
        return "";
    };
    const auto raw = [&] {
        std::set<std::pair<std::uint64_t, std::uint64_t>> raw_ids;
        descriptors = 0;
        return raw_open_files(raw_ids, descriptors);
    };
    if (!alternate(state, lib, raw)) return;
    state.counters["descriptors"] = static_cast<double>(descriptors);
    state.counters["listed"] = static_cast<double>(listed);
}

void add() {
    if (!aw::detail::sys::has_open_file_list) return;
    for (const bool leases : {true, false}) {
        auto* b = benchmark::RegisterBenchmark(leases ? "sweep/leases" : "sweep/processes", bm_sweep, leases);
        b->ArgName("temps")->UseManualTime()->Unit(benchmark::kMicrosecond);
        for (std::int64_t n : {10, 100, 1000}) b->Arg(n);
    }
    benchmark::RegisterBenchmark("sweep/process-list", bm_list)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
    return bench::run(
        argc, argv, {.name = "bench_sweep", .options = "", .full_set = false, .chart_data = false, .add = bench::add});
}
