// SPDX-License-Identifier: MIT
// header_odr, first translation unit and main(). Both translation units include every
// public header and instantiate the same templates (atomic_writer, write_file, ...), so
// the link fails if a header defines a non-inline function or variable. A hook installed
// in one translation unit must see the system calls made from the other: the per-thread
// hook is one inline variable, not one copy per translation unit.
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

#include <chrono>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

namespace {

struct counting_hook : aw::syscall_hook {
    std::size_t calls = 0;
    void after(const aw::syscall_info&, int) noexcept override { ++calls; }
};

std::string content_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int failures = 0;

/// A fresh directory in the system's temporary directory ($TMPDIR on POSIX).
fs::path make_directory() {
    const auto seed = std::chrono::steady_clock::now().time_since_epoch().count();
    for (int i = 0; i < 100; ++i) {
        fs::path p = fs::temp_directory_path() / ("atomicwrites-odr." + std::to_string(seed + i));
        if (fs::create_directory(p)) return p;
    }
    throw std::runtime_error("cannot make a fresh directory");
}

void check(bool ok, const std::string& what) {
    if (!ok) {
        std::cerr << "header_odr: FAILED: " << what << '\n';
        ++failures;
    }
}

}  // namespace

void odr::write_from_a(const fs::path& dir) {
    aw::atomic_writer w(dir / "a.txt", {.overwrite = true});
    w.stream() << "from a";
    w.commit();
    aw::write_file(dir / "shared.txt", std::string_view("written by a"), {.overwrite = true});
    aw::replace_atomic(dir / "shared.txt", dir / "replaced-by-a.txt");
}

int main() {
    fs::path dir;
    try {
        dir = make_directory();
        odr::write_from_a(dir);
        odr::write_from_b(dir);
        check(content_of(dir / "a.txt") == "from a", "a.txt holds what odr_a.cpp wrote");
        check(content_of(dir / "b.txt") == "from b", "b.txt holds what odr_b.cpp wrote");
        check(content_of(dir / "replaced-by-a.txt") == "written by a", "replace_atomic from odr_a.cpp");
        check(content_of(dir / "replaced-by-b.txt") == "written by b", "replace_atomic from odr_b.cpp");

        counting_hook hook;
        {
            aw::scoped_syscall_hook installed(hook);
            odr::write_from_b(dir);
        }
        check(hook.calls > 0, "a hook installed in odr_a.cpp sees the calls made in odr_b.cpp");
        check(odr::count_from_b(&odr::write_from_a, dir) > 0,
              "a hook installed in odr_b.cpp sees the calls made in odr_a.cpp");
    } catch (const std::exception& e) {
        std::cerr << "header_odr: " << e.what() << '\n';
        ++failures;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (failures == 0) std::cout << "header_odr: two translation units with every header link and agree\n";
    return failures == 0 ? 0 : 1;
}
