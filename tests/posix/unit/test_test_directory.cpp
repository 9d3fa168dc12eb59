// SPDX-License-Identifier: MIT
// The suite can run on another filesystem: ATOMICWRITES_TEST_DIR moves every test's
// working directory, the fast (/dev/shm) one included, and a relative value is fixed
// to where the tests started, whatever directory a test changes to.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;

/// Sets an environment variable for the object's lifetime, restoring it afterwards.
class scoped_env {
public:
    scoped_env(const char* name, const std::string& value) : name_(name) {
        const char* old = std::getenv(name);
        had_ = old != nullptr;
        if (had_) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~scoped_env() {
        if (had_)
            ::setenv(name_, old_.c_str(), 1);
        else
            ::unsetenv(name_);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

}  // namespace

TEST_CASE("ATOMICWRITES_TEST_DIR moves every test directory, the fast one included", "[support][filesystems]") {
    test::temp_dir chosen;  // where the variable points: made before it is set
    {
        scoped_env env("ATOMICWRITES_TEST_DIR", chosen.path().string());
        CHECK(test::base_dir() == chosen.path());
        CHECK(test::fast_base() == chosen.path());  // not /dev/shm
        test::temp_dir a;
        test::temp_dir b(test::fast_base());
        CHECK(a.path().parent_path() == chosen.path());
        CHECK(b.path().parent_path() == chosen.path());
        CHECK(chosen.names().size() == 2);
    }
    CHECK(chosen.names().empty());  // both removed
    CHECK(test::base_dir() != chosen.path());
}

TEST_CASE("a relative ATOMICWRITES_TEST_DIR stays where the tests started", "[support][filesystems]") {
    test::temp_dir start;
    fs::create_directory(start / "here");
    fs::create_directory(start / "elsewhere");
    const fs::path before = test::base_dir();  // fixes the starting directory, if not yet
    (void)before;
    const fs::path first = fs::current_path();
    scoped_env env("ATOMICWRITES_TEST_DIR", "rel");
    CHECK(test::base_dir() == first / "rel");
    test::scoped_cwd cwd(start / "elsewhere");
    CHECK(test::base_dir() == first / "rel");  // the change of directory does not move it
}

TEST_CASE("the filesystem's features are probed once and name what is missing", "[support][filesystems]") {
    // Nothing asked for: never missing.
    CHECK(test::missing_feature(false) == nullptr);
    const test::filesystem_features& f = test::features();
    if (!f.anonymous_files) {
        CHECK(std::string(test::missing_feature(true)).find("O_TMPFILE") != std::string::npos);
    } else {
        CHECK(test::missing_feature(true) == nullptr);
    }
    if (!f.hard_links) CHECK(std::string(test::missing_feature(false, true)).find("hard links") != std::string::npos);
    CHECK(&test::features() == &f);
}
