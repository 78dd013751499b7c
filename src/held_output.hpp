#pragma once
// Held output: what retryx holds back and writes out later, in order.
// --hold-stdout holds one attempt's stdout; --output-on-failure holds the
// whole run (every attempt's stdout and stderr, and the log lines retryx
// would have written to stderr). In memory up to a bound, then in an
// unlinked temporary file, so that memory stays flat however much is held.
//
// Kept as framed records [stream (1 byte), length (4 bytes), bytes]: what
// was written to which stream, in order, with no index that grows with the
// number of writes. Consecutive writes to one stream share a record while
// it is in memory.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace retryx {

class HeldOutput {
 public:
  static constexpr std::size_t memory_bound = 1 << 20;
  // --output-on-failure, when the temporary file cannot be made or written
  // (a full disk): how much more is held in memory before bytes are dropped.
  static constexpr std::size_t fallback_bound = 64 << 20;

  // fallback: nullopt keeps everything in memory when the temporary file
  // fails (nothing is lost; the bound is given up instead).
  explicit HeldOutput(std::optional<std::size_t> fallback = std::nullopt) : fallback_(fallback) {}
  ~HeldOutput();
  HeldOutput(const HeldOutput&) = delete;
  HeldOutput& operator=(const HeldOutput&) = delete;

  // stream: 1 (stdout) or 2 (stderr). Never fails: past the fallback bound
  // bytes are dropped and counted (dropped()), unless keep: retryx's own
  // log lines (a few short ones per attempt) are kept past it, so that a
  // full disk never hides why the run failed.
  void append(int stream, std::string_view data, bool keep = false);
  void append(std::string_view data) { append(1, data); }
  // Hands everything held to sink, record by record and in order (a record
  // may come in several pieces), then forgets it. sink returns false to
  // stop (its reader went away, or retryx was interrupted).
  bool release(const std::function<bool(int stream, std::string_view)>& sink);
  bool release(const std::function<bool(std::string_view)>& sink) {
    return release([&](int, std::string_view data) { return sink(data); });
  }
  // The same, with the records in the temporary file handed to ranges as
  // where they are (its descriptor, offset, length), to be copied by the
  // kernel; the descriptor is closed when release returns.
  using RangeSink = std::function<bool(int stream, int file, std::uint64_t offset, std::uint64_t length)>;
  bool release(const std::function<bool(int stream, std::string_view)>& sink, const RangeSink& ranges);

  // The errno of the temporary file's failure (creating or writing it), if
  // it failed, and how many bytes were dropped since.
  std::optional<int> spill_error() const { return spill_error_; }
  std::uint64_t dropped() const { return dropped_; }
  bool empty() const { return memory_.empty() && file_size_ == 0; }

 private:
  void add_record(int stream, std::string_view data, bool keep);
  bool spill();
  bool to_file(std::string_view data);
  void truncate_to(std::uint64_t size);
  bool release_file(const std::function<bool(int, std::string_view)>& sink, const RangeSink& ranges);

  std::optional<std::size_t> fallback_;
  std::string memory_;  // records after the file's, if there is a file
  std::size_t last_record_ = std::string::npos;  // offset in memory_ of the last record's header
  int file_ = -1;
  std::uint64_t file_size_ = 0;
  std::optional<int> spill_error_;
  std::uint64_t dropped_ = 0;
};

}  // namespace retryx
