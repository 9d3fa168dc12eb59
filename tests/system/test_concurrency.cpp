// SPDX-License-Identifier: MIT
// Writers racing each other, as threads of one process and as several processes with
// several threads each: with overwrite = false exactly one of many concurrent creators
// wins, every other gets file_exists, and the file holds the winner's complete content;
// with overwrite = true readers (threads and a process) always see one complete
// version, never a torn or missing file. ATOMICWRITES_LONG_TESTS=1 races ten times as
// many operations. On Windows the races between threads run over the Windows policies;
// the races between processes fork, and are POSIX only.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if !defined(_WIN32)
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#else
#include <chrono>
#endif

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

constexpr int threads = 8;

/// The content thread `t` tries to create in round `r`: distinct per thread and round,
/// and larger than the writer's buffer.
std::string creator_content(int round, int t) {
    return "round " + std::to_string(round) + " thread " + std::to_string(t) + "\n" +
           test::pattern(70000 + static_cast<std::size_t>(t) * 1031, static_cast<std::uint32_t>(round * threads + t));
}

/// What one thread got in one round.
struct attempt {
    std::error_code ec;
    aw::commit_state state = aw::commit_state::unchanged;
};

/// A reusable barrier for threads of one process. Not std::barrier: libstdc++ 12's
/// fallback wait (no futex, as on MinGW) can lose a wake-up between its check and its
/// wait, and a thread then waits for ever.
class round_barrier {
public:
    explicit round_barrier(int count) : count_(count) {}
    void arrive_and_wait() {
        std::unique_lock lock(mutex_);
        const unsigned long round = round_;
        if (++arrived_ == count_) {
            arrived_ = 0;
            ++round_;
            all_arrived_.notify_all();
            return;
        }
        all_arrived_.wait(lock, [&] { return round_ != round; });
    }

private:
    std::mutex mutex_;
    std::condition_variable all_arrived_;
    const int count_;
    int arrived_ = 0;
    unsigned long round_ = 0;
};

/// `threads` threads race to create the same new file, `rounds` times (a fresh name each
/// round), with writer W and overwrite = false.
template <class W>
void creation_race(int rounds) {
    INFO(test::type_name<W>());
    test::temp_dir dir;
    std::vector<std::vector<attempt>> results(static_cast<std::size_t>(rounds),
                                              std::vector<attempt>(static_cast<std::size_t>(threads)));
    round_barrier start(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int r = 0; r < rounds; ++r) {
                const std::string content = creator_content(r, t);
                const fs::path target = dir / ("target-" + std::to_string(r));
                start.arrive_and_wait();  // everyone starts the round together
                attempt& a = results[static_cast<std::size_t>(r)][static_cast<std::size_t>(t)];
                a.state = aw::write_file<W>(target, std::string_view(content), {.overwrite = false}, a.ec);
            }
        });
    }
    for (auto& th : pool) th.join();

    std::vector<std::string> expected_names;
    for (int r = 0; r < rounds; ++r) {
        INFO("round " << r);
        int winners = 0;
        int winner = -1;
        for (int t = 0; t < threads; ++t) {
            const attempt& a = results[static_cast<std::size_t>(r)][static_cast<std::size_t>(t)];
            if (!a.ec) {
                CHECK(a.state == aw::commit_state::published);
                ++winners;
                winner = t;
            } else {
                INFO("thread " << t << ": " << a.ec.message());
                CHECK(a.ec == std::errc::file_exists);
                CHECK(a.state == aw::commit_state::unchanged);
            }
        }
        REQUIRE(winners == 1);
        const fs::path target = dir / ("target-" + std::to_string(r));
        CHECK((test::read_file(target) == creator_content(r, winner)));
        expected_names.push_back(target.filename().string());
    }
    std::sort(expected_names.begin(), expected_names.end());
    CHECK(dir.names() == expected_names);  // no temporary file left by anyone
    test::report_figure("concurrency: " + test::type_name<W>() + ": " + std::to_string(rounds * threads) +
                        " no-overwrite creations by " + std::to_string(threads) + " threads, " +
                        std::to_string(rounds) + " rounds, 1 winner each");
}

// --- the replace race -------------------------------------------------------------------

/// `writers` threads replace one file `per_writer` times each while a reader reads it.
template <class W>
void replace_race(int writers, int per_writer) {
    INFO(test::type_name<W>());
    test::temp_dir dir;
    const fs::path target = dir / "target";
    aw::write_file<W>(target, test::version(99, 0), {.overwrite = true});

    std::atomic<int> running{writers};
    std::atomic<long> reads{0};
    std::atomic<long> torn{0};
    std::atomic<long> missing{0};
    std::atomic<long> failed_writes{0};
    std::mutex first_failure_mutex;
    std::string first_failure;
    std::atomic<long> refused{0};  // Windows: opens answered "in use" during a replacement
    std::thread reader([&] {
        std::string s;
        // Keep reading until every writer is done, and a little after.
        for (int after = 0; after < 10; after += running.load() == 0 ? 1 : 0) {
#if defined(_WIN32)
            // A reader that pauses between reads, as programs that re-read a file do:
            // without POSIX rename semantics a replacement must wait until no handle is
            // open, and a reader that never lets go would hold every writer back. The
            // pause is timed, not slept: Sleep() rounds up to the timer tick (up to 16 ms).
            const auto resume = std::chrono::steady_clock::now() + std::chrono::microseconds(300);
            while (std::chrono::steady_clock::now() < resume) std::this_thread::yield();
            unsigned long error = 0;
            if (!test::read_whole(target, s, &error)) {
                // A name being replaced may answer "access denied" or "delete pending"
                // for a moment; the name itself must never be missing.
                if (error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION || error == ERROR_DELETE_PENDING)
                    ++refused;
                else
                    ++missing;
            } else if (!test::is_complete(s)) {
                ++torn;
            }
#else
            if (!test::read_whole(target, s)) {
                ++missing;
            } else if (!test::is_complete(s)) {
                ++torn;
            }
#endif
            ++reads;
        }
    });
    std::vector<std::thread> pool;
    for (int w = 0; w < writers; ++w) {
        pool.emplace_back([&, w] {
            for (int n = 0; n < per_writer; ++n) {
                try {
                    aw::write_file<W>(target, test::version(w, n), {.overwrite = true});
                } catch (const std::exception& e) {
                    if (failed_writes++ == 0) {
                        const std::lock_guard lock(first_failure_mutex);
                        first_failure = e.what();
                    }
                }
            }
            --running;
        });
    }
    for (auto& th : pool) th.join();
    reader.join();

    INFO("first failed write: " << first_failure);
    CHECK(failed_writes.load() == 0);
    CHECK(reads.load() > 0);
    CHECK(missing.load() == 0);
    CHECK(torn.load() == 0);
    std::string last;
    REQUIRE(test::read_whole(target, last));
    CHECK(test::is_complete(last));
    CHECK(dir.names() == std::vector<std::string>{"target"});
    test::report_figure(
        "concurrency: " + test::type_name<W>() + ": " + std::to_string(writers * per_writer) + " replaces by " +
        std::to_string(writers) + " threads, " + std::to_string(reads.load()) + " reads by 1 thread, " +
        std::to_string(torn.load()) + " torn, " + std::to_string(missing.load()) + " missing" +
        (refused.load() != 0 ? ", " + std::to_string(refused.load()) + " opens refused for a moment" : std::string()));
}

#if !defined(_WIN32)
// --- the same races between processes ------------------------------------------------

/// An object in memory shared with the child processes forked after it (anonymous,
/// MAP_SHARED), for counters and a process-shared barrier.
template <class T>
class shared {
public:
    template <class... A>
    explicit shared(A&&... args) {
        void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        object_ = new (p) T(std::forward<A>(args)...);
    }
    ~shared() {
        object_->~T();
        ::munmap(object_, sizeof(T));
    }
    shared(const shared&) = delete;
    shared& operator=(const shared&) = delete;
    T* operator->() const { return object_; }
    T& operator*() const { return *object_; }

private:
    T* object_;
};

/// A barrier for threads of several processes.
class process_barrier {
public:
    explicit process_barrier(unsigned count) {
        pthread_barrierattr_t attr;
        pthread_barrierattr_init(&attr);
        pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        pthread_barrier_init(&barrier_, &attr, count);
        pthread_barrierattr_destroy(&attr);
    }
    ~process_barrier() { pthread_barrier_destroy(&barrier_); }
    void arrive_and_wait() { pthread_barrier_wait(&barrier_); }

private:
    pthread_barrier_t barrier_;
};

static_assert(std::atomic<long>::is_always_lock_free, "counters shared between processes must be lock-free");

/// Forks `processes` children, each running `threads` threads of `body(participant)`
/// (participant = process * threads + thread), and waits for them. Returns the number of
/// children that did not exit with status 0.
template <class F>
int in_processes(int processes, int threads, F&& body) {
    std::vector<pid_t> children;
    for (int p = 0; p < processes; ++p) {
        const pid_t pid = ::fork();
        if (pid < 0) break;
        if (pid == 0) {
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { body(p * threads + t); });
            for (auto& th : pool) th.join();
            ::_exit(0);
        }
        children.push_back(pid);
    }
    int failed = processes - static_cast<int>(children.size());
    for (pid_t pid : children) {
        int status = 0;
        if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    return failed;
}

/// What the processes of a creation race got, per round and participant.
struct creation_results {
    static constexpr int max_rounds = 1000;
    static constexpr int max_participants = 16;
    int error[max_rounds][max_participants];  // 0, or the errno-like value of the error
    bool published[max_rounds][max_participants];
};

/// `processes` x `threads` creators race to create the same new file, `rounds` times.
template <class W>
void process_creation_race(int processes, int threads, int rounds) {
    INFO(test::type_name<W>() << ", " << processes << " processes x " << threads << " threads");
    const int participants = processes * threads;
    REQUIRE(participants <= creation_results::max_participants);
    REQUIRE(rounds <= creation_results::max_rounds);
    test::temp_dir dir(test::fast_base());
    shared<creation_results> results;
    shared<process_barrier> start(static_cast<unsigned>(participants));
    const int failed_children = in_processes(processes, threads, [&](int who) {
        for (int r = 0; r < rounds; ++r) {
            const std::string content = creator_content(r, who);
            const fs::path target = dir / ("target-" + std::to_string(r));
            start->arrive_and_wait();
            std::error_code ec;
            const aw::commit_state st = aw::write_file<W>(target, std::string_view(content), {.overwrite = false}, ec);
            results->error[r][who] =
                ec ? (ec == std::errc::file_exists ? EEXIST : (ec.value() != 0 ? ec.value() : -1)) : 0;
            results->published[r][who] = st == aw::commit_state::published;
        }
    });
    CHECK(failed_children == 0);
    std::vector<std::string> expected_names;
    long attempts = 0;
    for (int r = 0; r < rounds; ++r) {
        INFO("round " << r);
        int winners = 0;
        int winner = -1;
        for (int who = 0; who < participants; ++who) {
            ++attempts;
            if (results->error[r][who] == 0) {
                CHECK(results->published[r][who]);
                ++winners;
                winner = who;
            } else {
                INFO("participant " << who << ": error " << results->error[r][who]);
                CHECK(results->error[r][who] == EEXIST);
                CHECK_FALSE(results->published[r][who]);
            }
        }
        REQUIRE(winners == 1);
        const fs::path target = dir / ("target-" + std::to_string(r));
        CHECK((test::read_file(target) == creator_content(r, winner)));
        expected_names.push_back(target.filename().string());
    }
    std::sort(expected_names.begin(), expected_names.end());
    CHECK(dir.names() == expected_names);  // nothing left by anyone
    test::report_figure("concurrency: " + test::type_name<W>() + ": " + std::to_string(attempts) +
                        " no-overwrite creations by " + std::to_string(processes) + " processes x " +
                        std::to_string(threads) + " threads, " + std::to_string(rounds) + " rounds, 1 winner each");
}

/// Counters of a replace race shared by the writing and reading processes.
struct race_counters {
    std::atomic<long> writes{0};
    std::atomic<long> failed_writes{0};
    std::atomic<long> busy{0};  // temp::named: another writer holds the name (file_exists)
    std::atomic<long> reads{0};
    std::atomic<long> torn{0};
    std::atomic<long> missing{0};
    std::atomic<int> writers_done{0};
};

/// `processes` x `threads` writers replace one file `per_thread` times each, while two
/// reader threads of this process and one reader process read it.
template <class W>
void process_replace_race(int processes, int threads, int per_thread, const fs::path& base) {
    INFO(test::type_name<W>() << ", " << processes << " processes x " << threads << " threads");
    constexpr bool fixed_name = std::is_same_v<typename W::temp_type, aw::temp::named>;
    test::temp_dir dir(base);
    const fs::path target = dir / "target";
    aw::write_file<W>(target, test::version(999, 0), {.overwrite = true});
    shared<race_counters> c;
    auto read_until_done = [&] {
        std::string s;
        for (int after = 0; after < 10; after += c->writers_done.load() == processes ? 1 : 0) {
            if (!test::read_whole(target, s))
                ++c->missing;
            else if (!test::is_complete(s))
                ++c->torn;
            ++c->reads;
        }
    };
    // The reader process first, while this process has one thread.
    const pid_t reader = ::fork();
    REQUIRE(reader >= 0);
    if (reader == 0) {
        read_until_done();
        ::_exit(0);
    }
    std::vector<pid_t> writers;
    for (int p = 0; p < processes; ++p) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t) {
                pool.emplace_back([&, t] {
                    for (int n = 0; n < per_thread; ++n) {
                        std::error_code ec;
                        aw::write_file<W>(target, test::version(p * threads + t, n), {.overwrite = true}, ec);
                        if (!ec)
                            ++c->writes;
                        else if (fixed_name && ec == std::errc::file_exists)
                            ++c->busy;
                        else
                            ++c->failed_writes;
                    }
                });
            }
            for (auto& th : pool) th.join();
            ++c->writers_done;
            ::_exit(0);
        }
        writers.push_back(pid);
    }
    std::thread r1(read_until_done);
    std::thread r2(read_until_done);
    int bad_exits = 0;
    for (pid_t pid : writers) {
        int status = 0;
        if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++bad_exits;
    }
    r1.join();
    r2.join();
    int status = 0;
    REQUIRE(::waitpid(reader, &status, 0) == reader);
    CHECK(WIFEXITED(status));
    CHECK(bad_exits == 0);
    CHECK(c->failed_writes.load() == 0);
    CHECK(c->writes.load() + c->busy.load() == static_cast<long>(processes) * threads * per_thread);
    if (!fixed_name) CHECK(c->busy.load() == 0);
    CHECK(c->reads.load() > 0);
    CHECK(c->missing.load() == 0);
    CHECK(c->torn.load() == 0);
    std::string last;
    REQUIRE(test::read_whole(target, last));
    CHECK(test::is_complete(last));
    CHECK(dir.names() == std::vector<std::string>{"target"});
    test::report_figure("concurrency: " + test::type_name<W>() + ": " + std::to_string(c->writes.load()) +
                        " replaces by " + std::to_string(processes) + " processes x " + std::to_string(threads) +
                        " threads" +
                        (fixed_name ? " (" + std::to_string(c->busy.load()) + " found the name taken)" : "") + ", " +
                        std::to_string(c->reads.load()) + " reads by 2 threads and 1 process, 0 torn, 0 missing");
}
#endif  // !_WIN32

}  // namespace

#if defined(_WIN32)
TEST_CASE("concurrent creators without overwrite: exactly one wins each round", "[concurrency][race]") {
    // Every Windows commit policy with each kind of temporary file; nothing synced.
    SECTION("commit::movefileex") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::movefileex, aw::temp::mkstemp>>(
            test::scaled(30, 300));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::movefileex, aw::temp::named>>(
            test::scaled(30, 300));
    }
    SECTION("commit::posix_rename") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::posix_rename, aw::temp::mkstemp>>(
            test::scaled(30, 300));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::posix_rename, aw::temp::named>>(
            test::scaled(30, 300));
    }
    SECTION("the default, durable writer") { creation_race<aw::atomic_writer>(test::scaled(6, 60)); }
}

TEST_CASE("concurrent replacers: a reader always sees one complete version", "[concurrency][race]") {
    SECTION("commit::movefileex") {
        replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::movefileex, aw::temp::mkstemp>>(
            3, test::scaled(100, 1000));
    }
    SECTION("commit::posix_rename") {
        replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::posix_rename, aw::temp::mkstemp>>(
            3, test::scaled(100, 1000));
    }
    SECTION("the default, durable writer") { replace_race<aw::atomic_writer>(2, test::scaled(15, 150)); }
}
#else
TEST_CASE("concurrent creators without overwrite: exactly one wins each round", "[concurrency][race]") {
    // Every commit policy that can keep an existing target, with each kind of temporary
    // file; nothing synced, so that the race, not the disk, sets the pace.
    SECTION("commit::link_unlink") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::mkstemp>>(
            test::scaled(100, 1000));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::anonymous>>(
            test::scaled(100, 1000));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::named>>(
            test::scaled(100, 1000));
    }
    SECTION("commit::renameat2") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::mkstemp>>(
            test::scaled(100, 1000));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::anonymous>>(
            test::scaled(100, 1000));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::named>>(
            test::scaled(100, 1000));
    }
    SECTION("commit::automatic") {
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::mkstemp>>(
            test::scaled(100, 1000));
        creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic,
                                              aw::temp::first_of<aw::temp::anonymous, aw::temp::mkstemp>>>(
            test::scaled(100, 1000));
    }
    SECTION("the default, durable writer") { creation_race<aw::atomic_writer>(test::scaled(12, 100)); }
}

TEST_CASE("concurrent replacers: a reader always sees one complete version", "[concurrency][race]") {
    SECTION("temp::mkstemp") {
        replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::mkstemp>>(
            3, test::scaled(400, 4000));
    }
    SECTION("temp::anonymous") {
        replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous>>(
            3, test::scaled(400, 4000));
    }
    SECTION("the default, durable writer") { replace_race<aw::atomic_writer>(2, test::scaled(30, 300)); }
}

TEST_CASE("processes of threads creating one file: exactly one wins each round", "[concurrency][race][process]") {
    const int rounds = test::scaled(150, 1000);
    process_creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::mkstemp>>(3, 3,
                                                                                                             rounds);
    process_creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::link_unlink, aw::temp::anonymous>>(
        3, 3, rounds);
    process_creation_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::renameat2, aw::temp::named>>(3, 3,
                                                                                                           rounds);
}

TEST_CASE("processes of threads replacing one file: readers see complete versions", "[concurrency][race][process]") {
    const int per_thread = test::scaled(400, 4000);
    const fs::path fast = test::fast_base();
    process_replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::mkstemp>>(
        3, 2, per_thread, fast);
    process_replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::automatic, aw::temp::anonymous>>(
        3, 2, per_thread, fast);
    process_replace_race<aw::basic_atomic_writer<aw::sync::none, aw::commit::rename, aw::temp::named>>(3, 2, per_thread,
                                                                                                       fast);
    process_replace_race<aw::atomic_writer>(2, 2, test::scaled(25, 250), test::base_dir());
}
#endif  // _WIN32
