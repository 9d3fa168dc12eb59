// SPDX-License-Identifier: MIT
/// \file
/// Starting a file as a copy of another and editing it in place, on Windows: not
/// supported yet. Every operation answers not_supported without a call, so that
/// write_options::start other than start_mode::empty, and the writer's pwrite(),
/// truncate() and append(), fail with a clear error. Not API: include
/// <atomicwrites/detail/sys.hpp>.
#ifndef ATOMICWRITES_DETAIL_WINDOWS_COPY_HPP
#define ATOMICWRITES_DETAIL_WINDOWS_COPY_HPP

#include <atomicwrites/detail/windows/retry.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail::sys {

inline constexpr bool has_clone = false;
inline constexpr bool has_copy_range = false;
inline constexpr bool has_positioned_io = false;
inline constexpr bool has_allocate = false;

inline bool is_copy_unsupported(const std::error_code& ec) noexcept { return ec == std::errc::not_supported; }

inline void clone(handle, handle, std::error_code& ec) noexcept { ec = std::make_error_code(std::errc::not_supported); }
inline std::size_t copy_range(handle, handle, std::size_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}
inline std::size_t read(handle, void*, std::size_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}
inline void pwrite_all(handle, const void*, std::size_t, std::uint64_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
}
inline void truncate(handle, std::uint64_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
}
enum class seek_from : unsigned char { start = 0, position = 1, end = 2 };
inline std::uint64_t seek(handle, std::int64_t, seek_from, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
    return 0;
}
inline void allocate(handle, std::uint64_t, std::uint64_t, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
}
inline std::uint64_t filesystem_type(handle, std::error_code&) noexcept { return 0; }

}  // namespace detail::sys
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_WINDOWS_COPY_HPP
