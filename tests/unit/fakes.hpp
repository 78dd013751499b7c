#pragma once
// Fakes for the process seam: scripted attempts, a clock that only moves
// when told, and a log that records events.
#include <deque>
#include <vector>

#include "attempt_log.hpp"
#include "command_runner.hpp"

namespace retryx::testing {

class FakeTime : public Sleeper {
 public:
  std::vector<Duration> sleeps;
  Duration clock{};
  void sleep(Duration delay) override {
    sleeps.push_back(delay);
    clock += delay;
  }
  Duration now() override { return clock; }
};

// Returns the scripted results in order; each takes its duration on the
// shared fake clock.
class FakeRunner : public CommandRunner {
 public:
  explicit FakeRunner(FakeTime& time, std::deque<AttemptResult> script) : time_(time), script_(std::move(script)) {}
  std::vector<std::uint64_t> attempts_seen;
  AttemptResult run(const AttemptRequest& request) override {
    attempts_seen.push_back(request.attempt);
    AttemptResult result = script_.empty() ? last_ : script_.front();
    if (!script_.empty()) {
      last_ = script_.front();
      script_.pop_front();
    }
    result.pid = 1000 + static_cast<int>(request.attempt);
    if (request.on_started && !std::holds_alternative<SpawnFailed>(result.how)) request.on_started(result.pid);
    time_.clock += result.duration;
    return result;
  }

 private:
  FakeTime& time_;
  std::deque<AttemptResult> script_;
  AttemptResult last_{Exited{1}};
};

class RecordingLog : public AttemptLog {
 public:
  std::vector<AttemptRecord> records;
  std::vector<int> started_pids;
  std::vector<RunSummary> ends;
  int run_starts = 0;
  void run_started(const Policy&, const Command&) override { ++run_starts; }
  void attempt_started(std::uint64_t, std::optional<std::uint64_t>, int pid) override { started_pids.push_back(pid); }
  void attempt_ended(const AttemptRecord& record) override { records.push_back(record); }
  void run_ended(const RunSummary& summary) override { ends.push_back(summary); }
};

inline AttemptResult exit_with(int code, Duration duration = std::chrono::milliseconds(5)) {
  return {Exited{code}, duration};
}

}  // namespace retryx::testing
