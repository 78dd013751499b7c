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

  // Throws std::runtime_error when the temporary file cannot be made.
  void append(std::string_view data);
  // Writes everything held to fd, then forgets it. Returns false when fd's
  // reader has gone (EPIPE).
  bool release(int fd);
  std::size_t size() const { return size_; }

 private:
  std::string memory_;
  int file_ = -1;
  std::size_t size_ = 0;
};

// Writes all of data to fd, blocking: retries after EINTR and short writes,
// and waits out EAGAIN (a stdout someone else made non-blocking). Returns
// false when the reader has gone (EPIPE) or on another error.
bool write_blocking(int fd, std::string_view data);

}  // namespace retryx
