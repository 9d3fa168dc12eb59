// SPDX-License-Identifier: MIT
/// \file
/// basic_batch: stages many atomic writes and makes them durable with as few flushes as
/// the platform allows: every file synced (as the GroupPolicy issues it), then every
/// file published, then each distinct directory synced once. Each file is atomic on its
/// own; the batch is not all-or-nothing (see docs/batch.md).
#ifndef ATOMICWRITES_BATCH_HPP
#define ATOMICWRITES_BATCH_HPP

#include <atomicwrites/atomic_writer.hpp>
#include <atomicwrites/basic_atomic_writer.hpp>
#include <atomicwrites/directory.hpp>
#include <atomicwrites/error.hpp>
#include <atomicwrites/group.hpp>
#include <atomicwrites/types.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace atomicwrites {
inline namespace v1 {

/// How far a batch's commit got, over all its files.
enum class batch_state : unsigned char {
    /// No target was changed.
    unchanged,
    /// Some targets show their new content, the others are untouched (a publication
    /// failed part-way; see the per-file results).
    partial,
    /// Every staged target shows its new content (an error reported with this state
    /// came after the publications: a directory sync, say).
    published,
};

/// What became of one staged file, in staging order.
struct batch_file_result {
    /// The target, as staged (with a directory handle: its path joined with the name).
    std::filesystem::path target;
    /// Whether the new content is at the target.
    commit_state state = commit_state::unchanged;
    /// Published, and every sync the SyncPolicy promises done: it survives a crash.
    /// Always false with a SyncPolicy that is not durable (sync::none).
    bool durable = false;
    /// This file's own error, if any; empty for a file rolled back because of another's.
    std::error_code error{};
    /// The step that failed for this file ("sync temporary file", "rename into place",
    /// "sync directory"), or null.
    const char* step = nullptr;
};

/// Limits of a batch.
struct batch_options {
    /// The most temporary files write_file() keeps open: when this many are staged and
    /// not yet synced, they are synced (with the group policy) and closed, and the batch
    /// goes on. Publication still waits for commit(). Writers from add() stay open until
    /// commit() and count towards it, but cannot be closed early.
    std::size_t max_open_files = 256;
};

/// A batch's failure: which step failed for which file (path1(); code() is its error),
/// and what became of every staged file (results()). Thrown by commit(), and by a
/// staging call whose failure rolled the batch back.
class batch_error : public std::filesystem::filesystem_error {
public:
    /// An error with its results.
    batch_error(const std::string& what, const std::filesystem::path& p, std::error_code ec,
                std::shared_ptr<const std::vector<batch_file_result>> results, batch_state state)
        : std::filesystem::filesystem_error(what, p, ec), results_(std::move(results)), state_(state) {}
    /// Every staged file, in staging order.
    std::span<const batch_file_result> results() const noexcept {
        if (!results_) return {};
        return {results_->data(), results_->size()};
    }
    /// How far the batch got.
    batch_state state() const noexcept { return state_; }

private:
    std::shared_ptr<const std::vector<batch_file_result>> results_;
    batch_state state_;
};

namespace detail {

template <class W>
struct is_basic_atomic_writer : std::false_type {};
template <class S, class C, class T>
struct is_basic_atomic_writer<basic_atomic_writer<S, C, T>> : std::true_type {};

/// The steps of a writer's commit(), one at a time, for a batch.
struct batch_access {
    template <class W>
    static writer_state& state(W& w) noexcept {
        return w.s_;
    }
    template <class W>
    static const writer_state& state(const W& w) noexcept {
        return w.s_;
    }
    template <class W>
    static const typename W::sync_type& sync(const W& w) noexcept {
        return w.sync_;
    }
    template <class W>
    static bool finish_content(W& w, std::error_code& ec) noexcept {
        return w.finish_content(ec);
    }
    template <class W>
    static bool close_for_publication(W& w, std::error_code& ec) noexcept {
        return w.close_for_publication(ec);
    }
    template <class W>
    static commit_state publish(W& w, std::error_code& ec) noexcept {
        return w.publish(ec);
    }
    template <class W>
    static void fail(W& w) noexcept {
        w.fail();
    }
};

}  // namespace detail

/// Stages atomic writes of many files (write_file(), add()) and commit()s them with as
/// few flushes as the platform allows: each file is written to a temporary file as a
/// Writer would; commit() syncs every temporary file (the GroupPolicy decides how the
/// syncs are issued), publishes them in staging order, then syncs each distinct
/// directory that changed, once. The files may be in any number of directories, given
/// by path or by directory handle, with any write_options each.
///
/// Order (the contract): nothing is published before every staged file is durable;
/// commit() returns only after every directory that changed is durable (with a durable
/// SyncPolicy).
///
/// Not all-or-nothing: each file is replaced atomically on its own, and a crash during
/// commit() can leave some targets new and others old. Failures:
/// - a failed stage (the writer could not be made, a write failed) or a failed sync
///   rolls the whole batch back: nothing is published, every temporary file removed;
/// - a failed publication stops there: the files before it are published (and their
///   directories still synced), it and the files after it are untouched and their
///   temporary files removed. The error (batch_error, or `ec` and results()) says which.
///
/// Descriptors: one per distinct directory (the files staged by path in one directory
/// share one handle of it, opened at the first), plus at most batch_options::max_open_files
/// temporary files (write_file() closes them in synced groups), plus one per writer
/// from add() and per file with write_options::temp_directory. Memory: about 1 KiB per
/// staged file, none of its content.
///
/// A batch destroyed or rolled back before commit() removes every temporary file. Not
/// thread-safe; not copyable or movable (add() hands out references into it).
template <class Writer = atomic_writer, class GroupPolicy = default_group>
class basic_batch {
    static_assert(detail::is_basic_atomic_writer<Writer>::value,
                  "basic_batch<Writer, GroupPolicy>: Writer must be a basic_atomic_writer<...>");
    static_assert(group_policy<GroupPolicy>, "GroupPolicy does not satisfy atomicwrites::group_policy");

public:
    /// The writer each file is written with.
    using writer_type = Writer;
    /// The GroupPolicy.
    using group_type = GroupPolicy;

    /// An empty batch.
    basic_batch() = default;
    /// An empty batch with these limits and group policy object.
    explicit basic_batch(const batch_options& options, GroupPolicy group = {})
        : options_(options), group_(std::move(group)) {}
    /// Rolls back what was not committed. Never throws.
    ~basic_batch() { rollback(); }
    basic_batch(const basic_batch&) = delete;
    basic_batch& operator=(const basic_batch&) = delete;

    // --- staging ---------------------------------------------------------------------

    /// Stages `data` as the new content of `path`: the temporary file is made and
    /// written; nothing is published before commit().
    /// Errors: throws batch_error naming the step and the path, after rolling back the
    /// whole batch (the writer's errors, and those of a group of files synced early,
    /// see batch_options).
    void write_file(const std::filesystem::path& path, std::string_view data, const write_options& options = {}) {
        std::error_code ec;
        write_file(path, data, options, ec);
        if (ec) throw_failure(ec);
    }
    /// \overload
    template <byte_range Bytes>
    void write_file(const std::filesystem::path& path, const Bytes& data, const write_options& options = {}) {
        write_file(path, as_view(data), options);
    }
    /// The error_code form: on failure the batch is rolled back, `ec` set (results()
    /// says which file).
    void write_file(const std::filesystem::path& path, std::string_view data, const write_options& options,
                    std::error_code& ec) noexcept {
        stage_whole(data, options, ec, path);
    }
    /// \overload
    template <byte_range Bytes>
    void write_file(const std::filesystem::path& path, const Bytes& data, const write_options& options,
                    std::error_code& ec) noexcept {
        stage_whole(as_view(data), options, ec, path);
    }
    /// Stages `data` as the new content of `name` in the open directory `dir`, which must
    /// outlive the commit.
    void write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                    const write_options& options = {}) {
        std::error_code ec;
        write_file(dir, name, data, options, ec);
        if (ec) throw_failure(ec);
    }
    /// \overload
    template <byte_range Bytes>
    void write_file(const directory& dir, const std::filesystem::path& name, const Bytes& data,
                    const write_options& options = {}) {
        write_file(dir, name, as_view(data), options);
    }
    /// \overload
    void write_file(const directory& dir, const std::filesystem::path& name, std::string_view data,
                    const write_options& options, std::error_code& ec) noexcept {
        stage_whole(data, options, ec, dir, name);
    }
    /// \overload
    template <byte_range Bytes>
    void write_file(const directory& dir, const std::filesystem::path& name, const Bytes& data,
                    const write_options& options, std::error_code& ec) noexcept {
        stage_whole(as_view(data), options, ec, dir, name);
    }

    /// Stages a writer for `path` to write (or stream()) into; the batch commits it.
    /// The reference is valid until the batch is destroyed or stages again after a
    /// commit() or rollback(). Do not commit() it yourself (it would make its own syncs);
    /// a writer rolled back by the caller is left out of the batch.
    /// Errors: as write_file().
    Writer& add(const std::filesystem::path& path, const write_options& options = {}) {
        std::error_code ec;
        Writer* w = add(path, options, ec);
        if (ec) throw_failure(ec);
        return *w;
    }
    /// The error_code form: null on failure (the batch is then rolled back).
    Writer* add(const std::filesystem::path& path, const write_options& options, std::error_code& ec) noexcept {
        entry* e = stage(options, ec, path);
        return e != nullptr ? &e->writer : nullptr;
    }
    /// add() for `name` in the open directory `dir`.
    Writer& add(const directory& dir, const std::filesystem::path& name, const write_options& options = {}) {
        std::error_code ec;
        Writer* w = add(dir, name, options, ec);
        if (ec) throw_failure(ec);
        return *w;
    }
    /// \overload
    Writer* add(const directory& dir, const std::filesystem::path& name, const write_options& options,
                std::error_code& ec) noexcept {
        entry* e = stage(options, ec, dir, name);
        return e != nullptr ? &e->writer : nullptr;
    }

    /// The files staged and not yet committed or rolled back.
    std::size_t size() const noexcept { return finished_ ? 0 : entries_.size(); }

    // --- committing ------------------------------------------------------------------

    /// Syncs every staged file, publishes them, syncs their directories (see the class
    /// comment for the order and what a failure leaves). Returns how far it got; the
    /// batch is empty afterwards, and results() tells each file's outcome.
    /// Errors: the first failure, in `ec` (results() names the file and step): the
    /// errors of the writer's policies and of the group policy.
    batch_state commit(std::error_code& ec) noexcept {
        ec.clear();
        has_outcome_ = false;
        results_.reset();
        if (finished_ || entries_.empty()) {
            finish();
            return batch_state::unchanged;
        }
        std::vector<entry*> pending;
        try {
            for (entry& e : entries_)
                if (e.writer.is_open() && !e.synced) pending.push_back(&e);
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return abort(nullptr, "commit batch", ec);
        }
        entry* failed = nullptr;
        if (!sync_and_close(pending, failed, ec)) return abort(failed, nullptr, ec);

        // Publish in staging order; stop at the first failure.
        std::size_t k = 0;
        for (; k < entries_.size(); ++k) {
            entry& e = entries_[k];
            if (!e.writer.is_open()) {  // committed or rolled back by the caller
                e.left_out = e.writer.state() == commit_state::unchanged;
                continue;
            }
            std::error_code pe;
            if (detail::batch_access::publish(e.writer, pe) == commit_state::unchanged) {
                e.error = pe;
                e.step = e.writer.failed_step();
                detail::batch_access::fail(e.writer);
                break;
            }
            if (pe) {
                e.error = pe;
                e.step = e.writer.failed_step();
            }
            e.published = true;
        }
        for (std::size_t j = k; j < entries_.size(); ++j) entries_[j].writer.rollback();
        sync_directories();
        release_all();
        return finish_commit(ec);
    }

    /// Commits; throws batch_error (a filesystem_error naming the step and the file) on
    /// the first failure, with every file's outcome in results().
    void commit() {
        std::error_code ec;
        commit(ec);
        if (ec) throw_failure(ec);
    }

    /// Abandons what is staged: every temporary file removed, no target touched. Never
    /// fails. Does nothing on an empty or committed batch.
    void rollback() noexcept {
        if (finished_) return;
        for (entry& e : entries_) e.writer.rollback();
        close_directories();
        finished_ = true;
    }

    /// Every file's outcome after the last commit() or failed stage, in staging order
    /// (empty before).
    /// Errors: none; empty if there is no memory to list the files.
    std::span<const batch_file_result> results() const noexcept {
        if (!has_outcome_) return {};
        if (!results_) {
            try {
                build_results();
            } catch (...) {
                return {};
            }
        }
        return {results_->data(), results_->size()};
    }

private:
    struct entry {
        template <class... Args>
        explicit entry(Args&&... args) : writer(std::forward<Args>(args)...) {}
        Writer writer;
        std::size_t dir = 0;          // index in dirs_ of the target's directory
        std::size_t temp_dir = npos;  // of the temporary file's directory, if another
        std::uint64_t device = 0;
        bool complete = false;  // written whole by write_file(): may be synced before commit()
        bool synced = false;    // synced and closed ahead of commit()
        bool published = false;
        bool left_out = false;  // committed or rolled back by the caller
        bool durable = false;
        std::error_code error{};
        const char* step = nullptr;
    };

    /// A distinct directory of the batch (by device and inode).
    struct dir_slot {
        std::uint64_t device;
        std::uint64_t inode;
        native_handle_type handle;  // for a temporary directory: the first writer's (not used to sync)
        bool owned;                 // closed by the batch
        bool temporary;             // a temp_directory, not a target's directory
    };

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    template <byte_range Bytes>
    static std::string_view as_view(const Bytes& data) noexcept {
        return {detail::bytes_of(data), std::ranges::size(data)};
    }

    /// Starts a new round after a commit() or rollback(): the old writers go.
    void begin_round() noexcept {
        if (!finished_) return;
        entries_.clear();
        shared_dirs_.clear();
        dirs_.clear();
        pending_.clear();
        open_files_ = 0;
        finished_ = false;
    }

    template <class... Where>
    entry* stage(const write_options& options, std::error_code& ec, const Where&... where) noexcept {
        ec.clear();
        has_outcome_ = false;
        results_.reset();
        begin_round();
        entry* e = nullptr;
        try {
            if constexpr (sizeof...(Where) == 1) {
                // By path: the files of one directory share one handle of it.
                const std::filesystem::path& target = (where, ...);
                if (const directory* d = shared_directory(target); d != nullptr)
                    e = &entries_.emplace_back(*d, target.filename(), options, ec);
                else
                    e = &entries_.emplace_back(target, options, ec);
            } else {
                e = &entries_.emplace_back(where..., options, ec);
            }
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            abort(nullptr, "stage file", ec);
            return nullptr;
        }
        if (ec) {
            e->step = e->writer.failed_step();
            e->error = ec;
            abort(e, nullptr, ec);
            return nullptr;
        }
        if (!register_directories(*e, ec)) {
            abort(e, nullptr, ec);
            return nullptr;
        }
        ++open_files_;
        return e;
    }

    template <class... Where>
    void stage_whole(std::string_view data, const write_options& options, std::error_code& ec,
                     const Where&... where) noexcept {
        entry* e = stage(options, ec, where...);
        if (e == nullptr) return;
        detail::writer_access::write_through(e->writer, data.data(), data.size(), ec);
        if (ec) {
            e->step = "write temporary file";
            e->error = ec;
            abort(e, nullptr, ec);
            return;
        }
        e->complete = true;
        try {
            pending_.push_back(e);
        } catch (...) {
            pending_.clear();  // stays open until commit(): only the bound is lost
        }
        if (open_files_ >= options_.max_open_files && !pending_.empty()) {
            entry* failed = nullptr;
            const bool ok = sync_and_close(pending_, failed, ec);
            open_files_ -= pending_.size();
            pending_.clear();
            if (!ok) abort(failed, nullptr, ec);
        }
    }

    /// The directory handle shared by the files staged by path in `target`'s directory
    /// (opened at the first of them: later ones go into that directory even if its path
    /// is renamed meanwhile, as a writer's commit goes into the directory it opened), or
    /// null where the writer opens its own: a path without a directory part or a file
    /// name, or a directory that cannot be opened for reading (the writer then opens it
    /// as it can, or names the error).
    const directory* shared_directory(const std::filesystem::path& target) {
        if (!target.has_filename() || !target.has_parent_path()) return nullptr;
        const std::filesystem::path parent = target.parent_path();
        auto it = shared_dirs_.find(parent.native());
        if (it == shared_dirs_.end()) {
            std::error_code ec;
            it = shared_dirs_.emplace(parent.native(), directory(parent, ec)).first;
        }
        return it->second.is_open() ? &it->second : nullptr;
    }

    /// Finds or adds the slot of the directory `h` is open on.
    bool slot_of(native_handle_type h, bool temporary, std::size_t& index, std::uint64_t& device,
                 std::error_code& ec) noexcept {
        // A target directory's slot holds its handle open for the batch's life: the
        // same handle (a directory handle's) is the same directory.
        for (std::size_t i = 0; i < dirs_.size(); ++i) {
            if (!temporary && !dirs_[i].temporary && dirs_[i].handle == h) {
                index = i;
                device = dirs_[i].device;
                return true;
            }
        }
        const detail::sys::file_status st = detail::sys::stat_handle(h, ec);
        if (ec) return false;
        device = st.device;
        for (std::size_t i = 0; i < dirs_.size(); ++i) {
            if (dirs_[i].device == st.device && dirs_[i].inode == st.inode && dirs_[i].temporary == temporary) {
                index = i;
                return true;
            }
        }
        try {
            dirs_.push_back({st.device, st.inode, h, false, temporary});
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return false;
        }
        index = dirs_.size() - 1;
        return true;
    }

    /// Shares one handle per distinct target directory among the batch's writers (the
    /// batch closes it), so that descriptors grow with directories, not files.
    bool register_directories(entry& e, std::error_code& ec) noexcept {
        detail::writer_state& s = detail::batch_access::state(e.writer);
        const std::size_t before = dirs_.size();
        if (!slot_of(s.dir, false, e.dir, e.device, ec)) {
            e.step = "look at directory";
            e.error = ec;
            return false;
        }
        if (dirs_.size() > before) {
            dirs_[e.dir].owned = s.owns_dir;  // the batch closes it from now on
        } else if (s.owns_dir) {
            std::error_code ignored;  // a duplicate, opened read-only: nothing to lose
            detail::sys::close(s.dir, ignored);
        }
        s.dir = dirs_[e.dir].handle;
        s.owns_dir = false;
        if (s.temp_dir != invalid_handle) {
            std::uint64_t device = 0;
            if (!slot_of(s.temp_dir, true, e.temp_dir, device, ec)) {
                e.step = "look at temporary directory";
                e.error = ec;
                return false;
            }
        }
        return true;
    }

    /// Makes the content of `list` final, syncs it with the group policy, and closes
    /// what can be closed before publication. On failure sets `failed` (null if the
    /// failure is the batch's own) and returns false.
    bool sync_and_close(const std::vector<entry*>& list, entry*& failed, std::error_code& ec) noexcept {
        for (entry* e : list) {
            if (!detail::batch_access::finish_content(e->writer, ec)) {
                failed = e;
                e->error = ec;
                e->step = e->writer.failed_step();
                return false;
            }
        }
        std::vector<sync_item> items;
        try {
            items.reserve(list.size());
        } catch (...) {
            ec = std::make_error_code(std::errc::not_enough_memory);
            return false;
        }
        for (entry* e : list) items.push_back({e->writer.native_handle(), e->device, {}});
        struct context {
            const std::vector<entry*>* list;
            const sync_item* base;
        } ctx{&list, items.data()};
        const sync_step step(
            &ctx,
            [](const void* c, sync_item& item) noexcept {
                const auto* x = static_cast<const context*>(c);
                const entry* e = (*x->list)[static_cast<std::size_t>(&item - x->base)];
                detail::batch_access::sync(e->writer).sync_file(item.handle, item.error);
            },
            Writer::sync_type::durable);
        group_.sync_files(std::span<sync_item>(items), step);
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (items[i].error) {
                failed = list[i];
                ec = items[i].error;
                failed->error = ec;
                failed->step = "sync temporary file";
                return false;
            }
        }
        for (entry* e : list) {
            if (!detail::batch_access::close_for_publication(e->writer, ec)) {
                failed = e;
                e->error = ec;
                e->step = e->writer.failed_step();
                return false;
            }
            e->synced = true;
        }
        return true;
    }

    /// Syncs each distinct directory a publication changed, once.
    void sync_directories() noexcept {
        std::vector<sync_item> items;
        std::vector<const entry*> owners;  // a published file in each directory
        std::vector<std::size_t> slots;
        try {
            for (const entry& e : entries_) {
                if (!e.published) continue;
                const detail::writer_state& s = detail::batch_access::state(e.writer);
                for (const std::size_t slot : {e.dir, e.temp_dir}) {
                    if (slot == npos) continue;
                    if (std::find(slots.begin(), slots.end(), slot) != slots.end()) continue;
                    // A temporary directory is synced through a handle of a writer that
                    // is still open on it (the slot's first one may have been rolled back).
                    items.push_back({slot == e.dir ? dirs_[slot].handle : s.temp_dir, dirs_[slot].device, {}});
                    owners.push_back(&e);
                    slots.push_back(slot);
                }
            }
        } catch (...) {
            for (entry& e : entries_)
                if (e.published && !e.error) {
                    e.error = std::make_error_code(std::errc::not_enough_memory);
                    e.step = "sync directory";
                }
            return;
        }
        struct context {
            const std::vector<const entry*>* owners;
            const std::vector<std::size_t>* slots;
            const std::vector<dir_slot>* dirs;
            const sync_item* base;
        } ctx{&owners, &slots, &dirs_, items.data()};
        const sync_step step(
            &ctx,
            [](const void* c, sync_item& item) noexcept {
                const auto* x = static_cast<const context*>(c);
                const std::size_t i = static_cast<std::size_t>(&item - x->base);
                const entry* e = (*x->owners)[i];
                const auto& sync = detail::batch_access::sync(e->writer);
                if ((*x->dirs)[(*x->slots)[i]].temporary) {
                    sync.sync_directory(item.handle, item.error);
                } else {
                    const auto& s = detail::batch_access::state(e->writer);
                    detail::sync_target_directory(sync, item.handle, s.name, item.error);
                }
            },
            Writer::sync_type::durable);
        group_.sync_directories(std::span<sync_item>(items), step);
        for (entry& e : entries_) {
            if (!e.published) continue;
            e.durable = Writer::sync_type::durable;
            for (std::size_t i = 0; i < items.size(); ++i) {
                if (!items[i].error || (slots[i] != e.dir && slots[i] != e.temp_dir)) continue;
                e.durable = false;
                if (!e.error) {
                    e.error = items[i].error;
                    e.step = dirs_[slots[i]].temporary ? "sync temporary directory" : "sync directory";
                }
            }
        }
    }

    /// Closes what the writers still hold (temporary directories), then the batch's
    /// directories.
    void release_all() noexcept {
        for (entry& e : entries_) {
            std::error_code ce;
            detail::batch_access::state(e.writer).release(&ce);
            if (ce && e.published && !e.error) {
                e.error = ce;
                e.step = "close directory";
            }
        }
        close_directories();
    }

    void close_directories() noexcept {
        for (auto& [path, d] : shared_dirs_) {
            std::error_code ignored;  // opened read-only and synced: nothing to lose
            d.close(ignored);
        }
        for (dir_slot& d : dirs_) {
            if (!d.owned || d.handle == invalid_handle) continue;
            std::error_code ignored;  // opened read-only and synced: nothing to lose
            detail::sys::close(d.handle, ignored);
            d.handle = invalid_handle;
        }
    }

    /// Rolls everything back after a failure before any publication.
    batch_state abort(entry* failed, const char* step, std::error_code ec) noexcept {
        if (failed != nullptr) {
            if (failed->step == nullptr) failed->step = step;
            if (!failed->error) failed->error = ec;
            if (failed->writer.is_open()) detail::batch_access::fail(failed->writer);
        }
        for (entry& e : entries_) e.writer.rollback();
        close_directories();
        finished_ = true;
        store_results(failed, step, ec);
        return batch_state::unchanged;
    }

    /// Builds results() and the state after the publications.
    batch_state finish_commit(std::error_code& ec) noexcept {
        finished_ = true;
        std::size_t published = 0;
        std::size_t staged = 0;
        entry* first = nullptr;
        for (entry& e : entries_) {
            if (e.left_out) continue;
            ++staged;
            if (e.published || e.writer.state() == commit_state::published) ++published;
            if (e.error && first == nullptr) first = &e;
        }
        if (first != nullptr) ec = first->error;
        store_results(first, nullptr, ec);
        if (published == 0) return batch_state::unchanged;
        return published == staged ? batch_state::published : batch_state::partial;
    }

    void finish() noexcept {
        finished_ = true;
        has_outcome_ = false;
        results_.reset();
    }

    /// Records the outcome; results() builds the per-file list when asked (most
    /// callers only look at the error), from the writers, which stay until the next round.
    void store_results(const entry* failed, const char* step, const std::error_code&) noexcept {
        has_outcome_ = true;
        results_.reset();
        failed_ = failed;
        failed_step_ = failed != nullptr && failed->step != nullptr ? failed->step : step;
    }

    void build_results() const {
        auto r = std::make_shared<std::vector<batch_file_result>>();
        r->reserve(entries_.size());
        for (const entry& e : entries_) {
            batch_file_result x;
            x.target = e.writer.target();
            x.state = e.published ? commit_state::published : e.writer.state();
            x.durable =
                e.published ? e.durable : (e.writer.state() == commit_state::published && Writer::sync_type::durable);
            x.error = e.error;
            x.step = e.step;
            r->push_back(std::move(x));
        }
        results_ = std::move(r);
    }

    [[noreturn]] void throw_failure(std::error_code ec) const {
        if (has_outcome_ && !results_) build_results();
        std::size_t published = 0;
        std::size_t durable = 0;
        for (const batch_file_result& r : results()) {
            published += r.state == commit_state::published;
            durable += r.durable;
        }
        std::string what = "atomicwrites: batch: ";
        what += failed_step_ != nullptr ? failed_step_ : "commit";
        what += " (" + std::to_string(published) + " of " + std::to_string(results().size()) + " files published, " +
                std::to_string(durable) + " durable";
        if (published == 0) what += "; every temporary file removed";
        what += ")";
        const batch_state state = published == 0                  ? batch_state::unchanged
                                  : published == results().size() ? batch_state::published
                                                                  : batch_state::partial;
        throw batch_error(what, failed_ != nullptr ? failed_->writer.target() : std::filesystem::path{}, ec, results_,
                          state);
    }

    // Declared before the writers, which point to them: destroyed after them.
    std::map<std::filesystem::path::string_type, directory> shared_dirs_;
    std::deque<entry> entries_;
    std::vector<dir_slot> dirs_;
    std::vector<entry*> pending_;  // written whole, not yet synced
    std::size_t open_files_ = 0;   // temporary files open and not yet synced
    bool finished_ = false;
    bool has_outcome_ = false;  // a commit() or a failed stage since the last round began
    mutable std::shared_ptr<const std::vector<batch_file_result>> results_;  // built by results()
    const entry* failed_ = nullptr;
    const char* failed_step_ = nullptr;
    batch_options options_{};
    ATOMICWRITES_NO_UNIQUE_ADDRESS GroupPolicy group_{};
};

/// A batch with the default writer (atomic_writer) and group policy (group::automatic).
using batch = basic_batch<>;

}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_BATCH_HPP
