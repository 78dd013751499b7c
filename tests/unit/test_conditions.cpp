#include <csignal>
#include <doctest/doctest.h>

#include "conditions.hpp"

using namespace retryx;

namespace {
AttemptResult exited(int code) { return {Exited{code}}; }
AttemptResult signaled(int sig) { return {Signaled{sig}}; }
}  // namespace

TEST_CASE("parse_codes reads codes and ranges") {
  CodeSet set = parse_codes("0,1-3,75");
  for (int c : {0, 1, 2, 3, 75}) CHECK(set.contains(c));
  for (int c : {4, 74, 76, 255, -1, 256}) CHECK_FALSE(set.contains(c));
  CHECK(format_codes(set) == "0-3,75");
  CHECK(format_codes(parse_codes("255")) == "255");
  CHECK(format_codes(parse_codes("0-255")) == "0-255");
}

TEST_CASE("parse_codes refuses malformed lists") {
  for (const char* bad : {"", ",", "1,", ",1", "1,,2", "256", "-1", "3-1", "1-", "-", "a", "1-300", "KILL",
                          "timeout", "1.5", " 1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_codes(bad), ValueError);
  }
}

TEST_CASE("parse_conditions reads codes signals and timeout") {
  Conditions c = parse_conditions("1-2,KILL,SIGTERM,SIG1,timeout");
  CHECK(c.match(exited(1)) == "exit code 1");
  CHECK(c.match(exited(3)).empty());
  CHECK(c.match(signaled(SIGKILL)) == "SIGKILL");
  CHECK(c.match(signaled(SIGTERM)) == "SIGTERM");
  CHECK(c.match(signaled(SIGHUP)) == "SIGHUP");
  CHECK(c.match(signaled(SIGINT)).empty());
  CHECK(format_conditions(c) == "1-2,SIGHUP,SIGKILL,SIGTERM,timeout");
}

TEST_CASE("a bare number is an exit code never a signal") {
  Conditions c = parse_conditions("9");
  CHECK(c.match(exited(9)) == "exit code 9");
  CHECK(c.match(signaled(9)).empty());
}

TEST_CASE("a timed-out attempt matches only 'timeout'") {
  AttemptResult timed_out{Signaled{SIGTERM}, {}, 1, true};
  CHECK(parse_conditions("TERM").match(timed_out).empty());
  CHECK(parse_conditions("143").match(timed_out).empty());
  CHECK(parse_conditions("timeout").match(timed_out) == "timeout");
}

TEST_CASE("a spawn failure matches its status as an exit code") {
  AttemptResult not_found{SpawnFailed{127, "command not found: x"}};
  CHECK(parse_conditions("127").match(not_found) == "exit code 127");
  CHECK(parse_conditions("126").match(not_found).empty());
}

TEST_CASE("parse_conditions refuses unknown items") {
  for (const char* bad : {"", "SIGNOPE", "NOPE", "1,,2", "999", "timeouts", "none", "SIG0"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_conditions(bad), ValueError);
  }
}
