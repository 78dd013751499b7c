#pragma once
// Writes the attempt's captured output to retryx's stdout and stderr from
// a thread of its own, in the order it was pushed, so that a reader of
// retryx's stdout that stalls never stops the event loop: timeouts and
// signals keep working. The caller reads the attempt's pipes only while
// has_room(), so a stalled reader still holds the attempt back, as it would
// without retryx, and memory stays bounded.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "file_io.hpp"

namespace retryx::process {

class OutputWriter {
 public:
  // One of the loop's reads (256 KiB) queued while the writer writes the
  // previous one: enough to keep both busy, and retryx's peak memory does
  // not grow with the amount of output.
  static constexpr std::size_t bound = 256 << 10;

  // wake is called from the writer thread after a write that made room
  // again (has_room() turned true), emptied the queue (idle()), or failed
  // (error()): what the event loop may be waiting for.
  explicit OutputWriter(std::function<void()> wake);
  // Joins the thread; one stuck in a write is left behind (retryx is
  // leaving anyway).
  ~OutputWriter();
  OutputWriter(const OutputWriter&) = delete;
  OutputWriter& operator=(const OutputWriter&) = delete;

  void push(int fd, std::string_view data);  // fd: 1 or 2
  // length bytes of the file source from offset (--output-on-failure's
  // held output), written from a mapping of the file, not copied into
  // memory first; the range's pages are freed once written (a hole is
  // punched: the file is used up).
  void push_file(int fd, std::shared_ptr<const UniqueFd> source, std::uint64_t offset, std::size_t length);
  bool has_room() const;
  bool idle() const;
  // The errno of a write to fd that failed (EPIPE: its reader went away);
  // later data for it is dropped.
  std::optional<int> error(int fd) const;

 private:
  // One write: data, or a range of a file.
  struct Piece {
    int fd;
    std::string data;
    std::shared_ptr<const UniqueFd> source;
    std::uint64_t offset = 0;
    std::size_t length = 0;
    std::size_t size() const { return source ? length : data.size(); }
  };
  void run();
  static bool write_piece(const Piece& piece);
  static bool copy_range(int fd, int source, std::uint64_t offset, std::uint64_t left);
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Piece> queue_;
  std::size_t queued_ = 0;  // bytes pushed and not yet written
  bool stop_ = false;
  int error_[3] = {0, 0, 0};
  std::function<void()> wake_;
  std::thread thread_;
};

}  // namespace retryx::process
