#pragma once
// --retry-budget on a Redis LOCATION (spec §11): the retries of all the
// runs of a fleet that share the URL and --name stay within
// floor(--budget-min + --budget-ratio x the runs started in the window),
// counted on the server: the sorted sets retryx:{NAME}:budget:runs and
// retryx:{NAME}:budget:retries, one Lua script per decision
// (fleet_scripts.hpp), timed by the server's clock. The same verdicts and
// figures as FileBudget.
//
// A store that cannot answer is said once; from then on every retry is
// granted without asking it (the run goes on as if there were no budget).
// A reply that is not one of ours is one too, and gives the store up
// (SharedStore::give_up): a circuit that shares it is not asked either.
#include <string>

#include "retry_budget.hpp"
#include "shared_store.hpp"

namespace retryx {

class RedisBudget final : public RetryBudget {
 public:
  // run_id: this run's (the members of the sets); dropped: what the run
  // goes on without when the store fails.
  RedisBudget(SharedStore& store, BudgetSettings settings, std::string run_id,
              std::string dropped = "the retry budget");
  BudgetAnswer run_started() override;
  BudgetAnswer retry() override;
  std::string location() const override { return store_.location(); }

 private:
  BudgetAnswer step(const std::string& script, const std::string& member);
  SharedStore& store_;
  BudgetSettings settings_;
  std::string run_id_;
  std::string dropped_;
  std::vector<std::string> keys_;
  std::uint64_t retries_granted_ = 0;
  bool given_up_ = false;
};

}  // namespace retryx
