// SPDX-License-Identifier: MIT
// GLib's durable, consistent replacement: the fastest durable peer.
#include "peers.hpp"

#include <glib.h>

namespace peers {

std::string glib_write(const char* path, const char* data, std::size_t size) {
    GError* error = nullptr;
    const auto flags = static_cast<GFileSetContentsFlags>(G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE);
    if (g_file_set_contents_full(path, data, static_cast<gssize>(size), flags, 0666, &error)) return {};
    std::string what = error != nullptr ? error->message : "g_file_set_contents_full failed";
    g_clear_error(&error);
    return what;
}

}  // namespace peers
