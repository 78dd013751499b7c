#include <csignal>
#include <doctest/doctest.h>

#include "attempt_loop.hpp"
#include "fakes.hpp"

using namespace retryx;
using namespace retryx::testing;
using namespace std::chrono_literals;

namespace {

Policy base_policy(std::uint64_t attempts = 5) {
  Policy p;
  p.max_attempts = attempts;
  p.backoff.kind = BackoffKind::exponential;
  p.backoff.delay = 1s;
  p.backoff.jitter = {Jitter::Kind::none, 0};
  p.classify.success = parse_codes("0");
  p.classify.stop_on = parse_conditions("126,127");
  return p;
}

struct Run {
  FakeTime time;
  RecordingLog log;
  RunSummary summary;
  std::vector<std::uint64_t> attempts;
};

Run run_with(const Policy& policy, std::deque<AttemptResult> script, std::uint64_t seed = 1) {
  Run r;
  FakeRunner runner(r.time, std::move(script));
  Random random(seed);
  const Command command{"cmd"};
  r.summary = run_attempts(policy, command, runner, r.time, r.log, random);
  r.attempts = runner.attempts_seen;
  return r;
}

}  // namespace

TEST_CASE("success on the first attempt: no sleep status 0") {
  Run r = run_with(base_policy(), {exit_with(0)});
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.summary.attempts == 1);
  CHECK(r.summary.exit_status == 0);
  CHECK(r.time.sleeps.empty());
  REQUIRE(r.log.records.size() == 1);
  CHECK(r.log.records[0].outcome == AttemptOutcome::success);
  CHECK(r.log.started_pids == std::vector<int>{1001});
  CHECK(r.log.run_starts == 1);
  CHECK(r.log.ends.size() == 1);
}

TEST_CASE("fails twice then succeeds: two backoff sleeps in order") {
  Run r = run_with(base_policy(), {exit_with(1), exit_with(1), exit_with(0)});
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.summary.attempts == 3);
  CHECK(r.time.sleeps == std::vector<Duration>{1s, 2s});
  REQUIRE(r.log.records.size() == 3);
  CHECK(r.log.records[0].outcome == AttemptOutcome::retry);
  CHECK(r.log.records[0].delay == 1s);
  CHECK(r.log.records[1].delay == 2s);
  CHECK(r.log.records[2].outcome == AttemptOutcome::success);
  CHECK_FALSE(r.log.records[2].delay.has_value());
  CHECK(r.attempts == std::vector<std::uint64_t>{1, 2, 3});
  // Elapsed time counts the attempts and the sleeps.
  CHECK(r.summary.elapsed == 15ms + 3s);
}

TEST_CASE("exhausted: N attempts N-1 sleeps no sleep after the last last status") {
  Run r = run_with(base_policy(4), {exit_with(3)});
  CHECK(r.summary.outcome == RunOutcome::exhausted);
  CHECK(r.summary.attempts == 4);
  CHECK(r.time.sleeps.size() == 3);
  CHECK(r.summary.exit_status == 3);
  CHECK(r.log.records.back().outcome == AttemptOutcome::exhausted);
  CHECK(r.log.records.back().reason == "attempt limit 4 reached");
  CHECK(r.summary.reason == "attempt limit 4 reached");
}

TEST_CASE("a single attempt never sleeps") {
  Run r = run_with(base_policy(1), {exit_with(1)});
  CHECK(r.summary.attempts == 1);
  CHECK(r.time.sleeps.empty());
  CHECK(r.summary.outcome == RunOutcome::exhausted);
}

TEST_CASE("a fatal failure stops at once with its status") {
  Run r = run_with(base_policy(), {exit_with(1), {SpawnFailed{127, "command not found: cmd"}}});
  CHECK(r.summary.outcome == RunOutcome::fatal);
  CHECK(r.summary.attempts == 2);
  CHECK(r.summary.exit_status == 127);
  CHECK(r.time.sleeps.size() == 1);
  CHECK(r.summary.reason == "exit code 127 is in --stop-on");
}

TEST_CASE("killed by a signal: 128 + N") {
  Run r = run_with(base_policy(2), {{Signaled{SIGKILL}}});
  CHECK(r.summary.exit_status == 128 + SIGKILL);
  CHECK(r.summary.attempts == 2);
}

TEST_CASE("SIGINT stops the run") {
  Run r = run_with(base_policy(), {{Signaled{SIGINT}}});
  CHECK(r.summary.outcome == RunOutcome::fatal);
  CHECK(r.summary.attempts == 1);
  CHECK(r.summary.exit_status == 128 + SIGINT);
}

TEST_CASE("never 0 on failure: exit 0 outside --success gives 1") {
  Policy p = base_policy(2);
  p.classify.success = parse_codes("1");
  Run r = run_with(p, {exit_with(0)});
  CHECK(r.summary.outcome == RunOutcome::exhausted);
  CHECK(r.summary.exit_status == 1);
}

TEST_CASE("forever keeps going until success") {
  Policy p = base_policy();
  p.max_attempts.reset();
  p.backoff.max_delay = 4s;
  std::deque<AttemptResult> script(200, exit_with(1));
  script.push_back(exit_with(0));
  Run r = run_with(p, script);
  CHECK(r.summary.attempts == 201);
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.time.sleeps.back() == 4s);
  CHECK_FALSE(r.log.records[0].max_attempts.has_value());
}

TEST_CASE("--reset-after: a long attempt starts the backoff over") {
  Policy p = base_policy(6);
  p.reset_after = 10s;
  Run r = run_with(p, {exit_with(1), exit_with(1), exit_with(1, 30s), exit_with(1), exit_with(1)});
  // Delays 1s, 2s, then attempt 3 ran 30s: back to 1s, 2s, 4s.
  CHECK(r.time.sleeps == std::vector<Duration>{1s, 2s, 1s, 2s, 4s});
}

TEST_CASE("--splay sleeps once before the first attempt within [0 splay]") {
  Policy p = base_policy(1);
  p.splay = 10s;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Run r = run_with(p, {exit_with(0)}, seed);
    REQUIRE(r.time.sleeps.size() == 1);
    CHECK(r.time.sleeps[0] >= 0s);
    CHECK(r.time.sleeps[0] <= 10s);
  }
  Run a = run_with(p, {exit_with(0)}, 7), b = run_with(p, {exit_with(0)}, 7);
  CHECK(a.time.sleeps == b.time.sleeps);
}

TEST_CASE("--retry-on makes other failures fatal") {
  Policy p = base_policy();
  p.classify.retry_on = parse_conditions("75");
  Run r = run_with(p, {exit_with(75), exit_with(2)});
  CHECK(r.summary.attempts == 2);
  CHECK(r.summary.outcome == RunOutcome::fatal);
  CHECK(r.summary.exit_status == 2);
  CHECK(r.log.records[0].reason == "exit code 75 is in --retry-on");
}
