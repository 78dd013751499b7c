#pragma once
// What --circuit and --retry-budget share with other runs (spec §7, §11),
// as retryx::run needs them: the circuit breaker and the retry budget on a
// file or on a Redis LOCATION. A Redis LOCATION gets its store
// (open_redis_store: the retryx-store helper, started at the first
// request); one store per distinct URL, shared by the circuit and the
// budget when they name the same one, so that a store that fails is said
// once and dropped for both. No store is opened for files or without the
// options.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "circuit.hpp"
#include "policy.hpp"
#include "retry_budget.hpp"
#include "run_identity.hpp"
#include "shared_store.hpp"

namespace retryx {

class SharedState {
 public:
  // envp: retryx's environment, where REDISCLI_AUTH is read (the URL's
  // password wins over it).
  // stopping: whether retryx has been told to stop (a wait for a store is
  // abandoned then).
  SharedState(const Policy& policy, const RunIdentity& identity, const char* const* envp,
              std::function<bool()> stopping = {});
  CircuitBreaker* circuit() const { return circuit_.get(); }  // nullptr without --circuit
  RetryBudget* budget() const { return budget_.get(); }       // nullptr without --retry-budget
  // Ends the stores' helpers now (and drops the circuit and the budget):
  // before retryx dies by a signal, so that no helper outlives it.
  void end();

 private:
  SharedStore& store_for(const StoreLocation& location, const Policy& policy, const char* const* envp);
  std::function<bool()> stopping_;
  std::map<std::string, std::unique_ptr<SharedStore>> stores_;  // by URL; outlives the users below
  std::unique_ptr<CircuitBreaker> circuit_;
  std::unique_ptr<RetryBudget> budget_;
};

}  // namespace retryx
