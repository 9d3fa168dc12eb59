// SPDX-License-Identifier: MIT
/// \file
/// Carrying a replaced file's extended attributes (its POSIX ACL, SELinux label, user
/// attributes) over to the file that replaces it. Not API.
///
/// Which attributes (see docs/guarantees.md):
/// - system.posix_acl_access: always; failing to set it is an error (without it the
///   owning group would get the ACL mask's rights and the named users would lose theirs).
///   Other system.* names (a directory's default ACL, NFSv4 ACLs) are not copied.
/// - security.*: where the process may set them (the SELinux or Smack label); refused
///   (EPERM, EACCES, ENOTSUP, EINVAL), the file keeps the label any new file gets there.
///   Never security.capability, security.ima or security.evm: they vouch for the old
///   content, and the kernel itself drops file capabilities on the first write.
/// - trusted.* (listed to privileged processes only) and user.*: where the process may
///   read and set them; a refused one is left out. Neither grants access to the file.
#ifndef ATOMICWRITES_DETAIL_XATTR_HPP
#define ATOMICWRITES_DETAIL_XATTR_HPP

#include <atomicwrites/detail/sys.hpp>

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

#if defined(ATOMICWRITES_HAS_XATTRS) && ATOMICWRITES_HAS_XATTRS

/// The name of the access ACL attribute.
inline constexpr char acl_access_name[] = "system.posix_acl_access";

/// Whether an error says that this filesystem has no extended attributes (or not this one).
inline bool is_no_xattrs(const std::error_code& ec) noexcept {
    return ec == std::errc::not_supported || ec == std::errc::operation_not_supported;
}

/// Whether setting or reading an attribute of a kind that grants no access was refused.
inline bool is_refused(const std::error_code& ec) noexcept {
    return ec == std::errc::operation_not_permitted || ec == std::errc::permission_denied || is_no_xattrs(ec) ||
           ec == std::errc::invalid_argument;
}

/// Calls `call(buf, size, ec)` (a list or get returning a length) into `stack`, and on
/// ERANGE into a heap buffer of the size the system then names; returns the buffer
/// holding the answer (`len` bytes), or null with `ec` set.
template <class Call>
const char* fetch_xattr(Call&& call, char* stack, std::size_t capacity, std::unique_ptr<char[]>& heap, std::size_t& len,
                        std::error_code& ec) noexcept {
    char* buf = stack;
    std::size_t size = capacity;
    for (int attempt = 0; attempt < 4; ++attempt) {  // the value may grow meanwhile
        ec.clear();
        len = call(buf, size, ec);
        if (!ec) return buf;
        if (ec != std::errc::result_out_of_range) return nullptr;
        ec.clear();
        const std::size_t need = call(nullptr, 0, ec);
        if (ec) return nullptr;
        heap.reset(new (std::nothrow) char[need + 1]);
        if (!heap) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return nullptr;
        }
        buf = heap.get();
        size = need + 1;
    }
    ec = std::make_error_code(std::errc::result_out_of_range);
    return nullptr;
}

/// What carry_xattrs() does with an attribute.
enum class xattr_rule : unsigned char { skip, required, optional };

inline xattr_rule rule_for(std::string_view name) noexcept {
    if (name == acl_access_name) return xattr_rule::required;
    if (name.starts_with("system.")) return xattr_rule::skip;
    if (name == "security.capability" || name == "security.ima" || name == "security.evm") return xattr_rule::skip;
    return xattr_rule::optional;
}

/// Copies the extended attributes of the file `name` in `dir` to the open `file` (see
/// the rules above). Sets `had_acl` if the old file had an access ACL (then copied).
/// A filesystem without attributes, or an old file that is gone, copies nothing.
/// System calls: one llistxattr (answering 0 for a file without attributes); per
/// attribute one lgetxattr and one fsetxattr (more for values over 512 bytes); without
/// /proc, an open and a close of the old file besides.
inline void carry_xattrs(native_handle_type dir, const native_char_type* name, native_handle_type file, bool& had_acl,
                         std::error_code& ec) noexcept {
    had_acl = false;
    native_handle_type old = invalid_handle;
    char names_stack[1024];
    std::unique_ptr<char[]> names_heap;
    std::size_t names_len = 0;
    auto list = [&](char* buf, std::size_t size, std::error_code& e) {
        return sys::list_xattrs(dir, name, old, buf, size, e);
    };
    const char* names = fetch_xattr(list, names_stack, sizeof names_stack, names_heap, names_len, ec);
    if (ec == std::errc::no_such_file_or_directory) {
        // No /proc (or the file is gone): read the attributes through the file itself.
        ec.clear();
        old = sys::open_file(dir, name, ec);
        if (ec == std::errc::no_such_file_or_directory) ec.clear();
        if (ec || old == invalid_handle) return;
        names = fetch_xattr(list, names_stack, sizeof names_stack, names_heap, names_len, ec);
    }
    if (is_no_xattrs(ec)) ec.clear();
    if (!ec && names != nullptr) {
        char value_stack[512];
        std::unique_ptr<char[]> value_heap;
        for (std::size_t at = 0; at < names_len && !ec;) {
            const char* attr = names + at;
            const std::size_t attr_len = std::strlen(attr);
            at += attr_len + 1;
            const xattr_rule rule = rule_for({attr, attr_len});
            if (rule == xattr_rule::skip) continue;
            auto get = [&](char* buf, std::size_t size, std::error_code& e) {
                return sys::get_xattr(dir, name, old, attr, buf, size, e);
            };
            std::size_t value_len = 0;
            const char* value = fetch_xattr(get, value_stack, sizeof value_stack, value_heap, value_len, ec);
            if (ec == std::errc::no_message_available || (rule == xattr_rule::optional && is_refused(ec))) {
                ec.clear();  // removed meanwhile, or not ours to read
                continue;
            }
            if (ec) break;
            sys::set_xattr(file, attr, value, value_len, ec);
            if (rule == xattr_rule::optional && is_refused(ec)) ec.clear();
            if (!ec && rule == xattr_rule::required) had_acl = true;
        }
    }
    if (old != invalid_handle) {
        std::error_code ignored;  // read-only: nothing to lose
        sys::close(old, ignored);
    }
}

/// Sets the permission bits of `file` by writing a minimal access ACL (owner, group and
/// others only): the kernel then removes any ACL the file took from its directory's
/// default ACL and sets the mode, in one call. Set-id and sticky bits are not set.
/// Errors: those of fsetxattr (ENOTSUP where the filesystem has no ACLs).
inline void set_minimal_acl(native_handle_type file, unsigned mode, std::error_code& ec) noexcept {
    // The kernel's posix_acl_xattr format, little-endian: a version, then entries of
    // tag (16 bits), permissions (16 bits) and id (32 bits, undefined here).
    unsigned char acl[4 + 3 * 8] = {2, 0, 0, 0};
    const unsigned tags[3] = {0x01u, 0x04u, 0x20u};  // ACL_USER_OBJ, ACL_GROUP_OBJ, ACL_OTHER
    for (unsigned k = 0; k < 3; ++k) {
        unsigned char* e = acl + 4 + 8 * k;
        e[0] = static_cast<unsigned char>(tags[k]);
        e[1] = 0;
        e[2] = static_cast<unsigned char>((mode >> (3 * (2 - k))) & 7u);
        e[3] = 0;
        e[4] = e[5] = e[6] = e[7] = 0xff;
    }
    sys::set_xattr(file, acl_access_name, acl, sizeof acl, ec);
}

#else

/// No extended attributes here: nothing to carry over.
inline void carry_xattrs(native_handle_type, const native_char_type*, native_handle_type, bool& had_acl,
                         std::error_code&) noexcept {
    had_acl = false;
}

/// No ACLs here: answers "not supported" (the mode is then set as usual).
inline void set_minimal_acl(native_handle_type, unsigned, std::error_code& ec) noexcept {
    ec = std::make_error_code(std::errc::not_supported);
}

#endif

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_XATTR_HPP
