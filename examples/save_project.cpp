// SPDX-License-Identifier: MIT
// Saving a project of many files, the way an editor saves all its open documents: stage
// every file in one atomicwrites::batch, then commit() once. Each file is replaced
// atomically, as write_file() would do it, but the batch makes them durable together:
// every file's sync is issued before any file is published (concurrently, where the
// disk makes that pay), then each directory is synced once, instead of one file sync
// and one directory sync after the other for each file.
//
// The batch is not all-or-nothing: a crash during commit() can leave some files saved
// and others not, each one complete. If anything fails before the publications (a
// file cannot be created, a disk is full), nothing is saved; if a publication fails
// part-way, batch_error says which files were saved.
// Usage: save_project [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/batch.hpp>

#include "example_dir.hpp"

#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

namespace aw = atomicwrites;

int main(int argc, char** argv) {
    try {
        example_dir project(argc, argv);
        std::filesystem::create_directories(project / "src");
        std::filesystem::create_directories(project / "doc");

        // What the editor holds in memory: the documents, by path in the project.
        std::map<std::string, std::string> documents;
        for (int i = 0; i < 20; ++i)
            documents["src/module" + std::to_string(i) + ".cpp"] = "int f" + std::to_string(i) + "();\n";
        documents["doc/notes.md"] = "# Notes\n";

        aw::batch save;
        for (const auto& [name, text] : documents) save.write_file(project / name, text, {.overwrite = true});
        // A file too large to hold in memory is streamed into a writer of the batch.
        auto& manifest = save.add(project / "project.manifest", {.overwrite = true});
        for (const auto& [name, text] : documents) manifest.stream() << name << ' ' << text.size() << '\n';
        save.commit();  // every file synced, then published, then src/, doc/ and the project synced

        std::size_t durable = 0;
        for (const aw::batch_file_result& r : save.results()) durable += r.durable;
        expect(durable == documents.size() + 1, "every file saved and durable");
        expect(read_file(project / "src/module3.cpp") == "int f3();\n", "the content of a file");
        std::cout << "saved " << durable << " files, each durable\n";

        // A failure names the file and says what became of every other one.
        try {
            aw::batch again;
            again.write_file(project / "doc/notes.md", "# Notes, edited\n", {.overwrite = true});
            again.write_file(project / "missing-folder/file.txt", "text");  // fails at staging
            again.commit();
        } catch (const aw::batch_error& e) {
            std::cout << "not saved: " << e.path1().filename().string() << " (" << e.code().message() << "), "
                      << e.results().size() << " files rolled back\n";
            expect(e.state() == aw::batch_state::unchanged, "nothing published");
            expect(read_file(project / "doc/notes.md") == "# Notes\n", "the old notes kept");
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "save_project: " << e.what() << '\n';
        return 1;
    }
}
