#pragma once
// Output capture (spec §4): with output conditions, --idle-timeout or
// --hold-stdout, the attempt's stdout (and stderr, when lines are matched or
// silence is timed) come through pipes on the event loop; every byte goes
// on unchanged and promptly through the writer thread (or is held, for
// stdout under --hold-stdout), lines are matched in bounded memory, and the
// time of the last byte is kept for --idle-timeout. Part of the process
// layer: Asio is used.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "file_io.hpp"
#include "held_output.hpp"
#include "outcome.hpp"
#include "output_watch.hpp"
#include "policy.hpp"
#include "process/output_writer.hpp"

namespace retryx::process {

// Whether descriptors a and b of retryx are the same open file (kcmp; where
// that is refused, the same pipe or socket, or one file both O_APPEND).
bool same_open_file(int a, int b);

class OutputCapture {
 public:
  // `interrupted` says whether retryx has been told to stop: the writer
  // then gets a short grace rather than all the time a stalled reader takes.
  // stderr comes through a pipe too when lines are matched or `timed`
  // (--idle-timeout: a byte on either stream counts).
  // held_run (--output-on-failure): both streams of every attempt (and
  // hook) are appended to it, and nothing is forwarded until write_out().
  OutputCapture(boost::asio::io_context& io, const OutputPatterns& patterns, bool hold_stdout, bool timed,
                std::function<bool()> interrupted, HeldOutput* held_run = nullptr);
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  // Pipes for one attempt: the write ends for the child's stdout and stderr
  // (stderr empty under --hold-stdout alone; two descriptors of one pipe's
  // write end when retryx's stdout and stderr are one open file, see the
  // .cpp). Throws std::runtime_error
  // when a pipe cannot be made; nothing is left open then.
  std::pair<UniqueFd, UniqueFd> open();
  void start_reading();
  // When the attempt last wrote a byte (when reading started, before its
  // first), for --idle-timeout. Now while retryx holds a stream back (its
  // own reader stalls): an attempt that cannot write is not silent.
  std::chrono::steady_clock::time_point last_output() const;
  // The attempt's group is gone: reads what is left, and waits until the
  // writer has written it, so that the attempt's output comes before
  // retryx's line about it.
  void finish();
  OutputMatches matches() const;
  // --hold-stdout: the attempt's stdout to stdout if it succeeded, to
  // stderr if not.
  void release(bool succeeded);
  // --output-on-failure: everything held written out, in order, stdout's
  // parts to stdout and the rest to stderr. False: cut short (interrupted,
  // and the writer made no progress for a second).
  bool write_out(HeldOutput& held);
  // The errno of a write to retryx's stdout that failed (EPIPE: no reader).
  std::optional<int> stdout_error() const { return writer_.error(1); }

 private:
  struct Stream;
  void forward(Stream& stream, std::string_view data);
  void read(Stream& stream);
  void writer_progress();
  bool run_until(const std::function<bool()>& done);
  void close(Stream& stream);
  void drain(Stream& stream);

  boost::asio::io_context& io_;
  const bool hold_stdout_;
  const bool both_streams_;
  std::function<bool()> interrupted_;
  std::chrono::steady_clock::time_point last_output_{};
  std::optional<OutputWatch> watch_;
  std::unique_ptr<Stream> out_, err_;
  std::optional<HeldOutput> held_;
  HeldOutput* const held_run_;
  OutputWriter writer_;  // last: its thread stops before the rest goes
};

}  // namespace retryx::process
