// SPDX-License-Identifier: MIT
// The atomic-write command's code, in-process: what it writes, and what it reports when
// a system call fails, injected at every call through the library's seam. The command
// line alone is tested by test_atomic_write_options.cpp; the real binary, pipelines and
// signals by test-atomic-write.sh.
#include <catch2/catch.hpp>

#include "atomic_write/run.hpp"
#include "support.hpp"

#include <cerrno>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace cli = atomic_write_cli;
namespace aw = atomicwrites;
namespace fs = std::filesystem;
using test::new_content;
using test::old_content;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != s.npos; }

struct outcome {
    int status;
    std::string out;
    std::string err;
};

/// Parses `args` (without the program name) as the command would, and runs the result
/// with `input` as standard input and no signal handling.
outcome run_cli(const std::vector<std::string>& args, int input = -1) {
    std::vector<const char*> argv{"atomic-write"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    cli::options o;
    std::ostringstream out;
    std::ostringstream err;
    int status = cli::parse(static_cast<int>(argv.size()), argv.data(), o, err);
    if (status == cli::success) status = cli::run(o, input, nullptr, out, err);
    return {status, out.str(), err.str()};
}

/// run_cli() with `hook` installed on this thread.
outcome run_cli_with(atomicwrites::syscall_hook& hook, const std::vector<std::string>& args, int input) {
    atomicwrites::scoped_syscall_hook installed(hook);
    return run_cli(args, input);
}

/// A file holding `content`, open for reading: the standard input of one run.
class input_file {
public:
    input_file(const test::temp_dir& dir, const std::string& content) : path_(dir / "input") {
        test::write_plain(path_, content);
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("cannot open " + path_.string());
    }
    ~input_file() {
        ::close(fd_);
        fs::remove(path_);
    }
    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;
    int fd() const { return fd_; }

private:
    fs::path path_;
    int fd_;
};

}  // namespace

TEST_CASE("--help and --version write to standard output and do nothing else", "[tool][help]") {
    outcome r = run_cli({"--help", "f"});
    CHECK(r.status == cli::success);
    CHECK(r.out == cli::help_text);
    CHECK(r.err.empty());
    r = run_cli({"-V"});
    CHECK(r.status == cli::success);
    CHECK(r.out == "atomic-write (atomicwrites) " + std::to_string(ATOMICWRITES_VERSION_MAJOR) + "." +
                       std::to_string(ATOMICWRITES_VERSION_MINOR) + "." + std::to_string(ATOMICWRITES_VERSION_PATCH) +
                       "\n");
}

TEST_CASE("input larger than a chunk arrives byte for byte", "[tool]") {
    test::temp_dir dir;
    const std::string content = test::pattern(3 * cli::chunk_size + 123);
    input_file in(dir, content);
    const outcome r = run_cli({(dir / "f").string()}, in.fd());
    CHECK(r.status == cli::success);
    CHECK(r.err.empty());
    CHECK(test::read_file(dir / "f") == content);
}

TEST_CASE("--progress ends with the size written and the time taken; a failure on a line of its own",
          "[tool][progress]") {
    test::temp_dir dir;
    const std::string content = test::pattern(3 * cli::chunk_size);
    const std::string lead = "atomic-write: " + (dir / "f").string() + ": ";
    {
        input_file in(dir, content);
        const outcome r = run_cli({"--progress", (dir / "f").string()}, in.fd());
        CHECK(r.status == cli::success);
        CHECK(test::read_file(dir / "f") == content);
        // Not a terminal: whole lines; the input is too small for a line while writing.
        CHECK(r.err.starts_with(lead + "192 KiB written in "));
        CHECK(contains(r.err, "; syncing\n" + lead + "192 KiB written in "));
        CHECK(contains(r.err, ", synced in "));
        CHECK(r.err.ends_with(" s\n"));
    }
    {
        input_file in(dir, new_content);
        test::scripted_hook hook;
        hook.fail_op(aw::sysop::fsync, EIO);
        const outcome r = run_cli_with(hook, {"--progress", (dir / "f").string()}, in.fd());
        CHECK(r.status == cli::failed);
        CHECK(test::read_file(dir / "f") == content);
        CHECK(contains(r.err, "; syncing\n" + lead + "sync temporary file: "));
        CHECK_FALSE(contains(r.err, "synced in"));
    }
}

TEST_CASE("each sync level makes its syncs", "[tool][sync]") {
    struct level {
        const char* name;
        std::size_t fsyncs;
        std::size_t fdatasyncs;
    };
    // One file sync before the rename and one directory sync after it (full_fsync is
    // fsync(2) on Linux).
    const level levels[] = {{"none", 0, 0}, {"data", 1, 1}, {"full", 2, 0}};
    for (const level& l : levels) {
        INFO(l.name);
        test::temp_dir dir;
        input_file in(dir, new_content);
        test::recording_hook hook;
        const outcome r = run_cli_with(hook, {std::string("--sync=") + l.name, (dir / "f").string()}, in.fd());
        CHECK(r.status == cli::success);
        CHECK(hook.count(atomicwrites::sysop::fsync) == l.fsyncs);
        CHECK(hook.count(atomicwrites::sysop::fdatasync) == l.fdatasyncs);
        CHECK(test::read_file(dir / "f") == new_content);
    }
}

TEST_CASE("a failure at any system call: status 1 and the old file, or status 5 and the new one", "[tool][faults]") {
    // Every combination the command offers: each sync level, replacing or creating.
    for (const char* sync : {"--sync=full", "--sync=data", "--sync=none"}) {
        for (const bool replace : {true, false}) {
            INFO(sync << (replace ? " replacing" : " creating with --no-clobber"));
            auto arguments = [&](const test::temp_dir& dir) {
                std::vector<std::string> args{sync, (dir / "f").string()};
                if (!replace) args.insert(args.begin(), "-n");
                return args;
            };
            std::size_t calls = 0;
            std::vector<atomicwrites::sysop> ops;
            {
                test::temp_dir dir;
                if (replace) test::write_plain(dir / "f", old_content);
                input_file in(dir, new_content);
                test::recording_hook count;
                REQUIRE(run_cli_with(count, arguments(dir), in.fd()).status == cli::success);
                calls = count.calls.size();
                for (const auto& c : count.calls) ops.push_back(c.op);
            }
            REQUIRE(calls >= 6);
            for (std::size_t i = 0; i < calls; ++i) {
                // The minimal ACL that sets a replaced file's mode: its failure is
                // answered with fchmod, no error.
                if (ops[i] == atomicwrites::sysop::set_xattr) continue;
                test::temp_dir dir;
                if (replace) test::write_plain(dir / "f", old_content);
                input_file in(dir, new_content);
                const std::vector<std::string> before = dir.names();
                test::scripted_hook hook;
                hook.fail_call(i, EIO);
                const outcome r = run_cli_with(hook, arguments(dir), in.fd());
                INFO("call " << i << ": " << hook.trace() << "\n" << r.err);
                REQUIRE(hook.injected() == 1);
                CHECK(contains(r.err, "atomic-write: " + (dir / "f").string() + ": "));
                CHECK(contains(r.err, ": Input/output error ("));
                if (r.status == cli::failed) {
                    CHECK(contains(r.err, "(file not changed)"));
                    CHECK(dir.names() == before);
                    if (replace) CHECK(test::read_file(dir / "f") == old_content);
                } else {
                    CHECK(r.status == cli::not_durable);
                    CHECK(contains(r.err, "(the new content is in place, but may not survive a crash)"));
                    CHECK(test::read_file(dir / "f") == new_content);
                }
            }
        }
    }
}

TEST_CASE("a failed sync names its step: the file's before the rename (1), the directory's after it (5)",
          "[tool][faults]") {
    struct failure {
        std::vector<std::string> options;
        atomicwrites::sysop op;
        int error;
        std::size_t nth;
        int status;
        std::string message;
        std::string content;
    };
    const failure failures[] = {
        {{"--sync=data"},
         atomicwrites::sysop::fdatasync,
         ENOSPC,
         0,
         cli::failed,
         ": sync temporary file: No space left on device (file not changed)\n",
         old_content},
        // With --sync=full the file's fsync is the first, the directory's the second.
        {{},
         atomicwrites::sysop::fsync,
         EIO,
         1,
         cli::not_durable,
         ": sync directory: Input/output error (the new content is in place, but may not survive a crash)\n",
         new_content},
    };
    for (const failure& f : failures) {
        INFO(f.message);
        test::temp_dir dir;
        test::write_plain(dir / "f", old_content);
        input_file in(dir, new_content);
        test::scripted_hook hook;
        hook.fail_op(f.op, f.error, f.nth);
        std::vector<std::string> args = f.options;
        args.push_back((dir / "f").string());
        const outcome r = run_cli_with(hook, args, in.fd());
        CHECK(r.status == f.status);
        CHECK(r.err == "atomic-write: " + (dir / "f").string() + f.message);
        CHECK(test::read_file(dir / "f") == f.content);
        CHECK(dir.names() == std::vector<std::string>{"f", "input"});
    }
}

TEST_CASE("input that cannot be read is status 4, the old file kept", "[tool][input]") {
    test::temp_dir dir;
    test::write_plain(dir / "f", old_content);
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(d >= 0);
    outcome r = run_cli({(dir / "f").string()}, d);
    ::close(d);
    CHECK(r.status == cli::input_failed);
    CHECK(r.err ==
          "atomic-write: " + (dir / "f").string() + ": read standard input: Is a directory (file not changed)\n");
    r = run_cli({(dir / "f").string()}, -1);
    CHECK(r.status == cli::input_failed);
    CHECK(contains(r.err, "read standard input: Bad file descriptor"));
    CHECK(test::read_file(dir / "f") == old_content);
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("COMMAND decides by its exit status", "[tool][command]") {
    test::temp_dir dir;
    const std::string f = (dir / "f").string();
    test::write_plain(dir / "f", old_content);

    outcome r = run_cli({f, "sh", "-c", "printf 'from the command'"});
    CHECK(r.status == cli::success);
    CHECK(test::read_file(dir / "f") == "from the command");

    test::write_plain(dir / "f", old_content);
    r = run_cli({f, "sh", "-c", "printf partial; exit 7"});
    CHECK(r.status == cli::input_failed);
    CHECK(r.err == "atomic-write: " + f + ": run command 'sh': it exited with status 7 (file not changed)\n");
    CHECK(test::read_file(dir / "f") == old_content);

    r = run_cli({f, "sh", "-c", "printf partial; kill -TERM $$"});
    CHECK(r.status == cli::input_failed);
    CHECK(contains(r.err, "run command 'sh': it was killed by signal 15"));
    CHECK(test::read_file(dir / "f") == old_content);

    r = run_cli({f, "atomic-write-test-no-such-command"});
    CHECK(r.status == cli::not_found);
    CHECK(contains(r.err, "run command 'atomic-write-test-no-such-command': No such file or directory"));
    CHECK(test::read_file(dir / "f") == old_content);
    CHECK(dir.names() == std::vector<std::string>{"f"});
}

TEST_CASE("--link makes and replaces a link; a failure at any call: status 1 and the old link, or 5", "[tool][link]") {
    for (const bool replace : {true, false}) {
        INFO((replace ? "replacing" : "creating with --no-clobber"));
        auto arguments = [&](const test::temp_dir& dir) {
            std::vector<std::string> args{"--link", "v2", (dir / "current").string()};
            if (!replace) args.insert(args.begin(), "-n");
            return args;
        };
        auto prepare = [&](const test::temp_dir& dir) {
            if (replace) fs::create_symlink("v1", dir / "current");
        };
        std::size_t calls = 0;
        {
            test::temp_dir dir;
            prepare(dir);
            test::recording_hook count;
            const outcome r = run_cli_with(count, arguments(dir), -1);
            REQUIRE(r.status == cli::success);
            CHECK(r.err.empty());
            CHECK(fs::read_symlink(dir / "current") == "v2");
            calls = count.calls.size();
            const outcome again = run_cli({"-n", "--link", "v3", (dir / "current").string()});
            CHECK(again.status == cli::target_exists);
            CHECK(contains(again.err, "--no-clobber: File exists (file not changed)"));
        }
        REQUIRE(calls >= 3);
        for (std::size_t i = 0; i < calls; ++i) {
            test::temp_dir dir;
            prepare(dir);
            const std::vector<std::string> before = dir.names();
            test::scripted_hook hook;
            hook.fail_call(i, EIO);
            const outcome r = run_cli_with(hook, arguments(dir), -1);
            INFO("call " << i << ": " << hook.trace() << "\n" << r.err);
            CHECK(contains(r.err, "atomic-write: " + (dir / "current").string() + ": "));
            CHECK(contains(r.err, ": Input/output error ("));
            if (r.status == cli::failed) {
                CHECK(contains(r.err, "(file not changed)"));
                CHECK(dir.names() == before);
                if (replace) CHECK(fs::read_symlink(dir / "current") == "v1");
            } else {
                CHECK(r.status == cli::not_durable);
                CHECK(fs::read_symlink(dir / "current") == "v2");
            }
        }
    }
}

TEST_CASE("--tree publishes a copy of a directory; a failure at any call: status 1 and the old tree, or 5",
          "[tool][tree]") {
    auto prepare = [](const test::temp_dir& dir) {
        fs::create_directories(dir / "build" / "css");
        test::write_plain(dir / "build" / "index.html", "two");
        test::write_plain(dir / "build" / "css" / "a.css", "css two");
        fs::create_directories(dir / "old" / "css");
        test::write_plain(dir / "old" / "index.html", "one");
        test::write_plain(dir / "old" / "css" / "a.css", "css one");
        const outcome first = run_cli({"--tree", (dir / "old").string(), (dir / "site").string()});
        REQUIRE(first.status == cli::success);
    };
    auto tree_is = [](const fs::path& site, const std::string& version) {
        return test::read_file(site / "index.html") == version &&
               test::read_file(site / "css" / "a.css") == "css " + version;
    };
    std::size_t calls = 0;
    {
        test::temp_dir dir;
        prepare(dir);
        test::recording_hook count;
        const outcome r = run_cli_with(count, {"--tree", (dir / "build").string(), (dir / "site").string()}, -1);
        REQUIRE(r.status == cli::success);
        CHECK(r.err.empty());
        CHECK(tree_is(dir / "site", "two"));
        CHECK(fs::read_symlink(dir / "site") == ".site.v2");
        calls = count.calls.size();
    }
    REQUIRE(calls >= 10);
    std::size_t before = 0, after = 0;
    for (std::size_t i = 0; i < calls; ++i) {
        test::temp_dir dir;
        prepare(dir);
        const std::vector<std::string> names = dir.names();
        test::scripted_hook hook;
        hook.fail_call(i, EIO);
        const outcome r = run_cli_with(hook, {"--tree", (dir / "build").string(), (dir / "site").string()}, -1);
        INFO("call " << i << ": " << hook.trace() << "\n" << r.err);
        if (r.status == cli::success) {
            // Only the close of a directory opened to be read may fail unreported.
            CHECK(hook.calls[i].op == aw::sysop::close);
            CHECK(tree_is(dir / "site", "two"));
            continue;
        }
        CHECK(contains(r.err, "atomic-write: " + (dir / "site").string() + ": "));
        CHECK(contains(r.err, ": Input/output error ("));
        if (r.status == cli::failed) {
            ++before;
            CHECK(contains(r.err, "(file not changed)"));
            CHECK(dir.names() == names);
            CHECK(tree_is(dir / "site", "one"));
        } else {
            ++after;
            CHECK(r.status == cli::not_durable);
            CHECK(tree_is(dir / "site", "two"));
        }
    }
    CHECK(before > 0);
    CHECK(after > 0);
}

TEST_CASE("--tree refuses what it cannot copy before publishing anything (status 4)", "[tool][tree]") {
    test::temp_dir dir;
    fs::create_directories(dir / "build");
    test::write_plain(dir / "build" / "index.html", "x");
    outcome r = run_cli({"--tree", (dir / "missing").string(), (dir / "site").string()});
    CHECK(r.status == cli::input_failed);
    CHECK(contains(r.err, (dir / "missing").string() + ": read directory: No such file or directory"));
    r = run_cli({"--tree", (dir / "build" / "index.html").string(), (dir / "site").string()});
    CHECK(r.status == cli::input_failed);
    CHECK(contains(r.err, "index.html: not a directory"));
    fs::create_symlink("index.html", dir / "build" / "alias");
    r = run_cli({"--tree", (dir / "build").string(), (dir / "site").string()});
    CHECK(r.status == cli::input_failed);
    CHECK(contains(r.err, "alias: a symbolic link (--tree copies regular files and directories) (" +
                              (dir / "site").string() + " not changed)"));
    fs::remove(dir / "build" / "alias");
    ::mkfifo((dir / "build" / "fifo").c_str(), 0600);
    r = run_cli({"--tree", (dir / "build").string(), (dir / "site").string()});
    CHECK(r.status == cli::input_failed);
    CHECK(contains(r.err, "fifo: a special file"));
    CHECK(dir.names() == std::vector<std::string>{"build"});
}
