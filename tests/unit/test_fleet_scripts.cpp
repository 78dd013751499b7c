// The fleet's Lua scripts (fleet_scripts.cpp) against a real redis-server:
// the circuit's admit and record decide as circuit.cpp's admit() and
// record_run() for the same states at the server's time; a hash that is
// not ours is closed, flagged and overwritten; the keys' expiries.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <map>

#include "circuit.hpp"
#include "fleet_scripts.hpp"
#include "in_process_store.hpp"

using namespace retryx;
using retryx::testing::RedisServer;
using Phase = CircuitState::Phase;

namespace {

constexpr std::int64_t minute = 60'000;
constexpr std::int64_t week = fleet_expiry_floor_ms;
const std::string key = "retryx:{job}:circuit";

struct Redis : testing::ServerAtHand {
  void set_state(const CircuitState& s) {
    call({"DEL", key});
    if (s == CircuitState{}) return;  // a missing key is a closed circuit
    call({"HSET", key, "phase", phase_word(s.phase), "failures", std::to_string(s.consecutive_failures),
          "last_failure_ms", std::to_string(s.last_failure_ms), "trial_started_ms", std::to_string(s.trial_started_ms)});
  }
  // The hash as a state; nullopt when the key is missing.
  std::optional<CircuitState> state() {
    const auto flat = call({"HGETALL", key});
    if (flat.elements.empty()) return std::nullopt;
    std::map<std::string, std::string> f;
    for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2) f[flat.elements[i].text] = flat.elements[i + 1].text;
    CHECK(f.size() == 4);
    CircuitState s;
    s.phase = f["phase"] == "open" ? Phase::open : f["phase"] == "half_open" ? Phase::half_open : Phase::closed;
    CHECK((f["phase"] == "open" || f["phase"] == "half_open" || f["phase"] == "closed"));
    s.consecutive_failures = std::stoull(f["failures"]);
    s.last_failure_ms = std::stoll(f["last_failure_ms"]);
    s.trial_started_ms = std::stoll(f["trial_started_ms"]);
    return s;
  }
  static std::string phase_word(Phase p) { return p == Phase::open ? "open" : p == Phase::half_open ? "half_open" : "closed"; }
};

CircuitState state_in(const std::vector<std::int64_t>& reply, std::size_t at) {
  return CircuitState{static_cast<Phase>(reply.at(at)), static_cast<std::uint64_t>(reply.at(at + 1)), reply.at(at + 2),
                      reply.at(at + 3)};
}

std::string describe(const CircuitState& s) {
  return fmt::format("{{{} {} {} {}}}", static_cast<int>(s.phase), s.consecutive_failures, s.last_failure_ms,
                     s.trial_started_ms);
}

// States around the server's time t0, for a cooldown of 5m.
std::vector<CircuitState> states_around(std::int64_t t0) {
  return {
      {},                                             // no key
      {Phase::closed, 2, t0 - minute, 0},             // closed, counting
      {Phase::open, 3, t0 - minute, 0},               // within the cooldown
      {Phase::open, 3, t0 - 6 * minute, 0},           // after it
      {Phase::open, 3, t0 + 60 * minute, 0},          // dated in the future
      {Phase::open, 1, 0, 0},                         // a failure at 1970
      {Phase::half_open, 3, t0 - 6 * minute, t0 - minute},       // a trial under way
      {Phase::half_open, 3, t0 - 20 * minute, t0 - 10 * minute},  // a trial that never reported
      {Phase::half_open, 3, t0 - 6 * minute, t0 + 60 * minute},  // a trial in the future
  };
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("circuit admit script: the same decision and state as circuit.cpp's admit at the server's time") {
  Redis redis;
  const std::int64_t t0 = redis.server_now();
  for (const auto cooldown : {std::chrono::minutes(5), std::chrono::minutes(0)}) {
    const CircuitSettings settings{"/unused", 3, cooldown};
    const std::string cooldown_ms = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(cooldown).count());
    for (const CircuitState& start : states_around(t0)) {
      INFO("state " << describe(start) << ", cooldown " << cooldown_ms);
      redis.set_state(start);
      const auto reply = redis.run(circuit_admit_script, {key}, {cooldown_ms});
      REQUIRE(reply.size() == 8);
      CHECK(state_in(reply, 0) == start);  // the state before, as found
      const std::int64_t now = reply[4];
      CHECK(now >= t0);
      CHECK(reply[5] == 0);  // not corrupt
      CircuitState expected = start;
      const CircuitAdmission admission = admit(expected, settings, now);
      CHECK(reply[6] == (admission.allowed ? 1 : 0));
      CHECK(reply[7] == (admission.trial ? 1 : 0));
      if (expected == start) {  // nothing written (no key stays no key)
        CHECK(redis.state() == (start == CircuitState{} ? std::nullopt : std::optional(start)));
      } else {
        CHECK(redis.state() == expected);
        CHECK(redis.pttl(key) > week - minute);
      }
    }
  }
}

TEST_CASE("circuit record script: the same state as circuit.cpp's record_run at the server's time") {
  Redis redis;
  const std::int64_t t0 = redis.server_now();
  for (const std::uint64_t threshold : {1u, 3u, 4u}) {
    const CircuitSettings settings{"/unused", threshold, std::chrono::minutes(5)};
    for (const CircuitState& start : states_around(t0)) {
      for (const bool trial : {false, true}) {
        for (const RunOutcome outcome : {RunOutcome::success, RunOutcome::interrupted, RunOutcome::exhausted,
                                         RunOutcome::fatal, RunOutcome::deadline, RunOutcome::budget}) {
          const std::string word = outcome == RunOutcome::success       ? "success"
                                   : outcome == RunOutcome::interrupted ? "interrupted"
                                                                        : "failure";
          INFO("state " << describe(start) << ", " << word << ", trial " << trial << ", threshold " << threshold);
          redis.set_state(start);
          const auto reply = redis.run(circuit_record_script, {key}, {word, trial ? "1" : "0", std::to_string(threshold), "300000"});
          REQUIRE(reply.size() == 10);
          CHECK(state_in(reply, 0) == start);
          CHECK(reply[5] == 0);
          CircuitState expected = start;
          record_run(expected, settings, outcome, trial, reply[4]);
          CHECK(state_in(reply, 6) == expected);
          CHECK(redis.state() == expected);  // always written, as the file is
          CHECK(redis.pttl(key) > week - minute);
          // The same words about the change.
          const CircuitChange change = describe_change(start, state_in(reply, 6), outcome, settings);
          const CircuitChange file_change = describe_change(start, expected, outcome, settings);
          CHECK(change.message == file_change.message);
        }
      }
    }
  }
}

TEST_CASE("circuit scripts: a hash that is not ours is closed - flagged as corrupt - and overwritten") {
  Redis redis;
  const std::int64_t t0 = redis.server_now();
  const std::string good_time = std::to_string(t0 - minute);
  const std::vector<std::vector<std::string>> foreign = {
      {"phase", "stuck", "failures", "3", "last_failure_ms", good_time, "trial_started_ms", "0"},
      {"phase", "open", "failures", "3", "last_failure_ms", good_time},                       // a field missing
      {"phase", "open", "failures", "3", "last_failure_ms", good_time, "trial_started_ms", "0", "owner", "x"},
      {"phase", "open", "failures", "-1", "last_failure_ms", good_time, "trial_started_ms", "0"},
      {"phase", "open", "failures", "1.5", "last_failure_ms", good_time, "trial_started_ms", "0"},
      {"phase", "open", "failures", "3", "last_failure_ms", "253402300800000", "trial_started_ms", "0"},  // after 9999
      {"phase", "open", "failures", "99999999999999999", "last_failure_ms", good_time, "trial_started_ms", "0"},
      {"phase", "open", "failures", "3", "last_failure_ms", "", "trial_started_ms", "0"},
      {"Phase", "open", "failures", "3", "last_failure_ms", good_time, "trial_started_ms", "0"},
  };
  for (const auto& fields : foreign) {
    INFO(fmt::format("{}", fmt::join(fields, " ")));
    redis.call({"DEL", key});
    store::Command hset{"HSET", key};
    hset.insert(hset.end(), fields.begin(), fields.end());
    redis.call(hset);
    const auto admitted = redis.run(circuit_admit_script, {key}, {"300000"});
    CHECK(state_in(admitted, 0) == CircuitState{});
    CHECK(admitted[5] == 1);
    CHECK(admitted[6] == 1);  // allowed
    CHECK(admitted[7] == 0);  // not a trial
    CHECK(redis.state() == CircuitState{});  // overwritten: ours again
    CHECK(redis.pttl(key) > week - minute);

    redis.call({"DEL", key});  // and record treats it the same way
    redis.call(hset);
    const auto recorded = redis.run(circuit_record_script, {key}, {"failure", "0", "3", "300000"});
    CHECK(recorded[5] == 1);
    CHECK(state_in(recorded, 6) == CircuitState{Phase::closed, 1, recorded[4], 0});
    CHECK(redis.state() == CircuitState{Phase::closed, 1, recorded[4], 0});
  }
}

TEST_CASE("circuit scripts: a key of another type is an error reply (WRONGTYPE)") {
  Redis redis;
  redis.call({"SET", key, "not a hash"});
  for (const auto& [script, args] :
       {std::pair{circuit_admit_script, std::vector<std::string>{"300000"}},
        std::pair{circuit_record_script, std::vector<std::string>{"failure", "0", "3", "300000"}}}) {
    auto result = store::run_script(redis.client, store::RedisScript(script), {key}, args);
    REQUIRE(std::holds_alternative<store::StoreError>(result));
    const auto& error = std::get<store::StoreError>(result);
    CHECK(error.kind == store::StoreError::Kind::reply);
    CHECK(error.message.find("WRONGTYPE") != std::string::npos);
  }
  CHECK(redis.call({"GET", key}).text == "not a hash");  // left alone
}

TEST_CASE("circuit scripts: the expiry is the longer of the cooldown and 7 days - refreshed by every write") {
  Redis redis;
  redis.run(circuit_record_script, {key}, {"failure", "0", "3", "300000"});
  CHECK(redis.pttl(key) > week - minute);
  CHECK(redis.pttl(key) <= week);
  redis.call({"PEXPIRE", key, "1000"});
  redis.run(circuit_record_script, {key}, {"success", "0", "3", "300000"});
  CHECK(redis.pttl(key) > week - minute);
  const std::int64_t ten_days = 10 * 24 * 3600 * 1000LL;
  redis.run(circuit_record_script, {key}, {"failure", "0", "1", std::to_string(ten_days)});
  CHECK(redis.pttl(key) > ten_days - minute);
  redis.call({"PEXPIRE", key, "1000"});
  const auto admitted = redis.run(circuit_admit_script, {key}, {"0"});  // the trial is a write
  CHECK(admitted[7] == 1);
  CHECK(redis.pttl(key) > week - minute);
}

TEST_CASE("fleet keys: the job's name in a hash tag") {
  CHECK(fleet_key("nightly-backup", "circuit") == "retryx:{nightly-backup}:circuit");
  CHECK(fleet_key("a.b_c", "budget:runs") == "retryx:{a.b_c}:budget:runs");
}

}  // TEST_SUITE
