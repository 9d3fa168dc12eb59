// SPDX-License-Identifier: MIT
// The policy combinations under test, and one writer type behind plain functions and
// constants, so that a typed suite compiles its checks once, not once per type.
#ifndef ATOMICWRITES_TESTS_SUPPORT_POLICIES_HPP
#define ATOMICWRITES_TESTS_SUPPORT_POLICIES_HPP

#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "fs.hpp"

#if defined(__GNUG__)
#include <cxxabi.h>
#endif

#include "policy_lists.hpp"

namespace test {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// Whether writer W can honour overwrite = true / false.
template <class W>
inline constexpr bool can_replace = W::commit_type::can_replace;
template <class W>
inline constexpr bool can_keep = W::commit_type::can_keep;

/// A readable name of a type, without the library's namespaces
/// ("basic_atomic_writer<sync::none, commit::rename, temp::mkstemp>"), for INFO().
template <class T>
std::string type_name() {
#if defined(__GNUG__)
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status),
                                             std::free);
    std::string name = status == 0 && d ? d.get() : typeid(T).name();
#else
    std::string name = typeid(T).name();
#endif
    for (std::string_view ns : {"atomicwrites::v1::", "atomicwrites::"}) {
        for (auto at = name.find(ns); at != name.npos; at = name.find(ns)) name.erase(at, ns.size());
    }
    return name;
}

/// One writer type W behind plain functions and constants: what a check needs to know of
/// its policies, and the one-shot writes. A suite that needs more of the type (a writer
/// object, a write with a pause in it) derives from this with its own function pointers.
struct writer_kind {
    std::string name;       ///< type_name<W>()
    bool can_replace;       ///< it honours overwrite = true
    bool can_keep;          ///< it honours overwrite = false
    bool durable;           ///< a commit that returned survives a crash
    bool syncs_metadata;    ///< the file sync covers the mode (not fdatasync)
    bool may_be_anonymous;  ///< its temporary file may have no name until the commit
    bool named_temp;        ///< temp::named: the temporary name is fixed
    bool mkstemp_temp;      ///< temp::mkstemp: a random temporary name
    bool anonymous_temp;    ///< temp::anonymous: never a named temporary file while writing
    /// write_file<W>(target, data, options, ec).
    aw::commit_state (*write)(const fs::path&, std::string_view, const aw::write_options&, std::error_code&);
    /// atomic_write<W>(target, data through a stream, options): the throwing form.
    void (*write_throwing)(const fs::path&, std::string_view, const aw::write_options&);
    /// The temporary file's path right after construction (empty if anonymous); the
    /// writer is then rolled back.
    fs::path (*temp_path)(const fs::path&, const aw::write_options&);

    /// The overwrite values this kind honours.
    std::vector<bool> overwrites() const {
        std::vector<bool> out;
        if (can_keep) out.push_back(false);
        if (can_replace) out.push_back(true);
        return out;
    }
    /// An overwrite value honoured for a new file (false where possible, the default).
    bool new_file_overwrite() const { return !can_keep; }
};

template <class W>
writer_kind kind_of() {
    using S = typename W::sync_type;
    using T = typename W::temp_type;
#if defined(_WIN32)
    constexpr bool file_sync_covers_mode = true;  // no fdatasync: FlushFileBuffers covers all
#else
    constexpr bool file_sync_covers_mode = !std::is_same_v<S, aw::sync::fdatasync>;
#endif
    return {
        .name = type_name<W>(), .can_replace = can_replace<W>, .can_keep = can_keep<W>, .durable = S::durable,
        .syncs_metadata = file_sync_covers_mode, .may_be_anonymous = T::may_be_anonymous,
        .named_temp = std::is_same_v<T, aw::temp::named>, .mkstemp_temp = std::is_same_v<T, aw::temp::mkstemp>,
#if defined(_WIN32)
        .anonymous_temp = false,
#else
        .anonymous_temp = std::is_same_v<T, aw::temp::anonymous>,
#endif
        .write = [](const fs::path& p, std::string_view data, const aw::write_options& o,
                    std::error_code& ec) { return aw::write_file<W>(p, data, o, ec); },
        .write_throwing =
            [](const fs::path& p, std::string_view data, const aw::write_options& o) {
                aw::atomic_write<W>(
                    p, [data](std::ostream& out) { out << data; }, o);
            },
        .temp_path = [](const fs::path& p, const aw::write_options& o) -> fs::path {
            W w(p, o);
            return w.temp_path();
        },
    };
}

/// Runs one check of a typed suite with the name of the policy combination in every
/// failure. `kind` describes the writer type under test (a writer_kind, or a suite's
/// type derived from it); the check is compiled once, not once per type.
template <class Kind>
void run_check(const Kind& kind, void (*check)(const Kind&)) {
    INFO(kind.name);
#if !defined(_WIN32)
    // On another filesystem (ATOMICWRITES_TEST_DIR), a policy that needs what it lacks
    // fails by design: temp::anonymous without O_TMPFILE, link_unlink without links.
    if (const char* why = missing_feature(kind.anonymous_temp, kind.name.find("link_unlink") != std::string::npos)) {
        WARN("skipped: " << why << " (" << kind.name << ")");
        return;
    }
#endif
    check(kind);
}

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_POLICIES_HPP
