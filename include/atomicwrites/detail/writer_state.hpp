// SPDX-License-Identifier: MIT
/// \file
/// Everything a writer holds besides its policies (handles, names, flags, buffer, the
/// last step and error), in one movable struct, with what it does that needs no policy:
/// taking the options, writing, closing. Not API.
#ifndef ATOMICWRITES_DETAIL_WRITER_STATE_HPP
#define ATOMICWRITES_DETAIL_WRITER_STATE_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/stream_buffer.hpp>
#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// The mutable state of a basic_atomic_writer. A moved-from writer takes a
/// default-constructed one: closed, no handles.
struct writer_state {
    enum class phase : unsigned char { closed, open, published };

    /// The longest temp_prefix or temp_suffix.
    static constexpr std::size_t max_affix = 64;

    std::filesystem::path::string_type target;  // as given (a name inside base, if set)
    const directory* base = nullptr;            // the directory handle written into, if any
    std::filesystem::path resolved_dir;         // set when a link was followed to another directory
    std::filesystem::path temp_dir_path;        // write_options::temp_directory
    std::filesystem::path backup;               // write_options::backup (detail/backup.hpp)
    std::unique_ptr<stream_buffer> buffer;
    std::error_code write_error;
    native_handle_type dir = invalid_handle;
    bool owns_dir = true;                          // false when dir belongs to a directory handle
    native_handle_type temp_dir = invalid_handle;  // only with write_options::temp_directory
    temp_file file;
    native_char_type name[sys::max_name + 1] = {};
    native_char_type last_temp_name[sys::max_name + 1] = {};  // for the message of a failed commit
    native_char_type prefix[max_affix + 1] = {'.', '\0'};
    native_char_type suffix[max_affix + 1] = {'.', 't', 'm', 'p', '\0'};
    phase state = phase::closed;
    unsigned setid_mode = 0;  // the final mode, when it has set-id bits to restore
    bool overwrite = false;
    bool text = false;
    prealloc_mode prealloc = prealloc_mode::automatic;  // write_options::prealloc
    const char* step = nullptr;
    // The process that made the writer (and so its temporary file): a copy of the writer
    // in a forked child must not remove the parent's file.
    std::uint64_t creator = sys::process_generation();
    // write_options::expect and lock (detail/expect.hpp): the version the target must
    // still be at the commit, and the lock file held until the writer closes.
    bool expecting = false;
    file_version expected;
    native_handle_type lock = invalid_handle;
    std::chrono::milliseconds lock_timeout = std::chrono::milliseconds::max();

    // The paths are built on demand: the state keeps the target as a string, which is
    // cheaper to copy than a path.
    std::filesystem::path target_path() const {
        return base != nullptr ? base->path() / target : std::filesystem::path(target);
    }
    std::filesystem::path target_directory() const {
        if (!resolved_dir.empty()) return resolved_dir;
        std::filesystem::path p = target_path().parent_path();
        return p.empty() ? std::filesystem::path(".") : p;
    }
    std::filesystem::path temp_directory() const { return temp_dir_path.empty() ? target_directory() : temp_dir_path; }
    native_handle_type temp_dir_handle() const noexcept { return temp_dir != invalid_handle ? temp_dir : dir; }
    /// After a failed open: the directory the failed step was about (the target's, when
    /// it could not be opened; temp_directory, when it could not be opened or is on
    /// another filesystem), so that the message names it; empty for other steps.
    std::filesystem::path failed_directory() const {
        if (step == nullptr) return {};
        const std::string_view s(step);
        if (s == "open directory") return target_directory();
        if (s.starts_with("open temporary directory") || s.starts_with("check options (temp_directory"))
            return temp_dir_path;
        return {};
    }

    void close_file(std::error_code& ec) noexcept {
        sys::close(file.file, ec);
        file.file = invalid_handle;
    }

    /// Closes the directories (and the file, if still open). Reports the first error of
    /// a directory close in *ec if given.
    void release(std::error_code* ec = nullptr) noexcept {
        std::error_code e;
        if (file.file != invalid_handle) {
            sys::close(file.file, e);
            file.file = invalid_handle;
        }
        if (temp_dir != invalid_handle) {
            sys::close(temp_dir, e);
            temp_dir = invalid_handle;
        }
        if (dir != invalid_handle) {
            std::error_code d;
            if (owns_dir) sys::close(dir, d);  // a directory handle's stays open
            dir = invalid_handle;
            if (!e) e = d;
        }
        if (ec != nullptr) *ec = e;
        if (buffer) buffer->close();
        if (lock != invalid_handle) {
            // Last: the lock is held until the publication is durable. Closing the
            // file releases it; a failure to close cannot keep it held.
            std::error_code ignored;
            sys::release_lock(lock, ignored);
            lock = invalid_handle;
        }
    }

    /// Closes and removes the temporary file, closes the directories. Ignores errors. In
    /// another process than the one that made the file (a forked child) only closes.
    void discard() noexcept {
        std::error_code ignored;
        if (file.file != invalid_handle) {
            sys::close(file.file, ignored);
            file.file = invalid_handle;
        }
        if (!file.anonymous() && creator == sys::process_generation()) {
            sys::unlink(temp_dir_handle(), file.name, ignored);
            file.name[0] = '\0';
        }
        release();
    }

    // --- writing: small writes are buffered, large ones go straight to the file ----

    /// Appends [p, p + n), buffered. A write error sticks: later writes and the commit
    /// report it.
    void write(const char* p, std::size_t n, std::error_code& ec) noexcept {
        if (write_error) {
            ec = write_error;
            return;
        }
        if (!buffer && (n >= stream_buffer::capacity || !make_buffer(ec))) {
            write_through(p, n, ec);
            return;
        }
        buffer->put(p, n, ec);
        if (ec) keep_write_error(ec);
    }

    /// Appends [p, p + n) without a buffer to allocate (the one-shot functions), except
    /// in text mode, where the buffer translates newlines.
    void write_through(const char* p, std::size_t n, std::error_code& ec) noexcept {
        if (buffer || (text && make_buffer(ec)))
            buffer->put(p, n, ec);
        else if (!ec)
            sys::write_all(file.file, p, n, ec);
        if (ec) keep_write_error(ec);
    }

    /// Makes the buffer; false if there is no memory for it. In text mode that is an
    /// error in `ec` (newlines are translated in the buffer); otherwise writes can go
    /// straight to the file.
    bool make_buffer(std::error_code& ec) noexcept {
        try {
            buffer = std::make_unique<stream_buffer>(file.file, text);
        } catch (...) {
            if (text) ec = std::make_error_code(std::errc::not_enough_memory);
            return false;
        }
        return true;
    }

    void keep_write_error(const std::error_code& ec) noexcept {
        step = "write temporary file";
        write_error = ec;
    }
};

/// The metadata controls (write_options::owner_ids, create_mode, owner_mode::require)
/// that a platform or a combination cannot honour. Errors: invalid_argument (mode and
/// create_mode both given, create_mode beyond 0777), not_supported (an owner on Windows).
inline bool check_metadata_options(writer_state& s, const write_options& options, std::error_code& ec) noexcept {
    const auto bad = [&](const char* step, std::errc e) {
        s.step = step;
        ec = std::make_error_code(e);
        return false;
    };
    if (options.create_mode != std::filesystem::perms::unknown) {
        if (options.mode != std::filesystem::perms::unknown)
            return bad(
                "check options (mode and create_mode both given: mode is exact, create_mode is narrowed by the "
                "umask; give one)",
                std::errc::invalid_argument);
        if ((static_cast<unsigned>(options.create_mode) & ~0777u) != 0)
            return bad(
                "check options (create_mode takes the permission bits 0777 only: give set-id and sticky bits "
                "with mode)",
                std::errc::invalid_argument);
    }
    if constexpr (!sys::has_owners) {
        if (options.owner_ids)
            return bad("check options (owner_ids: files here have no POSIX owner)", std::errc::not_supported);
        if (options.owner == owner_mode::require)
            return bad("check options (owner_mode::require: files here have no POSIX owner to keep)",
                       std::errc::not_supported);
    }
    return true;
}

/// Keeps the target as given (for messages and target()) and takes from the options
/// what needs no system call: the temporary name's affixes, overwrite and text. The
/// commit policy's constants say which `overwrite` it can honour.
/// `needs_affix`: the temp policy names its file after the target and nothing else (see
/// temp_policy_needs_affix), so an empty prefix and suffix would name the target itself.
/// Errors: invalid_argument (an `overwrite` the policy cannot honour, a separator or NUL
/// in an affix, no affix where one is needed, an affix that is not UTF-8),
/// filename_too_long (an affix over 64 bytes), not_enough_memory.
inline bool take_options(writer_state& s, const std::filesystem::path& target, const write_options& options,
                         bool can_replace, bool can_keep, std::error_code& ec, bool needs_affix = false) noexcept {
    constexpr std::size_t max_affix = writer_state::max_affix;
    ec.clear();
    s.step = "check path";
    try {
        s.target = target.native();
    } catch (...) {
        ec = std::make_error_code(std::errc::not_enough_memory);
        return false;
    }
    if (options.overwrite ? !can_replace : !can_keep) {
        s.step = options.overwrite ? "check options (the commit policy cannot replace: overwrite must be false)"
                                   : "check options (the commit policy always replaces: overwrite must be true)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    if (has_separator_or_nul(options.temp_prefix) || has_separator_or_nul(options.temp_suffix)) {
        s.step = "check options (temp_prefix and temp_suffix must not contain a separator or NUL)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    if (needs_affix && options.temp_prefix.empty() && options.temp_suffix.empty()) {
        s.step =
            "check options (temp::named needs a temp_prefix or a temp_suffix: without either the "
            "temporary file would be the target itself)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    if (options.temp_prefix.size() > max_affix || options.temp_suffix.size() > max_affix) {
        s.step = "check options (temp_prefix and temp_suffix are limited to 64 bytes)";
        ec = std::make_error_code(std::errc::filename_too_long);
        return false;
    }
    sys::to_native(options.temp_prefix, s.prefix, max_affix + 1, ec);
    if (!ec) sys::to_native(options.temp_suffix, s.suffix, max_affix + 1, ec);
    if (ec) {
        s.step = "check options (temp_prefix and temp_suffix must be UTF-8)";
        return false;
    }
    if (options.expect && options.expect->exists && !options.overwrite) {
        s.step = "check options (expect names an existing file: overwrite must be true to replace it)";
        ec = std::make_error_code(std::errc::invalid_argument);
        return false;
    }
    if (!check_metadata_options(s, options, ec)) return false;
    s.expecting = options.expect.has_value();
    if (s.expecting) s.expected = *options.expect;
    s.lock_timeout = options.lock_timeout;
    s.overwrite = options.overwrite;
    s.prealloc = options.prealloc;
    // Text mode only changes anything where the newline is not "\n": elsewhere the
    // writer makes exactly the calls of binary mode.
    s.text = options.text && sys::text_newline != "\n";
    return true;
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WRITER_STATE_HPP
