// SPDX-License-Identifier: MIT
// Shared helpers of the test suite: fresh directories, file reading, the policy
// combinations, and hooks on the library's system-call seam.
#ifndef ATOMICWRITES_TESTS_SUPPORT_HPP
#define ATOMICWRITES_TESTS_SUPPORT_HPP

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/syscall_hook.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace test {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it afterwards.
class temp_dir {
public:
    temp_dir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/atomicwrites-test.XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    /// A fresh directory inside `parent` (to test on a particular filesystem).
    explicit temp_dir(const fs::path& parent) {
        std::string pattern = (parent / "atomicwrites-test.XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        // Make sure a test that removed permissions does not stop the clean-up.
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path operator/(const fs::path& name) const { return path_ / name; }

    /// The names in the directory, sorted.
    std::vector<std::string> names() const { return list(path_); }

    static std::vector<std::string> list(const fs::path& dir) {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    fs::path path_;
};

/// The whole content of a file.
inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Writes a file the ordinary, non-atomic way (to set up a target).
inline void write_plain(const fs::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

/// The permission bits (07777) of a path, not following a final symbolic link.
inline unsigned mode_of(const fs::path& p) {
    struct ::stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + p.string());
    return static_cast<unsigned>(st.st_mode) & 07777u;
}

/// Sets the umask for the lifetime of the object (tests only: the library never does).
class scoped_umask {
public:
    explicit scoped_umask(unsigned mask) : old_(::umask(static_cast<mode_t>(mask))) {}
    ~scoped_umask() { ::umask(old_); }
    scoped_umask(const scoped_umask&) = delete;
    scoped_umask& operator=(const scoped_umask&) = delete;

private:
    mode_t old_;
};

/// Changes the current directory for the lifetime of the object.
class scoped_cwd {
public:
    explicit scoped_cwd(const fs::path& p) : old_(fs::current_path()) { fs::current_path(p); }
    ~scoped_cwd() {
        std::error_code ec;
        fs::current_path(old_, ec);
    }
    scoped_cwd(const scoped_cwd&) = delete;
    scoped_cwd& operator=(const scoped_cwd&) = delete;

private:
    fs::path old_;
};

// --- the policy combinations --------------------------------------------------------

template <class... Ts>
using type_list = std::tuple<Ts...>;

/// Every sync x commit x temp combination of this platform.
using all_syncs = type_list<aw::sync::none, aw::sync::fdatasync, aw::sync::fsync, aw::sync::full_fsync>;
using all_commits = type_list<aw::commit::rename, aw::commit::link_unlink, aw::commit::renameat2, aw::commit::automatic>;
using all_temps = type_list<aw::temp::mkstemp, aw::temp::named, aw::temp::anonymous,
                            aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>;

template <class S, class C, class T>
struct product;
template <class... S, class... C, class... T>
struct product<type_list<S...>, type_list<C...>, type_list<T...>> {
    template <class S1>
    struct for_sync {
        template <class C1>
        using for_commit = type_list<aw::basic_atomic_writer<S1, C1, T>...>;
        using type = decltype(std::tuple_cat(std::declval<for_commit<C>>()...));
    };
    using type = decltype(std::tuple_cat(std::declval<typename for_sync<S>::type>()...));
};

/// All valid writers (every combination is valid on Linux: 4 x 4 x 4 = 64).
using all_writers = product<all_syncs, all_commits, all_temps>::type;
static_assert(std::tuple_size_v<all_writers> == 64);

/// Whether writer W can honour overwrite = true / false.
template <class W>
inline constexpr bool can_replace = W::commit_type::can_replace;
template <class W>
inline constexpr bool can_keep = W::commit_type::can_keep;

// --- hooks on the seam ---------------------------------------------------------------

/// Records every operation made (and refused) on this thread while installed.
class recording_hook : public aw::syscall_hook {
public:
    struct call {
        aw::sysop op;
        int error;  // 0, or the errno it failed with
    };
    std::vector<call> calls;

    void after(const aw::syscall_info& info, int error) noexcept override { calls.push_back({info.op, error}); }

    std::size_t count(aw::sysop op) const {
        return static_cast<std::size_t>(
            std::count_if(calls.begin(), calls.end(), [op](const call& c) { return c.op == op; }));
    }
    std::vector<aw::sysop> ops() const {
        std::vector<aw::sysop> out;
        for (const auto& c : calls) out.push_back(c.op);
        return out;
    }
};

/// Fails the `nth` (0-based) call of operation `op` with `error`; every other call is
/// made. Counts how many calls of each operation were seen.
class fail_nth_hook : public aw::syscall_hook {
public:
    fail_nth_hook(aw::sysop op, int error, unsigned nth = 0) : op_(op), error_(error), nth_(nth) {}

    int before(aw::syscall_info& info) noexcept override {
        if (info.op != op_) return 0;
        if (seen_++ == nth_) {
            fired = true;
            return error_;
        }
        return 0;
    }
    bool fired = false;

private:
    aw::sysop op_;
    int error_;
    unsigned nth_;
    unsigned seen_ = 0;
};

}  // namespace test

#endif  // ATOMICWRITES_TESTS_SUPPORT_HPP
