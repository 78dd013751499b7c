#include <cerrno>
#include <csignal>
#include <doctest/doctest.h>

#include "attempt_loop.hpp"
#include "attempt_loop_runs.hpp"

using namespace retryx;
using namespace retryx::testing;
using namespace std::chrono_literals;

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
  REQUIRE(r.attempts.size() == 3);
  CHECK(r.attempts[2].environment["RETRYX_ATTEMPT"] == "3");
  // Elapsed time counts the attempts and the sleeps.
  CHECK(r.summary.elapsed == 15ms + 3s);
}

namespace {
// A runner that notes, when each command is run, how many attempts the log
// had been told were starting: the CI logs open an attempt's group then,
// before its process can write anything.
struct StartingSeenRunner : FakeRunner {
  StartingSeenRunner(FakeTime& time, std::deque<AttemptResult> script, const RecordingLog& log)
      : FakeRunner(time, std::move(script)), log_(log) {}
  std::vector<std::size_t> starting_at_run;  // per attempt or hook
  AttemptResult run(const AttemptRequest& request) override {
    starting_at_run.push_back(log_.starting.size());
    return FakeRunner::run(request);
  }
  const RecordingLog& log_;
};
}  // namespace

TEST_CASE("the log hears of each attempt before its process starts, hooks are not attempts") {
  Policy p = base_policy(3);
  p.hooks.on_retry = "echo retry";
  FakeTime time;
  RecordingLog log;
  StartingSeenRunner runner(time, {exit_with(1), {SpawnFailed{126, "permission denied: cmd"}}, exit_with(0)}, log);
  Random random(1);
  const Command command{"cmd"};
  p.classify.stop_on = {};
  run_attempts(p, command, runner, time, log, random);
  CHECK(log.starting == std::vector<std::uint64_t>{1, 2, 3});
  // attempt 1, its hook, attempt 2 (not started), its hook, attempt 3
  CHECK(runner.starting_at_run == std::vector<std::size_t>{1, 1, 2, 2, 3});
  CHECK(log.started_pids.size() == 2);
  CHECK(log.records.size() == 3);
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

TEST_CASE("each attempt gets RETRYX_ATTEMPT - MAX_ATTEMPTS - PREVIOUS_STATUS") {
  Run r = run_with(base_policy(3), {exit_with(4), exit_with(5), exit_with(0)});
  REQUIRE(r.attempts.size() == 3);
  CHECK(r.attempts[0].environment["RETRYX_ATTEMPT"] == "1");
  CHECK(r.attempts[0].environment["RETRYX_MAX_ATTEMPTS"] == "3");
  CHECK(r.attempts[0].environment["RETRYX_PREVIOUS_STATUS"] == "");
  CHECK(r.attempts[1].environment["RETRYX_PREVIOUS_STATUS"] == "4");
  CHECK(r.attempts[2].environment["RETRYX_PREVIOUS_STATUS"] == "5");
  // Without --max-time there is no RETRYX_REMAINING_MS, not even an inherited one.
  CHECK(r.attempts[0].environment.count("RETRYX_REMAINING_MS") == 1);
  CHECK_FALSE(r.attempts[0].environment["RETRYX_REMAINING_MS"].has_value());
  Policy forever = base_policy();
  forever.max_attempts.reset();
  Run f = run_with(forever, {exit_with(0)});
  CHECK(f.attempts[0].environment["RETRYX_MAX_ATTEMPTS"] == "");
}

TEST_CASE("--timeout limits each attempt and a timed-out attempt is retried") {
  Policy p = base_policy(2);
  p.process.timeout = 2s;
  Run r = run_with(p, {exit_with(0, 10s), exit_with(0, 10s)});
  REQUIRE(r.attempts.size() == 2);
  CHECK(r.attempts[0].time_limit == 2s);
  CHECK(r.log.records[0].outcome == AttemptOutcome::retry);
  CHECK(r.summary.outcome == RunOutcome::exhausted);
  CHECK(r.summary.exit_status == 124);
  p.process.preserve_status = true;
  CHECK(run_with(p, {exit_with(0, 10s)}).summary.exit_status == 128 + 15);
}

TEST_CASE("--max-time: no delay is slept past the deadline") {
  Policy p = base_policy(10);
  p.max_time = 10s;
  // 1s + 2s + 4s of delays fit; the next 8s would end past 10s.
  Run r = run_with(p, {exit_with(3)});
  CHECK(r.time.sleeps == std::vector<Duration>{1s, 2s, 4s});
  CHECK(r.summary.outcome == RunOutcome::deadline);
  CHECK(r.summary.attempts == 4);
  CHECK(r.summary.exit_status == 3);  // the last attempt's own status
  CHECK(r.summary.reason.find("would end after --max-time") != std::string::npos);
  // The remaining time is given to each attempt.
  CHECK(r.attempts[0].environment["RETRYX_REMAINING_MS"] == "10000");
  CHECK(r.attempts[1].environment["RETRYX_REMAINING_MS"] == "8995");
}

TEST_CASE("--max-time: an attempt still running at the deadline is cut and not retried") {
  Policy p = base_policy(10);
  p.max_time = 3s;
  p.process.timeout = 10s;
  Run r = run_with(p, {exit_with(0, 1h)});
  REQUIRE(r.attempts.size() == 1);
  CHECK(r.attempts[0].time_limit == 3s);  // the deadline binds, not --timeout
  CHECK(r.summary.outcome == RunOutcome::deadline);
  CHECK(r.summary.exit_status == 124);
  CHECK(r.log.records[0].outcome == AttemptOutcome::deadline);
}

// The run started before the loop (the circuit asked, its store or lock
// waited for): that time counts in --max-time and in the run's elapsed time.
TEST_CASE("--max-time: counted from the run's start before the loop") {
  Policy p = base_policy(10);
  p.max_time = 3s;
  Run r;
  r.time.clock = 10s;  // the loop starts 2s after the run did
  FakeRunner runner(r.time, {exit_with(0, 1h)});
  Random random(1);
  const Command command{"cmd"};
  r.summary = run_attempts(p, command, runner, r.time, r.log, random, nullptr, 8s);
  r.attempts = runner.attempts();
  REQUIRE(r.attempts.size() == 1);
  CHECK(r.attempts[0].time_limit == 1s);  // what is left of 3s
  CHECK(r.attempts[0].environment["RETRYX_REMAINING_MS"] == "1000");
  CHECK(r.summary.outcome == RunOutcome::deadline);
  CHECK(r.summary.elapsed >= 3s);
}

TEST_CASE("a timeout shorter than the remaining time is an ordinary timeout") {
  Policy p = base_policy(2);
  p.max_time = 1h;
  p.process.timeout = 1s;
  Run r = run_with(p, {exit_with(0, 5s), exit_with(0)});
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.log.records[0].outcome == AttemptOutcome::retry);
}

TEST_CASE("interrupted while an attempt runs: stop - no further attempt") {
  AttemptResult interrupted{Signaled{SIGTERM}, 5ms};
  interrupted.interrupted_by = SIGTERM;
  Run r = run_with(base_policy(), {interrupted});
  CHECK(r.attempts.size() == 1);
  CHECK(r.summary.outcome == RunOutcome::interrupted);
  CHECK(r.summary.signal == SIGTERM);
  CHECK(r.log.records[0].outcome == AttemptOutcome::interrupted);
  CHECK(r.time.sleeps.empty());
}

TEST_CASE("interrupted during a backoff sleep: stop at once") {
  Run r = run_with(base_policy(), {exit_with(1)}, 1, SIGHUP);
  CHECK(r.attempts.size() == 1);
  CHECK(r.summary.outcome == RunOutcome::interrupted);
  CHECK(r.summary.signal == SIGHUP);
  CHECK(r.summary.exit_status == 128 + SIGHUP);
}

TEST_CASE("hooks: on-retry after each retried failure - on-giveup once") {
  Policy p = base_policy(3);
  p.hooks.on_retry = "echo retry";
  p.hooks.on_giveup = "echo giveup";
  p.process.timeout = 7s;
  Run r = run_with(p, {exit_with(4), exit_with(5), exit_with(6)});
  REQUIRE(r.seen.size() == 6);
  CHECK_FALSE(r.seen[0].is_hook);
  CHECK(r.seen[1].is_hook);
  CHECK(r.seen[1].command == Command{"/bin/sh", "-c", "echo retry"});
  CHECK(r.seen[1].environment["RETRYX_ATTEMPT"] == "1");
  CHECK(r.seen[1].environment["RETRYX_STATUS"] == "4");
  CHECK(r.seen[1].environment["RETRYX_PREVIOUS_STATUS"] == "");
  CHECK(r.seen[1].environment["RETRYX_DELAY_MS"] == "1000");
  CHECK(r.seen[1].time_limit == 7s);
  CHECK(r.seen[3].environment["RETRYX_STATUS"] == "5");
  CHECK(r.seen[3].environment["RETRYX_PREVIOUS_STATUS"] == "4");
  CHECK(r.seen[5].command == Command{"/bin/sh", "-c", "echo giveup"});
  CHECK(r.seen[5].environment["RETRYX_STATUS"] == "6");
  CHECK_FALSE(r.seen[5].environment["RETRYX_DELAY_MS"].has_value());
  CHECK(r.log.hooks == std::vector<std::string>{"on-retry", "on-retry", "on-giveup"});
}

TEST_CASE("a failing hook changes nothing") {
  Policy p = base_policy(3);
  p.hooks.on_retry = "exit 9";
  Run r = run_with(p, {exit_with(1), exit_with(0)}, 1, std::nullopt, {exit_with(9), exit_with(9)});
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.summary.exit_status == 0);
}

TEST_CASE("no on-giveup on success") {
  Policy p = base_policy(3);
  p.hooks.on_giveup = "echo giveup";
  Run r = run_with(p, {exit_with(0)});
  CHECK(r.log.hooks.empty());
}

namespace {
// A run in which stop_requested() reports `signal` from look `from_check` on.
struct StoppedRun {
  FakeTime time;
  RecordingLog log;
  std::vector<SeenRequest> seen;
  RunSummary summary;
};
StoppedRun run_stopped(const Policy& policy, std::deque<AttemptResult> script, int signal, int from_check) {
  StoppedRun r;
  r.time.stop = signal;
  r.time.stop_from_check = from_check;
  FakeRunner runner(r.time, std::move(script));
  Random random(1);
  const Command command{"cmd"};
  r.summary = run_attempts(policy, command, runner, r.time, r.log, random);
  r.seen = runner.seen;
  return r;
}
}  // namespace

TEST_CASE("told to stop before an attempt: none starts") {
  // Look 1: before attempt 1; look 2: after its backoff sleep.
  StoppedRun r = run_stopped(base_policy(), {exit_with(1), exit_with(0)}, SIGTERM, 2);
  CHECK(r.seen.size() == 1);
  CHECK(r.summary.outcome == RunOutcome::interrupted);
  CHECK(r.summary.signal == SIGTERM);
  CHECK(r.summary.attempts == 1);
  REQUIRE(r.summary.last);
  CHECK(shell_status(r.summary.last->how) == 1);
}

TEST_CASE("told to stop before the first attempt: nothing runs") {
  StoppedRun r = run_stopped(base_policy(), {exit_with(0)}, SIGINT, 1);
  CHECK(r.seen.empty());
  CHECK(r.summary.outcome == RunOutcome::interrupted);
  CHECK(r.summary.attempts == 0);
}

TEST_CASE("told to stop before a hook: the hook does not run") {
  Policy p = base_policy(3);
  p.hooks.on_retry = "echo retry";
  // Look 1: before attempt 1; look 2: before its on-retry hook.
  StoppedRun r = run_stopped(p, {exit_with(1), exit_with(0)}, SIGHUP, 2);
  REQUIRE(r.seen.size() == 1);
  CHECK_FALSE(r.seen[0].is_hook);
  CHECK(r.summary.outcome == RunOutcome::interrupted);
  CHECK(r.summary.signal == SIGHUP);
  CHECK(r.time.sleeps.empty());
}

TEST_CASE("stdout without a reader: no retry, the attempt's status") {
  AttemptResult piped{Signaled{SIGPIPE}, 5ms};
  piped.stdout_error = EPIPE;
  Run r = run_with(base_policy(), {piped, exit_with(0)});
  CHECK(r.attempts.size() == 1);
  CHECK(r.summary.outcome == RunOutcome::fatal);
  CHECK(r.summary.exit_status == 128 + SIGPIPE);
  CHECK(r.log.records[0].reason.find("no reader") != std::string::npos);
  CHECK(r.time.sleeps.empty());
}

TEST_CASE("a write error on stdout loses output: 125, even after a success") {
  AttemptResult full = exit_with(0);
  full.stdout_error = ENOSPC;
  Run r = run_with(base_policy(), {full});
  CHECK(r.summary.outcome == RunOutcome::fatal);
  CHECK(r.summary.exit_status == 125);
  CHECK(r.log.records[0].reason.find("No space left on device") != std::string::npos);
}

TEST_CASE("a success whose stdout reader has gone stays a success") {
  AttemptResult done = exit_with(0);
  done.stdout_error = EPIPE;
  Run r = run_with(base_policy(), {done});
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.summary.exit_status == 0);
}

// --- --delay-from-output ---------------------------------------------------
