#include <doctest/doctest.h>

#include "circuit.hpp"

using namespace retryx;
using Phase = CircuitState::Phase;

namespace {
CircuitSettings settings(std::uint64_t threshold = 3) {
  return {"/unused", threshold, std::chrono::minutes(5)};
}
constexpr std::int64_t minute = 60'000;
}  // namespace

TEST_CASE("the state file round-trips") {
  CircuitState s{Phase::half_open, 7, 1'700'000'000'123, 1'700'000'100'000};
  auto back = parse_circuit(format_circuit(s));
  REQUIRE(back.has_value());
  CHECK(back->phase == Phase::half_open);
  CHECK(back->consecutive_failures == 7);
  CHECK(back->last_failure_ms == 1'700'000'000'123);
  CHECK(back->trial_started_ms == 1'700'000'100'000);
  CHECK(parse_circuit(" { \"schema\" : 1, \"state\":\"open\",\"consecutive_failures\":3,"
                      "\"last_failure_ms\":5,\"trial_started_ms\":0, \"extra\":\"ignored\" }\n")
            .has_value());
}

TEST_CASE("anything else is not a state") {
  const std::string good = format_circuit(CircuitState{});
  for (const std::string& bad :
       {std::string(""), std::string("garbage"), good.substr(0, good.size() / 2), std::string("{}"),
        std::string("[1,2]"), std::string("{\"schema\":2,\"state\":\"closed\",\"consecutive_failures\":0,"
                                          "\"last_failure_ms\":0,\"trial_started_ms\":0}"),
        std::string("{\"schema\":1,\"state\":\"ajar\",\"consecutive_failures\":0,\"last_failure_ms\":0,"
                    "\"trial_started_ms\":0}"),
        std::string("{\"schema\":1,\"state\":\"open\",\"consecutive_failures\":-1,\"last_failure_ms\":0,"
                    "\"trial_started_ms\":0}"),
        good + "trailing", std::string("\x00\xff", 2)}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_circuit(bad).has_value());
  }
}

TEST_CASE("threshold consecutive failed runs open the circuit - a success resets the count") {
  CircuitState s;
  const auto cfg = settings(3);
  record_run(s, cfg, RunOutcome::exhausted, false, 1000);
  record_run(s, cfg, RunOutcome::fatal, false, 2000);
  CHECK(s.phase == Phase::closed);
  record_run(s, cfg, RunOutcome::success, false, 3000);
  CHECK(s.consecutive_failures == 0);
  for (std::int64_t t : {4000, 5000}) record_run(s, cfg, RunOutcome::exhausted, false, t);
  CHECK(s.phase == Phase::closed);
  record_run(s, cfg, RunOutcome::deadline, false, 6000);
  CHECK(s.phase == Phase::open);
  CHECK(s.consecutive_failures == 3);
  CHECK(s.last_failure_ms == 6000);
}

TEST_CASE("open refuses within the cooldown then lets one trial through") {
  CircuitState s{Phase::open, 3, 0, 0};
  const auto cfg = settings();
  CircuitAdmission refused = admit(s, cfg, 5 * minute - 1);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_ms == 5 * minute);
  CHECK(refused.message.find("circuit open: 3 consecutive failed runs") != std::string::npos);
  CircuitAdmission trial = admit(s, cfg, 5 * minute);
  CHECK(trial.allowed);
  CHECK(trial.trial);
  CHECK(s.phase == Phase::half_open);
  // While the trial runs, others are refused.
  CHECK_FALSE(admit(s, cfg, 5 * minute + 10).allowed);
  // A trial that never reported back for a cooldown: another may try.
  CHECK(admit(s, cfg, 10 * minute + 1).trial);
}

TEST_CASE("the trial's outcome closes or reopens") {
  const auto cfg = settings(5);
  CircuitState s{Phase::half_open, 5, 0, 1000};
  record_run(s, cfg, RunOutcome::success, true, 2000);
  CHECK(s.phase == Phase::closed);
  CHECK(s.consecutive_failures == 0);

  CircuitState f{Phase::half_open, 5, 0, 1000};
  record_run(f, cfg, RunOutcome::exhausted, true, 2000);
  CHECK(f.phase == Phase::open);
  CHECK(f.last_failure_ms == 2000);
  CHECK(f.consecutive_failures == 6);

  CircuitState i{Phase::half_open, 5, 500, 1000};
  record_run(i, cfg, RunOutcome::interrupted, true, 2000);
  CHECK(i.phase == Phase::open);
  CHECK(i.last_failure_ms == 500);  // the next run may try at once after the cooldown
}

TEST_CASE("closed admits - interrupted runs count for nothing") {
  CircuitState s;
  CHECK(admit(s, settings(), 0).allowed);
  CHECK_FALSE(admit(s, settings(), 0).trial);
  record_run(s, settings(), RunOutcome::interrupted, false, 10);
  CHECK(s.consecutive_failures == 0);
}
