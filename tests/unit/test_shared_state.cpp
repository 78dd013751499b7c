// What retryx::run asks for --circuit and --retry-budget (shared_state):
// files or Redis, one store per Redis URL (a failure said once for both
// when they share it), REDISCLI_AUTH from retryx's environment. The store
// here cannot start (no retryx-store beside the test binary): a store
// problem, as any other.
#include <doctest/doctest.h>

#include "policy_builder.hpp"
#include "run_identity.hpp"
#include "shared_state.hpp"

using namespace retryx;

namespace {

Policy policy(const std::map<std::string, std::string>& options) {
  Values values;
  for (const auto& [name, text] : options) values.command_line[name] = {text, "--" + name};
  return build_policy(values);
}

const RunIdentity identity = new_run_identity("job");
const char* const no_environment[] = {nullptr};

}  // namespace

TEST_CASE("shared state: nothing without the options - files without a store") {
  const SharedState none(policy({}), identity, no_environment);
  CHECK(none.circuit() == nullptr);
  CHECK(none.budget() == nullptr);
  const SharedState files(policy({{"circuit", "/tmp/c.json"}, {"retry-budget", "/tmp/b.ledger"}}), identity,
                          no_environment);
  REQUIRE(files.circuit() != nullptr);
  REQUIRE(files.budget() != nullptr);
  CHECK(files.circuit()->location() == "/tmp/c.json");
  CHECK(files.budget()->location() == "/tmp/b.ledger");
}

TEST_CASE("shared state: one store for one URL - its failure said once for the circuit and the budget") {
  const SharedState shared(policy({{"name", "job"}, {"circuit", "redis://127.0.0.1:1"}, {"retry-budget", "redis://127.0.0.1:1"}}),
                           identity, no_environment);
  const CircuitAdmission admission = shared.circuit()->before_run();
  CHECK(admission.allowed);
  CHECK(admission.store_problem.starts_with("redis://127.0.0.1:1: "));
  CHECK(admission.store_problem.ends_with("; going on without the circuit and the retry budget"));
  const BudgetAnswer started = shared.budget()->run_started();
  CHECK(started.problem.empty());  // the same store: said once
  CHECK(shared.budget()->retry().verdict.granted);
  CHECK(shared.circuit()->after_run(RunOutcome::exhausted).store_problem.empty());
}

TEST_CASE("shared state: two URLs - two stores - each said") {
  const SharedState apart(policy({{"name", "job"}, {"circuit", "redis://127.0.0.1:1"}, {"retry-budget", "redis://127.0.0.1:2"}}),
                          identity, no_environment);
  CHECK(apart.circuit()->before_run().store_problem.ends_with("; going on without the circuit"));
  CHECK(apart.budget()->run_started().problem.ends_with("; going on without the retry budget"));
  CHECK(apart.budget()->location() == "redis://127.0.0.1:2");
}

TEST_CASE("shared state: REDISCLI_AUTH from retryx's environment - the password shown as ***") {
  const char* const environment[] = {"REDISCLI_AUTHX=no", "REDISCLI_AUTH=hunter2", nullptr};
  const Policy p = policy({{"name", "job"}, {"circuit", "redis://127.0.0.1:1"}});
  const SharedState with(p, identity, environment);
  CHECK(with.circuit()->location().find("***") != std::string::npos);
  CHECK(with.circuit()->location().find("hunter2") == std::string::npos);
  CHECK(with.circuit()->before_run().store_problem.find("hunter2") == std::string::npos);
  const SharedState without(p, identity, no_environment);
  CHECK(without.circuit()->location() == "redis://127.0.0.1:1");
}
