#pragma once
// The process seam (as ninja's CommandRunner): the attempt loop talks to
// processes and clocks only through these interfaces, so it is tested with
// fakes. process_layer.hpp is the real implementation.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duration.hpp"
#include "outcome.hpp"
#include "policy.hpp"

namespace retryx {

// Variables retryx sets for the child; nullopt removes one the child would
// otherwise inherit (a nested retryx must not see its parent's counters).
using ChildEnvironment = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct AttemptRequest {
  const Command& command;
  ChildEnvironment environment;
  std::optional<Duration> time_limit;       // stop it as on a timeout past this
  bool is_hook = false;                     // hooks read /dev/null, never the attempt's stdin
  std::function<void(int pid)> on_started;  // called once the command runs
};

// What writing out an attempt's held stdout (--hold-stdout) ran into.
struct OutputRelease {
  std::optional<int> interrupted_by;  // INT, TERM, ... that cut the writing short
  std::optional<int> stdout_error;    // errno of a failed write to retryx's stdout
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs one command to its end and says how it ended. Never throws for a
  // command that cannot be started: that is a SpawnFailed result. When
  // retryx is told to stop meanwhile (a signal), the signal is forwarded
  // and the result says so (interrupted_by). The caller asks
  // Sleeper::stop_requested() first: nothing starts after a stop.
  virtual AttemptResult run(const AttemptRequest& request) = 0;
  // --hold-stdout: the last attempt's stdout goes to stdout if it succeeded,
  // to stderr if not. Called once after every attempt.
  virtual OutputRelease release_output(bool /*succeeded*/) { return {}; }
};

// Time: the loop sleeps its delays here and reads the monotonic clock here,
// so a fake can make time pass without waiting.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Returns the signal that cut the sleep short, if any.
  virtual std::optional<int> sleep(Duration delay) = 0;
  // The signal that told retryx to stop, if one has come (taking in those
  // that arrived since the last look). Asked before every attempt and hook.
  virtual std::optional<int> stop_requested() = 0;
  virtual Duration now() = 0;  // monotonic, from an arbitrary origin
  // The calendar time, for the HTTP dates a command may ask to wait until
  // (--delay-from-output).
  virtual std::chrono::system_clock::time_point wall_clock() { return std::chrono::system_clock::now(); }
};

}  // namespace retryx
