// SPDX-License-Identifier: MIT
// The policy combinations of this platform, shared by the typed test suites and the
// benchmark: a policy added here is tested and measured.
#ifndef ATOMICWRITES_TESTS_SUPPORT_POLICY_LISTS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_POLICY_LISTS_HPP

#include <atomicwrites/atomic_writer.hpp>

#include <tuple>
#include <utility>

namespace test {

namespace aw = atomicwrites;

template <class... Ts>
using type_list = std::tuple<Ts...>;

/// Every sync x commit x temp combination of this platform.
#if defined(_WIN32)
using all_syncs = type_list<aw::sync::none, aw::sync::commit>;
using all_commits = type_list<aw::commit::movefileex, aw::commit::posix_rename, aw::commit::automatic>;
using all_temps = type_list<aw::temp::mkstemp, aw::temp::named>;
#else
using all_syncs = type_list<aw::sync::none, aw::sync::fdatasync, aw::sync::fsync, aw::sync::full_fsync>;
using all_commits =
    type_list<aw::commit::rename, aw::commit::link_unlink, aw::commit::renameat2, aw::commit::automatic>;
using all_temps = type_list<aw::temp::mkstemp, aw::temp::named, aw::temp::anonymous,
                            aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>;
#endif

template <class S, class C, class T>
struct product;
template <class... S, class... C, class... T>
struct product<type_list<S...>, type_list<C...>, type_list<T...>> {
    template <class S1>
    struct for_sync {
        template <class C1>
        using for_commit = type_list<aw::basic_atomic_writer<S1, C1, T>...>;
        using type = decltype(std::tuple_cat(std::declval<for_commit<C>>()...));
    };
    using type = decltype(std::tuple_cat(std::declval<typename for_sync<S>::type>()...));
};

/// All valid writers (every combination is valid: 4 x 4 x 4 = 64 on Linux, 2 x 3 x 2 = 12
/// on Windows).
using all_writers = product<all_syncs, all_commits, all_temps>::type;
#if defined(_WIN32)
static_assert(std::tuple_size_v<all_writers> == 12);
#else
static_assert(std::tuple_size_v<all_writers> == 64);
#endif

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_POLICY_LISTS_HPP
