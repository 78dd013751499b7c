#pragma once
// The process seam (as ninja's CommandRunner): the attempt loop talks to
// processes and clocks only through these interfaces, so it is tested with
// fakes. process_layer.hpp is the real implementation.
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

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs one command to its end and says how it ended. Never throws for a
  // command that cannot be started: that is a SpawnFailed result. When
  // retryx receives INT, TERM, HUP or QUIT meanwhile, the signal is
  // forwarded and the result says so (interrupted_by).
  virtual AttemptResult run(const AttemptRequest& request) = 0;
  // --hold-stdout: the last attempt's stdout goes to stdout if it succeeded,
  // to stderr if not. Called once after every attempt. Returns the signal
  // (INT, TERM, HUP, QUIT) that interrupted the writing, if any.
  virtual std::optional<int> release_output(bool /*succeeded*/) { return std::nullopt; }
};

// Time: the loop sleeps its delays here and reads the monotonic clock here,
// so a fake can make time pass without waiting.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Returns the signal (INT, TERM, HUP, QUIT) that cut the sleep short, if any.
  virtual std::optional<int> sleep(Duration delay) = 0;
  virtual Duration now() = 0;  // monotonic, from an arbitrary origin
};

}  // namespace retryx
