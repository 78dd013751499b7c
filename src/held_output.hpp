#pragma once
// --hold-stdout: one attempt's stdout, held in memory up to a bound and in
// an unlinked temporary file beyond it, then written out in one piece: to
// stdout when the attempt succeeded, to stderr when it did not.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

// make_temp_file and write_all moved there; process_layer.cpp still finds
// make_temp_file through this include until it includes file_io.hpp itself.
#include "file_io.hpp"

namespace retryx {

class HeldOutput {
 public:
  static constexpr std::size_t memory_bound = 1 << 20;

  HeldOutput() = default;
  ~HeldOutput();
  HeldOutput(const HeldOutput&) = delete;
  HeldOutput& operator=(const HeldOutput&) = delete;

  // Never fails: if the temporary file cannot be made or written, the rest
  // is kept in memory (nothing is lost; the bound is given up instead).
  void append(std::string_view data);
  // Hands everything held to sink in order, then forgets it. sink returns
  // false to stop (its reader went away, or retryx was interrupted).
  bool release(const std::function<bool(std::string_view)>& sink);
  // The same, written to fd (blocking). False when fd's reader has gone.
  bool release(int fd);
  std::size_t size() const { return size_; }

 private:
  bool to_file(std::string_view data);
  std::string memory_;  // after the file's content, if there is a file
  int file_ = -1;
  std::size_t file_size_ = 0;
  bool file_failed_ = false;
  std::size_t size_ = 0;
};

// Writes the attempt's captured output to retryx's stdout and stderr from
// a thread of its own, in the order it was pushed, so that a reader of
// retryx's stdout that stalls never stops the event loop: timeouts and
// signals keep working. The caller reads the attempt's pipes only while
// has_room(), so a stalled reader still holds the attempt back, as it would
// without retryx, and memory stays bounded.
class OutputWriter {
 public:
  // One of the loop's reads (256 KiB) queued while the writer writes the
  // previous one: enough to keep both busy, and retryx's peak memory does
  // not grow with the amount of output.
  static constexpr std::size_t bound = 256 << 10;

  // wake is called from the writer thread after a write that made room
  // again (has_room() turned true), emptied the queue (idle()), or failed
  // (broken()): what the event loop may be waiting for.
  explicit OutputWriter(std::function<void()> wake);
  // Joins the thread; one stuck in a write is left behind (retryx is
  // leaving anyway).
  ~OutputWriter();
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  void push(int fd, std::string_view data);
  bool has_room() const;
  bool idle() const;
  // A write to fd failed (its reader went away); later data for it is dropped.
  bool broken(int fd) const;

 private:
  void run();
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<int, std::string>> queue_;
  std::size_t queued_ = 0;  // bytes pushed and not yet written
  bool stop_ = false;
  bool broken_[3] = {false, false, false};
  std::function<void()> wake_;
  std::thread thread_;
};

}  // namespace retryx
