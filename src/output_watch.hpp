#pragma once
// Matching an attempt's output against the output conditions, line by line,
// in bounded memory: lines are cut at '\n' (not included in the match); a
// line longer than max_line is matched in pieces of max_line bytes. A
// pattern that has matched once is not tried again, so once every pattern
// has matched the rest of the output is only counted, not scanned; except
// --delay-from-output's, where the last matching line counts: it is tried
// on every line (lines that cannot match skipped by the many-line scan),
// and only the last value is kept.
#include <optional>
#include <string>
#include <string_view>

#include "outcome.hpp"
#include "policy.hpp"
#include "regex.hpp"

namespace retryx {

class OutputWatch {
 public:
  static constexpr std::size_t max_line = 1 << 20;

  // Throws ValueError for a bad pattern.
  explicit OutputWatch(const OutputPatterns& patterns);

  // One or more lines of either stream, joined by '\n' (N lines, N - 1
  // newlines), at most max_line bytes; or a piece of a longer line.
  void lines(std::string_view text);
  bool done() const;  // every pattern has matched (never with --delay-from-output)
  void reset() { matches_ = {}; }  // for the next attempt
  const OutputMatches& matches() const { return matches_; }

 private:
  std::optional<Regex> until_, retry_if_, stop_if_, fail_if_, delay_from_;
  OutputMatches matches_;
};

// Cuts one stream (stdout or stderr) into lines for an OutputWatch.
class LineSplitter {
 public:
  void feed(std::string_view chunk, OutputWatch& watch);
  void finish(OutputWatch& watch);  // the last line, without '\n'

 private:
  std::string partial_;  // the start of a line whose end has not come yet
};

}  // namespace retryx
