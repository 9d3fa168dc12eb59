// SPDX-License-Identifier: MIT
// Other libraries' atomic file writes, measured in the same run when they are built in
// (meson option 'peers'): GLib's g_file_set_contents_full() and Qt's QSaveFile.
#ifndef ATOMICWRITES_BENCH_PEERS_HPP
#define ATOMICWRITES_BENCH_PEERS_HPP

#include <cstddef>
#include <string>
#include <vector>

namespace peers {

/// Replaces or creates `path` with [data, data + size). Returns an empty string, or
/// what went wrong.
using write_fn = std::string (*)(const char* path, const char* data, std::size_t size);

struct peer {
    const char* name;  ///< short, used in counter names
    const char* what;  ///< what it does, for the report
    write_fn write;
};

/// The peers built into this program.
std::vector<peer> available();

}  // namespace peers

#endif  // ATOMICWRITES_BENCH_PEERS_HPP
