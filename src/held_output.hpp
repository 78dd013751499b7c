#pragma once
// --hold-stdout: one attempt's stdout, held in memory up to a bound and in
// an unlinked temporary file beyond it, then written out in one piece: to
// stdout when the attempt succeeded, to stderr when it did not.
#include <string>
#include <string_view>

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
  // Writes everything held to fd, then forgets it. Returns false when fd's
  // reader has gone (EPIPE).
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

// An unlinked temporary file in $TMPDIR (or /tmp), close-on-exec: its
// descriptor, or -1 with errno set.
int make_temp_file(const char* stem);

// Writes all of data to fd, blocking: retries after EINTR and short writes,
// and waits out EAGAIN (a stdout someone else made non-blocking). Returns
// false when the reader has gone (EPIPE) or on another error.
bool write_blocking(int fd, std::string_view data);

}  // namespace retryx
