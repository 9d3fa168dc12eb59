// SPDX-License-Identifier: MIT
// Hooks on the library's system-call seam: recording what a write calls, and refusing
// calls by position or by operation with a chosen error.
#ifndef ATOMICWRITES_TESTS_SUPPORT_HOOKS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_HOOKS_HPP

#include <atomicwrites/syscall_hook.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "fs.hpp"
#include "handles.hpp"

namespace test {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// Records every operation made (and refused) on this thread while installed.
class recording_hook : public aw::syscall_hook {
public:
    struct call {
        aw::sysop op;
        int error;  // 0, or the errno it failed with
    };
    std::vector<call> calls;

    void after(const aw::syscall_info& info, int error) noexcept override { calls.push_back({info.op, error}); }

    std::size_t count(aw::sysop op) const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [op](const call& c) { return c.op == op; }));
    }
    std::vector<aw::sysop> ops() const {
        std::vector<aw::sysop> out;
        for (const auto& c : calls) out.push_back(c.op);
        return out;
    }
};

/// Fails the `nth` (0-based) call of operation `op` with `error`; every other call is
/// made. Counts how many calls of each operation were seen.
class fail_nth_hook : public aw::syscall_hook {
public:
    fail_nth_hook(aw::sysop op, int error, unsigned nth = 0) : op_(op), error_(error), nth_(nth) {}

    int before(aw::syscall_info& info) noexcept override {
        if (info.op != op_) return 0;
        if (seen_++ == nth_) {
            fired = true;
            return error_;
        }
        return 0;
    }
    bool fired = false;

private:
    aw::sysop op_;
    int error_;
    unsigned nth_;
    unsigned seen_ = 0;
};

/// Records what the library syncs on this thread (fsync, fdatasync, F_FULLFSYNC): the
/// inode of every directory and file synced, so a test can tell which ones were.
class sync_recording_hook : public aw::syscall_hook {
public:
    std::vector<std::uint64_t> dirs;
    std::vector<std::uint64_t> files;

    void after(const aw::syscall_info& info, int error) noexcept override {
        if (error != 0) return;
        if (info.op != aw::sysop::fsync && info.op != aw::sysop::fdatasync && info.op != aw::sysop::full_fsync) return;
        try {
            (is_directory_handle(info.file) ? dirs : files).push_back(file_id_of(info.file));
        } catch (...) {
        }
    }
    /// Whether the directory or file at `p` (its inode: a renamed file counts) was synced.
    bool synced(const fs::path& p) const {
        const std::uint64_t ino = inode_of(p);
        return std::find(dirs.begin(), dirs.end(), ino) != dirs.end() ||
               std::find(files.begin(), files.end(), ino) != files.end();
    }
};

// --- scripted faults ----------------------------------------------------------------

/// Records every operation of this thread, made or refused, and refuses the ones it is
/// told to: by position in the whole sequence, or by operation. A refused close(2)
/// still releases the descriptor (or handle): the seam makes the call and reports the
/// error, as Linux releases it whatever close reports, so injecting a close error leaks
/// nothing.
class scripted_hook : public aw::syscall_hook {
public:
    struct call {
        aw::sysop op;
        int error = 0;                                     ///< the errno injected, or the one the call reported
        bool injected = false;                             ///< refused by this hook: the call was not made
        aw::native_handle_type file = aw::invalid_handle;  ///< info.file
        aw::native_handle_type dir = aw::invalid_handle;   ///< info.dir
        aw::native_handle_type dir2 = aw::invalid_handle;  ///< info.dir2
        std::string name;                                  ///< info.name, if any (UTF-8)
        std::string name2;                                 ///< info.name2, if any (UTF-8)
        std::size_t size = 0;                              ///< info.size as the call was made (after any shortening)
    };
    std::vector<call> calls;

    /// Fails the `index`-th operation (0-based, counting every operation) with `error`.
    scripted_hook& fail_call(std::size_t index, int error) {
        rules_.push_back({rule::by_index, index, aw::sysop::close, error});
        return *this;
    }
    /// Fails the `nth` operation `op` (0-based, counting only `op`) with `error`.
    scripted_hook& fail_op(aw::sysop op, int error, std::size_t nth = 0) {
        rules_.push_back({rule::by_op, nth, op, error});
        return *this;
    }
    /// Fails every operation `op` with `error`.
    scripted_hook& fail_every(aw::sysop op, int error) {
        rules_.push_back({rule::every, 0, op, error});
        return *this;
    }
    /// Makes every write transfer at most `bytes` bytes (short writes).
    scripted_hook& limit_writes(std::size_t bytes) {
        max_write_ = bytes;
        return *this;
    }

    std::size_t count(aw::sysop op) const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [op](const call& c) { return c.op == op; }));
    }
    std::size_t injected() const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [](const call& c) { return c.injected; }));
    }
    std::vector<aw::sysop> ops() const {
        std::vector<aw::sysop> out;
        for (const auto& c : calls) out.push_back(c.op);
        return out;
    }
    /// The operations, by name, separated by spaces (for INFO()).
    std::string trace() const {
        std::string out;
        for (const auto& c : calls) {
            if (!out.empty()) out += ' ';
            out += aw::to_string(c.op);
            if (c.error != 0) {
                out += '!';
                out += std::to_string(c.error);
            }
        }
        return out;
    }

    int before(aw::syscall_info& info) noexcept override {
        const std::size_t index = calls.size();
        const std::size_t nth = seen_[static_cast<unsigned>(info.op)]++;
        int error = 0;
        for (const rule& r : rules_) {
            const bool hit =
                r.kind == rule::by_index ? r.n == index : r.op == info.op && (r.kind == rule::every || r.n == nth);
            if (hit) {
                error = r.error;
                break;
            }
        }
        if (info.op == aw::sysop::write && max_write_ != 0 && info.size > max_write_) info.size = max_write_;
        calls.push_back({info.op, error, error != 0, info.file, info.dir, info.dir2,
                         info.name != nullptr ? utf8(info.name) : "", info.name2 != nullptr ? utf8(info.name2) : "",
                         info.size});
        return error;
    }
    void after(const aw::syscall_info& info, int error) noexcept override {
        (void)info;
        calls.back().error = error;
    }

private:
    struct rule {
        enum kind_t { by_index, by_op, every } kind;
        std::size_t n;
        aw::sysop op;
        int error;
    };
    std::vector<rule> rules_;
    std::size_t seen_[aw::sysop_count] = {};
    std::size_t max_write_ = 0;
};

}  // namespace test

namespace atomicwrites {
inline namespace v1 {
/// Prints an operation by name in test output (found by argument-dependent lookup).
inline std::ostream& operator<<(std::ostream& out, sysop op) { return out << to_string(op); }
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_TESTS_SUPPORT_HOOKS_HPP
