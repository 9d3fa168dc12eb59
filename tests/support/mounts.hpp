// SPDX-License-Identifier: MIT
// Real filesystems for the tests: a small tmpfs, or a loop-mounted ext4, XFS or btrfs
// image, mounted for a test's lifetime (root).
#ifndef ATOMICWRITES_TESTS_SUPPORT_MOUNTS_HPP
#define ATOMICWRITES_TESTS_SUPPORT_MOUNTS_HPP

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#if !defined(_WIN32)
#include <sys/mount.h>
#endif

#include "processes.hpp"

namespace test {

namespace fs = std::filesystem;

#if !defined(_WIN32)
/// Mounts a small tmpfs on a new directory for the object's lifetime (root only).
class tmpfs_mount {
public:
    /// Mounts a tmpfs of `size` (mount(8) syntax: "1m", "64k") at `where` (created), if
    /// the process is root.
    explicit tmpfs_mount(const fs::path& where, const std::string& size = "1m") : where_(where), size_(size) {
        fs::create_directory(where_);
        if (!is_root()) return;
        const std::string options = "size=" + size_ + ",mode=0755";
        mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
        if (!mounted_) error_ = errno;
    }
    ~tmpfs_mount() {
        if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;

    bool mounted() const { return mounted_; }
    const fs::path& path() const { return where_; }
    /// Why there is no mount, for the message of a skipped test.
    std::string why_not() const {
        if (error_ == 0) return "mounting a tmpfs needs root";
        return "cannot mount a tmpfs here: " + std::error_code(error_, std::system_category()).message();
    }
    bool remount_read_only() { return remount(MS_RDONLY); }
    bool remount_read_write() { return remount(0); }

private:
    bool remount(unsigned long flags) {
        const std::string options = "size=" + size_;
        return ::mount("tmpfs", where_.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV | flags, options.c_str()) ==
               0;
    }
    fs::path where_;
    std::string size_;
    bool mounted_ = false;
    int error_ = 0;
};

/// A filesystem image of `size` (sparse) made with mkfs.`type` (ext4, xfs, btrfs) inside
/// `dir`, and loop-mounted at `dir`/mnt for the object's lifetime (root, and the mkfs
/// tool, needed; otherwise mounted() is false and why_not() says why).
class loop_image {
public:
    loop_image(const fs::path& dir, const std::string& type, const std::string& size = "320M")
        : image_(dir / (type + ".img")), where_(dir / "mnt") {
        fs::create_directory(where_);
        if (!is_root()) {
            why_ = "mounting a loop image needs root";
            return;
        }
        const std::string mkfs = "mkfs." + type;
        if (std::system(("command -v " + mkfs + " >/dev/null 2>&1").c_str()) != 0) {
            why_ = mkfs + " is not installed (scripts/install-deps)";
            return;
        }
        const std::string make = "truncate -s " + size + " '" + image_.string() + "' && " + mkfs + " -q " +
                                 (type == "ext4" ? "-F " : "-f ") + "'" + image_.string() + "' >/dev/null 2>&1";
        if (std::system(make.c_str()) != 0) {
            why_ = mkfs + " failed";
            return;
        }
        mounted_ =
            std::system(("mount -o loop '" + image_.string() + "' '" + where_.string() + "' 2>/dev/null").c_str()) == 0;
        if (!mounted_) why_ = "cannot loop-mount a " + type + " image here";
    }
    ~loop_image() {
        // A lazy unmount frees the loop device once the last file on it is closed.
        if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
        std::error_code ec;
        fs::remove(image_, ec);
    }
    loop_image(const loop_image&) = delete;
    loop_image& operator=(const loop_image&) = delete;

    bool mounted() const { return mounted_; }
    const fs::path& path() const { return where_; }
    const std::string& why_not() const { return why_; }

private:
    fs::path image_;
    fs::path where_;
    bool mounted_ = false;
    std::string why_;
};
#endif  // !_WIN32

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_MOUNTS_HPP
