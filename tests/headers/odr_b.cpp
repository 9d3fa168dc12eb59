// SPDX-License-Identifier: MIT
// header_odr, second translation unit: the same headers, the same templates as
// odr_a.cpp (see there).
#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/basic_atomic_writer.hpp>
#include <atomicwrites/batch.hpp>
#include <atomicwrites/commit.hpp>
#include <atomicwrites/concepts.hpp>
#include <atomicwrites/config.hpp>
#include <atomicwrites/defaults.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/group.hpp>
#include <atomicwrites/stale_temps.hpp>
#include <atomicwrites/sync.hpp>
#include <atomicwrites/syscall_hook.hpp>
#include <atomicwrites/temp.hpp>
#include <atomicwrites/types.hpp>
#include <atomicwrites/versions.hpp>
#if ATOMICWRITES_TEST_BOOST_FILESYSTEM
#include <atomicwrites/boost_filesystem.hpp>
#endif

#include "odr.hpp"

#include <ostream>
#include <string_view>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

namespace {

struct counting_hook : aw::syscall_hook {
    std::size_t calls = 0;
    void after(const aw::syscall_info&, int) noexcept override { ++calls; }
};

}  // namespace

void odr::write_from_b(const fs::path& dir) {
    aw::atomic_write(dir / "b.txt", [](std::ostream& out) { out << "from b"; }, {.overwrite = true});
    aw::write_file(dir / "shared.txt", std::string_view("written by b"), {.overwrite = true});
    aw::replace_atomic(dir / "shared.txt", dir / "replaced-by-b.txt");
#if ATOMICWRITES_TEST_BOOST_FILESYSTEM
    aw::write_file(boost::filesystem::path((dir / "boost.txt").native()), std::string_view("boost"),
                   {.overwrite = true});
#endif
}

std::size_t odr::count_from_b(void (*fn)(const fs::path&), const fs::path& dir) {
    counting_hook hook;
    aw::scoped_syscall_hook installed(hook);
    fn(dir);
    return hook.calls;
}
