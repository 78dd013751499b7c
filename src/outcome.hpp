#pragma once
// How one attempt ended, as a value: the process layer produces it, the
// classifier, the attempt log and the exit status read it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "duration.hpp"

namespace retryx {

struct Exited {
  int code;  // 0..255
};

struct Signaled {
  int signal;
};

// The command could not be started. status is 127 (not found) or 126 (found
// but not executable), as a shell and timeout(1) report them.
struct SpawnFailed {
  int status;
  std::string error;
};

using Termination = std::variant<Exited, Signaled, SpawnFailed>;

// Which output conditions a line of the attempt's output matched.
struct OutputMatches {
  bool until = false;
  bool retry_if = false;
  bool stop_if = false;
  bool fail_if = false;
  // --delay-from-output: the first capture group (or the whole match) of
  // the LAST line that matched, at most max_delay_text bytes.
  std::optional<std::string> delay_text;
  static constexpr std::size_t max_delay_text = 256;
};

struct AttemptResult {
  Termination how;
  Duration duration{};
  int pid = 0;             // 0 when the command was never started
  bool timed_out = false;  // stopped by retryx for running past its time
  std::optional<int> interrupted_by;  // a signal retryx received and forwarded meanwhile
  OutputMatches output;
  // retryx's stdout can take no more: the errno of the write that failed,
  // or EPIPE when its reader has gone (| head -1). No attempt follows.
  std::optional<int> stdout_error;
  // Stopped by --idle-timeout (timed_out is set too): no byte on stdout or
  // stderr for this long.
  std::optional<Duration> idle_limit;
};

// The status a shell would report for it: the exit code, 128 + signal, or
// 126/127 for a command that could not be started.
int shell_status(const Termination& how);

// "exit code 3", "killed by SIGKILL", "command not found: foo".
std::string describe(const Termination& how);

}  // namespace retryx

namespace retryx {

// What the loop decided after an attempt (the `outcome` of the log).
// budget: a retry the retry budget refused (--retry-budget).
enum class AttemptOutcome { success, retry, fatal, exhausted, deadline, interrupted, budget };

struct AttemptRecord {
  std::uint64_t attempt;                     // from 1
  std::optional<std::uint64_t> max_attempts; // nullopt with --forever
  AttemptResult result;
  AttemptOutcome outcome;
  std::string reason;             // the rule that decided, in words
  std::optional<Duration> delay;  // the delay before the next attempt, for retry
  // exhausted, budget: why the attempt was a failure worth retrying (reason
  // says the attempt limit, or the budget), e.g. "no line matched --until-output".
  std::string retry_reason;
  // --delay-from-output: the delay the command asked for, when its value
  // parsed (before the cap at --max-delay); or why the value was ignored.
  std::optional<Duration> directed_delay;
  std::string directed_delay_problem;
};

// Why the whole run stopped.
enum class RunOutcome { success, exhausted, fatal, deadline, interrupted, circuit_open, budget };

struct RunSummary {
  RunOutcome outcome;
  std::uint64_t attempts;
  std::optional<std::uint64_t> max_attempts;
  std::optional<AttemptResult> last;  // none when interrupted before the first attempt
  std::string reason;                 // why the run stopped
  Duration elapsed{};
  int exit_status = 0;
  std::optional<int> signal;  // interrupted: the signal retryx must die by
};

std::string_view name(AttemptOutcome outcome);
std::string_view name(RunOutcome outcome);

}  // namespace retryx
