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
