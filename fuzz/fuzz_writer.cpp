// SPDX-License-Identifier: MIT
// libFuzzer target: random sessions of writes, stream writes, flushes, commits,
// rollbacks, moves and destructions, on random policy combinations and options, with
// failures injected through the system-call seam (one call failed with a real errno,
// every call of one kind failed, or writes shortened). After each session it checks:
// - a commit that published leaves exactly the bytes written, in order;
// - anything else leaves the target exactly as it was (or absent);
// - with no failure injected, a valid session always publishes;
// - nothing is left in the directory but the target, except temporary files whose
//   removal was itself made to fail, which remove_stale_temps() then removes;
// - no descriptor is leaked.
// A broken invariant aborts with a message, which libFuzzer reports as a crash.
//
// Build: meson setup build-fuzz -Dfuzzing=enabled (with clang++ as the compiler);
// run: build-fuzz/fuzz/fuzz_writer -max_total_time=60 CORPUS_DIR fuzz/corpus
#include <fuzzer/FuzzedDataProvider.h>

#include <atomicwrites/atomic_writer.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
using aw::sysop;

#define FUZZ_CHECK(cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            std::fprintf(stderr, "invariant broken: %s (%s:%d)\n%s\n", #cond, __FILE__, __LINE__, \
                         session_log.c_str());                                                    \
            std::abort();                                                                         \
        }                                                                                         \
    } while (0)

/// What the current input did so far, printed with a broken invariant.
std::string session_log;

/// What all inputs did, printed at exit.
struct {
    unsigned long sessions = 0, published = 0, unchanged = 0, refused = 0, faults = 0, swept = 0;
} totals;

/// One writer of any policy combination, behind virtual calls.
struct any_writer {
    virtual ~any_writer() = default;
    virtual bool can_replace() const = 0;
    virtual bool can_keep() const = 0;
    virtual void open(const fs::path& target, const aw::write_options& options, std::error_code& ec) = 0;
    virtual bool is_open() const = 0;
    virtual void write(std::string_view data, std::error_code& ec) = 0;
    virtual void stream_write(std::string_view data) = 0;
    virtual void flush(std::error_code& ec) = 0;
    virtual aw::commit_state commit(std::error_code& ec) = 0;
    virtual void rollback() = 0;
    virtual void destroy() = 0;
    virtual void move_around() = 0;
};

template <class W>
struct writer_of final : any_writer {
    std::optional<W> w;
    bool can_replace() const override { return test::can_replace<W>; }
    bool can_keep() const override { return test::can_keep<W>; }
    void open(const fs::path& target, const aw::write_options& options, std::error_code& ec) override {
        w.emplace(target, options, ec);
    }
    bool is_open() const override { return w && w->is_open(); }
    void write(std::string_view data, std::error_code& ec) override { w->write(data, ec); }
    void stream_write(std::string_view data) override { w->stream() << data; }
    void flush(std::error_code& ec) override { w->flush(ec); }
    aw::commit_state commit(std::error_code& ec) override { return w->commit(ec); }
    void rollback() override { w->rollback(); }
    void destroy() override { w.reset(); }
    void move_around() override {
        W moved(std::move(*w));
        W back(std::move(moved));
        *w = std::move(back);
    }
};

template <class Tuple, std::size_t... I>
std::vector<std::unique_ptr<any_writer> (*)()> factories(std::index_sequence<I...>) {
    return {[]() -> std::unique_ptr<any_writer> {
        return std::make_unique<writer_of<std::tuple_element_t<I, Tuple>>>();
    }...};
}

const std::vector<std::unique_ptr<any_writer> (*)()>& all_factories() {
    static const auto f =
        factories<test::all_writers>(std::make_index_sequence<std::tuple_size_v<test::all_writers>>());
    return f;
}

/// The work directory (on a tmpfs when there is one), made once per process.
fs::path work;

void clear_work() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(work)) fs::remove_all(e.path(), ec);
}

constexpr int real_errnos[] = {EIO,    ENOSPC, EDQUOT, EACCES,       EPERM, EROFS,      EXDEV,  EMFILE, ENFILE, EEXIST,
                               EINVAL, EBUSY,  EMLINK, ENAMETOOLONG, EFBIG, EOPNOTSUPP, EISDIR, ENOENT, ENOTDIR};

/// The names in the work directory other than the target and the temp_directory.
std::vector<std::string> strays() {
    std::vector<std::string> out;
    for (const auto& n : test::temp_dir::list(work))
        if (n != "target" && n != "tmp") out.push_back(n);
    if (fs::exists(work / "tmp"))
        for (const auto& n : test::temp_dir::list(work / "tmp")) out.push_back("tmp/" + n);
    return out;
}

void run_session(FuzzedDataProvider& in, std::optional<std::string>& target_content) {
    const auto& make = all_factories();
    const std::size_t kind = in.ConsumeIntegralInRange<std::size_t>(0, make.size() - 1);
    std::unique_ptr<any_writer> w = make[kind]();
    const fs::path target = work / "target";

    aw::write_options options;
    options.overwrite = in.ConsumeBool();
    const bool valid = options.overwrite ? w->can_replace() : w->can_keep();
    if (in.ConsumeIntegralInRange(0, 3) == 0) {
        fs::create_directories(work / "tmp");
        options.temp_directory = work / "tmp";
    }
    constexpr unsigned modes[] = {0, 0600, 0644, 0640, 0444};
    const unsigned mode = modes[in.ConsumeIntegralInRange<std::size_t>(0, 4)];
    if (mode != 0) options.mode = fs::perms(mode);

    const bool had_target = target_content.has_value();

    // The fault plan.
    test::scripted_hook hook;
    switch (in.ConsumeIntegralInRange(0, 4)) {
        case 1:
        case 2: {
            const std::size_t index = in.ConsumeIntegralInRange<std::size_t>(0, 24);
            const int error = in.ConsumeBool() ? EINTR : in.PickValueInArray(real_errnos);
            hook.fail_call(index, error);
            session_log += " fail call " + std::to_string(index) + " errno " + std::to_string(error);
            break;
        }
        case 3: {
            // Every call of one kind (never EINTR: a retried call would be retried forever).
            const auto op = static_cast<sysop>(in.ConsumeIntegralInRange<unsigned>(0, aw::sysop_count - 1));
            const int error = in.PickValueInArray(real_errnos);
            hook.fail_every(op, error);
            session_log += " fail every " + std::string(aw::to_string(op)) + " errno " + std::to_string(error);
            break;
        }
        case 4:
            hook.limit_writes(in.ConsumeIntegralInRange<std::size_t>(64, 8192));
            session_log += " short writes";
            break;
        default:
            break;
    }
    session_log += " | writer " + std::to_string(kind) + " overwrite " + std::to_string(options.overwrite) +
                   " temp_directory " + std::to_string(!options.temp_directory.empty()) + " mode " +
                   std::to_string(mode) + " existing " + std::to_string(target_content.has_value());

    const std::size_t descriptors = test::open_descriptor_count();
    std::string written;
    bool committed = false;
    bool write_failed = false;
    aw::commit_state state = aw::commit_state::unchanged;
    std::error_code commit_ec;
    {
        aw::scoped_syscall_hook scope(hook);
        std::error_code ec;
        w->open(target, options, ec);
        if (!valid) FUZZ_CHECK(ec == std::errc::invalid_argument);
        if (!ec) {
            for (int step = 0; step < 12 && !committed && w->is_open(); ++step) {
                switch (in.ConsumeIntegralInRange(0, 7)) {
                    case 0:
                    case 1: {
                        const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 100000);
                        const std::string chunk = test::pattern(n, static_cast<std::uint32_t>(written.size() + n));
                        std::error_code e;
                        w->write(chunk, e);
                        if (e) write_failed = true;
                        written += chunk;
                        session_log += " write " + std::to_string(n);
                        break;
                    }
                    case 2: {
                        const std::string chunk = in.ConsumeRandomLengthString(300);
                        w->stream_write(chunk);
                        written += chunk;
                        session_log += " stream " + std::to_string(chunk.size());
                        break;
                    }
                    case 3: {
                        std::error_code e;
                        w->flush(e);
                        if (e) write_failed = true;
                        session_log += " flush";
                        break;
                    }
                    case 4:
                        w->move_around();
                        session_log += " move";
                        break;
                    case 5:
                        w->rollback();
                        session_log += " rollback";
                        break;
                    case 6:
                        w->destroy();
                        session_log += " destroy";
                        break;
                    default:
                        state = w->commit(commit_ec);
                        committed = true;
                        session_log += " commit: " + commit_ec.message();
                        break;
                }
            }
            if (!committed && w->is_open() && in.ConsumeBool()) {
                state = w->commit(commit_ec);
                committed = true;
                session_log += " commit: " + commit_ec.message();
            }
            if (committed) {
                // A closed writer refuses a second commit and stays as it was.
                std::error_code again;
                FUZZ_CHECK(w->commit(again) == state);
                FUZZ_CHECK(again == std::errc::bad_file_descriptor);
            }
        } else {
            FUZZ_CHECK(!w->is_open());
        }
        w->destroy();
    }

    // The target: the bytes written if published, else as it was.
    std::string now;
    const bool exists = test::read_whole(target, now) || fs::exists(fs::symlink_status(target));
    if (committed && state == aw::commit_state::published) {
        FUZZ_CHECK(exists);
        FUZZ_CHECK(now == written);
        FUZZ_CHECK(!write_failed);
        if (mode != 0) FUZZ_CHECK(test::mode_of(target) == mode);
        target_content = written;
    } else {
        FUZZ_CHECK(exists == target_content.has_value());
        if (exists) FUZZ_CHECK(now == *target_content);
    }
    // Without a fault, a valid session that commits publishes, without error.
    if (committed && hook.injected() == 0 && valid && !write_failed && (options.overwrite || !had_target)) {
        FUZZ_CHECK(state == aw::commit_state::published);
        FUZZ_CHECK(!commit_ec);
    }
    // Nothing left, unless a removal was made to fail: then only temporary files,
    // which the sweep removes (as it would after a crash).
    std::vector<std::string> left = strays();
    if (!left.empty()) {
        bool unlink_failed = false;
        for (const auto& c : hook.calls) unlink_failed = unlink_failed || (c.injected && c.op == sysop::unlink);
        FUZZ_CHECK(unlink_failed);
        for (const auto& n : left) {
            const std::string name = n.rfind("tmp/", 0) == 0 ? n.substr(4) : n;
            FUZZ_CHECK(aw::is_temp_name(name, {.target_name = "target"}));
        }
        std::size_t swept = 0;
        const aw::stale_temp_options sweep{.older_than = std::chrono::seconds(0), .target_name = "target"};
        swept += aw::remove_stale_temps(work, sweep);
        if (fs::exists(work / "tmp")) swept += aw::remove_stale_temps(work / "tmp", sweep);
        FUZZ_CHECK(swept == left.size());
        FUZZ_CHECK(strays().empty());
    }
    FUZZ_CHECK(test::open_descriptor_count() == descriptors);
    ++totals.sessions;
    totals.faults += hook.injected();
    if (!committed)
        ++totals.refused;
    else if (state == aw::commit_state::published)
        ++totals.published;
    else
        ++totals.unchanged;
    totals.swept += left.size();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::string pattern = (test::fast_base() / "atomicwrites-fuzz.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    work = pattern;
    std::atexit([] {
        std::error_code ec;
        fs::remove_all(work, ec);
        std::printf(
            "figure: fuzz: %lu sessions: %lu published, %lu commits failed cleanly, %lu ended without a commit; "
            "%lu failures injected, %lu temporary files left by failed removals swept\n",
            totals.sessions, totals.published, totals.unchanged, totals.refused, totals.faults, totals.swept);
    });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    clear_work();
    session_log.clear();
    FuzzedDataProvider in(data, size);
    std::optional<std::string> target_content;
    if (in.ConsumeBool()) {
        target_content = in.ConsumeRandomLengthString(200);
        test::write_plain(work / "target", *target_content);
    }
    for (int session = 0; session < 6 && in.remaining_bytes() > 0; ++session) {
        session_log += "\nsession " + std::to_string(session) + ":";
        run_session(in, target_content);
    }
    return 0;
}
