// SPDX-License-Identifier: MIT
// Writing many files into one directory: open the directory once as an
// atomicwrites::directory and give it to every write. Each file is still replaced
// atomically and durably on its own; what the handle saves is opening and closing the
// directory for every file. write_options::metadata = metadata_mode::fresh also skips
// looking at the old file (its mode and owner are not kept), for files that the program
// alone owns, such as a cache or a set of generated pages.
//
// The handle names the directory itself, not its path: if the directory is renamed
// while a program writes into it, the writes follow it.
// Usage: many_files [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include "example_dir.hpp"

#include <exception>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <string>
#include <system_error>

namespace aw = atomicwrites;

/// Counts the directories the library opens on this thread while installed.
struct open_counter : aw::syscall_hook {
    int directories_opened = 0;
    void after(const aw::syscall_info& call, int error) noexcept override {
        if (call.op == aw::sysop::open_directory && error == 0) ++directories_opened;
    }
};

int main(int argc, char** argv) {
    try {
        example_dir scratch(argc, argv);
        std::filesystem::create_directory(scratch / "pages");

        constexpr int count = 50;
        open_counter counter;
        {
            aw::scoped_syscall_hook installed(counter);
            aw::directory pages(scratch / "pages");  // the one open of the directory

            const aw::write_options options{.overwrite = true, .metadata = aw::metadata_mode::fresh};
            for (int i = 0; i < count; ++i) {
                const std::string name = "page" + std::to_string(i) + ".html";
                aw::write_file(pages, name, "<p>page " + std::to_string(i) + "</p>\n", options);
            }

            // A stream works too, with the same handle.
            aw::atomic_write(
                pages, "index.html",
                [](std::ostream& out) {
                    for (int i = 0; i < count; ++i) out << "<a href=\"page" << i << ".html\">" << i << "</a>\n";
                },
                options);

            // The directory is renamed while the handle is open: the next write still
            // lands in it, under its new name.
            std::filesystem::rename(scratch / "pages", scratch / "site");
            aw::write_file(pages, "late.html", std::string_view("<p>written after the rename</p>\n"), options);

            // Names are relative to the handle; an absolute one is refused, nothing written.
            std::error_code ec;
            aw::write_file(pages, "/etc/passwd", std::string_view("no"), options, ec);
            expect(ec == std::errc::invalid_argument, "an absolute name is refused");
        }

        expect(counter.directories_opened == 1, "the directory was opened once for all the files");
        expect(read_file(scratch / "site" / "page7.html") == "<p>page 7</p>\n", "page7.html holds its page");
        expect(read_file(scratch / "site" / "late.html") == "<p>written after the rename</p>\n",
               "the write after the rename followed the directory");
        expect(!std::filesystem::exists(scratch / "pages"), "nothing was written at the old path");
        std::size_t files = 0;
        for (const auto& entry : std::filesystem::directory_iterator(scratch / "site")) {
            expect(entry.path().extension() == ".html", "no temporary file is left: " + entry.path().string());
            ++files;
        }
        expect(files == count + 2, "every page, the index and the late page are there");
        std::cout << "wrote " << files << " files into " << (scratch / "site").string() << ", opening it "
                  << counter.directories_opened << " time\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "many_files: " << e.what() << '\n';
        return 1;
    }
}
