#include <csignal>
#include <doctest/doctest.h>

#include "exit_status.hpp"

using namespace retryx;

namespace {
int status(RunOutcome outcome, AttemptResult last, bool preserve = false) {
  return exit_status(outcome, last, preserve);
}
}  // namespace

TEST_CASE("exit status follows the spec's table") {
  CHECK(status(RunOutcome::success, {Exited{0}}) == 0);
  CHECK(status(RunOutcome::success, {Exited{3}}) == 0);  // 3 was in --success
  for (int code = 1; code < 256; ++code) CHECK(status(RunOutcome::exhausted, {Exited{code}}) == code);
  for (int sig : {SIGHUP, SIGKILL, SIGTERM, SIGSEGV, SIGRTMIN})
    CHECK(status(RunOutcome::exhausted, {Signaled{sig}}) == 128 + sig);
  CHECK(status(RunOutcome::fatal, {SpawnFailed{127, "x"}}) == 127);
  CHECK(status(RunOutcome::fatal, {SpawnFailed{126, "x"}}) == 126);
}

TEST_CASE("a timed-out or deadline-cut attempt gives 124 - or its own status with --preserve-status") {
  const AttemptResult timed_out{Signaled{SIGTERM}, {}, 1, true};
  CHECK(status(RunOutcome::exhausted, timed_out) == 124);
  CHECK(status(RunOutcome::deadline, timed_out) == 124);
  CHECK(status(RunOutcome::exhausted, timed_out, true) == 128 + SIGTERM);
  const AttemptResult timed_out_exit{Exited{3}, {}, 1, true};
  CHECK(status(RunOutcome::exhausted, timed_out_exit, true) == 3);
  // A deadline reached between attempts: the last attempt's own status.
  CHECK(status(RunOutcome::deadline, {Exited{7}}) == 7);
}

TEST_CASE("never 0 unless the run succeeded") {
  CHECK(status(RunOutcome::exhausted, {Exited{0}}) == 1);
  CHECK(status(RunOutcome::fatal, {Exited{0}}) == 1);
  const AttemptResult timed_out_zero{Exited{0}, {}, 1, true};
  CHECK(status(RunOutcome::exhausted, timed_out_zero, true) == 1);
}

TEST_CASE("an interrupted run reports 128 + the signal") {
  CHECK(exit_status(RunOutcome::interrupted, AttemptResult{Exited{0}}, false, SIGTERM) == 128 + SIGTERM);
  CHECK(exit_status(RunOutcome::interrupted, std::nullopt, false, SIGINT) == 128 + SIGINT);
}
