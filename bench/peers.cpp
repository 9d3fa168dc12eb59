// SPDX-License-Identifier: MIT
#include "peers.hpp"

namespace peers {

#if ATOMICWRITES_BENCH_GLIB
std::string glib_write(const char* path, const char* data, std::size_t size);
#endif
#if ATOMICWRITES_BENCH_QT
std::string qt_write(const char* path, const char* data, std::size_t size);
#endif

std::vector<peer> available() {
    std::vector<peer> out;
#if ATOMICWRITES_BENCH_GLIB
    out.push_back({"glib", "g_file_set_contents_full(CONSISTENT | DURABLE)", glib_write});
#endif
#if ATOMICWRITES_BENCH_QT
    out.push_back({"qt", "QSaveFile open, write, commit", qt_write});
#endif
    return out;
}

}  // namespace peers
