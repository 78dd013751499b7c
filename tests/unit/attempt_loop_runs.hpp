#pragma once
// Running the attempt loop with fakes, for the tests of the loop and of what
// it asks (test_attempt_loop, test_directed_delay, test_retry_budget): a
// base policy, and one run's time, log and requests.
#include <deque>
#include <optional>
#include <vector>

#include "attempt_loop.hpp"
#include "fakes.hpp"

namespace retryx::testing {

inline Policy base_policy(std::uint64_t attempts = 5) {
  Policy p;
  p.max_attempts = attempts;
  p.backoff.kind = BackoffKind::exponential;
  p.backoff.delay = std::chrono::seconds(1);
  p.backoff.jitter = {Jitter::Kind::none, 0};
  p.classify.success = parse_codes("0");
  p.classify.stop_on = parse_conditions("126,127");
  return p;
}

struct Run {
  FakeTime time;
  RecordingLog log;
  RunSummary summary;
  std::vector<SeenRequest> attempts;
  std::vector<SeenRequest> seen;  // attempts and hooks, in order
};

inline Run run_with(const Policy& policy, std::deque<AttemptResult> script, std::uint64_t seed = 1,
                   std::optional<int> interrupt_sleep = std::nullopt, std::deque<AttemptResult> hooks = {}) {
  Run r;
  r.time.interrupt_sleep = interrupt_sleep;
  FakeRunner runner(r.time, std::move(script));
  runner.hook_script = std::move(hooks);
  Random random(seed);
  const Command command{"cmd"};
  r.summary = run_attempts(policy, command, runner, r.time, r.log, random);
  r.attempts = runner.attempts();
  r.seen = runner.seen;
  return r;
}

}  // namespace retryx::testing
