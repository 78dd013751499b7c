// --circuit on Redis: RedisCircuit against a real redis-server says what
// the file circuit says for the same runs, holds one trial for the whole
// fleet, and fails open (admitted, nothing recorded) when the store fails.
#include <doctest/doctest.h>
#include <regex>

#include "circuit.hpp"
#include "in_process_store.hpp"
#include "redis_budget.hpp"
#include "redis_circuit.hpp"
#include "temp_files.hpp"

using namespace retryx;
using retryx::testing::FailingStore;
using retryx::testing::InProcessStore;
using retryx::testing::RepliesStore;
using retryx::testing::ServerAtHand;

namespace {

const std::string key = "retryx:{job}:circuit";

// Durations ("4m59.998s", "12ms") as T: two runs a few ms apart say the
// same words otherwise.
std::string words(const std::string& message) {
  static const std::regex duration("([0-9.]+(ms|s|m|h|d))+");
  return std::regex_replace(message, duration, "T");
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("store") {

TEST_CASE("redis circuit: the same decisions and words as the file circuit for the same runs") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  const std::string dir = testing::temp_dir();
  const CircuitSettings settings{dir + "/state", 2, std::chrono::minutes(5)};
  const std::vector<RunOutcome> outcomes = {RunOutcome::exhausted, RunOutcome::success, RunOutcome::fatal,
                                            RunOutcome::deadline, RunOutcome::exhausted, RunOutcome::exhausted};
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    INFO("run " << i + 1);
    FileCircuit file(settings);
    RedisCircuit fleet(store, settings, "job");
    const CircuitAdmission a = file.before_run(), b = fleet.before_run();
    CHECK(a.allowed == b.allowed);
    CHECK(a.trial == b.trial);
    CHECK(words(a.message) == words(b.message));
    CHECK(b.problem.empty());
    CHECK(b.store_problem.empty());
    if (!a.allowed) continue;
    const CircuitChange x = file.after_run(outcomes[i]), y = fleet.after_run(outcomes[i]);
    CHECK(x.transition == y.transition);
    CHECK(x.message == y.message);
    CHECK(y.problem.empty());
    CHECK(y.store_problem.empty());
  }
  // The last two failures opened it: the next run is refused, in the same words.
  const CircuitAdmission refused = RedisCircuit(store, settings, "job").before_run();
  CHECK_FALSE(refused.allowed);
  CHECK(words(refused.message) == "circuit open: 2 consecutive failed runs, the last T ago; next run allowed in T");
  CHECK(redis.call({"HGET", key, "phase"}).text == "open");
  std::filesystem::remove_all(dir);
}

TEST_CASE("redis circuit: one half-open trial for the whole fleet - its success closes the circuit for all") {
  ServerAtHand redis;
  InProcessStore machine_a(redis.server.unix_url()), machine_b(redis.server.unix_url());
  const CircuitSettings settings{"", 3, std::chrono::seconds(30)};
  const std::int64_t now = redis.server_now();
  redis.call({"HSET", key, "phase", "open", "failures", "3", "last_failure_ms", std::to_string(now - 60'000),
              "trial_started_ms", "0"});
  RedisCircuit a(machine_a, settings, "job"), b(machine_b, settings, "job");
  const CircuitAdmission trial = a.before_run();
  CHECK(trial.allowed);
  CHECK(trial.trial);
  CHECK(trial.message == "circuit half-open: this run is the trial");
  const CircuitAdmission other = b.before_run();
  CHECK_FALSE(other.allowed);
  CHECK(words(other.message) == "circuit half-open: a trial run started T ago is under way");
  const CircuitChange closed = a.after_run(RunOutcome::success);
  CHECK(closed.transition == "closed");
  CHECK(closed.message == "circuit closed: the trial run succeeded");
  const CircuitAdmission after = RedisCircuit(machine_b, settings, "job").before_run();
  CHECK(after.allowed);
  CHECK_FALSE(after.trial);
}

TEST_CASE("redis circuit: a failed trial opens it again - every failure of the fleet is counted") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  const CircuitSettings settings{"", 10, std::chrono::seconds(0)};
  for (int i = 0; i < 5; ++i) {
    RedisCircuit run(store, settings, "job");
    REQUIRE(run.before_run().allowed);
    run.after_run(RunOutcome::exhausted);
  }
  CHECK(redis.call({"HGET", key, "failures"}).text == "5");
  redis.call({"HSET", key, "phase", "open"});
  RedisCircuit trial(store, settings, "job");
  REQUIRE(trial.before_run().trial);  // a cooldown of 0 has passed
  const CircuitChange change = trial.after_run(RunOutcome::exhausted);
  CHECK(change.transition == "opened");
  CHECK(change.message == "circuit opened again: the trial run failed; runs are refused for 0ms");
  CHECK(redis.call({"HGET", key, "failures"}).text == "6");
}

TEST_CASE("redis circuit: a state that is not ours or dated in the future is a circuit problem - said once") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  const CircuitSettings settings{"", 3, std::chrono::minutes(5)};
  redis.call({"HSET", key, "phase", "jammed"});
  const CircuitAdmission first = RedisCircuit(store, settings, "job").before_run();
  CHECK(first.allowed);
  CHECK(first.problem == key + " on " + store.location() + " is not a circuit state this retryx wrote (treated as closed)");
  CHECK(first.store_problem.empty());
  CHECK(RedisCircuit(store, settings, "job").before_run().problem.empty());

  const std::int64_t now = redis.server_now();
  redis.call({"HSET", key, "phase", "open", "failures", "3", "last_failure_ms", std::to_string(now + 3'600'000),
              "trial_started_ms", "0"});
  const CircuitAdmission future = RedisCircuit(store, settings, "job").before_run();
  CHECK_FALSE(future.allowed);
  CHECK(contains(future.problem, key + " on " + store.location() + ": the last failed run is dated "));
  CHECK(contains(future.problem, " in the future"));
  CHECK(RedisCircuit(store, settings, "job").before_run().problem.empty());  // brought back to now, kept
}

TEST_CASE("redis circuit: a store that fails admits the run - said once - and records nothing after it") {
  FailingStore store;
  RedisCircuit circuit(store, {"", 1, std::chrono::minutes(5)}, "job");
  const CircuitAdmission admission = circuit.before_run();
  CHECK(admission.allowed);
  CHECK_FALSE(admission.trial);
  CHECK(admission.problem.empty());
  CHECK(admission.store_problem == "redis://127.0.0.1:1: connect: Connection refused; going on without the circuit");
  const CircuitChange change = circuit.after_run(RunOutcome::exhausted);
  CHECK(change.store_problem.empty());
  CHECK(change.transition.empty());
  CHECK(store.calls == 1);
  CHECK(circuit.location() == "redis://127.0.0.1:1");
}

TEST_CASE("redis circuit: a key of another type (WRONGTYPE) is a store problem - the run goes ahead") {
  ServerAtHand redis;
  redis.call({"SET", key, "not a hash"});
  InProcessStore store(redis.server.unix_url());
  RedisCircuit circuit(store, {"", 1, std::chrono::minutes(5)}, "job", "the circuit and the retry budget");
  const CircuitAdmission admission = circuit.before_run();
  CHECK(admission.allowed);
  CHECK(contains(admission.store_problem, store.location() + ": reply: WRONGTYPE"));
  CHECK(contains(admission.store_problem, "; going on without the circuit and the retry budget"));
  CHECK(circuit.after_run(RunOutcome::exhausted).store_problem.empty());
  CHECK(store.calls == 1);
  CHECK(redis.call({"GET", key}).text == "not a hash");
}

TEST_CASE("redis circuit: a store that fails only after the run is said then") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  RedisCircuit circuit(store, {"", 1, std::chrono::minutes(5)}, "job");
  REQUIRE(circuit.before_run().store_problem.empty());
  redis.server.stop();
  const CircuitChange change = circuit.after_run(RunOutcome::exhausted);
  CHECK(contains(change.store_problem, store.location() + ": "));
  CHECK(contains(change.store_problem, "; going on without the circuit"));
  CHECK(change.transition.empty());
}

TEST_CASE("redis circuit: a reply that is not one of ours gives the store up - for the budget sharing it too") {
  const std::string both = "the circuit and the retry budget";
  const BudgetSettings no_budget{"unused", "job", 0, 0, 60'000};  // min 0, ratio 0: a budget would refuse
  // Before the run: two numbers where the admit script answers eight.
  RepliesStore store({{1, 2}});
  RedisCircuit circuit(store, {"", 1, std::chrono::minutes(5)}, "job", both);
  RedisBudget budget(store, no_budget, "run-1", both);
  const CircuitAdmission admission = circuit.before_run();
  CHECK(admission.allowed);
  CHECK(admission.store_problem == "redis://127.0.0.1:6379: the circuit script's reply is not one of ours (2 numbers); "
                                   "going on without the circuit and the retry budget");
  CHECK(store.given_up);
  // The budget goes on without the store, as said: not asked, nothing said.
  CHECK(budget.run_started().problem.empty());
  const BudgetAnswer retry = budget.retry();
  CHECK(retry.verdict.granted);
  CHECK(retry.problem.empty());
  CHECK(circuit.after_run(RunOutcome::exhausted).store_problem.empty());
  CHECK(store.calls == 1);

  // After the run: ten numbers whose state after is not one (phase 7).
  RepliesStore after({{0, 0, 0, 0, 1000, 0, 1, 0}, {1, 1, 1, 1000, 1000, 0, 7, 0, 0, 0}});
  RedisCircuit recorded(after, {"", 1, std::chrono::minutes(5)}, "job", both);
  RedisBudget later(after, no_budget, "run-2", both);
  REQUIRE(recorded.before_run().store_problem.empty());
  const CircuitChange change = recorded.after_run(RunOutcome::exhausted);
  CHECK(change.store_problem ==
        "redis://127.0.0.1:6379: the circuit script's reply is not one of ours; going on without the circuit and the retry budget");
  CHECK(change.transition.empty());
  CHECK(after.given_up);
  CHECK(later.retry().problem.empty());
  CHECK(after.calls == 2);
}

}  // TEST_SUITE
