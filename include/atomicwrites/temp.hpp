// SPDX-License-Identifier: MIT
/// \file
/// Temp policies: how the temporary file next to the target is made. See the
/// temp_policy concept.
///
/// Names are `prefix + target + "." + 8 random characters + suffix`
/// (".config.json.Xy3kQ9aB.tmp" with the default options) or, for temp::named,
/// `prefix + target + suffix`. A long target name is shortened (on a character boundary:
/// UTF-8 on POSIX, UTF-16 on Windows) so that the temporary name fits in the 255
/// characters a name may have, and a hash of the whole name added ("~" and 16 hex
/// digits): targets whose names are close to the limit still work, and two of them never
/// share a temporary name.
#ifndef ATOMICWRITES_TEMP_HPP
#define ATOMICWRITES_TEMP_HPP

#include <atomicwrites/concepts.hpp>
#include <atomicwrites/detail/path.hpp>
#include <atomicwrites/detail/sys.hpp>

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// Characters of the random part of temporary names.
inline constexpr std::size_t random_name_length = 8;

/// A per-thread generator for temporary names (splitmix64), seeded once per thread from
/// the system's random source: no per-name system call or std::random_device. A forked
/// child seeds it again at its first name, so that parent and children (which inherit
/// the state) never draw the same names.
inline std::uint64_t next_random() noexcept {
    thread_local std::uint64_t state = sys::random_seed();
    thread_local std::uint64_t generation = sys::process_generation();
    if (const std::uint64_t now = sys::process_generation(); now != generation) [[unlikely]] {
        generation = now;
        state = sys::random_seed();
    }
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// Alphabet of the random part of temporary names.
inline constexpr std::string_view random_name_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The length of a temporary name without the target's part: prefix and suffix, and the
/// dot and random characters if `random`.
inline std::size_t temp_name_overhead(native_string_view prefix, native_string_view suffix, bool random) noexcept {
    return prefix.size() + suffix.size() + (random ? random_name_length + 1 : 0);
}

/// Characters a shortened target's part ends with: "~" and 16 hexadecimal digits of a
/// hash of the whole target name.
inline constexpr std::size_t name_hash_length = 17;

/// FNV-1a (64 bits) of a name's code units, each as its bytes from the lowest: the same
/// hash wherever a name has the same characters.
inline std::uint64_t name_hash(native_string_view name) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (native_char_type c : name) {
        const auto u = static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<native_char_type>>(c));
        for (std::size_t byte = 0; byte < sizeof(native_char_type); ++byte) {
            h ^= (u >> (8 * byte)) & 0xffu;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

/// Writes into `out` the target's part of a temporary name whose other parts take
/// `fixed` characters (which leaves room for at least one), and returns its length: the
/// whole target if the name fits in max_name; else as much of it as fits, cut on a
/// character boundary (never before a UTF-8 continuation byte or the low half of a
/// UTF-16 surrogate pair), then "~" and a hash of the whole target, so that two long
/// targets that begin alike never share a temporary name. (Affixes so long that no hash
/// fits beside them get the cut alone.)
inline std::size_t temp_stem(native_char_type* out, std::size_t fixed, native_string_view target) noexcept {
    if (fixed + target.size() <= sys::max_name) {
        copy_chars(out, target);
        return target.size();
    }
    const bool hashed = fixed + name_hash_length + 1 <= sys::max_name;
    std::size_t keep = sys::max_name - fixed - (hashed ? name_hash_length : 0);
    while (keep > 0 && continues_character(target[keep])) --keep;
    native_char_type* p = copy_chars(out, target.substr(0, keep));
    if (hashed) {
        constexpr std::string_view hex = "0123456789abcdef";
        const std::uint64_t h = name_hash(target);
        *p++ = '~';
        for (int shift = 60; shift >= 0; shift -= 4) *p++ = static_cast<native_char_type>(hex[(h >> shift) & 15u]);
    }
    return static_cast<std::size_t>(p - out);
}

/// Writes a temporary name into `out` (max_name + 1 characters): prefix, target
/// (shortened to fit, see temp_stem()), then "." and random characters if `random`, then suffix. Fails
/// with ENAMETOOLONG when prefix and suffix alone do not fit, and EINVAL if either holds
/// a separator or NUL.
inline void make_temp_name(native_char_type* out, native_string_view prefix, native_string_view target,
                           native_string_view suffix, bool random, std::error_code& ec) noexcept {
    if (has_separator_or_nul(prefix) || has_separator_or_nul(suffix)) {
        ec = std::make_error_code(std::errc::invalid_argument);
        return;
    }
    const std::size_t fixed = temp_name_overhead(prefix, suffix, random);
    if (fixed + 1 > sys::max_name) {
        ec = std::make_error_code(std::errc::filename_too_long);
        return;
    }
    native_char_type* p = copy_chars(out, prefix);
    p += temp_stem(p, fixed, target);
    if (random) {
        *p++ = '.';
        std::uint64_t bits = next_random();
        for (std::size_t i = 0; i < random_name_length; ++i, bits >>= 6)
            *p++ = random_name_alphabet[(bits & 63u) % random_name_alphabet.size()];
    }
    copy_c_string(p, suffix);
}

/// How many random names to try before giving up on EEXIST (as glibc's mkstemp does,
/// bounded so that a directory full of stale names cannot make us spin).
inline constexpr int name_attempts = 100;

/// Makes something exclusively under a random name (make_temp_name with `random`) in
/// `out`: `make(out, ec)` is called with up to name_attempts names, until it answers
/// anything but file_exists. Errors: make_temp_name's, and make's (file_exists after
/// name_attempts collisions).
template <class Make>
void with_random_name(native_char_type* out, native_string_view prefix, native_string_view stem,
                      native_string_view suffix, std::error_code& ec, Make&& make) noexcept {
    for (int attempt = 0; attempt < name_attempts; ++attempt) {
        ec.clear();
        make_temp_name(out, prefix, stem, suffix, true, ec);
        if (ec) return;
        make(static_cast<const native_char_type*>(out), ec);
        if (ec != std::errc::file_exists) return;
    }
}

/// Gives an anonymous temporary file a random name in `r.dir`.
inline void name_anonymous(const temp_request& r, temp_file& t, std::error_code& ec) noexcept {
    if constexpr (sys::has_anonymous_files) {
        with_random_name(
            t.name, r.prefix, r.target_name, r.suffix, ec,
            [&](const native_char_type* n, std::error_code& e) { sys::link_anonymous(t.file, r.dir, n, e); });
    } else {
        ec = std::make_error_code(std::errc::operation_not_supported);
    }
    if (ec) t.name[0] = '\0';
}

}  // namespace detail

namespace temp {

/// A new file under a random name in the target's directory, created exclusively
/// (O_CREAT|O_EXCL|O_NOFOLLOW; never opens something planted there, never follows a
/// link), another name tried on EEXIST. A crash before the commit leaves it behind
/// under a recognisable name (see remove_stale_temps()).
/// Platforms: all (Windows: CreateFileW with CREATE_NEW). System calls: openat /
/// CreateFileW, one unless a name collides. Errors: EACCES, EROFS, ENOSPC, EDQUOT,
/// EMFILE, ENFILE, ENAMETOOLONG, EEXIST (after 100 collisions); on Windows
/// ERROR_ACCESS_DENIED, ERROR_WRITE_PROTECT, ERROR_DISK_FULL, ERROR_FILE_EXISTS.
struct mkstemp {
    static constexpr bool may_be_anonymous = false;  ///< the file always has a name
    /// Creates `prefix + target + "." + random + suffix`, exclusively.
    void create(const temp_request& r, temp_file& t, std::error_code& ec) const noexcept {
        detail::with_random_name(t.name, r.prefix, r.target_name, r.suffix, ec,
                                 [&](const native_char_type* n, std::error_code& e) {
                                     t.file = detail::sys::create_file(r.dir, n, r.mode, e);
                                 });
        if (ec) t.name[0] = '\0';
    }
};
static_assert(temp_policy<mkstemp>);

/// A file with a fixed name derived from the target (".name.tmp" by default), created
/// exclusively: a second writer of the same target, or a leftover of a crash, makes the
/// write fail with EEXIST (a cheap writer lock). Platforms: all (Windows: CreateFileW
/// with CREATE_NEW). System calls: openat / CreateFileW. Errors: EEXIST
/// (ERROR_FILE_EXISTS), and as mkstemp.
struct named {
    static constexpr bool may_be_anonymous = false;  ///< the file always has a name
    /// Its name is the target's with the affixes: an empty prefix and suffix are refused
    /// when the options are checked.
    static constexpr bool needs_affix = true;
    /// Creates `prefix + target + suffix`, exclusively.
    void create(const temp_request& r, temp_file& t, std::error_code& ec) const noexcept {
        detail::make_temp_name(t.name, r.prefix, r.target_name, r.suffix, false, ec);
        // An empty prefix and suffix would make the target its own temporary file.
        if (!ec && r.target_name == t.name) ec = std::make_error_code(std::errc::invalid_argument);
        if (!ec) t.file = detail::sys::create_file(r.dir, t.name, r.mode, ec);
        if (ec) t.name[0] = '\0';
    }
};
static_assert(temp_policy<named>);

#if ATOMICWRITES_HAS_O_TMPFILE
/// An unnamed file (open(2) with O_TMPFILE) in the target's directory: a crash while
/// writing leaves nothing behind and nobody can open it by name. At commit it is linked
/// straight onto the target, or, when overwriting, under a random name that is then
/// renamed over the target (see docs/design-notes.md).
/// Platforms: Linux 3.11+ on ext2/3/4, XFS, btrfs, tmpfs, F2FS and others (NFS, FUSE
/// and older kernels refuse it: use first_of<anonymous, mkstemp>). System calls: openat
/// (O_TMPFILE), linkat at commit; the first file of a process also asks once whether
/// it could be linked (faccessat of /proc/self/fd; a linkat probe where /proc is
/// missing). Errors: EOPNOTSUPP, EISDIR, EINVAL (not supported), EACCES, EROFS, ENOSPC,
/// EDQUOT, EMFILE; ENOTSUP where the file could be made but never linked: no /proc
/// mounted, and linkat(2) with AT_EMPTY_PATH refused (Linux before 6.10 without
/// CAP_DAC_READ_SEARCH; minimal chroots, some sandboxes). All of these are "not
/// supported" (is_not_supported), so first_of<anonymous, mkstemp> falls back at
/// creation, before any data is written.
struct anonymous {
    static constexpr bool may_be_anonymous = true;  ///< the file has no name
    /// Creates an unnamed file with O_TMPFILE.
    void create(const temp_request& r, temp_file& t, std::error_code& ec) const noexcept {
        t.name[0] = '\0';
        t.file = detail::sys::create_anonymous(r.dir, r.mode, ec);
        if (!ec && !detail::sys::can_link_anonymous(t.file)) [[unlikely]] {
            std::error_code ignored;
            detail::sys::close(t.file, ignored);
            t.file = invalid_handle;
            ec = std::make_error_code(std::errc::not_supported);
        }
    }
};
static_assert(temp_policy<anonymous>);
#endif

/// Tries First; where First says its kind of file is not available here (see
/// is_not_supported), uses Second. The usual use: first_of<anonymous, mkstemp>.
template <temp_policy First, temp_policy Second>
struct first_of {
    static constexpr bool may_be_anonymous =
        First::may_be_anonymous || Second::may_be_anonymous;  ///< if either policy may
    /// If either policy needs a temp_prefix or temp_suffix (temp_policy_needs_affix).
    static constexpr bool needs_affix = temp_policy_needs_affix<First> || temp_policy_needs_affix<Second>;
    /// The policy tried first.
    ATOMICWRITES_NO_UNIQUE_ADDRESS First first{};
    /// The policy used where First is not supported.
    ATOMICWRITES_NO_UNIQUE_ADDRESS Second second{};
    /// Creates the file with First, or with Second where First is not supported.
    void create(const temp_request& r, temp_file& t, std::error_code& ec) const noexcept {
        first.create(r, t, ec);
        if (!ec || !is_not_supported(ec)) return;
        ec.clear();
        second.create(r, t, ec);
    }
};

}  // namespace temp
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_TEMP_HPP
