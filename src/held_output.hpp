#pragma once
// --hold-stdout: one attempt's stdout, held in memory up to a bound and in
// an unlinked temporary file beyond it, then written out in one piece: to
// stdout when the attempt succeeded, to stderr when it did not.
#include <functional>
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
  // Hands everything held to sink in order, then forgets it. sink returns
  // false to stop (its reader went away, or retryx was interrupted).
  bool release(const std::function<bool(std::string_view)>& sink);

 private:
  bool to_file(std::string_view data);
  std::string memory_;  // after the file's content, if there is a file
  int file_ = -1;
  std::size_t file_size_ = 0;
  bool file_failed_ = false;
};

}  // namespace retryx
