// SPDX-License-Identifier: MIT
// What versions.hpp and the metadata controls cost against the sequences written by hand, measured in the same
// loop (alternating, so that neither always runs on a cache the other warmed), on a
// 4 KiB file:
//
//   versions/update_file  update_file() (lock, read, transform, commit with expect) vs
//                         open the lock file, fcntl(F_OFD_SETLKW), open the target,
//                         read it, close, open dir, O_EXCL temp, write, fsync, close,
//                         fstatat (the check), renameat, fsync dir, close dir, close
//                         the lock file
//   versions/expect       write_file() with write_options::expect (the version taken by
//                         version_of() after each commit, on both sides) vs the plain
//                         sequence with the check under the lock file: open it, lock,
//                         fstatat, renameat, close it
//   versions/plain        write_file() without expect vs the plain sequence: what
//                         expect adds, on each side
//   metadata/owner_ids/0640  write_file() replacing a file with metadata_mode::fresh,
//                         write_options::owner_ids (as root 65534:100, else the
//                         process's own ids) and create_mode 0640 vs open dir, O_EXCL
//                         temp 0600, fchown, fchmod, write, fsync, close, renameat,
//                         fsync dir, close dir (the umask read once, before the run;
//                         the library reads it at each write, race-free)
//   metadata/owner_ids/0644  the same with create_mode 0644: no fchmod on either side
//   metadata/create_mode  write_file() with metadata_mode::fresh and create_mode 0640
//                         vs open dir, O_EXCL temp 0640, write, fsync, close, renameat,
//                         fsync dir, close dir
//
// Counters: lib_us, raw_us (median µs per operation), vs_raw (raw_us / lib_us: the
// library's speed relative to the hand-written sequence), calls, raw_calls.
//
// Usage: bench_versions [--dir=PATH] [Google Benchmark options] (see common.hpp)
#include "common.hpp"

#include <atomicwrites/versions.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace bench;

// --- the hand-written sequences ---------------------------------------------------

/// The lock of `name`'s lock file, taken: its descriptor, or -1.
int raw_lock(int dir, const char* name) {
    const std::string lock_name = std::string(".") + name + ".lock";
    const int lock = ::openat(dir, lock_name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (lock < 0) return -1;
    struct ::flock l {};
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
#if defined(F_OFD_SETLKW)
    if (::fcntl(lock, F_OFD_SETLKW, &l) != 0) {
#else
    if (::fcntl(lock, F_SETLKW, &l) != 0) {
#endif
        const int e = errno;
        ::close(lock);
        errno = e;
        return -1;
    }
    return lock;
}

/// Writes `data` to a temporary file in `dir` and publishes it at `name`, durably; with
/// `expected`, only if `name` is still that inode and size (fstatat, under the lock file
/// unless `held` is one already).
int raw_commit(int dir, const char* name, const std::string& data, const struct ::stat* expected, int held) {
    const std::string temp = std::string(".") + name + ".tmp";
    const int f = ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f < 0) return errno;
    if (::write(f, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return fail_errno(f);
    if (::fsync(f) != 0 || ::close(f) != 0) return errno;
    int lock = -1;
    if (expected != nullptr) {
        if (held < 0 && (lock = raw_lock(dir, name)) < 0) return errno;
        struct ::stat now {};
        if (::fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) != 0) return fail_errno(lock);
        if (now.st_dev != expected->st_dev || now.st_ino != expected->st_ino || now.st_size != expected->st_size ||
            now.st_mtim.tv_sec != expected->st_mtim.tv_sec || now.st_mtim.tv_nsec != expected->st_mtim.tv_nsec ||
            now.st_ctim.tv_sec != expected->st_ctim.tv_sec || now.st_ctim.tv_nsec != expected->st_ctim.tv_nsec) {
            if (lock >= 0) ::close(lock);
            return ESTALE;
        }
    }
    if (::renameat(dir, temp.c_str(), dir, name) != 0) return fail_errno(lock);
    if (lock >= 0) ::close(lock);
    return ::fsync(dir) == 0 ? 0 : errno;
}

/// Lock, read, transform, commit by hand.
int raw_update(const char* name, std::string& buffer) {
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const int lock = raw_lock(dir, name);
    if (lock < 0) return fail_errno(dir);
    const int f = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
    if (f < 0) return fail_errno(dir, lock);
    struct ::stat st {};
    if (::fstat(f, &st) != 0) return fail_errno(dir, lock, f);
    buffer.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t used = 0;
    for (ssize_t n; (n = ::read(f, buffer.data() + used, buffer.size() - used)) > 0;) {
        used += static_cast<std::size_t>(n);
        if (used == buffer.size()) buffer.resize(buffer.size() * 2);
    }
    buffer.resize(used);
    ::close(f);
    buffer[0] = buffer[0] == 'a' ? 'b' : 'a';  // the transformation
    const int e = raw_commit(dir, name, buffer, &st, lock);
    ::close(lock);
    ::close(dir);
    return e;
}

/// The plain or expecting commit by hand, with the version taken afterwards as the
/// library side does (version_of).
int raw_write(const char* name, const std::string& data, struct ::stat* expected) {
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    int e = raw_commit(dir, name, data, expected, -1);
    if (e == 0 && expected != nullptr && ::fstatat(dir, name, expected, 0) != 0) e = errno;
    ::close(dir);
    return e;
}

// --- the measurement --------------------------------------------------------------

std::string flip(std::string_view old) {
    std::string s(old);
    s[0] = s[0] == 'a' ? 'b' : 'a';
    return s;
}

void bm_update(benchmark::State& state) {
    if (!make_file("lib-target", 4 * KiB, state) || !make_file("raw-target", 4 * KiB, state)) return;
    const fs::path target = work_dir / "lib-target";
    std::error_code ec;
    std::string buffer;
    const unsigned long calls = count_calls([&] { aw::update_file(target, flip, {}, ec); });
    compare(
        state,
        [&]() -> std::string {
            aw::update_file(target, flip, {}, ec);
            return ec ? ec.message() : "";
        },
        [&] { return raw_update("raw-target", buffer); }, calls, 17);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4 * KiB);
}

void bm_write(benchmark::State& state, bool expect) {
    const std::string data(4 * KiB, 'n');
    if (!make_file("lib-target", data.size(), state) || !make_file("raw-target", data.size(), state)) return;
    const fs::path target = work_dir / "lib-target";
    std::error_code ec;
    aw::file_version version = aw::version_of(target);
    struct ::stat raw_version {};
    ::stat((work_dir / "raw-target").c_str(), &raw_version);
    auto lib = [&]() -> std::string {
        if (expect) {
            aw::write_file(target, data, {.overwrite = true, .expect = version}, ec);
            if (!ec) version = aw::version_of(target, ec);
        } else {
            aw::write_file(target, data, {.overwrite = true}, ec);
        }
        return ec ? ec.message() : "";
    };
    const unsigned long calls = count_calls([&] { lib(); });
    compare(
        state, lib, [&] { return raw_write("raw-target", data, expect ? &raw_version : nullptr); }, calls,
        expect ? 13 : 8);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4 * KiB);
}

// --- the metadata controls ------------------------------------------------------

/// Publishes `data` at `name` from a temporary file created with `create_mode`, given
/// `uid`:`gid` first when `owner`, then `mode` unless 0 (fchown, then fchmod: fchown
/// clears set-id bits), durably.
int raw_with_metadata(const char* name, const std::string& data, unsigned create_mode, bool owner, unsigned uid,
                      unsigned gid, unsigned mode) {
    const int dir = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return errno;
    const std::string temp = std::string(".") + name + ".tmp";
    const int f = ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, create_mode);
    if (f < 0) return fail_errno(dir);
    if (owner && (::fchown(f, uid, gid) != 0 || (mode != 0 && ::fchmod(f, mode) != 0))) return fail_errno(f, dir);
    if (::write(f, data.data(), data.size()) != static_cast<ssize_t>(data.size())) return fail_errno(f, dir);
    if (::fsync(f) != 0) return fail_errno(f, dir);
    if (::close(f) != 0) return fail_errno(dir);
    if (::renameat(dir, temp.c_str(), dir, name) != 0) return fail_errno(dir);
    const int e = ::fsync(dir) == 0 ? 0 : errno;
    ::close(dir);
    return e;
}

/// `owner`: with owner_ids; `cm`: create_mode (0640 gives the group more than the
/// others: created 0600 for the group to come, the mode set after the fchown, from the
/// umask read then; 0644 is created as it will be, the fchown is all).
void bm_metadata(benchmark::State& state, bool owner, unsigned cm) {
    const std::string data(4 * KiB, 'n');
    if (!make_file("lib-target", data.size(), state) || !make_file("raw-target", data.size(), state)) return;
    const fs::path target = work_dir / "lib-target";
    const bool root = ::geteuid() == 0;
    const unsigned uid = root ? 65534u : static_cast<unsigned>(::geteuid());
    const unsigned gid = root ? 100u : static_cast<unsigned>(::getegid());
    const mode_t mask = ::umask(022);  // read once, before the run, for the hand-written side
    ::umask(mask);
    aw::write_options options{.overwrite = true, .metadata = aw::metadata_mode::fresh};
    options.create_mode = fs::perms(cm);
    if (owner) options.owner_ids = aw::file_owner{uid, gid};
    std::error_code ec;
    auto lib = [&]() -> std::string {
        aw::write_file(target, data, options, ec);
        return ec ? ec.message() : "";
    };
    const unsigned long calls = count_calls([&] { lib(); });
    compare(
        state, lib,
        [&] {
            return raw_with_metadata("raw-target", data, owner && cm == 0640u ? 0600u : cm, owner, uid, gid,
                                     owner && cm == 0640u ? cm & ~mask : 0u);
        },
        calls, owner ? (cm == 0640u ? 10 : 9) : 8);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 4 * KiB);
}

void add() {
    benchmark::RegisterBenchmark("versions/update_file", bm_update)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("versions/expect", bm_write, true)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("versions/plain", bm_write, false)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("metadata/owner_ids/0640", bm_metadata, true, 0640u)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("metadata/owner_ids/0644", bm_metadata, true, 0644u)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("metadata/create_mode", bm_metadata, false, 0640u)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv,
                      {.name = "bench_versions", .options = "", .full_set = false, .chart_data = false, .add = add});
}
