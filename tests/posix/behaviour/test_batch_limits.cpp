// SPDX-License-Identifier: MIT
// A batch of 10,000 files under a descriptor limit of 128: write_file() closes its
// temporary files in synced groups, so the batch never runs out of descriptors and
// leaves none open; without the bound the same batch fails cleanly (EMFILE, every
// temporary file removed, no target touched).
#include <catch2/catch.hpp>

#include <atomicwrites/batch.hpp>

#include <string>
#include <system_error>

#include <sys/resource.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// Lowers the soft limit on open descriptors for the test's lifetime.
class descriptor_limit {
public:
    explicit descriptor_limit(rlim_t soft) {
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        struct ::rlimit lowered = saved_;
        lowered.rlim_cur = soft;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    }
    ~descriptor_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    descriptor_limit(const descriptor_limit&) = delete;
    descriptor_limit& operator=(const descriptor_limit&) = delete;

private:
    struct ::rlimit saved_ {};
};

std::string content_of(std::size_t i) { return "file " + std::to_string(i) + "\n"; }

}  // namespace

TEST_CASE("a batch of 10,000 files stays within 128 descriptors", "[batch]") {
    constexpr std::size_t n = 10000;
    test::temp_dir dir(test::fast_base());
    fs::create_directory(dir / "a");
    fs::create_directory(dir / "b");
    auto target = [&](std::size_t i) { return dir / (i % 2 == 0 ? "a" : "b") / ("f" + std::to_string(i)); };
    const std::size_t open_before = test::open_descriptor_count();
    {
        descriptor_limit limit(128);
        aw::batch b(aw::batch_options{.max_open_files = 64});
        for (std::size_t i = 0; i < n; ++i) b.write_file(target(i), content_of(i));
        CHECK(test::open_descriptor_count() < 128);
        b.commit();
        CHECK(b.results().size() == n);
    }
    CHECK(test::open_descriptor_count() == open_before);
    CHECK(test::temp_dir::list(dir / "a").size() == n / 2);
    CHECK(test::temp_dir::list(dir / "b").size() == n / 2);
    for (std::size_t i = 0; i < n; i += 997) CHECK(test::read_file(target(i)) == content_of(i));

    SECTION("without the bound: EMFILE at staging, the batch rolled back") {
        descriptor_limit limit(128);
        aw::batch b(aw::batch_options{.max_open_files = n});
        std::error_code ec;
        std::size_t staged = 0;
        for (; staged < 1000 && !ec; ++staged) b.write_file(target(staged), "new", {.overwrite = true}, ec);
        CHECK(ec == std::errc::too_many_files_open);
        CHECK(staged < 128);
        CHECK(b.size() == 0);
        CHECK(test::temp_dir::list(dir / "a").size() == n / 2);
        CHECK(test::read_file(target(0)) == content_of(0));
    }
}
