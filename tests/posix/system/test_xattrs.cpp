// SPDX-License-Identifier: MIT
// Extended attributes of a replaced file: its POSIX ACL, user.* attributes and label
// carry over; file capabilities do not; a private file does not take its directory's
// default ACL; a filesystem without attributes is not an error. Access is checked with
// a real other user (nobody, in a child process).
#include "support.hpp"

#include <atomicwrites/atomic_writer.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace test;

namespace {

constexpr unsigned nobody = 65534;

/// One ACL entry: tag (ACL_USER_OBJ 1, ACL_USER 2, ACL_GROUP_OBJ 4, ACL_GROUP 8,
/// ACL_MASK 0x10, ACL_OTHER 0x20), permissions (rwx = 4,2,1), id (named entries).
struct acl_entry {
    unsigned tag;
    unsigned perm;
    std::uint32_t id = 0xffffffffu;
};

/// The kernel's xattr form of an ACL (entries in tag, then id, order).
std::string acl_bytes(const std::vector<acl_entry>& entries) {
    std::string out{'\x02', '\0', '\0', '\0'};
    for (const acl_entry& e : entries) {
        const unsigned char b[8] = {static_cast<unsigned char>(e.tag),      static_cast<unsigned char>(e.tag >> 8),
                                    static_cast<unsigned char>(e.perm),     0,
                                    static_cast<unsigned char>(e.id),       static_cast<unsigned char>(e.id >> 8),
                                    static_cast<unsigned char>(e.id >> 16), static_cast<unsigned char>(e.id >> 24)};
        out.append(reinterpret_cast<const char*>(b), sizeof b);
    }
    return out;
}

/// The value of attribute `name` of `p`, or empty (with `found` false) if it has none.
std::string get_attr(const fs::path& p, const char* name, bool* found = nullptr) {
    char buf[4096];
    const ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
    if (found != nullptr) *found = n >= 0;
    return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

/// Sets an attribute; returns errno (0 on success).
int set_attr(const fs::path& p, const char* name, const std::string& value) {
    return ::lsetxattr(p.c_str(), name, value.data(), value.size(), 0) == 0 ? 0 : errno;
}

/// Whether nobody (a real other user) can open `p` for reading; -1 if it cannot be asked.
int nobody_reads(const fs::path& p) {
    const int code = as_nobody(p.parent_path(), X_OK, [&p] {
        const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return errno == EACCES ? 1 : 2;
        ::close(fd);
        return 0;
    });
    return code == 0 ? 1 : code == 1 ? 0 : -1;
}

/// A directory others may enter, for the tests that ask nobody.
struct open_dir {
    temp_dir dir;
    open_dir() { fs::permissions(dir.path(), fs::perms(0755)); }
};

}  // namespace

TEST_CASE("a replaced file keeps its access ACL: named users keep access, the owning group gains none",
          "[xattrs][acl][root]") {
    if (!is_root()) {
        WARN("skipped: needs root (to ask another user, nobody)");
        return;
    }
    open_dir d;
    const fs::path f = d.dir / "f";
    write_plain(f, "old");
    REQUIRE(::chown(f.c_str(), 0, nobody) == 0);  // nobody's group owns it, with no rights
    // 0600 with user:nobody:r--: ls shows 0640, the group bits being the mask.
    const std::string acl = acl_bytes({{0x01, 6}, {0x02, 4, nobody}, {0x04, 0}, {0x10, 4}, {0x20, 0}});
    const int e = set_attr(f, "system.posix_acl_access", acl);
    if (e == ENOTSUP || e == EOPNOTSUPP) {
        WARN("skipped: the filesystem of " << utf8(d.dir.path()) << " has no POSIX ACLs");
        return;
    }
    REQUIRE(e == 0);
    REQUIRE(mode_of(f) == 0640);
    REQUIRE(nobody_reads(f) == 1);  // as the named user

    aw::write_file(f, std::string("new"), {.overwrite = true});

    CHECK(read_file(f) == "new");
    CHECK(get_attr(f, "system.posix_acl_access") == acl);
    CHECK(mode_of(f) == 0640);
    CHECK(nobody_reads(f) == 1);

    // The owning group's rights: the group entry stays ---, it is not the mask's r--.
    const std::string group_only = acl_bytes({{0x01, 6}, {0x04, 0}, {0x08, 4, 1}, {0x10, 4}, {0x20, 0}});
    REQUIRE(set_attr(f, "system.posix_acl_access", group_only) == 0);
    REQUIRE(::chown(f.c_str(), 0, nobody) == 0);
    REQUIRE(nobody_reads(f) == 0);
    aw::write_file(f, std::string("newer"), {.overwrite = true});
    CHECK(get_attr(f, "system.posix_acl_access") == group_only);
    CHECK(nobody_reads(f) == 0);  // a member of the owning group only: no access, as before
}

TEST_CASE("a replaced private file does not gain the directory's default ACL", "[xattrs][acl][root]") {
    if (!is_root()) {
        WARN("skipped: needs root (to ask another user, nobody)");
        return;
    }
    open_dir d;
    const fs::path f = d.dir / "p";
    write_plain(f, "private");
    ::chmod(f.c_str(), 0640);
    const std::string dacl = acl_bytes({{0x01, 7}, {0x02, 6, nobody}, {0x04, 5}, {0x10, 7}, {0x20, 5}});
    const int e = set_attr(d.dir.path(), "system.posix_acl_default", dacl);
    if (e == ENOTSUP || e == EOPNOTSUPP) {
        WARN("skipped: the filesystem of " << utf8(d.dir.path()) << " has no POSIX ACLs");
        return;
    }
    REQUIRE(e == 0);
    REQUIRE(nobody_reads(f) == 0);

    aw::write_file(f, std::string("private v2"), {.overwrite = true});

    CHECK(read_file(f) == "private v2");
    bool has_acl = true;
    get_attr(f, "system.posix_acl_access", &has_acl);
    CHECK_FALSE(has_acl);
    CHECK(mode_of(f) == 0640);
    CHECK(nobody_reads(f) == 0);

    // A new file takes the default ACL, as open(2) gives it.
    aw::write_file(d.dir / "new", std::string("x"));
    bool new_has_acl = false;
    get_attr(d.dir / "new", "system.posix_acl_access", &new_has_acl);
    CHECK(new_has_acl);
}

TEST_CASE("user attributes carry over; file capabilities do not", "[xattrs]") {
    temp_dir dir;
    const fs::path f = dir / "f";
    write_plain(f, "old");
    const int e = set_attr(f, "user.origin", "kept");
    if (e == ENOTSUP || e == EOPNOTSUPP) {
        WARN("skipped: the filesystem of " << utf8(dir.path()) << " has no user attributes");
        return;
    }
    REQUIRE(e == 0);
    const std::string big(3000, 'v');  // larger than the first buffer
    REQUIRE(set_attr(f, "user.big", big) == 0);
    // security.capability: version 2, cap_net_bind_service permitted (root only).
    std::string caps(20, '\0');
    caps[3] = 0x02;
    caps[4] = 0x00;
    caps[5] = 0x04;  // bit 10: cap_net_bind_service
    const bool had_caps = is_root() && set_attr(f, "security.capability", caps) == 0;

    aw::write_file(f, std::string("new"), {.overwrite = true});

    CHECK(read_file(f) == "new");
    CHECK(get_attr(f, "user.origin") == "kept");
    CHECK(get_attr(f, "user.big") == big);
    if (had_caps) {
        bool found = true;
        get_attr(f, "security.capability", &found);
        CHECK_FALSE(found);  // new content is a new program: the kernel drops them on write too
    }
}

TEST_CASE("write_options::xattrs = false and metadata_mode::fresh copy no attributes", "[xattrs]") {
    temp_dir dir;
    const fs::path f = dir / "f";
    write_plain(f, "old");
    const int e = set_attr(f, "user.origin", "kept");
    if (e == ENOTSUP || e == EOPNOTSUPP) {
        WARN("skipped: the filesystem of " << utf8(dir.path()) << " has no user attributes");
        return;
    }
    aw::syscall_counter calls;
    {
        aw::scoped_syscall_hook counting(calls);
        aw::write_file(f, std::string("new"), {.overwrite = true, .xattrs = false});
    }
    CHECK(calls.count(aw::sysop::list_xattrs) == 0);
    bool found = true;
    get_attr(f, "user.origin", &found);
    CHECK_FALSE(found);

    REQUIRE(set_attr(f, "user.origin", "kept") == 0);
    aw::write_file(f, std::string("newer"), {.overwrite = true, .metadata = aw::metadata_mode::fresh});
    get_attr(f, "user.origin", &found);
    CHECK_FALSE(found);
}

TEST_CASE("a filesystem without extended attributes is not an error", "[xattrs]") {
    temp_dir dir;
    const fs::path f = dir / "f";
    write_plain(f, "old");
    ::chmod(f.c_str(), 0640);
    for (const int error : {ENOTSUP, EOPNOTSUPP}) {
        // list_xattrs answers "not supported", and so does the ACL that sets the mode.
        struct no_xattrs : aw::syscall_hook {
            int error;
            int before(aw::syscall_info& info) noexcept override {
                return info.op == aw::sysop::list_xattrs || info.op == aw::sysop::set_xattr ? error : 0;
            }
        } hook;
        hook.error = error;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(f, std::string("new"), {.overwrite = true});
        }
        CHECK(read_file(f) == "new");
        CHECK(mode_of(f) == 0640);  // set by fchmod instead
        CHECK(dir.names() == std::vector<std::string>{"f"});
    }
}

TEST_CASE("a failure to copy extended attributes names its step and changes nothing", "[xattrs]") {
    temp_dir dir;
    const fs::path f = dir / "f";
    write_plain(f, "old");
    struct failing : aw::syscall_hook {
        int before(aw::syscall_info& info) noexcept override { return info.op == aw::sysop::list_xattrs ? EIO : 0; }
    } hook;
    aw::scoped_syscall_hook scope(hook);
    try {
        aw::write_file(f, std::string("new"), {.overwrite = true});
        FAIL("no error");
    } catch (const fs::filesystem_error& e) {
        CHECK(contains(e.what(), "copy extended attributes"));
        CHECK(e.path1() == f);
        CHECK(e.code() == std::error_code(EIO, std::system_category()));
    }
    CHECK(read_file(f) == "old");
    CHECK(dir.names() == std::vector<std::string>{"f"});
}
