#include <csignal>
#include <doctest/doctest.h>

#include "classify.hpp"

using namespace retryx;

namespace {

ClassifyPolicy defaults() {
  ClassifyPolicy p;
  p.success = parse_codes("0");
  p.stop_on = parse_conditions("126,127");
  return p;
}

AttemptResult exited(int code) { return {Exited{code}}; }
AttemptResult signaled(int sig) { return {Signaled{sig}}; }

}  // namespace

TEST_CASE("success is an exit code in --success") {
  auto p = defaults();
  CHECK(classify(exited(0), p).verdict == Verdict::success);
  CHECK(classify(exited(0), p).reason == "exit code 0 is in --success");
  CHECK(classify(exited(1), p).verdict == Verdict::retryable);
  p.success = parse_codes("0,3");
  CHECK(classify(exited(3), p).verdict == Verdict::success);
  p.success = parse_codes("1");
  CHECK(classify(exited(0), p).verdict == Verdict::retryable);
}

TEST_CASE("a timed-out attempt is never a success even with exit 0") {
  auto p = defaults();
  AttemptResult r{Exited{0}, {}, 1, true};
  CHECK(classify(r, p).verdict == Verdict::retryable);
  p.stop_on = parse_conditions("timeout");
  CHECK(classify(r, p).verdict == Verdict::fatal);
  CHECK(classify(r, p).reason == "timeout is in --stop-on");
}

TEST_CASE("126 and 127 are fatal by default also as spawn failures") {
  auto p = defaults();
  CHECK(classify(exited(127), p).verdict == Verdict::fatal);
  CHECK(classify(exited(126), p).verdict == Verdict::fatal);
  CHECK(classify({SpawnFailed{127, "command not found: x"}}, p).verdict == Verdict::fatal);
  CHECK(classify({SpawnFailed{126, "permission denied: x"}}, p).reason == "exit code 126 is in --stop-on");
  p.stop_on = Conditions{};  // --stop-on none
  CHECK(classify({SpawnFailed{127, "command not found: x"}}, p).verdict == Verdict::retryable);
}

TEST_CASE("signals are failures retried by default") {
  auto p = defaults();
  CHECK(classify(signaled(SIGKILL), p).verdict == Verdict::retryable);
  CHECK(classify(signaled(SIGTERM), p).verdict == Verdict::retryable);
}

TEST_CASE("SIGINT is never retried even when --retry-on names it") {
  auto p = defaults();
  CHECK(classify(signaled(SIGINT), p).verdict == Verdict::fatal);
  p.retry_on = parse_conditions("INT");
  CHECK(classify(signaled(SIGINT), p).verdict == Verdict::fatal);
  p.stop_on = Conditions{};
  CHECK(classify(signaled(SIGINT), p).verdict == Verdict::fatal);
}

TEST_CASE("--retry-on limits what is retried") {
  auto p = defaults();
  p.retry_on = parse_conditions("1-3,KILL,timeout");
  CHECK(classify(exited(2), p).verdict == Verdict::retryable);
  CHECK(classify(exited(2), p).reason == "exit code 2 is in --retry-on");
  CHECK(classify(exited(4), p).verdict == Verdict::fatal);
  CHECK(classify(exited(4), p).reason == "exit code 4 is not in --retry-on");
  CHECK(classify(signaled(SIGKILL), p).verdict == Verdict::retryable);
  CHECK(classify(signaled(SIGTERM), p).verdict == Verdict::fatal);
  CHECK(classify(signaled(SIGTERM), p).reason == "SIGTERM is not in --retry-on");
  CHECK(classify({Signaled{SIGTERM}, {}, 1, true}, p).verdict == Verdict::retryable);
}

TEST_CASE("--stop-on wins over --retry-on") {
  auto p = defaults();
  p.retry_on = parse_conditions("1-10");
  p.stop_on = parse_conditions("5");
  CHECK(classify(exited(5), p).verdict == Verdict::fatal);
  CHECK(classify(exited(5), p).reason == "exit code 5 is in --stop-on");
  CHECK(classify(exited(6), p).verdict == Verdict::retryable);
}

TEST_CASE("a timed-out attempt matches 'timeout' not the signal that stopped it") {
  auto p = defaults();
  p.stop_on = parse_conditions("TERM");
  CHECK(classify({Signaled{SIGTERM}, {}, 1, true}, p).verdict == Verdict::retryable);
  CHECK(classify({Signaled{SIGTERM}, {}, 1, false}, p).verdict == Verdict::fatal);
}

TEST_CASE("--until-output: success needs a matching line") {
  auto p = defaults();
  p.output.until = "ready";
  AttemptResult without{Exited{0}};
  AttemptResult with{Exited{0}};
  with.output.until = true;
  CHECK(classify(with, p).verdict == Verdict::success);
  CHECK(classify(without, p).verdict == Verdict::retryable);
  CHECK(classify(without, p).reason == "no line matched --until-output");
  AttemptResult failed_with{Exited{1}};
  failed_with.output.until = true;
  CHECK(classify(failed_with, p).verdict == Verdict::retryable);
}

TEST_CASE("--stop-if-output and --retry-if-output") {
  auto p = defaults();
  p.output.stop_if = "fatal";
  AttemptResult stop{Exited{1}};
  stop.output.stop_if = true;
  CHECK(classify(stop, p).verdict == Verdict::fatal);
  CHECK(classify(stop, p).reason == "a line matched --stop-if-output");
  CHECK(classify(exited(1), p).verdict == Verdict::retryable);
  // A success is a success whatever it printed.
  AttemptResult ok{Exited{0}};
  ok.output.stop_if = true;
  CHECK(classify(ok, p).verdict == Verdict::success);

  auto r = defaults();
  r.output.retry_if = "temporary";
  AttemptResult temporary{Exited{1}};
  temporary.output.retry_if = true;
  CHECK(classify(temporary, r).verdict == Verdict::retryable);
  CHECK(classify(temporary, r).reason == "a line matched --retry-if-output");
  CHECK(classify(exited(1), r).verdict == Verdict::fatal);
  CHECK(classify(exited(1), r).reason == "no line matched --retry-if-output");
  // Both --retry-on and --retry-if-output must hold.
  r.retry_on = parse_conditions("2");
  CHECK(classify(temporary, r).verdict == Verdict::fatal);
  AttemptResult both{Exited{2}};
  both.output.retry_if = true;
  CHECK(classify(both, r).verdict == Verdict::retryable);
  CHECK(classify(both, r).reason == "exit code 2 is in --retry-on and a line matched --retry-if-output");
  // --stop-if-output wins over --retry-if-output.
  r.output.stop_if = "x";
  both.output.stop_if = true;
  CHECK(classify(both, r).verdict == Verdict::fatal);
}

TEST_CASE("--fail-if-output: a success code with a matching line is a failure") {
  auto p = defaults();
  p.output.fail_if = "^W: Failed to fetch";
  AttemptResult warned{Exited{0}};
  warned.output.fail_if = true;
  CHECK(classify(exited(0), p).verdict == Verdict::success);
  CHECK(classify(warned, p).verdict == Verdict::retryable);
  CHECK(classify(warned, p).reason == "a line matched --fail-if-output");
  // Any success code, not only 0.
  p.success = parse_codes("0,3");
  AttemptResult warned3{Exited{3}};
  warned3.output.fail_if = true;
  CHECK(classify(warned3, p).verdict == Verdict::retryable);
  // A failure stays the failure it was: the line changes nothing.
  AttemptResult failed{Exited{1}};
  failed.output.fail_if = true;
  CHECK(classify(failed, p).reason == "every failure is retried");
  AttemptResult timed_out{Signaled{SIGTERM}, {}, 1, true};
  timed_out.output.fail_if = true;
  p.stop_on = parse_conditions("timeout");
  CHECK(classify(timed_out, p).reason == "timeout is in --stop-on");
  // The attempt was matched on a flag that the policy does not ask about.
  auto q = defaults();
  CHECK(classify(warned, q).verdict == Verdict::success);
}

TEST_CASE("--fail-if-output wins over --until-output") {
  auto p = defaults();
  p.output.until = "ready";
  p.output.fail_if = "warning";
  AttemptResult both{Exited{0}};
  both.output.until = true;
  both.output.fail_if = true;
  CHECK(classify(both, p).verdict == Verdict::retryable);
  CHECK(classify(both, p).reason == "a line matched --fail-if-output");
  AttemptResult only_fail{Exited{0}};
  only_fail.output.fail_if = true;
  CHECK(classify(only_fail, p).reason == "a line matched --fail-if-output");
  AttemptResult only_until{Exited{0}};
  only_until.output.until = true;
  CHECK(classify(only_until, p).verdict == Verdict::success);
}

TEST_CASE("--fail-if-output: --retry-on and --stop-on do not see it, the output rules do") {
  auto p = defaults();
  p.output.fail_if = "warning";
  AttemptResult warned{Exited{0}};
  warned.output.fail_if = true;
  // It ended with a success code: lists of exit codes and signals leave it alone.
  p.retry_on = parse_conditions("100");
  CHECK(classify(warned, p).verdict == Verdict::retryable);
  p.stop_on = parse_conditions("0");
  CHECK(classify(warned, p).verdict == Verdict::retryable);
  // --stop-if-output stops it.
  p.output.stop_if = "hash sum mismatch";
  warned.output.stop_if = true;
  CHECK(classify(warned, p).verdict == Verdict::fatal);
  CHECK(classify(warned, p).reason == "a line matched --fail-if-output and one matched --stop-if-output");
  // --retry-if-output must hold when given.
  auto r = defaults();
  r.output.fail_if = "warning";
  r.output.retry_if = "temporary";
  AttemptResult permanent{Exited{0}};
  permanent.output.fail_if = true;
  CHECK(classify(permanent, r).verdict == Verdict::fatal);
  CHECK(classify(permanent, r).reason == "a line matched --fail-if-output but none matched --retry-if-output");
  permanent.output.retry_if = true;
  CHECK(classify(permanent, r).verdict == Verdict::retryable);
  CHECK(classify(permanent, r).reason == "a line matched --fail-if-output and one matched --retry-if-output");
}
