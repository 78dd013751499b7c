#pragma once
// The process seam (as ninja's CommandRunner): the attempt loop talks to
// processes and clocks only through these interfaces, so it is tested with
// fakes. process_layer.hpp is the real implementation.
#include <cstdint>
#include <functional>
#include <optional>

#include "duration.hpp"
#include "outcome.hpp"
#include "policy.hpp"

namespace retryx {

struct AttemptRequest {
  const Command& command;
  std::uint64_t attempt;                    // from 1
  std::optional<std::uint64_t> max_attempts;
  std::function<void(int pid)> on_started;  // called once the command runs
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs one attempt to its end and says how it ended. Never throws for a
  // command that cannot be started: that is a SpawnFailed result.
  virtual AttemptResult run(const AttemptRequest& request) = 0;
};

// Time: the loop sleeps its delays here and reads the monotonic clock here,
// so a fake can make time pass without waiting.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void sleep(Duration delay) = 0;
  virtual Duration now() = 0;  // monotonic, from an arbitrary origin
};

}  // namespace retryx
