// SPDX-License-Identifier: MIT
// The directory handle on every platform: many writes into one open directory, one
// handle shared by threads, and every policy combination leaves it open and leaks
// nothing. The POSIX calls, errors and moves are in posix/unit/test_directory_posix.cpp;
// Windows' names and retries in windows/test_windows.cpp.
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace test;

TEST_CASE("directory: many files through one handle", "[directory]") {
    temp_dir dir;
    aw::directory d(dir.path());
    const std::size_t descriptors = open_descriptor_count();
    std::vector<std::string> expected;
    for (int i = 0; i < 50; ++i) {
        const std::string name = "file-" + std::to_string(i);
        aw::write_file(d, name, "content " + std::to_string(i), {.overwrite = i % 2 == 0});
        expected.push_back(name);
    }
    for (int i = 0; i < 50; i += 5) aw::write_file(d, "file-" + std::to_string(i), "again", {.overwrite = true});
    std::sort(expected.begin(), expected.end());
    CHECK(dir.names() == expected);  // no temporary file left
    CHECK(read_file(dir / "file-7") == "content 7");
    CHECK(read_file(dir / "file-10") == "again");
    CHECK(open_descriptor_count() == descriptors);  // nothing opened, nothing leaked
    CHECK(is_open_fd(d.native_handle()));

    SECTION("atomic_write and the writer") {
        aw::atomic_write(d, "streamed", [](std::ostream& out) { out << "streamed " << 42; });
        CHECK(read_file(dir / "streamed") == "streamed 42");
        {
            aw::atomic_writer w(d, "rolled-back", {});
            w.write("never published");
            CHECK(w.target() == dir / "rolled-back");
            CHECK(w.temp_path().parent_path() == dir.path());
        }
        CHECK_FALSE(fs::exists(dir / "rolled-back"));
        CHECK(is_open_fd(d.native_handle()));
    }
    SECTION("a relative path inside the directory") {
        fs::create_directory(dir / "sub");
        aw::write_file(d, "sub/inner", new_content);
        CHECK(read_file(dir / "sub" / "inner") == new_content);
        CHECK(temp_dir::list(dir / "sub") == std::vector<std::string>{"inner"});
        CHECK(open_descriptor_count() == descriptors);  // the subdirectory was closed
    }
}

TEST_CASE("directory: a confining handle refuses names that lead out of it, on every platform",
          "[directory][confinement]") {
    temp_dir dir;
    fs::create_directories(dir / "inside" / "sub");
    fs::create_directory(dir / "outside");
    aw::directory d(dir / "inside", aw::name_scope::beneath);
    for (const char* name : {"../outside/x", "sub/../../outside/x", "sub/../../inside/../outside/x"}) {
        INFO(name);
        const thrown_error e = catch_error([&] { aw::write_file(d, name, "new"); });
        REQUIRE(e.threw);
        CHECK(e.code == std::errc::cross_device_link);
        CHECK_THAT(e.what, Catch::Contains("leads out of the directory handle"));
    }
    CHECK(temp_dir::list(dir / "outside").empty());
    aw::write_file(d, "sub/../sub/x", "new");
    aw::write_file(d, "sub/y", "new");
    aw::write_file(d, "z", "new");
    CHECK(temp_dir::list(dir / "inside" / "sub") == std::vector<std::string>{"x", "y"});
    CHECK(read_file(dir / "inside" / "z") == "new");
}

TEST_CASE("directory: one handle shared by threads", "[directory][threads]") {
    temp_dir dir;
    aw::directory d(dir.path());
    constexpr int threads = 4;
    constexpr int files = 25;
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int i = 0; i < files; ++i) {
                std::error_code ec;
                std::string name = "t";  // built step by step: GCC 12 warns falsely on a + chain
                name += std::to_string(t);
                name += '-';
                name += std::to_string(i);
                aw::write_file(d, name, name, {.overwrite = true}, ec);
                if (ec) ++failures;
            }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(failures == 0);
    CHECK(dir.names().size() == threads * files);
    CHECK(read_file(dir / "t3-24") == "t3-24");
}

TEMPLATE_LIST_TEST_CASE("directory: every policy combination leaves the handle open", "[directory][typed]",
                        all_writers) {
    temp_dir dir;
    aw::directory d(dir.path());
    const std::size_t descriptors = open_descriptor_count();
    std::vector<std::string> expected;
    for (const bool overwrite : {false, true}) {
        if (!(overwrite ? can_replace<TestType> : can_keep<TestType>)) continue;
        for (int i = 0; i < 3; ++i) {
            const std::string name = (overwrite ? "replaced-" : "created-") + std::to_string(i);
            if (overwrite) write_plain(dir / name, old_content);
            aw::write_file<TestType>(d, name, new_content, {.overwrite = overwrite});
            CHECK(read_file(dir / name) == new_content);
            expected.push_back(name);
        }
    }
    {
        TestType w(d, "rolled-back", {.overwrite = can_replace<TestType>});
        w.write(new_content);
    }
    std::sort(expected.begin(), expected.end());
    CHECK(dir.names() == expected);
    CHECK(is_open_fd(d.native_handle()));
    CHECK(open_descriptor_count() == descriptors);
}
