// SPDX-License-Identifier: MIT
// What the stale-temp suites share on every platform: leftovers made through the
// seam, concurrent sweeps, and one sweep's calls failed in turn. Each platform's suite
// adds only the errors its calls really give and what each should lead to.
#ifndef ATOMICWRITES_TESTS_SUPPORT_STALE_TEMPS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_STALE_TEMPS_HPP

#include "errors.hpp"
#include "fs.hpp"
#include "hooks.hpp"

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/stale_temps.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace test {

namespace stale {

using namespace std::chrono_literals;
using names = std::vector<std::string>;

/// Any age is old enough.
inline constexpr aw::stale_temp_options now_stale{.older_than = 0s};

using named_temp_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::named>;
using random_temp_writer = aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::mkstemp>;

/// Leaves the temporary file of a writer W for `target` behind, closed, as a killed
/// writer leaves it: the removal at its rollback is refused through the seam. Returns
/// its path.
template <class W>
std::filesystem::path leave_temp(const std::filesystem::path& target,
                                 const aw::write_options& options = {.overwrite = true}) {
    scripted_hook hook;
    hook.fail_every(aw::sysop::unlink, err::io);  // not a transient error: not retried
    aw::scoped_syscall_hook scope(hook);
    W w(target, options);
    w.write(new_content);
    w.flush();
    return w.temp_path();  // the writer's rollback (refused) runs before the hook goes
}

/// The names in `dir` that start with `prefix`.
inline names starting_with(const temp_dir& dir, const std::string& prefix) {
    names out;
    for (const auto& n : dir.names())
        if (n.rfind(prefix, 0) == 0) out.push_back(n);
    return out;
}

/// What `sweepers` sweeps of `dir` run at the same time removed, and how many failed.
struct sweeps_at_once {
    std::size_t removed = 0;
    int errors = 0;
};

inline sweeps_at_once sweep_at_once(const temp_dir& dir, int sweepers = 4) {
    std::atomic<std::size_t> removed{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < sweepers; ++t) {
        threads.emplace_back([&] {
            std::error_code ec;
            removed += aw::remove_stale_temps(dir.path(), now_stale, ec);
            if (ec) ++errors;
        });
    }
    for (auto& t : threads) t.join();
    return {removed.load(), errors.load()};
}

/// The calls a sweep of one leftover makes, the leftover left by `leave(target)`.
template <class Leave>
std::vector<aw::sysop> sweep_calls(Leave leave) {
    temp_dir probe;
    leave(probe / "data");
    scripted_hook hook;
    aw::scoped_syscall_hook scope(hook);
    CHECK(aw::remove_stale_temps(probe.path(), now_stale) == 1);
    return hook.ops();
}

/// One sweep with one call failed, as sweep_faults hands it over.
struct sweep_fault {
    aw::sysop op;               ///< the call that failed
    int error;                  ///< with this error number
    bool throwing;              ///< the throwing form (else the error_code one)
    bool after_unlink;          ///< the call came after the leftover's removal
    std::error_code ec;         ///< what the sweep reported
    std::size_t removed;        ///< what it returned (the error_code form)
    thrown_error thrown;        ///< what it threw (the throwing form)
    names before;               ///< the directory's names before the sweep
    std::filesystem::path dir;  ///< the swept directory
    const scripted_hook* hook;  ///< the calls made
};

/// Fails each of `calls` (sweep_calls) in turn with each error `errors(op)` gives, in
/// both forms, on a fresh leftover each time, and hands each outcome to `check`, with
/// the call, the error and the calls made in every failure's message. Returns how many
/// faults were injected.
template <class Leave, class Errors, class Check>
std::size_t sweep_faults(const std::vector<aw::sysop>& calls, Leave leave, Errors errors, Check check) {
    const auto unlink = std::find(calls.begin(), calls.end(), aw::sysop::unlink);
    const std::size_t unlinked_at = static_cast<std::size_t>(unlink - calls.begin());
    std::size_t faults = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        for (const int error : errors(calls[i])) {
            for (const bool throwing : {false, true}) {
                temp_dir d;
                leave(d / "data");
                sweep_fault f{calls[i], error, throwing, i > unlinked_at, {}, 0, {}, d.names(), d.path(), nullptr};
                scripted_hook hook;
                hook.fail_call(i, error);
                {
                    aw::scoped_syscall_hook scope(hook);
                    if (throwing) {
                        f.thrown = catch_error([&] { f.removed = aw::remove_stale_temps(d.path(), now_stale); });
                        f.ec = f.thrown.code;
                    } else {
                        f.removed = aw::remove_stale_temps(d.path(), now_stale, f.ec);
                    }
                }
                f.hook = &hook;
                ++faults;
                INFO("call " << i << " (" << aw::to_string(calls[i]) << ") fails with error " << error
                             << (throwing ? ", throwing form" : "") << "; calls: " << hook.trace());
                check(f, d);
            }
        }
    }
    return faults;
}

/// The outcomes a sweep_faults check expects. The failure did not matter: the leftover
/// is removed, and no error.
inline void check_removed_anyway(const sweep_fault& f, const temp_dir& d) {
    CHECK_FALSE(f.ec);
    CHECK(f.removed == 1);
    CHECK(d.names().empty());
}

/// The leftover is kept, quietly (in use, or not the sweep's to judge).
inline void check_kept(const sweep_fault& f, const temp_dir& d) {
    CHECK_FALSE(f.ec);
    CHECK(f.removed == 0);
    CHECK(d.names() == f.before);
}

/// The failure is reported as it came, with the directory; one after the removal
/// (reading on) does not undo it.
inline void check_reported(const sweep_fault& f, const temp_dir& d) {
    CHECK(f.ec == std::error_code(f.error, std::system_category()));
    CHECK(d.names() == (f.after_unlink ? names{} : f.before));
    if (!f.throwing) CHECK(f.removed == (f.after_unlink ? 1u : 0u));
    if (f.throwing) {
        CHECK(f.thrown.threw);
        CHECK(f.thrown.path1 == f.dir);
    }
}

/// The calls, one name each, for a failure's message.
inline std::string call_list(const std::vector<aw::sysop>& calls) {
    std::string s;
    for (aw::sysop op : calls) s += std::string(aw::to_string(op)) + " ";
    return s;
}

}  // namespace stale

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_STALE_TEMPS_HPP
