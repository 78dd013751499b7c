#pragma once
// Fakes for the process seam: scripted attempts, a clock that only moves
// when told, and a log that records events.
#include <deque>
#include <map>
#include <vector>

#include "attempt_log.hpp"
#include "command_runner.hpp"

namespace retryx::testing {

class FakeTime : public Sleeper {
 public:
  std::vector<Duration> sleeps;
  Duration clock{};
  std::optional<int> interrupt_sleep;  // the signal that cuts the next sleep short
  std::optional<int> sleep(Duration delay) override {
    if (interrupt_sleep) return interrupt_sleep;
    sleeps.push_back(delay);
    clock += delay;
    return std::nullopt;
  }
  Duration now() override { return clock; }
  // The calendar time moves with the fake clock, from wall_start
  // (2026-10-21 00:00:00 UTC unless a test sets it).
  std::chrono::system_clock::time_point wall_start{std::chrono::sys_days(std::chrono::year(2026) / 10 / 21)};
  std::chrono::system_clock::time_point wall_clock() override {
    return wall_start + std::chrono::duration_cast<std::chrono::system_clock::duration>(clock);
  }
  std::optional<int> stop;  // the signal stop_requested() reports,
  int stop_from_check = 1;  // from this look on (1: the first)
  int stop_checks = 0;
  std::optional<int> stop_requested() override {
    ++stop_checks;
    return stop_checks >= stop_from_check ? stop : std::nullopt;
  }
};

// What the loop asked the runner for.
struct SeenRequest {
  Command command;
  std::map<std::string, std::optional<std::string>> environment;
  std::optional<Duration> time_limit;
  bool is_hook;
};

// Returns the scripted results in order (hooks exit 0 unless scripted);
// each takes its duration on the shared fake clock, cut at the time limit.
class FakeRunner : public CommandRunner {
 public:
  explicit FakeRunner(FakeTime& time, std::deque<AttemptResult> script) : time_(time), script_(std::move(script)) {}
  std::vector<SeenRequest> seen;
  std::deque<AttemptResult> hook_script;

  AttemptResult run(const AttemptRequest& request) override {
    SeenRequest s{request.command, {}, request.time_limit, request.is_hook};
    for (const auto& [name, value] : request.environment) s.environment[name] = value;
    seen.push_back(s);
    AttemptResult result = next(request.is_hook ? hook_script : script_, request.is_hook);
    result.pid = 1000 + static_cast<int>(seen.size());
    if (request.on_started && !std::holds_alternative<SpawnFailed>(result.how)) request.on_started(result.pid);
    if (request.time_limit && result.duration >= *request.time_limit) {
      result.duration = *request.time_limit;
      result.timed_out = true;
      result.how = Signaled{15};
    }
    time_.clock += result.duration;
    return result;
  }

  std::vector<SeenRequest> attempts() const {
    std::vector<SeenRequest> out;
    for (const auto& s : seen)
      if (!s.is_hook) out.push_back(s);
    return out;
  }

 private:
  AttemptResult next(std::deque<AttemptResult>& script, bool hook) {
    if (script.empty()) return hook ? AttemptResult{Exited{0}} : last_;
    AttemptResult result = script.front();
    script.pop_front();
    if (!hook) last_ = result;
    return result;
  }
  FakeTime& time_;
  std::deque<AttemptResult> script_;
  AttemptResult last_{Exited{1}};
};

class RecordingLog : public AttemptLog {
 public:
  std::vector<AttemptRecord> records;
  std::vector<std::uint64_t> starting;  // attempt_starting's attempts
  std::vector<int> started_pids;
  std::vector<std::string> hooks;
  std::vector<RunSummary> ends;
  int run_starts = 0;
  void run_started(const Policy&, const Command&) override { ++run_starts; }
  void attempt_starting(std::uint64_t attempt, std::optional<std::uint64_t>) override { starting.push_back(attempt); }
  void attempt_started(std::uint64_t, std::optional<std::uint64_t>, int pid) override { started_pids.push_back(pid); }
  void attempt_ended(const AttemptRecord& record) override { records.push_back(record); }
  void hook(std::string_view name, const AttemptResult&) override { hooks.emplace_back(name); }
  void run_ended(const RunSummary& summary) override { ends.push_back(summary); }
  std::vector<std::string> store_problems;
  void store(std::string_view, std::string_view problem) override { store_problems.emplace_back(problem); }
};

inline AttemptResult exit_with(int code, Duration duration = std::chrono::milliseconds(5)) {
  return {Exited{code}, duration};
}

}  // namespace retryx::testing
