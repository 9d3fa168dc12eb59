// SPDX-License-Identifier: MIT
/// \file
/// Windows: how a call is made and how its errors are reported and retried. Not API:
/// include <atomicwrites/detail/sys.hpp>.
///
/// Errors are GetLastError() values in std::system_category(); every call goes through
/// the thread's syscall_hook, if any, and a hook's error is set as the last error, so
/// that it is handled (retried, reported) exactly as a real one.
///
/// Transient answers. Virus scanners, indexers and backup agents open files for a
/// moment; a file being deleted stays in the directory until its last handle closes.
/// Calls that open, create, rename or delete a name are retried on
/// ERROR_SHARING_VIOLATION, ERROR_ACCESS_DENIED, ERROR_LOCK_VIOLATION and
/// ERROR_DELETE_PENDING: 90 attempts over about one second (pauses of 1, 2, 4 and 8 ms,
/// then 85 of 8 to 15 ms; see retry_delay_ms), and the last answer is reported. An
/// access-denied answer that is not transient (a directory the user may not write) is
/// therefore reported after that second. Each attempt goes through the hook.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_RETRY_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_RETRY_HPP

#include <atomicwrites/detail/windows/path.hpp>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

/// Whether a system error says that a call, an information class or a flag is not
/// available here: Windows answers ERROR_INVALID_PARAMETER for an information class it
/// does not know, a filesystem ERROR_INVALID_FUNCTION or ERROR_NOT_SUPPORTED for one it
/// does not implement. Checked by value, since not every standard library maps these
/// to std::errc (libstdc++ 12 leaves ERROR_INVALID_FUNCTION unmapped).
inline bool is_unsupported_error(const std::error_code& ec) noexcept {
    if (ec.category() != std::system_category()) return false;
    switch (ec.value()) {
        case ERROR_INVALID_FUNCTION:
        case ERROR_INVALID_PARAMETER:
        case ERROR_NOT_SUPPORTED:
        case ERROR_CALL_NOT_IMPLEMENTED:
            return true;
        default:
            return false;
    }
}

/// Makes one call through the hook. `call` receives the (possibly changed) info and
/// returns whether the call succeeded, with the last error set when it did not.
template <class Call>
inline bool through_hook(syscall_info& info, Call&& call) noexcept {
    syscall_hook* hook = current_hook;
    if (hook == nullptr) [[likely]] {
        return call(info);
    }
    if (int e = hook->before(info); e != 0) {
        ::SetLastError(static_cast<DWORD>(e));
        return false;
    }
    const bool ok = call(info);
    const DWORD saved = ok ? 0 : ::GetLastError();
    hook->after(info, static_cast<int>(saved));
    ::SetLastError(saved);
    return ok;
}

inline void set_error(std::error_code& ec) noexcept {
    ec.assign(static_cast<int>(::GetLastError()), std::system_category());
}

/// Whether an answer may go away by itself (see the file comment).
inline bool is_transient(DWORD error) noexcept {
    return error == ERROR_SHARING_VIOLATION || error == ERROR_ACCESS_DENIED || error == ERROR_LOCK_VIOLATION ||
           error == ERROR_DELETE_PENDING;
}

/// Attempts of a call that keeps answering a transient error: the first and 89 more.
inline constexpr int transient_attempts = 90;

/// The pause in ms before attempt `made + 1`, after `made` (1 or more) refused ones.
// Why this schedule: what refuses a replacement is usually a program that opens the
// file again and again (a reader, a scanner), and it is about as likely to hold it at
// one moment as at another; an attempt that finds it closed succeeds. So what matters
// is how many attempts the second holds, spread over all of it. A reader that holds
// the file 85% of the time (as a re-reading one does under Wine on a busy machine)
// refuses 40 spread attempts in a row about once in 700, and 85 about once in a
// million. A backoff that doubles does worse still: it spends most of its attempts
// in the first few milliseconds, where one hold (a reader descheduled while it has the
// file open) refuses them all, and leaves a handful for the rest of the second. So:
// four quick pauses (1, 2, 4, 8 ms), which let a file held for a moment go at once and
// keep a single injected refusal cheap, then 85 pauses of 8 to 15 ms, in a varying
// order so that the attempts do not fall in step with a program that opens the file
// at a fixed period. Not shorter: Sleep() rounds a pause up to the timer tick (15.6 ms
// unless a program asked for finer), which stretches the second to about 1.4 s there.
constexpr DWORD retry_delay_ms(int made) noexcept {
    if (made <= 4) return DWORD{1} << (made - 1);
    return 8 + static_cast<DWORD>(((made - 5) * 5) % 8);
}

/// Makes `attempt` (which returns success, with the last error set on failure) until it
/// succeeds, fails with a lasting error (or one the attempt found out to be lasting, by
/// setting `lasting`), or has been made transient_attempts times.
template <class Attempt>
inline bool retry_transient(Attempt&& attempt, const bool& lasting) noexcept {
    for (int made = 1;; ++made) {
        if (attempt()) return true;
        const DWORD error = ::GetLastError();
        if (lasting || !is_transient(error) || made == transient_attempts) {
            ::SetLastError(error);
            return false;
        }
        ::Sleep(retry_delay_ms(made));
    }
}
template <class Attempt>
inline bool retry_transient(Attempt&& attempt) noexcept {
    const bool never = false;
    return retry_transient(attempt, never);
}

/// Closes a handle made on the way to a failure, keeping the failure's last error.
inline void close_keeping_error(HANDLE h) noexcept {
    const DWORD error = ::GetLastError();
    ::CloseHandle(h);
    ::SetLastError(error);
}

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_RETRY_HPP
