#include "process/output_capture.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/kcmp.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace retryx::process {

namespace asio = boost::asio;

// kcmp(KCMP_FILE) says whether two descriptors are the same open file
// description (one open(), then dup'ed: `>>f 2>&1`, cron's one pipe, a
// terminal opened once). Where it is refused (ENOSYS without CONFIG_KCMP;
// EPERM under a container's seccomp profile), two descriptors of the same
// device and inode are taken as the same when writing through one or the
// other cannot differ from writing through one: a pipe or a socket (bytes
// reach it in the order they were written, whichever descriptor wrote
// them; cron's pipe is the case that matters) or a regular file both open
// with O_APPEND (every write goes to the end). Anything else is left as
// two: `>f 2>f` writes each descriptor at its own offset, and a terminal
// or device is not worth a guess.
bool same_open_file(int a, int b) {
  const long same = ::syscall(SYS_kcmp, ::getpid(), ::getpid(), KCMP_FILE, a, b);
  if (same >= 0) return same == 0;
  if (errno == EBADF) return false;
  struct stat sa {}, sb {};
  if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0) return false;
  if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino) return false;
  if (S_ISFIFO(sa.st_mode) || S_ISSOCK(sa.st_mode)) return true;
  const int fa = ::fcntl(a, F_GETFL), fb = ::fcntl(b, F_GETFL);
  return S_ISREG(sa.st_mode) && fa >= 0 && fb >= 0 && (fa & O_APPEND) && (fb & O_APPEND);
}

// One captured stream of an attempt: the read end of its pipe, where its
// bytes go, and the lines it has given so far. Merged (see open()), it is
// both of the attempt's streams, cut into lines as one.
struct OutputCapture::Stream {
  asio::posix::stream_descriptor pipe;
  int target;  // STDOUT_FILENO or STDERR_FILENO
  bool hold;   // stdout under --hold-stdout
  LineSplitter lines;
  // Large reads: the loop's cost is per read (a wake-up, a hand-over to the
  // writer thread, a regex scan), not per byte. Left uninitialised: memory
  // is only touched by what the attempt writes.
  static constexpr std::size_t buffer_size = 256 << 10;
  std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(buffer_size);
  bool open = true;
  bool paused = false;  // not read while the writer's queue is full
  Stream(asio::io_context& io, UniqueFd fd, int target_fd, bool hold_it)
      : pipe(io, fd.release()), target(target_fd), hold(hold_it) {}
};

OutputCapture::OutputCapture(asio::io_context& io, const OutputPatterns& patterns, bool hold_stdout, bool timed,
                             std::function<bool()> interrupted, HeldOutput* held_run)
    : io_(io), hold_stdout_(hold_stdout), both_streams_(timed || patterns.any() || held_run),
      interrupted_(std::move(interrupted)), held_run_(held_run),
      writer_([this] { asio::post(io_, [this] { writer_progress(); }); }) {
  if (patterns.any()) watch_.emplace(patterns);
}

OutputCapture::~OutputCapture() = default;

std::pair<UniqueFd, UniqueFd> OutputCapture::open() {
  if (watch_) watch_->reset();
  if (hold_stdout_) held_.emplace();
  out_.reset();
  err_.reset();
  auto make = [&](std::unique_ptr<Stream>& stream, int target, bool hold) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    ::fcntl(read_end.get(), F_SETPIPE_SZ, 1 << 20);  // fewer wake-ups; refused is fine
    stream = std::make_unique<Stream>(io_, std::move(read_end), target, hold);
    return write_end;
  };
  UniqueFd out = make(out_, STDOUT_FILENO, hold_stdout_);
  // Two pipes drained separately lose the order between the attempt's
  // stdout and stderr: a line written to stderr after 700 kB of stdout can
  // be read before the end of it, and would land inside a stdout line of a
  // file that gets both. When retryx's stdout and stderr are one open file
  // (`>>f 2>&1`, cron's pipe), the attempt gets one pipe as both its stdout
  // and its stderr, so that what it wrote keeps the exact order it was
  // written in; its bytes are one stream, forwarded (or held, under
  // --output-on-failure) as stdout's, which goes to that same file.
  // Output conditions and --idle-timeout read their lines from that one
  // stream. Not under --hold-stdout: there stdout is held and stderr is
  // not, by design, so the two stay apart. Asked at every attempt: it is
  // one system call.
  UniqueFd err;
  if (both_streams_ && !hold_stdout_ && same_open_file(STDOUT_FILENO, STDERR_FILENO)) {
    err.reset(::fcntl(out.get(), F_DUPFD_CLOEXEC, 0));
    if (!err) {
      const int error = errno;
      out_.reset();
      throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(error)));
    }
  } else if (both_streams_) {
    err = make(err_, STDERR_FILENO, false);
  }
  return {std::move(out), std::move(err)};
}

void OutputCapture::start_reading() {
  last_output_ = std::chrono::steady_clock::now();
  for (auto* stream : {out_.get(), err_.get()})
    if (stream) read(*stream);
}

void OutputCapture::forward(Stream& stream, std::string_view data) {
  if (held_run_) held_run_->append(stream.target, data);
  else if (stream.hold) held_->append(data);
  else writer_.push(stream.target, data);
  if (watch_) stream.lines.feed(data, *watch_);
}

void OutputCapture::read(Stream& stream) {
  stream.pipe.async_read_some(asio::buffer(stream.buffer.get(), Stream::buffer_size),
                              [this, &stream](const boost::system::error_code& ec, std::size_t n) {
                                if (n > 0) {
                                  // One clock read per read of up to 256 KiB:
                                  // --idle-timeout's timer looks at it when it
                                  // fires, rather than being re-armed here.
                                  last_output_ = std::chrono::steady_clock::now();
                                  forward(stream, std::string_view(stream.buffer.get(), n));
                                }
                                if (ec || !stream.open) {
                                  if (ec != asio::error::operation_aborted) close(stream);
                                  return;
                                }
                                if (!writer_.has_room()) {
                                  stream.paused = true;  // writer_progress resumes it
                                  return;
                                }
                                read(stream);
                              });
}

// The writer wrote something: resume paused streams, and close the
// attempt's stdout pipe when retryx's stdout reader went away (| head -1),
// so that the attempt sees the broken pipe itself, as without retryx. Any
// other write error (a full disk) is not the attempt's to see: its output
// is still read, and dropped.
void OutputCapture::writer_progress() {
  for (auto* stream : {out_.get(), err_.get()}) {
    if (!stream || !stream->open) continue;
    if (!stream->hold && writer_.error(stream->target) == EPIPE) {
      close(*stream);
    } else if (stream->paused && writer_.has_room()) {
      stream->paused = false;
      read(*stream);
    }
  }
}

// Runs the event loop until done(). Once retryx is interrupted, the writer
// gets one second more: enough to flush to a reader that reads, while a
// stalled one cannot keep retryx from ending. False: gave up.
bool OutputCapture::run_until(const std::function<bool()>& done) {
  std::optional<asio::steady_timer> grace;
  bool expired = false;
  while (!done() && !expired) {
    if (interrupted_() && !grace) {
      grace.emplace(io_, std::chrono::seconds(1));
      grace->async_wait([&expired](const boost::system::error_code& ec) { expired = !ec; });
    }
    io_.run_one();
  }
  if (grace) {
    grace->cancel();
    io_.poll();
  }
  return done();
}

void OutputCapture::close(Stream& stream) {
  if (!stream.open) return;
  stream.open = false;
  if (watch_) stream.lines.finish(*watch_);
  boost::system::error_code ignored;
  stream.pipe.close(ignored);
}

// The attempt's whole group is gone: what is left in the pipe is all there
// will be, unless a process that escaped the group holds it open.
void OutputCapture::drain(Stream& stream) {
  if (!stream.open) return;
  stream.paused = false;  // read here, not resumed by writer_progress
  stream.pipe.cancel();
  io_.poll();
  while (stream.open) {
    const ssize_t n = ::read(stream.pipe.native_handle(), stream.buffer.get(), Stream::buffer_size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    forward(stream, std::string_view(stream.buffer.get(), static_cast<std::size_t>(n)));
  }
  close(stream);
}

void OutputCapture::finish() {
  for (auto* stream : {out_.get(), err_.get()})
    if (stream) drain(*stream);
  out_.reset();
  err_.reset();
  run_until([this] { return writer_.idle(); });
}

std::chrono::steady_clock::time_point OutputCapture::last_output() const {
  for (const auto* stream : {out_.get(), err_.get()})
    if (stream && stream->open && stream->paused) return std::chrono::steady_clock::now();
  return last_output_;
}

OutputMatches OutputCapture::matches() const { return watch_ ? watch_->matches() : OutputMatches{}; }

void OutputCapture::release(bool succeeded) {
  if (!held_) return;
  const int fd = succeeded ? STDOUT_FILENO : STDERR_FILENO;
  held_->release([&](std::string_view chunk) {
    writer_.push(fd, chunk);
    return run_until([this] { return writer_.has_room(); }) && !writer_.error(fd);
  });
  run_until([this] { return writer_.idle(); });
  held_.reset();
}

// A stdout whose reader went away (| head -1) drops stdout's parts from
// then on (the writer skips a stream that failed); stderr's still go out.
// What was spilled to the temporary file is handed to the writer as
// ranges of it, in pieces of 1 MiB, written from a mapping of the file
// (not copied through memory), and the file's pages freed as they go.
bool OutputCapture::write_out(HeldOutput& held) {
  auto target = [](int stream) { return stream == STDOUT_FILENO ? STDOUT_FILENO : STDERR_FILENO; };
  auto room = [this] { return run_until([this] { return writer_.has_room(); }); };
  auto bytes = [&](int stream, std::string_view chunk) {
    writer_.push(target(stream), chunk);
    return room();
  };
  std::shared_ptr<const UniqueFd> source;  // the writer's own descriptor of the file: it outlives release
  auto ranges = [&](int stream, int file, std::uint64_t offset, std::uint64_t length) {
    if (!source) source = std::make_shared<const UniqueFd>(::fcntl(file, F_DUPFD_CLOEXEC, 0));
    for (constexpr std::uint64_t piece = 1 << 20; length > 0;) {
      const std::size_t n = std::min(length, piece);
      if (*source) {
        writer_.push_file(target(stream), source, offset, n);
        if (!room()) return false;
      } else {  // no descriptor to spare: through memory
        std::string data(n, '\0');
        if (::pread(file, data.data(), n, static_cast<off_t>(offset)) != static_cast<ssize_t>(n) ||
            !bytes(stream, data))
          return false;
      }
      offset += n;
      length -= n;
    }
    return true;
  };
  const bool complete = held.release(bytes, ranges);
  return run_until([this] { return writer_.idle(); }) && complete;
}

}  // namespace retryx::process
