#include <csignal>
#include <doctest/doctest.h>

#include "exit_status.hpp"

using namespace retryx;

TEST_CASE("exit status follows the spec's table") {
  CHECK(exit_status(RunOutcome::success, {Exited{0}}) == 0);
  CHECK(exit_status(RunOutcome::success, {Exited{3}}) == 0);  // 3 was in --success
  for (int code = 1; code < 256; ++code) CHECK(exit_status(RunOutcome::exhausted, {Exited{code}}) == code);
  for (int sig : {SIGHUP, SIGKILL, SIGTERM, SIGSEGV, SIGRTMIN})
    CHECK(exit_status(RunOutcome::exhausted, {Signaled{sig}}) == 128 + sig);
  CHECK(exit_status(RunOutcome::fatal, {SpawnFailed{127, "x"}}) == 127);
  CHECK(exit_status(RunOutcome::fatal, {SpawnFailed{126, "x"}}) == 126);
  CHECK(exit_status(RunOutcome::exhausted, {Signaled{SIGTERM}, {}, 1, true}) == 124);
}

TEST_CASE("never 0 unless the run succeeded") {
  CHECK(exit_status(RunOutcome::exhausted, {Exited{0}}) == 1);
  CHECK(exit_status(RunOutcome::fatal, {Exited{0}}) == 1);
}
