// SPDX-License-Identifier: MIT
// Deploying a static site so that visitors never see half of it: every release is
// written into a fresh version directory, made durable, and published by switching one
// symbolic link, `site`, in one step. A web server whose document root is `site` serves
// the complete old release or the complete new one (it resolves the link once per
// request), never pages of one with the style sheet of the other. The previous release
// stays beside it for a quick rollback; older ones are removed.
//
// The same for a configuration set, a model and its index, a plugin tree: anything read
// as a whole. A single file needs no tree: write_file() replaces it alone.
// Usage: deploy_site [DIR]   (without DIR: a fresh temporary directory, removed at the end)
#include <atomicwrites/links.hpp>
#include <atomicwrites/tree_writer.hpp>

#include "example_dir.hpp"

#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

namespace aw = atomicwrites;
namespace fs = std::filesystem;

/// Builds release `n` of the site and publishes it at `site`. Returns false (and says
/// why) if it was not published; the release visitors see is then unchanged.
bool deploy(const fs::path& site, int n) {
    const std::string release = std::to_string(n);
    try {
        aw::tree_writer tree(site, {.keep = 1});  // keep one previous release for a rollback
        tree.write_file("index.html", "<link rel=stylesheet href=css/site.css><h1>Release " + release + "</h1>\n");
        tree.write_file("css/site.css",
                        "h1 { color: " + std::string(n % 2 ? "navy" : "teal") + " } /* " + release + " */\n");
        tree.write_file("releases.txt", "release " + release + "\n");
        tree.commit();  // files synced, directories synced, then one switch of `site`
        std::cout << "published release " << release << " as " << tree.version_path().filename() << '\n';
        return true;
    } catch (const aw::durability_error& e) {
        // The new release is live; a later step (a sync, removing old releases) failed.
        std::cerr << "release " << release << " is live, but: " << e.what() << '\n';
        return true;
    } catch (const fs::filesystem_error& e) {
        // Nothing was published: the half-built release has been removed.
        std::cerr << "release " << release << " not published: " << e.what() << '\n';
        return false;
    }
}

int main(int argc, char** argv) {
    try {
        const example_dir dir(argc, argv);
        const fs::path site = dir / "site";
        for (int n = 1; n <= 3; ++n)
            if (!deploy(site, n)) return 1;
        expect(read_file(site / "releases.txt") == "release 3\n", "the last release is live");

        // Rolling back is one more link switch, to the release kept beside it (the next
        // deploy then removes the release rolled back from).
        expect(fs::exists(dir / ".site.v2"), "the previous release is kept");
        aw::symlink_atomic(".site.v2", site, {.overwrite = true});
        std::cout << "rolled back to " << read_file(site / "releases.txt");
        expect(read_file(site / "releases.txt") == "release 2\n", "the rollback is live");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "deploy_site: " << e.what() << '\n';
        return 1;
    }
}
