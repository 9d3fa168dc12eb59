// SPDX-License-Identifier: MIT
/// \file
/// The write buffer behind basic_atomic_writer::write() and stream(). Not API.
#ifndef ATOMICWRITES_DETAIL_STREAM_BUFFER_HPP
#define ATOMICWRITES_DETAIL_STREAM_BUFFER_HPP

#include <atomicwrites/detail/sys.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ios>
#include <memory>
#include <new>
#include <optional>
#include <ostream>
#include <streambuf>
#include <system_error>

namespace atomicwrites {
inline namespace v1 {
namespace detail {

/// A fixed buffer in front of one file descriptor. The std::ostream is only built when
/// asked for (building one constructs a std::locale, which plain write() callers should
/// not pay for). The first write error is kept; after it every write fails with it.
///
/// In text mode on a platform whose newline is not "\n" (Windows), each '\n' becomes
/// the platform's newline as the buffer is written out: every byte passes through the
/// buffer then, however it was written (write(), the stream's put() or <<).
class stream_buffer final : public std::streambuf {
public:
    static constexpr std::size_t capacity = 64 * 1024;

    explicit stream_buffer(native_handle_type file, bool text = false)
        : file_(file), data_(new char[capacity]), translate_(text && sys::text_newline != "\n") {
        setp(data_.get(), data_.get() + capacity);
    }
    stream_buffer(const stream_buffer&) = delete;
    stream_buffer& operator=(const stream_buffer&) = delete;

    std::ostream& stream() {
        if (!stream_) stream_.emplace(this);
        return *stream_;
    }

    /// Appends, writing through when the buffer fills; large pieces bypass it.
    void put(const char* p, std::size_t n, std::error_code& ec) noexcept {
        if (error_) {
            ec = error_;
            return;
        }
        if (n == 0) return;  // p may be null then, and memcpy must not see it
        const auto space = static_cast<std::size_t>(epptr() - pptr());
        if (n <= space) {
            std::memcpy(pptr(), p, n);
            pbump(static_cast<int>(n));
            return;
        }
        if (translate_) {
            // Through the buffer, whatever the size, so that every newline is translated.
            while (n > 0) {
                if (pptr() == epptr()) {
                    flush(ec);
                    if (ec) return;
                }
                const std::size_t chunk = std::min(n, static_cast<std::size_t>(epptr() - pptr()));
                std::memcpy(pptr(), p, chunk);
                pbump(static_cast<int>(chunk));
                p += chunk;
                n -= chunk;
            }
            return;
        }
        flush(ec);
        if (ec) return;
        if (n >= capacity) {
            sys::write_all(file_, p, n, ec);
            if (ec) error_ = ec;
            return;
        }
        std::memcpy(pptr(), p, n);
        pbump(static_cast<int>(n));
    }

    /// Writes out what is buffered.
    void flush(std::error_code& ec) noexcept {
        if (error_) {
            ec = error_;
            return;
        }
        const auto n = static_cast<std::size_t>(pptr() - pbase());
        if (n == 0) return;
        if (translate_) {
            write_translated(n, ec);
        } else {
            sys::write_all(file_, pbase(), n, ec);
        }
        setp(data_.get(), data_.get() + capacity);
        if (ec) error_ = ec;
    }

    /// The first write error, if any.
    std::error_code error() const noexcept { return error_; }
    /// True if the ostream (if one was made) is in a failed state.
    bool stream_failed() const noexcept { return stream_ && stream_->fail(); }
    /// Stops all further writes (after commit or rollback): they fail with EBADF.
    void close() noexcept {
        setp(data_.get(), data_.get() + capacity);
        if (!error_) error_ = std::make_error_code(std::errc::bad_file_descriptor);
        if (stream_) stream_->setstate(std::ios_base::badbit);
    }

protected:
    int_type overflow(int_type ch) override {
        std::error_code ec;
        flush(ec);
        if (ec) return traits_type::eof();
        if (!traits_type::eq_int_type(ch, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    std::streamsize xsputn(const char* p, std::streamsize n) override {
        std::error_code ec;
        put(p, static_cast<std::size_t>(n), ec);
        return ec ? 0 : n;
    }
    int sync() override {
        std::error_code ec;
        flush(ec);
        return ec ? -1 : 0;
    }

    // Seeking (seekp(), tellp()) moves the file's position, after writing out what is
    // buffered; tellp() asks the position without writing anything out, so that the
    // progress of a long write can be shown. Not in text mode, whose translation makes
    // positions in the stream differ from those in the file; not where the platform
    // cannot seek (sys::has_positioned_io).
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
        const pos_type failed(off_type(-1));
        if ((which & std::ios_base::out) == 0 || translate_ || error_ || !sys::has_positioned_io) return failed;
        std::error_code ec;
        if (off == 0 && dir == std::ios_base::cur) {
            const std::uint64_t at = sys::seek(file_, 0, sys::seek_from::position, ec);
            return ec ? failed : pos_type(static_cast<off_type>(at) + (pptr() - pbase()));
        }
        flush(ec);
        if (ec) return failed;
        const sys::seek_from from = dir == std::ios_base::beg   ? sys::seek_from::start
                                    : dir == std::ios_base::cur ? sys::seek_from::position
                                                                : sys::seek_from::end;
        const std::uint64_t at = sys::seek(file_, static_cast<std::int64_t>(off), from, ec);
        return ec ? failed : pos_type(static_cast<off_type>(at));
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
        return seekoff(off_type(pos), std::ios_base::beg, which);
    }

private:
    /// Writes the first `n` buffered bytes with each '\n' replaced by the platform's
    /// newline, through a second buffer big enough for a buffer full of newlines.
    void write_translated(std::size_t n, std::error_code& ec) noexcept {
        constexpr std::size_t widest = capacity * sys::text_newline.size();
        if (!translated_) {
            translated_.reset(new (std::nothrow) char[widest]);
            if (!translated_) {
                ec = std::make_error_code(std::errc::not_enough_memory);
                return;
            }
        }
        char* out = translated_.get();
        for (const char* p = pbase(); p != pbase() + n; ++p) {
            if (*p == '\n') {
                std::memcpy(out, sys::text_newline.data(), sys::text_newline.size());
                out += sys::text_newline.size();
            } else {
                *out++ = *p;
            }
        }
        sys::write_all(file_, translated_.get(), static_cast<std::size_t>(out - translated_.get()), ec);
    }

    native_handle_type file_;
    std::unique_ptr<char[]> data_;
    std::unique_ptr<char[]> translated_;  // text mode only, made on first use
    std::error_code error_;
    std::optional<std::ostream> stream_;
    bool translate_;
};

}  // namespace detail
}  // namespace v1
}  // namespace atomicwrites

#endif  // ATOMICWRITES_DETAIL_STREAM_BUFFER_HPP
