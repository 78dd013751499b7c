#pragma once
// The circuit breaker shared by the runs of one job (--circuit PATH, spec
// §7). The state lives in a small JSON file:
//   {"schema":1,"state":"closed"|"open"|"half_open",
//    "consecutive_failures":N,"last_failure_ms":T,"trial_started_ms":T}
// (times in milliseconds since the Unix epoch, 0 for never). Every
// read-modify-write happens under flock on PATH.lock, and the file is
// replaced atomically (written beside it, then renamed).
//
//   closed    runs go ahead; a run that gives up counts one failure, and
//             --circuit-threshold consecutive ones open the circuit;
//   open      runs within --circuit-cooldown of the last failure are refused
//             (exit 75); the first run after it becomes the trial;
//   half_open one trial run is under way: others are refused until it ends
//             (or until a cooldown has passed since it started, in case it
//             died); its success closes the circuit, its failure reopens it.
// A missing state file is a first run's normal case. A missing directory
// (made), an unreadable or corrupt state file is reported and treated as
// closed; it never stops a run by itself, and is rewritten at the end.
//
// CircuitBreaker is the seam retryx::run asks: FileCircuit here, and
// RedisCircuit (redis_circuit.hpp) for a fleet (spec §11), which decides
// with the same rules on the server and says the same words.
#include <cstdint>
#include <optional>
#include <string>

#include "duration.hpp"
#include "outcome.hpp"

namespace retryx {

struct CircuitState {
  enum class Phase { closed, open, half_open };
  Phase phase = Phase::closed;
  std::uint64_t consecutive_failures = 0;
  std::int64_t last_failure_ms = 0;
  std::int64_t trial_started_ms = 0;
  bool operator==(const CircuitState&) const = default;
};

// The state file's text and back; parse returns nullopt for anything that
// is not a state this version wrote (a time before 1970 or after 9999
// included).
std::string format_circuit(const CircuitState& state);
std::optional<CircuitState> parse_circuit(const std::string& text);

struct CircuitSettings {
  std::string path;
  std::uint64_t threshold = 3;
  Duration cooldown = std::chrono::minutes(5);
};

// The verdict before a run.
struct CircuitAdmission {
  bool allowed = true;
  bool trial = false;          // this run is the half-open trial
  std::string message;         // why it was refused, or that this run is the trial
  std::string problem;         // what was wrong with the state or lock file, if anything
  std::string store_problem;   // the shared store could not answer (a `store` event): admitted
};

// What a run's end did to the circuit, for the log.
struct CircuitChange {
  std::string problem;      // what was wrong with the lock or state file, if anything
  std::string transition;   // "opened", "closed", or empty: the phase did not change so
  std::string message;      // the transition in words
  std::string store_problem;  // the shared store could not answer (a `store` event)
};

// The transition between two states after a run that ended with outcome:
// "opened" when failures opened (or a failed trial reopened) it, "closed"
// when a success closed an open or half-open one.
CircuitChange describe_change(const CircuitState& before, const CircuitState& after, RunOutcome outcome,
                              const CircuitSettings& settings);

// Pure decisions, for tests: what a run at now_ms meets, and the state after
// a run that ended with `outcome`. admit counts a time after now_ms (the
// clock was set back) as now_ms, and says so in the result's problem.
CircuitAdmission admit(CircuitState& state, const CircuitSettings& settings, std::int64_t now_ms);
void record_run(CircuitState& state, const CircuitSettings& settings, RunOutcome outcome, bool trial,
                std::int64_t now_ms);

// What retryx::run asks: before the run, whether it may go ahead; after
// it, its outcome. Problems never refuse a run by themselves.
class CircuitBreaker {
 public:
  virtual ~CircuitBreaker() = default;
  virtual CircuitAdmission before_run() = 0;
  // What to report: a problem, and whether the circuit opened or closed.
  virtual CircuitChange after_run(RunOutcome outcome) = 0;
  virtual std::string location() const = 0;  // for the log (never a password)
};

// The file side: lock, read, decide, write.
class FileCircuit final : public CircuitBreaker {
 public:
  explicit FileCircuit(CircuitSettings settings) : settings_(std::move(settings)) {}
  // Problems with the files are in the result's problem.
  CircuitAdmission before_run() override;
  CircuitChange after_run(RunOutcome outcome) override;
  std::string location() const override { return settings_.path; }

 private:
  CircuitSettings settings_;
  bool trial_ = false;
  std::string lock_error_;  // the lock's problem before the run, reported then
};


}  // namespace retryx
