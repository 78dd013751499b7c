#include "redis_budget.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "fleet_scripts.hpp"

namespace retryx {

RedisBudget::RedisBudget(SharedStore& store, BudgetSettings settings, std::string run_id, std::string dropped)
    : store_(store), settings_(std::move(settings)), run_id_(std::move(run_id)), dropped_(std::move(dropped)) {
  const std::string job = budget_job(settings_.name);
  keys_ = {fleet_key(job, "budget:runs"), fleet_key(job, "budget:retries")};
}

BudgetAnswer RedisBudget::run_started() { return step(budget_run_script, run_id_); }

BudgetAnswer RedisBudget::retry() {
  // A member per retry: the run's id and the attempt the retry makes.
  BudgetAnswer answer = step(budget_retry_script, fmt::format("{}:{}", run_id_, retries_granted_ + 2));
  if (answer.verdict.granted) ++retries_granted_;
  return answer;
}

BudgetAnswer RedisBudget::step(const std::string& script, const std::string& member) {
  BudgetAnswer answer;
  if (given_up_) return answer;
  const StoreAnswer stored = store_.run_script(
      script, keys_,
      {script_number(static_cast<std::uint64_t>(std::max<std::int64_t>(settings_.window_ms, 1))),
       script_number(settings_.ratio_ppm), script_number(settings_.min), member});
  const auto& reply = stored.reply;
  if (reply && reply->size() == 4 && ((*reply)[0] == 0 || (*reply)[0] == 1) && (*reply)[1] >= 0 && (*reply)[2] >= 0) {
    answer.verdict.granted = (*reply)[0] == 1;
    answer.verdict.retries = static_cast<std::uint64_t>((*reply)[1]);
    answer.verdict.runs = static_cast<std::uint64_t>((*reply)[2]);
    // Exact in C++ too (the script's is capped at 2^53).
    answer.verdict.allowed = retries_allowed(settings_.ratio_ppm, settings_.min, answer.verdict.runs);
    return answer;
  }
  given_up_ = true;
  answer.problem = store_unusable(
      store_, stored,
      reply ? fmt::format("the budget script's reply is not one of ours ({} numbers)", reply->size()) : "", dropped_);
  return answer;
}

}  // namespace retryx
