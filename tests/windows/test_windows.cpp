// SPDX-License-Identifier: MIT
// What only Windows has: its policies (sync::commit, commit::movefileex,
// commit::posix_rename) and defaults, its paths (drives, shares, both slashes), UTF-16
// names, read-only files, files other processes hold open, the retries of transient
// refusals, and GetLastError() values that compare equal to the portable std::errc
// conditions. Built for Windows only; the typed suite, the fault injection and the
// text mode tests run there as well.
#include <catch2/catch.hpp>

#include <atomicwrites/atomic_writer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include <windows.h>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;
namespace aw = atomicwrites;
namespace sys = aw::detail::sys;
using aw::sysop;
using names = std::vector<std::string>;

using movefileex_writer = aw::basic_atomic_writer<aw::sync::commit, aw::commit::movefileex, aw::temp::mkstemp>;
using posix_rename_writer = aw::basic_atomic_writer<aw::sync::commit, aw::commit::posix_rename, aw::temp::mkstemp>;

/// Whether this system renames an open file with POSIX semantics
/// (FileRenameInfoEx): asked of the library's own call on a scratch file in `dir`.
bool posix_rename_supported(const fs::path& dir) {
    std::error_code ec;
    const aw::native_handle_type d = sys::open_directory(sys::current_directory, dir.c_str(), ec);
    REQUIRE_FALSE(ec);
    const aw::native_handle_type f = sys::create_file(d, L"probe-a", 0666, ec);
    REQUIRE_FALSE(ec);
    sys::rename_open_file(f, d, L"probe-a", d, L"probe-b", true, ec);
    const bool supported = !ec;
    INFO("FileRenameInfoEx answered: " << ec.value() << " " << ec.message());
    CHECK((supported || sys::is_unsupported_error(ec)));
    std::error_code ignored;
    sys::close(f, ignored);
    sys::unlink(d, supported ? L"probe-b" : L"probe-a", ignored);
    sys::close(d, ignored);
    return supported;
}

/// Opens `p` for reading as another program would, with the given sharing.
HANDLE open_reader(const fs::path& p, DWORD share) {
    HANDLE h = ::CreateFileW(p.c_str(), GENERIC_READ, share, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    REQUIRE(h != INVALID_HANDLE_VALUE);
    return h;
}

/// Reads what an open handle shows from its start.
std::string read_handle(HANDLE h) {
    LARGE_INTEGER zero{};
    REQUIRE(::SetFilePointerEx(h, zero, nullptr, FILE_BEGIN));
    std::string out;
    char buffer[4096];
    DWORD got = 0;
    while (::ReadFile(h, buffer, sizeof buffer, &got, nullptr) && got > 0) out.append(buffer, got);
    return out;
}

/// write_file<W> with its error_code, with `hook` installed.
template <class W>
aw::commit_state write_hooked(test::scripted_hook& hook, const fs::path& target, std::string_view content,
                              const aw::write_options& options, std::error_code& ec) {
    aw::scoped_syscall_hook scope(hook);
    return aw::write_file<W>(target, content, options, ec);
}

/// The calls of one operation of a hook's record.
std::size_t count_failed(const test::scripted_hook& hook, sysop op, int error) {
    std::size_t n = 0;
    for (const auto& c : hook.calls)
        if (c.op == op && c.error == error) ++n;
    return n;
}

}  // namespace

// --- policies and defaults ---------------------------------------------------------------

TEST_CASE("the Windows defaults are sync::commit, commit::posix_rename and temp::mkstemp", "[windows]") {
    STATIC_REQUIRE(std::is_same_v<aw::default_sync, aw::sync::commit>);
    STATIC_REQUIRE(std::is_same_v<aw::default_commit, aw::commit::posix_rename>);
    STATIC_REQUIRE(std::is_same_v<aw::default_temp, aw::temp::mkstemp>);
    STATIC_REQUIRE(std::is_same_v<aw::native_char_type, wchar_t>);
    STATIC_REQUIRE(aw::sync::commit::durable);
    STATIC_REQUIRE(aw::commit::movefileex::can_replace && aw::commit::movefileex::can_keep);
    STATIC_REQUIRE(aw::commit::posix_rename::can_replace && aw::commit::posix_rename::can_keep);
    STATIC_REQUIRE(aw::detail::renames_open_file<aw::commit::posix_rename>());
    STATIC_REQUIRE_FALSE(aw::detail::renames_open_file<aw::commit::movefileex>());
}

TEST_CASE("sync::commit flushes the file before the rename and the directory after it", "[windows][sync]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::sync_recording_hook syncs;
    {
        aw::atomic_writer w(target, {.overwrite = true});
        w.write("flushed");
        const std::uint64_t temp = test::file_id_of(w.native_handle());
        aw::scoped_syscall_hook scope(syncs);
        w.commit();
        CHECK(syncs.files == std::vector<std::uint64_t>{temp});
    }
    CHECK(syncs.dirs == std::vector<std::uint64_t>{test::inode_of(dir.path())});
    // fsync (the file) comes before the publishing rename, fsync (the directory) after.
    test::scripted_hook calls;
    {
        aw::scoped_syscall_hook scope(calls);
        aw::write_file(target, "flushed", {.overwrite = true});
    }
    const auto ops = calls.ops();
    std::vector<sysop> flushes_and_renames;
    for (sysop op : ops)
        if (op == sysop::fsync || op == sysop::rename) flushes_and_renames.push_back(op);
    INFO("calls: " << calls.trace());
    REQUIRE(flushes_and_renames.size() >= 3);
    CHECK(flushes_and_renames.front() == sysop::fsync);
    CHECK(flushes_and_renames.back() == sysop::fsync);
    CHECK(test::read_file(target) == "flushed");

    test::sync_recording_hook none;
    {
        aw::scoped_syscall_hook a(none);
        aw::write_file<aw::basic_atomic_writer<aw::sync::none>>(target, "not flushed", {.overwrite = true});
    }
    CHECK(none.files.empty());
    CHECK(none.dirs.empty());
}

TEST_CASE("commit::movefileex closes the temporary file, then moves it by name", "[windows][commit]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    for (bool overwrite : {false, true}) {
        INFO("overwrite = " << overwrite);
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<movefileex_writer>(target, "moved", {.overwrite = overwrite});
        }
        INFO("calls: " << hook.trace());
        const sysop publish = overwrite ? sysop::rename : sysop::rename_noreplace;
        REQUIRE(hook.count(publish) == 1);
        std::size_t at = 0;
        while (hook.calls[at].op != publish) ++at;
        CHECK(hook.calls[at].file == aw::invalid_handle);  // by name
        CHECK(hook.calls[at].name2 == "target");
        CHECK(hook.calls[at - 1].op == sysop::close);  // the temporary file, closed before
        std::string created;
        for (const auto& c : hook.calls)
            if (c.op == sysop::create_file) created = c.name;
        CHECK(hook.calls[at].name == created);
        CHECK(test::read_file(target) == "moved");
    }
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("commit::posix_rename renames the open file by its handle, or falls back to MoveFileExW",
          "[windows][commit]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    const bool supported = posix_rename_supported(dir.path());

    SECTION("the sequence this system makes") {
        for (bool overwrite : {false, true}) {
            INFO("overwrite = " << overwrite << ", POSIX semantics supported: " << supported);
            test::scripted_hook hook;
            {
                aw::scoped_syscall_hook scope(hook);
                aw::write_file<posix_rename_writer>(target, "renamed", {.overwrite = overwrite});
            }
            INFO("calls: " << hook.trace());
            const sysop publish = overwrite ? sysop::rename : sysop::rename_noreplace;
            std::vector<test::scripted_hook::call> renames;
            for (const auto& c : hook.calls)
                if (c.op == publish) renames.push_back(c);
            REQUIRE_FALSE(renames.empty());
            CHECK(renames[0].file != aw::invalid_handle);  // through the open handle
            CHECK(renames[0].name2 == "target");
            if (supported) {
                CHECK(renames.size() == 1);
                CHECK(renames[0].error == 0);
            } else {
                REQUIRE(renames.size() == 2);
                CHECK(sys::is_unsupported_error(std::error_code(renames[0].error, std::system_category())));
                CHECK(renames[1].file == aw::invalid_handle);  // MoveFileExW, by name
                CHECK(renames[1].error == 0);
            }
            // The temporary file is closed after the rename, not before.
            const auto ops = hook.ops();
            std::size_t last_rename = 0;
            for (std::size_t i = 0; i < ops.size(); ++i)
                if (ops[i] == publish) last_rename = i;
            CHECK(std::count(ops.begin(), ops.begin() + static_cast<std::ptrdiff_t>(last_rename), sysop::close) == 0);
            CHECK(test::read_file(target) == "renamed");
        }
    }
    SECTION("it falls back on every answer that means not supported") {
        for (int answer : {ERROR_INVALID_PARAMETER, ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED}) {
            INFO("answer " << answer);
            test::write_plain(target, test::old_content);
            test::scripted_hook hook;
            hook.fail_op(sysop::rename, answer, 0);
            std::error_code ec;
            CHECK(write_hooked<posix_rename_writer>(hook, target, test::new_content, {.overwrite = true}, ec) ==
                  aw::commit_state::published);
            INFO("calls: " << hook.trace());
            CHECK_FALSE(ec);
            CHECK(hook.count(sysop::rename) == 2);
            CHECK(test::read_file(target) == test::new_content);
        }
    }
    SECTION("it does not fall back on a real error") {
        test::write_plain(target, test::old_content);
        test::scripted_hook hook;
        hook.fail_op(sysop::rename, ERROR_DISK_FULL, 0);
        std::error_code ec;
        CHECK(write_hooked<posix_rename_writer>(hook, target, test::new_content, {.overwrite = true}, ec) ==
              aw::commit_state::unchanged);
        CHECK(ec == std::error_code(ERROR_DISK_FULL, std::system_category()));
        CHECK(ec == std::errc::no_space_on_device);
        CHECK(hook.count(sysop::rename) == 1);
        CHECK(test::read_file(target) == test::old_content);
    }
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("replace_atomic and move_atomic move by name with MoveFileExW", "[windows][commit]") {
    test::temp_dir dir;
    test::write_plain(dir / "a", "a");
    test::write_plain(dir / "b", "b");
    test::scripted_hook hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::replace_atomic(dir / "a", dir / "b");
        aw::move_atomic(dir / "b", dir / "c");
        std::error_code ec;
        test::write_plain(dir / "d", "d");
        CHECK(aw::move_atomic(dir / "c", dir / "d", ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
    }
    for (const auto& c : hook.calls)
        if (c.op == sysop::rename || c.op == sysop::rename_noreplace) CHECK(c.file == aw::invalid_handle);
    CHECK(test::read_file(dir / "c") == "a");
    CHECK(dir.names() == names{"c", "d"});
}

// --- paths ------------------------------------------------------------------------------

TEST_CASE("Windows paths: both slashes, drives, shares and long-path prefixes", "[windows][paths]") {
    using sys::root_length;
    CHECK(root_length(L"") == 0);
    CHECK(root_length(L"name") == 0);
    CHECK(root_length(L"dir\\name") == 0);
    CHECK(root_length(L"\\name") == 1);
    CHECK(root_length(L"/name") == 1);
    CHECK(root_length(L"C:") == 2);
    CHECK(root_length(L"C:name") == 2);
    CHECK(root_length(L"c:\\name") == 3);
    CHECK(root_length(L"C:/name") == 3);
    CHECK(root_length(L"\\\\server\\share") == 14);
    CHECK(root_length(L"\\\\server\\share\\name") == 15);
    CHECK(root_length(L"//server/share/name") == 15);
    CHECK(root_length(L"\\\\?\\C:\\name") == 7);
    CHECK(root_length(L"\\\\?\\UNC\\server\\share\\name") == 21);
    CHECK(root_length(L"\\\\.\\device\\name") == 11);

    using aw::detail::parent_view;
    CHECK(parent_view(std::wstring_view(L"name")) == L".");
    CHECK(parent_view(std::wstring_view(L"dir\\name")) == L"dir");
    CHECK(parent_view(std::wstring_view(L"dir/sub//name")) == L"dir/sub");
    CHECK(parent_view(std::wstring_view(L"C:\\name")) == L"C:\\");
    CHECK(parent_view(std::wstring_view(L"C:name")) == L"C:");
    CHECK(parent_view(std::wstring_view(L"\\\\server\\share\\name")) == L"\\\\server\\share\\");
    CHECK(parent_view(std::wstring_view(L"\\\\?\\C:\\dir\\name")) == L"\\\\?\\C:\\dir");

    wchar_t name[sys::max_name + 1];
    for (const wchar_t* directory : {L"C:", L"C:\\", L"\\\\server\\share", L"dir\\", L"dir/.", L"dir\\.."}) {
        INFO(test::utf8(directory));
        std::error_code ec;
        aw::detail::file_name(directory, name, ec);
        CHECK(ec == std::errc::is_a_directory);
    }
    std::error_code ec;
    aw::detail::file_name(L"C:dir/sub\\file.txt", name, ec);
    CHECK_FALSE(ec);
    CHECK(std::wstring_view(name) == L"file.txt");
}

TEST_CASE("targets named with forward slashes, backslashes and relative paths", "[windows][paths]") {
    test::temp_dir dir;
    fs::create_directories(dir / "a" / "b");
    const std::wstring base = dir.path().native();
    aw::write_file(base + L"/a/b/forward", "forward");
    aw::write_file(base + L"\\a\\b\\back", "back");
    aw::write_file(base + L"\\a/b\\..\\b/mixed", "mixed");
    {
        const test::scoped_cwd cwd(dir / "a");
        aw::write_file(L"b\\relative", "relative");
        aw::write_file(L".\\bare", "bare");
    }
    CHECK(test::read_file(dir / "a" / "b" / "forward") == "forward");
    CHECK(test::read_file(dir / "a" / "b" / "back") == "back");
    CHECK(test::read_file(dir / "a" / "b" / "mixed") == "mixed");
    CHECK(test::read_file(dir / "a" / "b" / "relative") == "relative");
    CHECK(test::read_file(dir / "a" / "bare") == "bare");
    CHECK(test::temp_dir::list(dir / "a" / "b") == names{"back", "forward", "mixed", "relative"});
}

// --- names ------------------------------------------------------------------------------

TEST_CASE("non-ASCII names reach the system as UTF-16", "[windows][unicode]") {
    test::temp_dir dir;
    // Latin with accents, CJK, Greek, and characters outside the BMP (surrogate pairs).
    const std::wstring names_w[] = {L"\u00e9t\u00e9.txt", L"\u65e5\u672c\u8a9e", L"\u03a9mega \u00df",
                                    L"\U0001F600 smile \U0001D11E"};
    for (const std::wstring& n : names_w) {
        const fs::path target = dir.path() / n;
        INFO(test::utf8(target));
        test::scripted_hook hook;
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file(target, "first");
        }
        aw::write_file(target, "second", {.overwrite = true});
        CHECK(test::read_file(target) == "second");
        std::error_code ec;
        CHECK(aw::write_file(target, "third", {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::file_exists);
        // The hook saw the names in UTF-16 (given back here in UTF-8), the temporary
        // name derived from the target's.
        const std::string u8name = test::utf8(n);
        bool saw_stat = false;
        bool saw_create = false;
        for (const auto& c : hook.calls) {
            if (c.op == sysop::stat) saw_stat = saw_stat || c.name == u8name;
            if (c.op == sysop::create_file) saw_create = saw_create || c.name.rfind("." + u8name + ".", 0) == 0;
        }
        CHECK(saw_stat);
        CHECK(saw_create);
        aw::replace_atomic(target, dir.path() / (n + L" moved"));
        CHECK(test::read_file(dir.path() / (n + L" moved")) == "second");
    }
    std::vector<std::string> expected;
    for (const std::wstring& n : names_w) expected.push_back(test::utf8(n + L" moved"));
    std::sort(expected.begin(), expected.end());
    CHECK(dir.names() == expected);
}

TEST_CASE("a long name is shortened for its temporary name without splitting a surrogate pair", "[windows][unicode]") {
    test::temp_dir dir;
    // ".name.XXXXXXXX.tmp" takes 14 characters besides the name, and a shortened name
    // ends with "~" and 16 hex digits of a hash, so a name is cut to 224 UTF-16 units,
    // which here falls between the two halves of the pair at 223-224. (The name stays
    // within 255 bytes of UTF-8 too, the limit of the filesystems Wine runs on.)
    const std::wstring name = std::wstring(223, L'a') + L"\U0001F600" + std::wstring(17, L'b');
    REQUIRE(name.size() == 242);
    class create_names : public aw::syscall_hook {
    public:
        std::vector<std::wstring> created;
        int before(aw::syscall_info& info) noexcept override {
            if (info.op == sysop::create_file) created.emplace_back(info.name);
            return 0;
        }
    } hook;
    {
        aw::scoped_syscall_hook scope(hook);
        aw::write_file(dir.path() / name, "long");
    }
    CHECK(test::read_file(dir.path() / name) == "long");
    REQUIRE(hook.created.size() == 1);
    const std::wstring& temp = hook.created[0];
    CHECK(temp.size() <= 255);
    CHECK(temp.substr(0, 225) == L"." + name.substr(0, 223) + L"~");  // the pair is dropped whole
    for (std::size_t i = 0; i < temp.size(); ++i) {
        const bool high = (temp[i] & 0xFC00) == 0xD800;
        const bool low = (temp[i] & 0xFC00) == 0xDC00;
        if (high) CHECK((i + 1 < temp.size() && (temp[i + 1] & 0xFC00) == 0xDC00));
        if (low) CHECK((i > 0 && (temp[i - 1] & 0xFC00) == 0xD800));
    }
}

TEST_CASE("temp_prefix and temp_suffix are UTF-8, converted to UTF-16", "[windows][unicode]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    {
        aw::atomic_writer w(target, {.temp_prefix = "~\xc3\xa9", .temp_suffix = ".\xe6\x97\xa5"});
        const std::wstring temp = w.temp_path().filename().native();
        CHECK(temp.rfind(L"~\u00e9target.", 0) == 0);
        CHECK(temp.substr(temp.size() - 2) == L".\u65e5");
        w.commit();
    }
    std::error_code ec;
    aw::atomic_writer bad(dir / "other", {.temp_prefix = "\xff"}, ec);
    CHECK(ec == std::errc::invalid_argument);
    CHECK(std::string(bad.failed_step()).find("UTF-8") != std::string::npos);
    aw::atomic_writer slash(dir / "other", {.temp_suffix = "a\\b"}, ec);
    CHECK(ec == std::errc::invalid_argument);
    CHECK(dir.names() == names{"target"});
}

// --- read-only files ----------------------------------------------------------------------

TEST_CASE("a read-only target is replaced and stays read-only", "[windows][readonly]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    auto replace = [&](auto writer_tag, const char* name) {
        using W = typename decltype(writer_tag)::type;
        INFO(name);
        test::write_plain(target, test::old_content);
        test::set_read_only(target, true);
        aw::write_file<W>(target, test::new_content, {.overwrite = true});
        CHECK(test::read_file(target) == test::new_content);
        CHECK(test::is_read_only(target));
        CHECK(dir.names() == names{"target"});
        test::set_read_only(target, false);
        fs::remove(target);
    };
    replace(std::type_identity<movefileex_writer>(), "commit::movefileex");
    replace(std::type_identity<posix_rename_writer>(), "commit::posix_rename");

    SECTION("a writable target stays writable") {
        test::write_plain(target, test::old_content);
        aw::write_file(target, test::new_content, {.overwrite = true});
        CHECK_FALSE(test::is_read_only(target));
    }
    SECTION("write_options::mode without write bits makes a new file read-only") {
        aw::write_file(target, test::new_content, {.mode = fs::perms::owner_read | fs::perms::group_read});
        CHECK(test::is_read_only(target));
        aw::write_file(target, "writable again", {.overwrite = true, .mode = fs::perms::owner_all});
        CHECK_FALSE(test::is_read_only(target));
        CHECK(test::read_file(target) == "writable again");
    }
    SECTION("an uncommitted replacement of a read-only target leaves nothing") {
        test::write_plain(target, test::old_content);
        test::set_read_only(target, true);
        {
            aw::atomic_writer w(target, {.overwrite = true});
            w.write("never published");
            REQUIRE(test::is_read_only(w.temp_path()));  // as the final file would be
        }
        CHECK(dir.names() == names{"target"});
        CHECK(test::read_file(target) == test::old_content);
    }
}

TEST_CASE("a read-only target Windows refuses to replace: the attribute is cleared, and restored on failure",
          "[windows][readonly]") {
    // Windows answers ERROR_ACCESS_DENIED when MoveFileExW would replace a read-only
    // file (Wine, running as root, does not): the answer is injected here.
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, test::old_content);
    test::set_read_only(target, true);
    test::scripted_hook hook;
    hook.fail_op(sysop::rename, ERROR_ACCESS_DENIED, 0);

    SECTION("the second attempt succeeds") {
        {
            aw::scoped_syscall_hook scope(hook);
            aw::write_file<movefileex_writer>(target, test::new_content, {.overwrite = true});
        }
        INFO("calls: " << hook.trace());
        // rename refused, the target's attributes read, cleared by name, rename again.
        const auto ops = hook.ops();
        const std::vector<sysop> expected{sysop::rename, sysop::stat, sysop::chmod, sysop::rename};
        const auto at = std::search(ops.begin(), ops.end(), expected.begin(), expected.end());
        CHECK(at != ops.end());
        CHECK(test::read_file(target) == test::new_content);
        CHECK(test::is_read_only(target));
    }
    SECTION("the second attempt fails too: the target is as it was, read-only") {
        hook.fail_op(sysop::rename, ERROR_DISK_FULL, 1);
        std::error_code ec;
        CHECK(write_hooked<movefileex_writer>(hook, target, test::new_content, {.overwrite = true}, ec) ==
              aw::commit_state::unchanged);
        INFO("calls: " << hook.trace());
        CHECK(ec == std::error_code(ERROR_DISK_FULL, std::system_category()));
        CHECK(hook.count(sysop::chmod) >= 3);  // the temporary file's mode, clear, restore
        CHECK(test::read_file(target) == test::old_content);
        CHECK(test::is_read_only(target));
    }
    CHECK(dir.names() == names{"target"});
}

// --- files other processes hold open ---------------------------------------------------------

TEST_CASE("replacing a target another handle has open with FILE_SHARE_DELETE", "[windows][open]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    const bool supported = posix_rename_supported(dir.path());
    test::write_plain(target, test::old_content);
    HANDLE reader = open_reader(target, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);

    SECTION("commit::posix_rename") {
        test::scripted_hook hook;
        std::error_code ec;
        const aw::commit_state state =
            write_hooked<posix_rename_writer>(hook, target, test::new_content, {.overwrite = true}, ec);
        INFO("calls: " << hook.trace());
        if (supported) {
            // POSIX semantics: the name now shows the new file, the open handle the old one.
            CHECK_FALSE(ec);
            CHECK(state == aw::commit_state::published);
            CHECK(test::read_file(target) == test::new_content);
        } else {
            WARN(
                "skipped: this system has no POSIX rename semantics (FileRenameInfoEx); checked: the "
                "MoveFileExW fallback refuses, retries, and leaves the target as it was");
            CHECK(ec == std::errc::permission_denied);
            CHECK(state == aw::commit_state::unchanged);
            CHECK(count_failed(hook, sysop::rename, ERROR_ACCESS_DENIED) == sys::transient_attempts);
            CHECK(test::read_file(target) == test::old_content);
        }
    }
    SECTION("commit::movefileex: replaced where the system allows it, else untouched") {
        std::error_code ec;
        const aw::commit_state state =
            aw::write_file<movefileex_writer>(target, test::new_content, {.overwrite = true}, ec);
        if (state == aw::commit_state::published) {
            CHECK_FALSE(ec);
            CHECK(test::read_file(target) == test::new_content);
        } else {
            CHECK(ec == std::errc::permission_denied);
            CHECK(test::read_file(target) == test::old_content);
        }
    }
    CHECK(read_handle(reader) == test::old_content);  // the reader's file never changed under it
    ::CloseHandle(reader);
    CHECK(dir.names() == names{"target"});
    // Once the reader is gone, every policy replaces it.
    aw::write_file<movefileex_writer>(target, "after", {.overwrite = true});
    aw::write_file<posix_rename_writer>(target, "after again", {.overwrite = true});
    CHECK(test::read_file(target) == "after again");
}

TEST_CASE("a reader that holds the target for a moment: the rename is retried until it lets go",
          "[windows][open][retry]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, test::old_content);
    // Most programs share reading only: while they hold the file, it cannot be replaced.
    HANDLE reader = open_reader(target, FILE_SHARE_READ);
    std::thread closer([reader] {
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        ::CloseHandle(reader);
    });
    test::scripted_hook hook;
    std::error_code ec;
    const aw::commit_state state =
        write_hooked<movefileex_writer>(hook, target, test::new_content, {.overwrite = true}, ec);
    closer.join();
    INFO("calls: " << hook.trace());
    CHECK_FALSE(ec);
    CHECK(state == aw::commit_state::published);
    CHECK(hook.count(sysop::rename) >= 2);  // refused while held, then made
    CHECK(test::read_file(target) == test::new_content);
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("a transient refusal that lasts is reported after about a second", "[windows][retry]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    test::write_plain(target, test::old_content);

    SECTION("injected: a few sharing violations are absorbed") {
        for (int times : {1, 3, sys::transient_attempts - 1}) {
            INFO(times << " sharing violations");
            test::scripted_hook hook;
            for (int i = 0; i < times; ++i) hook.fail_op(sysop::rename, ERROR_SHARING_VIOLATION, i);
            {
                aw::scoped_syscall_hook scope(hook);
                aw::write_file<movefileex_writer>(target, test::new_content, {.overwrite = true});
            }
            CHECK(hook.count(sysop::rename) == static_cast<std::size_t>(times) + 1);
            CHECK(test::read_file(target) == test::new_content);
            test::write_plain(target, test::old_content);
        }
    }
    SECTION("injected: one more than the attempts is reported, after the backoff") {
        test::scripted_hook hook;
        hook.fail_every(sysop::rename, ERROR_SHARING_VIOLATION);
        std::error_code ec;
        const auto start = std::chrono::steady_clock::now();
        CHECK(write_hooked<movefileex_writer>(hook, target, test::new_content, {.overwrite = true}, ec) ==
              aw::commit_state::unchanged);
        const auto waited = std::chrono::steady_clock::now() - start;
        CHECK(ec == std::error_code(ERROR_SHARING_VIOLATION, std::system_category()));
        CHECK(hook.count(sysop::rename) == static_cast<std::size_t>(sys::transient_attempts));
        // About a second of pauses between the attempts (detail/windows/retry.hpp).
        CHECK(waited >= std::chrono::milliseconds(900));
        CHECK(waited < std::chrono::seconds(10));
        CHECK(test::read_file(target) == test::old_content);
    }
    SECTION("real: a reader that never lets go") {
        HANDLE reader = open_reader(target, FILE_SHARE_READ);
        const auto err = test::catch_error(
            [&] { aw::write_file<movefileex_writer>(target, test::new_content, {.overwrite = true}); });
        ::CloseHandle(reader);
        CHECK(err.threw);
        CHECK((err.code == std::errc::permission_denied || err.code == std::errc::device_or_resource_busy));
        CHECK(err.what.find("rename into place") != std::string::npos);
        CHECK(test::read_file(target) == test::old_content);
    }
    CHECK(dir.names() == names{"target"});
}

TEST_CASE("the target's directory cannot be renamed away while a writer uses it", "[windows][open]") {
    test::temp_dir dir;
    fs::create_directory(dir / "d");
    const fs::path target = dir / "d" / "target";
    {
        aw::atomic_writer w(target);
        w.write("pinned");
        // The writer holds the directory without FILE_SHARE_DELETE: a rename of it (a
        // path component swapped mid-write) is refused, so the commit cannot be redirected.
        CHECK_FALSE(::MoveFileExW((dir / "d").c_str(), (dir / "moved").c_str(), 0));
        CHECK(::GetLastError() == ERROR_SHARING_VIOLATION);
        w.commit();
    }
    CHECK(::MoveFileExW((dir / "d").c_str(), (dir / "moved").c_str(), 0));
    CHECK(test::read_file(dir / "moved" / "target") == "pinned");
}

TEST_CASE("the temporary file: exclusive, not inherited, readable by others, not writable by them", "[windows][temp]") {
    test::temp_dir dir;
    const fs::path target = dir / "target";
    aw::atomic_writer w(target);
    w.write("partial");
    w.flush();
    const fs::path temp = w.temp_path();
    CHECK_FALSE(test::is_inherited(w.native_handle()));
    HANDLE r = ::CreateFileW(temp.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                             nullptr, OPEN_EXISTING, 0, nullptr);
    CHECK(r != INVALID_HANDLE_VALUE);
    if (r != INVALID_HANDLE_VALUE) {
        CHECK(read_handle(r) == "partial");
        ::CloseHandle(r);
    }
    HANDLE wr = ::CreateFileW(temp.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              nullptr, OPEN_EXISTING, 0, nullptr);
    CHECK(wr == INVALID_HANDLE_VALUE);
    if (wr != INVALID_HANDLE_VALUE) ::CloseHandle(wr);
    w.commit();

    // CREATE_NEW: a name that is taken is never opened.
    test::write_plain(dir / ".other.tmp", "someone else's");
    const auto err = test::catch_error([&] {
        aw::write_file<aw::basic_atomic_writer<aw::sync::commit, aw::commit::posix_rename, aw::temp::named>>(
            dir / "other", "mine");
    });
    CHECK(err.code == std::errc::file_exists);
    CHECK(test::read_file(dir / ".other.tmp") == "someone else's");
    CHECK(dir.names() == names{".other.tmp", "target"});
}

// --- errors -----------------------------------------------------------------------------

TEST_CASE("GetLastError() values compare equal to the portable std::errc conditions", "[windows][errors]") {
    struct mapping {
        DWORD error;
        std::errc condition;
    };
    const mapping mappings[] = {
        {ERROR_FILE_NOT_FOUND, std::errc::no_such_file_or_directory},
        {ERROR_PATH_NOT_FOUND, std::errc::no_such_file_or_directory},
        {ERROR_ACCESS_DENIED, std::errc::permission_denied},
        {ERROR_FILE_EXISTS, std::errc::file_exists},
        {ERROR_ALREADY_EXISTS, std::errc::file_exists},
        {ERROR_DISK_FULL, std::errc::no_space_on_device},
        {ERROR_HANDLE_DISK_FULL, std::errc::no_space_on_device},
        {ERROR_NOT_SAME_DEVICE, std::errc::cross_device_link},
        {ERROR_FILENAME_EXCED_RANGE, std::errc::filename_too_long},
        {ERROR_WRITE_PROTECT, std::errc::read_only_file_system},
        {ERROR_DIRECTORY, std::errc::not_a_directory},
        {ERROR_DIR_NOT_EMPTY, std::errc::directory_not_empty},
        {ERROR_INVALID_PARAMETER, std::errc::invalid_argument},
        {ERROR_TOO_MANY_OPEN_FILES, std::errc::too_many_files_open},
        {ERROR_NOT_ENOUGH_MEMORY, std::errc::not_enough_memory},
        {ERROR_INVALID_HANDLE, std::errc::bad_file_descriptor},
    };
    for (const mapping& m : mappings) {
        const std::error_code ec(static_cast<int>(m.error), std::system_category());
        INFO(m.error << " (" << ec.message() << ") and " << std::make_error_condition(m.condition).message());
        CHECK(ec == m.condition);
        CHECK(ec.value() == static_cast<int>(m.error));  // the value is kept as the system gave it
    }
    // A sharing violation is "busy" to libstdc++, "permission denied" to MSVC's library.
    const std::error_code sharing(ERROR_SHARING_VIOLATION, std::system_category());
    CHECK((sharing == std::errc::device_or_resource_busy || sharing == std::errc::permission_denied));
    // What the standard library may leave unmapped, the library recognises by value.
    for (DWORD e : {ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED, ERROR_INVALID_PARAMETER, ERROR_CALL_NOT_IMPLEMENTED})
        CHECK(aw::is_not_supported(std::error_code(static_cast<int>(e), std::system_category())));
    CHECK_FALSE(aw::is_not_supported(std::error_code(ERROR_DISK_FULL, std::system_category())));
}

TEST_CASE("the errors of real failures compare equal to the conditions the POSIX side reports", "[windows][errors]") {
    test::temp_dir dir;
    test::write_plain(dir / "file", "a file");
    fs::create_directory(dir / "directory");
    struct failure {
        const char* what;
        fs::path target;
        aw::write_options options;
        std::errc condition;
    };
    const failure failures[] = {
        {"a missing parent directory", dir / "missing" / "target", {}, std::errc::no_such_file_or_directory},
        {"a parent that is a file", dir / "file" / "target", {}, std::errc::not_a_directory},
        {"a target that is a directory", dir / "directory", {.overwrite = true}, std::errc::is_a_directory},
        {"an existing target without overwrite", dir / "file", {}, std::errc::file_exists},
        {"a name longer than 255 characters", dir / std::wstring(256, L'n'), {}, std::errc::filename_too_long},
    };
    for (const failure& f : failures) {
        INFO(f.what);
        std::error_code ec;
        CHECK(aw::write_file(f.target, "x", f.options, ec) == aw::commit_state::unchanged);
        INFO(ec.category().name() << " " << ec.value() << ": " << ec.message());
        CHECK(ec == f.condition);
        const auto err = test::catch_error([&] { aw::write_file(f.target, "x", f.options); });
        CHECK(err.code == f.condition);
        CHECK(err.path1 == f.target);
    }
    CHECK(dir.names() == names{"directory", "file"});
}

// --- the directory handle -------------------------------------------------------------

TEST_CASE("directory handles on Windows: many writes through one handle", "[windows][directory]") {
    test::temp_dir dir;
    fs::create_directory(dir / "sub");
    aw::directory d(dir.path());
    REQUIRE(d.is_open());
    const std::size_t handles = test::open_descriptor_count();
    for (int i = 0; i < 5; ++i) aw::write_file(d, L"file-" + std::to_wstring(i), std::to_string(i));
    aw::write_file(d, L"\u00e9t\u00e9", "unicode", {.text = true});
    aw::write_file(d, L"sub\\inner", "inner");
    aw::write_file(d, L"sub/other", "other");
    // Names go through Win32's normalisation, as in every other call: ".." and trailing dots.
    aw::write_file(d, L"sub\\..\\up", "up");
    aw::write_file(d, L"dotted.", "dotted");
    aw::atomic_write(d, L"streamed", [](std::ostream& out) { out << "streamed\n"; }, {.overwrite = true, .text = true});
    CHECK(test::open_descriptor_count() == handles);  // subdirectories were closed again
    CHECK(test::read_file(dir / "file-4") == "4");
    CHECK(test::read_file(dir / L"\u00e9t\u00e9") == "unicode");
    CHECK(test::read_file(dir / "streamed") == "streamed\r\n");
    CHECK(test::temp_dir::list(dir / "sub") == names{"inner", "other"});
    CHECK(test::read_file(dir / "up") == "up");
    CHECK(test::read_file(dir / "dotted") == "dotted");
    // The handle pins the directory, as a writer's own does.
    CHECK_FALSE(::MoveFileExW(dir.path().c_str(), (dir.path().native() + L"-moved").c_str(), 0));
}

TEST_CASE("directory handles on Windows: names with a root are refused", "[windows][directory]") {
    test::temp_dir dir;
    aw::directory d(dir.path());
    for (const wchar_t* name : {L"C:\\x", L"C:x", L"\\x", L"//server/share/x"}) {
        INFO(test::utf8(name));
        std::error_code ec;
        CHECK(aw::write_file(d, name, "x", {}, ec) == aw::commit_state::unchanged);
        CHECK(ec == std::errc::invalid_argument);
    }
    CHECK(dir.names().empty());
}

TEST_CASE("directory handles on Windows: a failure at any call leaves the handle usable", "[windows][directory]") {
    test::temp_dir dir;
    aw::directory d(dir.path());
    test::write_plain(dir / "target", test::old_content);
    test::scripted_hook probe;
    {
        aw::scoped_syscall_hook scope(probe);
        aw::write_file(d, "target", test::old_content, {.overwrite = true});
    }
    const std::size_t handles = test::open_descriptor_count();
    std::size_t published_at = 0;  // the rename that publishes, the last one
    for (std::size_t i = 0; i < probe.calls.size(); ++i)
        if (probe.calls[i].op == sysop::rename) published_at = i;
    for (std::size_t i = 0; i < probe.calls.size(); ++i) {
        INFO("failing call " << i << " (" << probe.calls[i].op << "); calls: " << probe.trace());
        test::scripted_hook hook;
        hook.fail_call(i, ERROR_IO_DEVICE);
        std::error_code ec;
        aw::commit_state s;
        {
            aw::scoped_syscall_hook scope(hook);
            s = aw::write_file(d, "target", test::new_content, {.overwrite = true}, ec);
        }
        CHECK(ec == std::error_code(ERROR_IO_DEVICE, std::system_category()));
        const bool after = i > published_at;  // closing the renamed file, flushing the directory
        CHECK(s == (after ? aw::commit_state::published : aw::commit_state::unchanged));
        CHECK(test::read_file(dir / "target") == (after ? test::new_content : test::old_content));
        CHECK(dir.names() == names{"target"});
        CHECK(test::is_open_fd(d.native_handle()));
        CHECK(test::open_descriptor_count() == handles);
        test::write_plain(dir / "target", test::old_content);
    }
}

TEST_CASE("a directory in the way of the rename is is_a_directory, at once", "[windows][commit]") {
    // With metadata_mode::fresh and overwrite the target is still looked at first: the
    // directory is found before anything is made, and no access-denied answer is waited out.
    test::temp_dir dir;
    fs::create_directory(dir / "target");
    test::write_plain(dir / "target" / "inside", test::old_content);
    const aw::write_options fresh{.overwrite = true, .metadata = aw::metadata_mode::fresh};
    for (const bool by_handle : {false, true}) {
        INFO((by_handle ? "commit::posix_rename" : "commit::movefileex"));
        std::error_code ec;
        const auto start = std::chrono::steady_clock::now();
        const aw::commit_state s =
            by_handle ? aw::write_file<posix_rename_writer>(dir / "target", test::new_content, fresh, ec)
                      : aw::write_file<movefileex_writer>(dir / "target", test::new_content, fresh, ec);
        CHECK(s == aw::commit_state::unchanged);
        INFO(ec.category().name() << " " << ec.value() << ": " << ec.message());
        CHECK(ec == std::errc::is_a_directory);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
        CHECK(dir.names() == names{"target"});
        CHECK(test::read_file(dir / "target" / "inside") == test::old_content);
    }
}

TEST_CASE("owner_ids and owner_mode::require are not_supported; create_mode keeps the write bits' meaning",
          "[windows][metadata-control]") {
    test::temp_dir dir;
    const fs::path target = dir / "f";
    test::write_plain(target, "old");
    const auto refused = [&](const aw::write_options& o, std::errc code, const std::string& step) {
        const test::thrown_error e = test::catch_error([&] { aw::write_file(target, "new", o); });
        CHECK(e.threw);
        CHECK(e.code == code);
        CHECK(e.what.find(step) != std::string::npos);
        CHECK(e.path1 == target);
        std::error_code ec;
        CHECK(aw::write_file(target, "new", o, ec) == aw::commit_state::unchanged);
        CHECK(ec == code);
        CHECK(test::read_file(target) == "old");
        CHECK(dir.names() == names{"f"});
    };
    aw::write_options with_owner{.overwrite = true};
    with_owner.owner_ids = aw::file_owner{0, 0};
    refused(with_owner, std::errc::not_supported, "owner_ids");
    refused({.overwrite = true, .owner = aw::owner_mode::require}, std::errc::not_supported, "owner_mode::require");
    refused({.overwrite = true, .mode = fs::perms(0644), .create_mode = fs::perms(0644)}, std::errc::invalid_argument,
            "mode and create_mode both given");
    // A new file: without a write bit, read-only (as with mode); a replaced file keeps
    // its attribute.
    aw::write_file(dir / "ro", "new", {.create_mode = fs::perms(0444)});
    CHECK(test::is_read_only(dir / "ro"));
    aw::write_file(dir / "rw", "new", {.create_mode = fs::perms(0644)});
    CHECK_FALSE(test::is_read_only(dir / "rw"));
    aw::write_file(target, "new", {.overwrite = true, .create_mode = fs::perms(0444)});
    CHECK_FALSE(test::is_read_only(target));
    CHECK(test::read_file(target) == "new");
}
