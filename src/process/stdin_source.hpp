#pragma once
// What each attempt reads as stdin (spec §4): retryx's own (from the offset
// the first attempt started at, when it is a regular file), all of it
// replayed to every attempt, or /dev/null; hooks always read /dev/null.
#include <functional>
#include <optional>
#include <sys/types.h>

#include "file_io.hpp"
#include "policy.hpp"

namespace retryx::process {

class StdinSource {
 public:
  // --stdin replay reads all of stdin here, once; a stop signal meanwhile
  // (stop_requested() says which) ends retryx by that signal at once.
  // Throws std::runtime_error when the mode cannot be set up (no temporary
  // file, /dev/null missing).
  StdinSource(StdinMode mode, const std::function<std::optional<int>()>& stop_requested);

  // The descriptor the attempt or hook reads, opened for it alone; an empty
  // one means retryx's own stdin. Throws std::runtime_error when it cannot
  // be opened: never a silent fallback to retryx's own stdin.
  UniqueFd for_attempt(bool is_hook);

 private:
  StdinMode mode_;
  UniqueFd null_;
  UniqueFd replay_;
  std::optional<off_t> offset_;  // inherit from a regular file: where attempt 1 started
};

// Both --stdin replay and --hold-stdout may need a temporary file: a
// directory where none can be made is an error before anything runs.
// Throws std::runtime_error naming the option.
void check_temp_dir(const char* option);

}  // namespace retryx::process
