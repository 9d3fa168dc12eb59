// SPDX-License-Identifier: MIT
// The typed suite: every policy combination of basic_atomic_writer on this platform runs
// through the same behaviour checks (create, replace, keep, a file created meanwhile,
// rollback, content, use after commit, moves, the temporary file).
//
// Each test case instantiates a thin adapter per writer type and hands it to checks
// written once, so that 64 combinations do not cost 64 copies of every assertion.
#include <catch2/catch.hpp>

#include <atomicwrites/basic_atomic_writer.hpp>
#include <atomicwrites/temp.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;

using names = std::vector<std::string>;

// --- the writer under test, behind one interface --------------------------------------

/// The members of basic_atomic_writer, forwarded to one writer of some policy combination.
class any_writer {
public:
    virtual ~any_writer() = default;
    virtual bool is_open() const noexcept = 0;
    virtual aw::commit_state state() const noexcept = 0;
    virtual fs::path target() const = 0;
    virtual fs::path temp_path() const = 0;
    virtual aw::native_handle_type native_handle() const noexcept = 0;
    virtual std::ostream& stream() = 0;
    virtual void write(std::string_view data) = 0;
    virtual void write(std::span<const std::byte> data) = 0;
    virtual void write(std::string_view data, std::error_code& ec) noexcept = 0;
    virtual void write(std::span<const std::byte> data, std::error_code& ec) noexcept = 0;
    virtual void flush() = 0;
    virtual void commit() = 0;
    virtual aw::commit_state commit(std::error_code& ec) noexcept = 0;
    virtual void rollback() noexcept = 0;
    virtual const char* failed_step() const noexcept = 0;
    /// A new writer, move-constructed from this one.
    virtual std::unique_ptr<any_writer> move_construct() = 0;
    /// `*this = std::move(other)`; `other` has the same policies.
    virtual void move_assign(any_writer& other) = 0;
};

template <class W>
class writer_model final : public any_writer {
public:
    writer_model(const fs::path& target, const aw::write_options& options) : w_(target, options) {}
    writer_model(const fs::path& target, const aw::write_options& options, std::error_code& ec)
        : w_(target, options, ec) {}
    explicit writer_model(W&& w) : w_(std::move(w)) {}

    bool is_open() const noexcept override { return w_.is_open(); }
    aw::commit_state state() const noexcept override { return w_.state(); }
    fs::path target() const override { return w_.target(); }
    fs::path temp_path() const override { return w_.temp_path(); }
    aw::native_handle_type native_handle() const noexcept override { return w_.native_handle(); }
    std::ostream& stream() override { return w_.stream(); }
    void write(std::string_view data) override { w_.write(data); }
    void write(std::span<const std::byte> data) override { w_.write(data); }
    void write(std::string_view data, std::error_code& ec) noexcept override { w_.write(data, ec); }
    void write(std::span<const std::byte> data, std::error_code& ec) noexcept override { w_.write(data, ec); }
    void flush() override { w_.flush(); }
    void commit() override { w_.commit(); }
    aw::commit_state commit(std::error_code& ec) noexcept override { return w_.commit(ec); }
    void rollback() noexcept override { w_.rollback(); }
    const char* failed_step() const noexcept override { return w_.failed_step(); }
    std::unique_ptr<any_writer> move_construct() override { return std::make_unique<writer_model>(std::move(w_)); }
    void move_assign(any_writer& other) override { w_ = std::move(dynamic_cast<writer_model&>(other).w_); }

private:
    W w_;
};

/// One policy combination: the general kind, and how to make its writers.
struct writer_kind : test::writer_kind {
    std::unique_ptr<any_writer> (*make)(const fs::path&, const aw::write_options&);
    std::unique_ptr<any_writer> (*make_ec)(const fs::path&, const aw::write_options&, std::error_code&);
};

template <class W>
writer_kind kind_of() {
    static_assert(std::is_nothrow_move_constructible_v<W> && std::is_nothrow_move_assignable_v<W>);
    static_assert(!std::is_copy_constructible_v<W> && !std::is_copy_assignable_v<W>);
    static_assert(std::is_nothrow_destructible_v<W>);
    return {
        test::kind_of<W>(),
        [](const fs::path& p, const aw::write_options& o) -> std::unique_ptr<any_writer> {
            return std::make_unique<writer_model<W>>(p, o);
        },
        [](const fs::path& p, const aw::write_options& o, std::error_code& ec) -> std::unique_ptr<any_writer> {
            return std::make_unique<writer_model<W>>(p, o, ec);
        },
    };
}

/// Commits with the error_code form and checks that it reports a clean publication.
void commit_ok(any_writer& w) {
    std::error_code ec;
    const aw::commit_state s = w.commit(ec);
    INFO("commit: " << ec.message() << " (" << (w.failed_step() != nullptr ? w.failed_step() : "no step") << ")");
    REQUIRE_FALSE(ec);
    REQUIRE(s == aw::commit_state::published);
    CHECK(w.state() == aw::commit_state::published);
    CHECK_FALSE(w.is_open());
    CHECK(w.native_handle() == aw::invalid_handle);
    CHECK(w.temp_path().empty());
}

std::uint64_t inode_of_fd(aw::native_handle_type fd) { return test::file_id_of(fd); }

// --- the checks ------------------------------------------------------------------------

void creates_a_new_file(const writer_kind& k) {
    SECTION("throwing forms") {
        for (bool overwrite : k.overwrites()) {
            INFO("overwrite = " << overwrite);
            test::temp_dir dir;
            const fs::path target = dir / "target";
            auto w = k.make(target, {.overwrite = overwrite});
            CHECK(w->is_open());
            CHECK(w->target() == target);
            CHECK(w->state() == aw::commit_state::unchanged);
            w->write(std::string_view("hello, world\n"));
            CHECK_FALSE(fs::exists(target));  // nothing is visible before the commit
            w->commit();
            CHECK_FALSE(w->is_open());
            CHECK(w->state() == aw::commit_state::published);
            CHECK(w->failed_step() == nullptr);
            CHECK(test::read_file(target) == "hello, world\n");
            CHECK(dir.names() == names{"target"});
        }
    }
    SECTION("error_code forms") {
        for (bool overwrite : k.overwrites()) {
            INFO("overwrite = " << overwrite);
            test::temp_dir dir;
            const fs::path target = dir / "target";
            std::error_code ec;
            auto w = k.make_ec(target, {.overwrite = overwrite}, ec);
            REQUIRE_FALSE(ec);
            REQUIRE(w->is_open());
            w->write(std::string_view("via error codes"), ec);
            REQUIRE_FALSE(ec);
            commit_ok(*w);
            CHECK(test::read_file(target) == "via error codes");
            CHECK(dir.names() == names{"target"});
        }
    }
    SECTION("the published file is the temporary file itself") {
        for (bool overwrite : k.overwrites()) {
            INFO("overwrite = " << overwrite);
            test::temp_dir dir;
            const fs::path target = dir / "target";
            auto w = k.make(target, {.overwrite = overwrite});
            w->write(std::string_view("x"));
            const auto temp_inode = inode_of_fd(w->native_handle());
            commit_ok(*w);
            CHECK(test::inode_of(target) == temp_inode);
            CHECK(dir.names() == names{"target"});
        }
    }
}

void rejects_an_overwrite_value_it_cannot_honour(const writer_kind& k) {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    for (bool overwrite : {false, true}) {
        INFO("overwrite = " << overwrite);
        const bool honoured = overwrite ? k.can_replace : k.can_keep;
        if (honoured) {
            std::error_code ec;
            auto w = k.make_ec(target, {.overwrite = overwrite}, ec);
            CHECK_FALSE(ec);
            CHECK(w->is_open());
            w->rollback();
            CHECK(dir.names().empty());
            continue;
        }
        // A missing target, then an existing one: both are refused before anything is made.
        for (bool exists : {false, true}) {
            INFO("target exists = " << exists);
            if (exists) test::write_plain(target, "untouched");
            const auto err = test::catch_error([&] { k.make(target, {.overwrite = overwrite}); });
            CHECK(err.threw);
            CHECK(err.code == std::errc::invalid_argument);
            CHECK(err.what.find("overwrite") != std::string::npos);
            CHECK(err.path1 == target);

            std::error_code ec;
            auto w = k.make_ec(target, {.overwrite = overwrite}, ec);
            CHECK(ec == std::errc::invalid_argument);
            CHECK_FALSE(w->is_open());
            CHECK(w->native_handle() == aw::invalid_handle);
            CHECK(w->temp_path().empty());
            if (exists) {
                CHECK(test::read_file(target) == "untouched");
                CHECK(dir.names() == names{"target"});
            } else {
                CHECK(dir.names().empty());
            }
        }
        fs::remove(target);
    }
}

void replaces_an_existing_file(const writer_kind& k) {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, "the old content, longer than the new one");
    const auto old_inode = test::inode_of(target);

    if (!k.can_replace) {
        // A commit policy that cannot replace refuses the request up front.
        const auto err = test::catch_error([&] { k.make(target, {.overwrite = true}); });
        CHECK(err.code == std::errc::invalid_argument);
        CHECK(test::read_file(target) == "the old content, longer than the new one");
        CHECK(test::inode_of(target) == old_inode);
        CHECK(dir.names() == names{"target"});
        return;
    }

    SECTION("once") {
        auto w = k.make(target, {.overwrite = true});
        w->write(std::string_view("new"));
        CHECK(test::read_file(target) == "the old content, longer than the new one");
        commit_ok(*w);
        CHECK(test::read_file(target) == "new");
        CHECK(test::inode_of(target) != old_inode);
        CHECK(dir.names() == names{"target"});
    }
    SECTION("repeatedly") {
        for (int i = 0; i < 3; ++i) {
            auto w = k.make(target, {.overwrite = true});
            w->write("version " + std::to_string(i));
            w->commit();
            CHECK(test::read_file(target) == "version " + std::to_string(i));
            CHECK(dir.names() == names{"target"});
        }
    }
    SECTION("with empty content") {
        auto w = k.make(target, {.overwrite = true});
        commit_ok(*w);
        CHECK(fs::file_size(target) == 0);
        CHECK(dir.names() == names{"target"});
    }
}

void refuses_an_existing_target(const writer_kind& k) {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, "original");
    const auto inode = test::inode_of(target);
    const auto mtime = fs::last_write_time(target);

    if (!k.can_keep) {
        // A commit policy that always replaces refuses overwrite = false up front.
        const auto err = test::catch_error([&] { k.make(target, {.overwrite = false}); });
        CHECK(err.code == std::errc::invalid_argument);
        CHECK(test::read_file(target) == "original");
        CHECK(dir.names() == names{"target"});
        return;
    }

    SECTION("throwing form") {
        const auto err = test::catch_error([&] { k.make(target, {.overwrite = false}); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::file_exists);
        CHECK(err.path1 == target);
        CHECK(err.what.find("exists") != std::string::npos);
    }
    SECTION("default options") {
        const auto err = test::catch_error([&] { k.make(target, {}); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::file_exists);
    }
    SECTION("error_code form") {
        std::error_code ec;
        auto w = k.make_ec(target, {.overwrite = false}, ec);
        CHECK(ec == std::errc::file_exists);
        CHECK_FALSE(w->is_open());
        CHECK(w->native_handle() == aw::invalid_handle);
        // A writer that failed to open cannot be committed.
        CHECK(w->commit(ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::bad_file_descriptor);
    }
    SECTION("an empty existing file counts too") {
        const fs::path empty = dir / "empty";
        test::write_plain(empty, "");
        const auto err = test::catch_error([&] { k.make(empty, {.overwrite = false}); });
        CHECK(err.code == std::errc::file_exists);
        CHECK(fs::file_size(empty) == 0);
        fs::remove(empty);
    }
    CHECK(test::read_file(target) == "original");
    CHECK(test::inode_of(target) == inode);
    CHECK(fs::last_write_time(target) == mtime);
    CHECK(dir.names() == names{"target"});
}

void handles_a_file_created_meanwhile(const writer_kind& k) {
    test::temp_dir dir;
    const fs::path target = dir / "target";

    if (k.can_replace) {
        SECTION("it is replaced with overwrite = true") {
            auto w = k.make(target, {.overwrite = true});
            w->write(std::string_view("hoho"));
            test::write_plain(target, "harhar");
            CHECK(test::read_file(target) == "harhar");
            commit_ok(*w);
            CHECK(test::read_file(target) == "hoho");
            CHECK(dir.names() == names{"target"});
        }
    }
    if (k.can_keep) {
        SECTION("it is left untouched with overwrite = false (throwing commit)") {
            auto w = k.make(target, {.overwrite = false});
            w->write(std::string_view("hoho"));
            w->stream() << "more";
            test::write_plain(target, "harhar");
            const auto inode = test::inode_of(target);
            const auto err = test::catch_error([&] { w->commit(); });
            CHECK(err.threw);
            CHECK(err.code == std::errc::file_exists);
            CHECK(err.path1 == target);
            CHECK_FALSE(w->is_open());
            CHECK(w->state() == aw::commit_state::unchanged);
            CHECK(test::read_file(target) == "harhar");
            CHECK(test::inode_of(target) == inode);
            CHECK(dir.names() == names{"target"});
        }
        SECTION("it is left untouched with overwrite = false (error_code commit)") {
            auto w = k.make(target, {.overwrite = false});
            w->write(std::string_view("hoho"));
            test::write_plain(target, "harhar");
            std::error_code ec;
            CHECK(w->commit(ec) == aw::commit_state::unchanged);
            CHECK(ec == std::errc::file_exists);
            CHECK(w->failed_step() != nullptr);
            CHECK_FALSE(w->is_open());
            CHECK(test::read_file(target) == "harhar");
            CHECK(dir.names() == names{"target"});
        }
    }
}

void leaves_nothing_without_commit(const writer_kind& k) {
    const bool ow = k.new_file_overwrite();
    test::temp_dir dir;
    const fs::path target = dir / "target";

    SECTION("rollback()") {
        auto w = k.make(target, {.overwrite = ow});
        w->write(std::string_view("discarded"));
        w->stream() << "also discarded";
        const aw::native_handle_type fd = w->native_handle();
        REQUIRE(test::is_open_fd(fd));
        w->rollback();
        CHECK_FALSE(w->is_open());
        CHECK(w->state() == aw::commit_state::unchanged);
        CHECK(w->native_handle() == aw::invalid_handle);
        CHECK(w->temp_path().empty());
        CHECK_FALSE(test::is_open_fd(fd));
        CHECK(dir.names().empty());
        w->rollback();  // a second rollback does nothing
        CHECK(dir.names().empty());
        const auto err = test::catch_error([&] { w->commit(); });
        CHECK(err.code == std::errc::bad_file_descriptor);
        CHECK_FALSE(fs::exists(target));
        CHECK(dir.names().empty());
    }
    SECTION("the destructor") {
        aw::native_handle_type fd = aw::invalid_handle;
        {
            auto w = k.make(target, {.overwrite = ow});
            w->write(test::pattern(200 * 1024));  // larger than the buffer: it reaches the file
            fd = w->native_handle();
            REQUIRE(test::is_open_fd(fd));
            CHECK(test::size_of(fd) == 200 * 1024);
            if (!w->temp_path().empty()) CHECK(fs::exists(w->temp_path()));
        }
        CHECK_FALSE(test::is_open_fd(fd));
        CHECK(dir.names().empty());
    }
    if (k.can_replace) {
        SECTION("an existing target is untouched") {
            test::write_plain(target, "keep me");
            const auto inode = test::inode_of(target);
            {
                auto w = k.make(target, {.overwrite = true});
                w->write(std::string_view("never seen"));
                w->flush();
            }
            {
                auto w = k.make(target, {.overwrite = true});
                w->write(std::string_view("never seen either"));
                w->rollback();
            }
            CHECK(test::read_file(target) == "keep me");
            CHECK(test::inode_of(target) == inode);
            CHECK(dir.names() == names{"target"});
        }
    }
}

void publishes_exactly_the_bytes_written(const writer_kind& k) {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    std::string expected;
    auto w = k.make(target, {.overwrite = k.new_file_overwrite()});

    SECTION("stream()") {
        w->stream() << "line " << 1 << '\n' << 2.5 << std::string_view(" end");
        expected = "line 1\n2.5 end";
    }
    SECTION("write(string_view)") {
        w->write(std::string_view("abc"));
        w->write(std::string("def"));
        expected = "abcdef";
    }
    SECTION("write(span<const std::byte>)") {
        const auto bytes = test::as_bytes("span bytes");
        w->write(std::span<const std::byte>(bytes));
        expected = "span bytes";
    }
    SECTION("nothing at all") { expected = ""; }
    SECTION("empty pieces") {
        w->write(std::string_view());
        w->write(std::span<const std::byte>());
        w->stream() << "";
        expected = "";
    }
    SECTION("binary data with NULs, all 256 byte values") {
        for (int i = 0; i < 256; ++i) expected += static_cast<char>(i);
        expected += std::string(100, '\0');
        expected += test::pattern(1000, 7);
        REQUIRE(expected.size() == 1356);
        w->write(std::string_view(expected).substr(0, 300));
        const auto bytes = test::as_bytes(std::string_view(expected).substr(300, 700));
        w->write(std::span<const std::byte>(bytes));
        w->stream().write(expected.data() + 1000, 356);
    }
    SECTION("a large write (5 MiB) through write(span)") {
        expected = test::pattern(5 * 1024 * 1024, 3);
        const auto bytes = test::as_bytes(expected);
        w->write(std::span<const std::byte>(bytes));
    }
    SECTION("a large write (5 MiB) through stream()") {
        expected = test::pattern(5 * 1024 * 1024 + 17, 4);
        w->stream() << expected;
    }
    SECTION("many small writes") {
        // Pieces of 1 to 61 bytes cross the 64 KiB buffer's boundary many times.
        const std::string data = test::pattern(1024 * 1024 + 333, 5);
        std::size_t at = 0;
        for (std::size_t i = 0; at < data.size(); ++i) {
            const std::size_t n = std::min<std::size_t>(1 + i % 61, data.size() - at);
            const std::string_view piece(data.data() + at, n);
            if (i % 3 == 0) {
                w->write(piece);
            } else if (i % 3 == 1) {
                const auto bytes = test::as_bytes(piece);
                w->write(std::span<const std::byte>(bytes));
            } else {
                w->stream() << piece;
            }
            at += n;
        }
        expected = data;
    }
    SECTION("pieces around the buffer size, mixed with the stream") {
        for (std::size_t n : {65535u, 1u, 65536u, 65537u, 3u, 131072u, 7u}) {
            const std::string piece = test::pattern(n, static_cast<std::uint32_t>(n));
            w->write(std::string_view(piece));
            w->stream() << '|';
            expected += piece;
            expected += '|';
        }
    }
    SECTION("flush() in between") {
        w->write(std::string_view("before flush, "));
        w->flush();
        CHECK(test::size_of(w->native_handle()) == 14);
        w->stream() << "after flush";
        expected = "before flush, after flush";
    }

    commit_ok(*w);
    const std::string got = test::read_file(target);
    CHECK(got.size() == expected.size());
    CHECK((got == expected));  // (parenthesised: no dump of megabytes on failure)
    CHECK(dir.names() == names{"target"});
}

void refuses_use_after_commit(const writer_kind& k) {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    auto w = k.make(target, {.overwrite = k.new_file_overwrite()});
    std::ostream& out = w->stream();
    out << "committed";
    w->commit();
    REQUIRE(test::read_file(target) == "committed");
    const auto inode = test::inode_of(target);

    SECTION("write(string_view)") {
        const auto err = test::catch_error([&] { w->write(std::string_view("late")); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::bad_file_descriptor);
        CHECK(err.what.find("committed") != std::string::npos);
        CHECK(err.path1 == target);
        std::error_code ec;
        w->write(std::string_view("late"), ec);
        CHECK(ec == std::errc::bad_file_descriptor);
    }
    SECTION("write(span)") {
        const auto bytes = test::as_bytes("late");
        const auto err = test::catch_error([&] { w->write(std::span<const std::byte>(bytes)); });
        CHECK(err.code == std::errc::bad_file_descriptor);
        CHECK(err.what.find("committed") != std::string::npos);
        std::error_code ec;
        w->write(std::span<const std::byte>(bytes), ec);
        CHECK(ec == std::errc::bad_file_descriptor);
    }
    SECTION("stream()") {
        out << "late" << std::flush;
        CHECK(out.bad());
        CHECK(&w->stream() == &out);
        w->stream() << "later";
        CHECK(w->stream().bad());
    }
    SECTION("stream() first asked for after the commit") {
        test::temp_dir dir2;
        auto w2 = k.make(dir2 / "other", {.overwrite = k.new_file_overwrite()});
        w2->write(std::string_view("committed"));
        w2->commit();
        // Failed before the first write, like the stream of a file that did not open.
        CHECK(w2->stream().bad());
        w2->stream() << "late";
        CHECK(w2->stream().bad());
        CHECK(test::read_file(dir2 / "other") == "committed");
    }
    SECTION("flush()") {
        const auto err = test::catch_error([&] { w->flush(); });
        CHECK(err.code == std::errc::bad_file_descriptor);
    }
    SECTION("commit() twice") {
        const auto err = test::catch_error([&] { w->commit(); });
        CHECK(err.threw);
        CHECK(err.code == std::errc::bad_file_descriptor);
        CHECK(err.what.find("committed") != std::string::npos);
        std::error_code ec;
        CHECK(w->commit(ec) == aw::commit_state::published);  // it was published, once
        CHECK(ec == std::errc::bad_file_descriptor);
    }
    SECTION("rollback() after commit") {
        w->rollback();
        CHECK(w->state() == aw::commit_state::published);
    }
    CHECK_FALSE(w->is_open());
    CHECK(w->native_handle() == aw::invalid_handle);
    CHECK(test::read_file(target) == "committed");
    CHECK(test::inode_of(target) == inode);
    CHECK(dir.names() == names{"target"});
}

void moves_an_open_writer(const writer_kind& k) {
    const bool ow = k.new_file_overwrite();
    test::temp_dir dir;
    const fs::path target = dir / "target";

    SECTION("move construction") {
        auto a = k.make(target, {.overwrite = ow});
        a->write(std::string_view("part one, "));
        const aw::native_handle_type fd = a->native_handle();
        const fs::path temp = a->temp_path();
        auto b = a->move_construct();
        CHECK_FALSE(a->is_open());
        CHECK(a->native_handle() == aw::invalid_handle);
        CHECK(a->temp_path().empty());
        CHECK(b->is_open());
        CHECK(b->native_handle() == fd);
        CHECK(b->temp_path() == temp);
        CHECK(b->target() == target);
        b->stream() << "part two";
        commit_ok(*b);
        CHECK(test::read_file(target) == "part one, part two");
        CHECK(dir.names() == names{"target"});
    }
    SECTION("the moved-from writer's destructor does nothing") {
        auto a = k.make(target, {.overwrite = ow});
        a->stream() << "buffered ";
        const aw::native_handle_type fd = a->native_handle();
        const fs::path temp = a->temp_path();
        auto b = a->move_construct();
        a.reset();
        CHECK(test::is_open_fd(fd));
        if (!temp.empty()) CHECK(fs::exists(temp));
        b->write(std::string_view("and written"));
        commit_ok(*b);
        CHECK(test::read_file(target) == "buffered and written");
        CHECK(dir.names() == names{"target"});
    }
    SECTION("move assignment rolls back the writer assigned to") {
        const fs::path other = dir / "other";
        auto a = k.make(target, {.overwrite = ow});
        a->write(std::string_view("kept"));
        auto b = k.make(other, {.overwrite = ow});
        b->write(std::string_view("dropped"));
        const aw::native_handle_type b_fd = b->native_handle();
        const aw::native_handle_type a_fd = a->native_handle();
        b->move_assign(*a);
        CHECK_FALSE(a->is_open());
        CHECK(b->target() == target);
        CHECK(b->native_handle() == a_fd);
        CHECK_FALSE(test::is_open_fd(b_fd));
        a.reset();
        commit_ok(*b);
        CHECK(test::read_file(target) == "kept");
        CHECK_FALSE(fs::exists(other));
        CHECK(dir.names() == names{"target"});
    }
    SECTION("move assignment into a moved-from writer") {
        auto a = k.make(target, {.overwrite = ow});
        a->write(std::string_view("moved twice"));
        auto b = a->move_construct();
        a->move_assign(*b);
        CHECK_FALSE(b->is_open());
        REQUIRE(a->is_open());
        b.reset();
        commit_ok(*a);
        CHECK(test::read_file(target) == "moved twice");
        CHECK(dir.names() == names{"target"});
    }
    SECTION("a committed writer moves too") {
        auto a = k.make(target, {.overwrite = ow});
        a->write(std::string_view("done"));
        a->commit();
        auto b = a->move_construct();
        CHECK(b->state() == aw::commit_state::published);
        std::error_code ec;
        b->commit(ec);
        CHECK(ec == std::errc::bad_file_descriptor);
        CHECK(test::read_file(target) == "done");
        CHECK(dir.names() == names{"target"});
    }
}

void shows_its_temporary_file(const writer_kind& k) {
    const bool ow = k.new_file_overwrite();
    test::temp_dir dir;
    const fs::path target = dir / "target.txt";

    SECTION("its name and place") {
        auto w = k.make(target, {.overwrite = ow});
        const fs::path temp = w->temp_path();
        INFO("temp_path() = " << temp);
        if (temp.empty()) {
            // Only a policy that can make anonymous files may have no name, and then
            // nothing shows in the directory.
            CHECK(k.may_be_anonymous);
            CHECK(dir.names().empty());
            CHECK(test::link_count(w->native_handle()) == 0);
        } else {
            CHECK(temp.parent_path() == dir.path());
            const std::string name = temp.filename().string();
            CHECK(name.rfind(".target.txt", 0) == 0);
            CHECK(dir.names() == names{name});
            CHECK(fs::is_regular_file(fs::symlink_status(temp)));
            CHECK(test::inode_of(temp) == inode_of_fd(w->native_handle()));
            if (k.named_temp) CHECK(name == ".target.txt.tmp");
            if (k.mkstemp_temp) {
                // ".target.txt" "." 8 random characters ".tmp"
                CHECK(name.size() == std::string_view(".target.txt").size() + 1 + 8 + 4);
                CHECK(name.substr(name.size() - 4) == ".tmp");
            }
        }
        commit_ok(*w);
        CHECK(dir.names() == names{"target.txt"});
    }
    SECTION("a custom prefix and suffix") {
        auto w = k.make(target, {.overwrite = ow, .temp_prefix = "~", .temp_suffix = ".part"});
        const std::string name = w->temp_path().filename().string();
        if (!name.empty()) {
            CHECK(name.rfind("~target.txt", 0) == 0);
            REQUIRE(name.size() >= 5);
            CHECK(name.substr(name.size() - 5) == ".part");
            if (k.named_temp) CHECK(name == "~target.txt.part");
            CHECK(dir.names() == names{name});
        } else {
            CHECK(k.may_be_anonymous);
        }
        commit_ok(*w);
        CHECK(dir.names() == names{"target.txt"});
    }
    SECTION("its native_handle()") {
        auto w = k.make(target, {.overwrite = ow});
        const aw::native_handle_type fd = w->native_handle();
        REQUIRE(fd != aw::invalid_handle);
        REQUIRE(test::is_open_fd(fd));
        CHECK_FALSE(test::is_inherited(fd));  // O_CLOEXEC; a handle child processes do not inherit
        CHECK_FALSE(test::is_directory_handle(fd));
        CHECK(test::size_of(fd) == 0);
        // Written through the handle directly, after flush(), it is part of the content
        // (which also shows it is open for writing).
        w->write(std::string_view("through the writer, "));
        w->flush();
        const std::string_view direct = "through the handle";
        REQUIRE(test::write_handle(fd, direct) == direct.size());
        commit_ok(*w);
        CHECK(w->native_handle() == aw::invalid_handle);
        CHECK_FALSE(test::is_open_fd(fd));
        CHECK(test::read_file(target) == "through the writer, through the handle");
        CHECK(dir.names() == names{"target.txt"});
    }
}

}  // namespace

// --- the typed suite: every check, every policy combination -----------------------------

TEMPLATE_LIST_TEST_CASE("a writer creates a new file", "[basic_atomic_writer][typed]", test::all_writers) {
    test::run_check(kind_of<TestType>(), creates_a_new_file);
}

TEMPLATE_LIST_TEST_CASE("a writer refuses an overwrite value its commit policy cannot honour",
                        "[basic_atomic_writer][typed]", test::all_writers) {
    test::run_check(kind_of<TestType>(), rejects_an_overwrite_value_it_cannot_honour);
}

TEMPLATE_LIST_TEST_CASE("a writer with overwrite = true replaces an existing file", "[basic_atomic_writer][typed]",
                        test::all_writers) {
    test::run_check(kind_of<TestType>(), replaces_an_existing_file);
}

TEMPLATE_LIST_TEST_CASE("a writer with overwrite = false refuses an existing target", "[basic_atomic_writer][typed]",
                        test::all_writers) {
    test::run_check(kind_of<TestType>(), refuses_an_existing_target);
}

TEMPLATE_LIST_TEST_CASE("a file created by someone else during the write", "[basic_atomic_writer][typed]",
                        test::all_writers) {
    test::run_check(kind_of<TestType>(), handles_a_file_created_meanwhile);
}

TEMPLATE_LIST_TEST_CASE("a writer that is not committed leaves nothing", "[basic_atomic_writer][typed]",
                        test::all_writers) {
    test::run_check(kind_of<TestType>(), leaves_nothing_without_commit);
}

TEMPLATE_LIST_TEST_CASE("a writer publishes exactly the bytes written", "[basic_atomic_writer][typed]",
                        test::all_writers) {
    test::run_check(kind_of<TestType>(), publishes_exactly_the_bytes_written);
}

TEMPLATE_LIST_TEST_CASE("a committed writer refuses further use", "[basic_atomic_writer][typed]", test::all_writers) {
    test::run_check(kind_of<TestType>(), refuses_use_after_commit);
}

TEMPLATE_LIST_TEST_CASE("an open writer can be moved", "[basic_atomic_writer][typed]", test::all_writers) {
    test::run_check(kind_of<TestType>(), moves_an_open_writer);
}

TEMPLATE_LIST_TEST_CASE("the temporary file of an open writer", "[basic_atomic_writer][typed]", test::all_writers) {
    test::run_check(kind_of<TestType>(), shows_its_temporary_file);
}
