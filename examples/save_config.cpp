// SPDX-License-Identifier: MIT
// Saving a configuration file durably: load the settings, change one, write the whole
// file back. write_file() replaces the file in one step, so a program reading it at the
// same time, or the machine after a power cut, finds the old settings or the new ones,
// never half a file. With the default policies the new file is on stable storage when
// write_file() returns.
//
// Permissions: the first save creates the file 0600 (it holds a token); later saves keep
// whatever mode the file has by then, so an administrator's chmod is not undone.
// Usage: save_config [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/atomic_writer.hpp>

#include "example_dir.hpp"

#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

/// Settings as "key=value" lines.
using settings = std::map<std::string, std::string>;

/// The settings in `path`; none if the file does not exist yet.
settings load(const fs::path& path) {
    settings s;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) s[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return s;
}

/// Writes all of `s` to `path`, replacing the file in one durable step. Returns false
/// (and says why) if the settings were not saved; the old file is then intact.
bool save(const fs::path& path, const settings& s) {
    std::ostringstream text;
    for (const auto& [key, value] : s) text << key << '=' << value << '\n';

    aw::write_options options{.overwrite = true};
    std::error_code ec;
    if (!fs::exists(path, ec)) options.mode = fs::perms::owner_read | fs::perms::owner_write;  // a new file: 0600
    // An existing file keeps its mode (and owner, where we may set it): mode stays unknown.
    try {
        aw::write_file(path, text.str(), options);
        return true;
    } catch (const aw::durability_error& e) {
        // The new settings are in place; only the directory sync failed. They are in
        // effect, but a crash now could bring the old ones back: say so.
        std::cerr << "warning: saved, but not yet durable: " << e.what() << '\n';
        return true;
    } catch (const fs::filesystem_error& e) {
        std::cerr << "not saved: " << e.what() << '\n';
        return false;
    }
}

int main(int argc, char** argv) {
    try {
        example_dir dir(argc, argv);
        const fs::path path = dir / "app.conf";

        // First run: no file yet.
        settings s = load(path);
        s["server"] = "example.org";
        s["token"] = "s3cr3t";
        expect(save(path, s), "the first save works");
        expect((fs::status(path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write),
               "a new config file is created 0600");

        // The administrator lets a group read it.
        fs::permissions(path, fs::perms::group_read, fs::perm_options::add);

        // A later run changes one setting and saves everything again.
        s = load(path);
        expect(s.at("server") == "example.org", "the settings load back");
        s["server"] = "backup.example.org";
        expect(save(path, s), "the second save works");
        expect(load(path) == s, "the file holds the new settings");
        expect((fs::status(path).permissions() & fs::perms::all) ==
                   (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read),
               "the administrator's mode 0640 is kept");

        // A save into a directory that does not exist fails, and changes nothing.
        expect(!save(dir / "missing" / "app.conf", s), "a save that cannot work says so");

        std::cout << "saved " << path.string() << ":\n" << read_file(path);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "save_config: " << e.what() << '\n';
        return 1;
    }
}
