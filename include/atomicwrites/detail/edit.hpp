// SPDX-License-Identifier: MIT
/// \file
/// What a writer does for write_options::start and for editing its temporary file in
/// place: copying the target into it (clone, else a copy in the kernel, else reads and
/// writes), and writing at an offset, cutting, appending, seeking. Not API.
#ifndef ATOMICWRITES_DETAIL_EDIT_HPP
#define ATOMICWRITES_DETAIL_EDIT_HPP

#include <atomicwrites/detail/sys.hpp>
#include <atomicwrites/detail/writer_state.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// How a copy was made.
enum class copy_method : unsigned char { none, clone, copy_range, read_write };

/// Copies all of `from` (from its position) into `to` (at its position), with the
/// cheapest method that works: a clone, a copy in the kernel, reads and writes. A method
/// the files or the system cannot use (sys::is_copy_unsupported) passes to the next one;
/// any other error stops the copy. Afterwards `to`'s position is at the end of the copy.
inline copy_method copy_contents(native_handle_type to, native_handle_type from, std::error_code& ec) noexcept {
    if constexpr (sys::has_clone) {
        sys::clone(to, from, ec);
        if (!ec) {
            // A clone leaves the positions where they were: writes continue at the end.
            sys::seek(to, 0, sys::seek_from::end, ec);
            return copy_method::clone;
        }
        if (!sys::is_copy_unsupported(ec)) return copy_method::none;
        ec.clear();
    }
    if constexpr (sys::has_copy_range) {
        // Both positions advance with each call, so a fallback below carries on where
        // this one stopped.
        for (;;) {
            const std::size_t n = sys::copy_range(to, from, std::size_t{1} << 30, ec);
            if (ec) break;
            if (n == 0) return copy_method::copy_range;
        }
        if (!sys::is_copy_unsupported(ec)) return copy_method::none;
        ec.clear();
    }
    constexpr std::size_t large = std::size_t{1} << 20;
    std::unique_ptr<char[]> heap(new (std::nothrow) char[large]);
    char small[16 * 1024];
    char* buffer = heap ? heap.get() : small;
    const std::size_t size = heap ? large : sizeof small;
    for (;;) {
        const std::size_t n = sys::read(from, buffer, size, ec);
        if (ec) return copy_method::none;
        if (n == 0) return copy_method::read_write;
        sys::write_all(to, buffer, n, ec);
        if (ec) return copy_method::none;
    }
}

/// write_options::start for a writer whose temporary file was just made: copies the
/// target (status `st`, from inspect_target) into it. Sets the step on failure.
inline copy_method start_from_target(writer_state& s, const sys::file_status& st, start_mode mode,
                                     std::error_code& ec) noexcept {
    if (mode == start_mode::empty) return copy_method::none;
    if constexpr (!sys::has_positioned_io) {
        s.step = "copy target into temporary file (write_options::start is not supported on this platform)";
        ec = std::make_error_code(std::errc::not_supported);
        return copy_method::none;
    }
    if (st.kind != sys::file_kind::regular) {
        if (mode == start_mode::copy_of_existing_target) {
            s.step = "copy target into temporary file (missing, and start_mode::copy_of_existing_target)";
            ec = std::make_error_code(std::errc::no_such_file_or_directory);
        }
        return copy_method::none;
    }
    s.step = "open target to copy it";
    native_handle_type from = sys::open_to_copy(s.dir, s.name, ec);
    if (ec) return copy_method::none;
    s.step = "copy target into temporary file";
    const copy_method used = copy_contents(s.file.file, from, ec);
    std::error_code closing;
    sys::close(from, closing);  // a read-only descriptor: nothing of ours to lose
    if (!ec) s.step = nullptr;
    return used;
}

/// Writes out what the writer buffered, so that an edit at an offset comes after it.
inline bool flush_buffer(writer_state& s, std::error_code& ec) noexcept {
    if (s.write_error) {
        ec = s.write_error;
        return false;
    }
    if (s.buffer) {
        s.buffer->flush(ec);
        if (ec) {
            s.keep_write_error(ec);
            return false;
        }
    }
    return true;
}

/// An edit's failure sticks as a write error does: the commit then fails with it, since
/// the file may hold part of the edit.
inline void keep_edit_error(writer_state& s, const char* step, const std::error_code& ec) noexcept {
    s.write_error = ec;
    s.step = step;
}

inline void edit_pwrite(writer_state& s, std::uint64_t offset, const char* p, std::size_t n,
                        std::error_code& ec) noexcept {
    if (!flush_buffer(s, ec)) return;
    sys::pwrite_all(s.file.file, p, n, offset, ec);
    if (ec) keep_edit_error(s, "write temporary file at an offset", ec);
}

inline void edit_truncate(writer_state& s, std::uint64_t size, std::error_code& ec) noexcept {
    if (!flush_buffer(s, ec)) return;
    sys::truncate(s.file.file, size, ec);
    if (ec) keep_edit_error(s, "truncate temporary file", ec);
}

inline std::uint64_t edit_seek(writer_state& s, std::int64_t offset, sys::seek_from from,
                               std::error_code& ec) noexcept {
    if (!flush_buffer(s, ec)) return 0;
    const std::uint64_t at = sys::seek(s.file.file, offset, from, ec);
    if (ec) keep_edit_error(s, "seek in temporary file", ec);
    return at;
}

inline void edit_append(writer_state& s, const char* p, std::size_t n, std::error_code& ec) noexcept {
    edit_seek(s, 0, sys::seek_from::end, ec);
    if (!ec) s.write(p, n, ec);
}

/// The smallest write write_options::prealloc's automatic choice reserves space for:
/// on ext4 reserving made no difference at 4 and 16 MiB, and was 6-8% faster at 64 MiB.
inline constexpr std::uint64_t prealloc_threshold = std::uint64_t{16} << 20;

/// Whether reserving space measured faster on the filesystem of type `type`
/// (sys::filesystem_type): ext2/3/4 only (docs/big-files.md has the figures).
constexpr bool prealloc_pays(std::uint64_t type) noexcept { return type == 0xEF53; }

/// Reserves `size` bytes of the temporary file as write_options::prealloc says. A
/// filesystem that cannot reserve is not an error; a full one is (ENOSPC: the write
/// would fail the same way).
inline void reserve(writer_state& s, std::uint64_t size, std::error_code& ec) noexcept {
    if (s.prealloc == prealloc_mode::never || size == 0 || !sys::has_allocate) return;
    if (s.prealloc == prealloc_mode::automatic) {
        if (size < prealloc_threshold) return;
        std::error_code e;
        const std::uint64_t type = sys::filesystem_type(s.file.file, e);
        if (e || !prealloc_pays(type)) return;
    }
    sys::allocate(s.file.file, 0, size, ec);
    if (ec && sys::is_copy_unsupported(ec)) ec.clear();
    if (ec) s.step = "reserve space for temporary file";
}

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_EDIT_HPP
