// SPDX-License-Identifier: MIT
/// \file
/// Group policies: how a batch (basic_batch) issues the syncs of many files, and of the
/// directories they were published in. See the group_policy concept.
///
/// A group policy decides only how the syncs are issued (one after another, at once
/// from several threads, or replaced by one flush of the whole filesystem); what each
/// sync is stays the writer's SyncPolicy, and the order stays the batch's: every file
/// synced, then every publication, then every directory synced.
#ifndef ATOMICWRITES_GROUP_HPP
#define ATOMICWRITES_GROUP_HPP

#include <atomicwrites/config.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/syscall_hook.hpp>
#include <atomicwrites/types.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <system_error>
#include <thread>
#include <vector>

namespace atomicwrites {
inline namespace v1 {

/// One file or directory for a group policy to sync, and the outcome.
struct sync_item {
    /// The open file or directory.
    native_handle_type handle = invalid_handle;
    /// The filesystem that holds it (st_dev; on Windows the volume's serial number).
    std::uint64_t device = 0;
    /// Set by the policy if syncing this item failed (or was not done).
    std::error_code error{};
};

/// The sync a group policy issues for one item: the writer's SyncPolicy::sync_file (or
/// its sync_directory, for directories). Cheap to copy; call it from any thread.
class sync_step {
public:
    /// A step calling `fn(context, item)`; `durable` is the SyncPolicy's.
    constexpr sync_step(const void* context, void (*fn)(const void*, sync_item&) noexcept, bool durable) noexcept
        : context_(context), fn_(fn), durable_(durable) {}
    /// Syncs one item, setting item.error on failure.
    void operator()(sync_item& item) const noexcept { fn_(context_, item); }
    /// Whether the SyncPolicy promises durability (sync::none does not: a group policy
    /// then has nothing to flush).
    constexpr bool durable() const noexcept { return durable_; }

private:
    const void* context_;
    void (*fn_)(const void*, sync_item&) noexcept;
    bool durable_;
};

/// Issues the syncs of a batch.
///
/// - `sync_files(items, step)` makes every item's bytes durable before the batch
///   publishes any of them, with `step` (the SyncPolicy's sync_file) or something at
///   least as strong, and sets `item.error` for each item it could not make durable. It
///   returns only once every item is done.
/// - `sync_directories(items, step)` does the same, after the publications, for each
///   distinct directory that changed.
/// Both are called on the batch's thread; a policy may issue the syncs from other
/// threads, which then see the calling thread's syscall_hook (calls through it are
/// serialized: a hook need not be thread-safe).
template <class G>
concept group_policy = std::semiregular<G> && requires(const G& g, std::span<sync_item> items, const sync_step& step) {
    { g.sync_files(items, step) }
    noexcept;
    { g.sync_directories(items, step) }
    noexcept;
};

namespace detail {

/// Forwards to another hook, one call at a time: the hook of the thread that started a
/// group sync, seen from the threads that issue it. The lock is held from before() to
/// after(), so a hook's record of a call is never interleaved with another's.
class serialized_hook : public syscall_hook {
public:
    explicit serialized_hook(syscall_hook& inner) noexcept : inner_(inner) {}
    int before(syscall_info& info) noexcept override {
        mutex_.lock();
        const int e = inner_.before(info);
        if (e != 0) mutex_.unlock();  // after() is not called for a refused call
        return e;
    }
    void after(const syscall_info& info, int error) noexcept override {
        inner_.after(info, error);
        mutex_.unlock();
    }

private:
    syscall_hook& inner_;
    std::mutex mutex_;
};

/// Runs step(item) for every item, from up to `max_threads` threads (the calling one
/// included). Falls back to fewer threads, down to the calling one alone, if threads
/// cannot be started.
inline void run_concurrently(std::span<sync_item> items, const sync_step& step, unsigned max_threads) noexcept {
    if (items.size() <= 1 || max_threads <= 1) {
        for (sync_item& i : items) step(i);
        return;
    }
    syscall_hook* const hook = current_hook;
    std::optional<serialized_hook> serial;
    if (hook != nullptr) serial.emplace(*hook);
    syscall_hook* const worker_hook = hook != nullptr ? &*serial : nullptr;
    std::atomic<std::size_t> next{0};
    auto work = [&]() noexcept {
        syscall_hook* const previous = current_hook;
        current_hook = worker_hook;
        for (std::size_t k = next.fetch_add(1); k < items.size(); k = next.fetch_add(1)) step(items[k]);
        current_hook = previous;
    };
    const std::size_t extra = std::min<std::size_t>(items.size(), max_threads) - 1;
    std::vector<std::thread> threads;
    try {
        threads.reserve(extra);
        for (std::size_t t = 0; t < extra; ++t) threads.emplace_back(work);
    } catch (...) {
        // No memory or no thread: the threads started so far and this one do the rest.
    }
    work();
    for (std::thread& t : threads) t.join();
}

/// Gives every item on the device of items[first] the error `ec`.
inline void set_device_error(std::span<sync_item> items, std::uint64_t device, const std::error_code& ec) noexcept {
    for (sync_item& i : items)
        if (i.device == device) i.error = ec;
}

/// Filesystems (st_dev + 1) on which group::automatic saw a sync wait for the device, so
/// that later batches there issue theirs concurrently from the start. Lossy: a device
/// forgotten or misremembered costs one sync in turn, or a few threads.
inline std::atomic<std::uint64_t> slow_devices[8] = {};
inline std::atomic<unsigned> next_slow_device{0};

inline bool known_slow(std::uint64_t device) noexcept {
    for (const auto& d : slow_devices)
        if (d.load(std::memory_order_relaxed) == device + 1) return true;
    return false;
}

inline void remember_slow(std::uint64_t device) noexcept {
    if (known_slow(device)) return;
    slow_devices[next_slow_device.fetch_add(1, std::memory_order_relaxed) % 8].store(device + 1,
                                                                                     std::memory_order_relaxed);
}

}  // namespace detail

namespace group {

/// One sync after another, in staging order: the baseline, and what N single writes
/// do, minus nothing; the batch still publishes only once all are synced and syncs each
/// distinct directory once.
/// Durability: the SyncPolicy's, per file. Platforms: all. System calls: the
/// SyncPolicy's, one per item, on the calling thread. Errors: the SyncPolicy's.
struct sequential {
    /// Syncs each file in turn.
    void sync_files(std::span<sync_item> items, const sync_step& step) const noexcept {
        for (sync_item& i : items) step(i);
    }
    /// Syncs each directory in turn.
    void sync_directories(std::span<sync_item> items, const sync_step& step) const noexcept {
        for (sync_item& i : items) step(i);
    }
};
static_assert(group_policy<sequential>);

/// The syncs issued at once from up to `max_threads` threads (the calling one
/// included), so that the filesystem can serve them with shared journal commits and
/// device flushes. Threads are std::thread, started per group and joined before the
/// call returns (no link dependency with glibc 2.34 and later, or MinGW's posix
/// threads). io_uring is not used: its fsync runs in the kernel's worker threads all
/// the same, and a header-only library would have to set up the rings by hand (no
/// liburing) and handle kernels and sandboxes that refuse io_uring_setup.
/// Durability: the SyncPolicy's, per file. Platforms: all. System calls: the
/// SyncPolicy's, one per item, from several threads. Errors: the SyncPolicy's; if no
/// thread can be started, the syncs run on the calling thread.
struct concurrent {
    /// The most threads issuing syncs at once, the calling one included.
    unsigned max_threads = 16;
    /// Syncs the files from up to max_threads threads.
    void sync_files(std::span<sync_item> items, const sync_step& step) const noexcept {
        detail::run_concurrently(items, step, max_threads);
    }
    /// Syncs the directories from up to max_threads threads.
    void sync_directories(std::span<sync_item> items, const sync_step& step) const noexcept {
        detail::run_concurrently(items, step, max_threads);
    }
};
static_assert(group_policy<concurrent>);

/// One flush per filesystem for all the files on it, where the system has one.
/// - Linux: one syncfs(2) per filesystem touched, in place of the files' syncs. It
///   writes out and flushes everything dirty on that filesystem, other programs' data
///   included: on a filesystem busy with other writes it can take far longer than the
///   batch's own syncs, and it adds to their I/O. A write-back error anywhere on that
///   filesystem since the batch's file was opened fails the batch (reported since Linux
///   5.8; earlier kernels report none, so use concurrent there).
/// - Apple: fsync(2) each file (to the drive's cache), then one F_FULLFSYNC per
///   filesystem, which flushes that cache for all of them, instead of one per file.
/// - Elsewhere (Windows: FlushFileBuffers): the files' syncs, issued concurrently.
/// The directories are synced one after another with the SyncPolicy. With a SyncPolicy
/// that is not durable (sync::none), nothing is flushed.
/// Durability: at least the SyncPolicy's, per file. System calls: syncfs (Linux); fsync
/// and fcntl(F_FULLFSYNC) (Apple); the SyncPolicy's elsewhere.
/// Errors: EIO, ENOSPC, EDQUOT, EROFS (syncfs), and the SyncPolicy's.
struct syncfs {
    /// Flushes each filesystem the files are on once (see above).
    void sync_files(std::span<sync_item> items, const sync_step& step) const noexcept {
        if (!step.durable()) return;
#if ATOMICWRITES_LINUX || ATOMICWRITES_APPLE
        std::vector<std::uint64_t> done;
        try {
            done.reserve(4);
        } catch (...) {
            return concurrent{}.sync_files(items, step);
        }
        for (std::size_t k = 0; k < items.size(); ++k) {
            const std::uint64_t dev = items[k].device;
            if (std::find(done.begin(), done.end(), dev) != done.end()) continue;
            try {
                done.push_back(dev);
            } catch (...) {
                return concurrent{}.sync_files(items, step);
            }
            std::error_code ec;
#if ATOMICWRITES_LINUX
            detail::sys::syncfs(items[k].handle, ec);
#else
            // Apple: fsync(2) puts each file's data in the drive's cache; one
            // F_FULLFSYNC then flushes the cache for all of them.
            for (sync_item& i : items)
                if (i.device == dev && !ec) detail::sys::fsync(i.handle, ec);
            if (!ec) detail::sys::full_fsync(items[k].handle, ec);
#endif
            if (ec) detail::set_device_error(items, dev, ec);
        }
#else
        concurrent{}.sync_files(items, step);
#endif
    }
    /// Syncs each directory in turn with the SyncPolicy.
    void sync_directories(std::span<sync_item> items, const sync_step& step) const noexcept {
        for (sync_item& i : items) step(i);
    }
};
static_assert(group_policy<syncfs>);

/// The default: issues syncs one after another while they return at once (tmpfs, a
/// filesystem without a device to wait for, where threads would only cost), and the
/// rest concurrently, like concurrent, as soon as two in a row had to wait for the
/// device (longer than `threshold`). The process remembers such a filesystem: later batches
/// there issue all their syncs concurrently from the start. On Apple it is syncfs (one
/// F_FULLFSYNC for the group).
/// The measurements behind the choice are in docs/batch.md.
/// Durability: the SyncPolicy's, per file. Platforms: all. System calls: the
/// SyncPolicy's (Apple: fsync and one fcntl(F_FULLFSYNC) per filesystem).
/// Errors: the SyncPolicy's.
struct automatic {
    /// The most threads issuing syncs at once, the calling one included.
    unsigned max_threads = 16;
    /// A sync that takes longer than this waited for a device: the remaining ones are
    /// issued concurrently.
    std::chrono::microseconds threshold{250};
    /// Syncs the files: in turn while cheap, then concurrently.
    void sync_files(std::span<sync_item> items, const sync_step& step) const noexcept {
#if ATOMICWRITES_APPLE
        syncfs{}.sync_files(items, step);
#else
        adaptive(items, step);
#endif
    }
    /// Syncs the directories: in turn while cheap, then concurrently.
    void sync_directories(std::span<sync_item> items, const sync_step& step) const noexcept { adaptive(items, step); }

private:
    void adaptive(std::span<sync_item> items, const sync_step& step) const noexcept {
        std::size_t k = 0;
        if (items.size() > 1 && detail::known_slow(items[0].device)) {
            detail::run_concurrently(items, step, max_threads);
            return;
        }
        // Two slow syncs in a row, not one: a sync that costs nothing can still take long
        // on a busy machine, when the thread is preempted.
        unsigned slow = 0;
        for (; k < items.size(); ++k) {
            const auto start = std::chrono::steady_clock::now();
            step(items[k]);
            slow = std::chrono::steady_clock::now() - start > threshold ? slow + 1 : 0;
            if (slow == 2) {
                detail::remember_slow(items[k].device);
                ++k;
                break;
            }
        }
        if (k < items.size()) detail::run_concurrently(items.subspan(k), step, max_threads);
    }
};
static_assert(group_policy<automatic>);

}  // namespace group

/// The default group policy: group::automatic.
using default_group = group::automatic;

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_GROUP_HPP
