#include "shared_state.hpp"

#include <cstring>
#include <string_view>

#include "duration.hpp"
#include "redis_budget.hpp"
#include "redis_circuit.hpp"

namespace retryx {

namespace {

// A variable of envp; nullopt when it is not set.
std::optional<std::string> variable(const char* const* envp, std::string_view name) {
  for (; envp && *envp; ++envp) {
    const std::string_view entry = *envp;
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
      return std::string(entry.substr(name.size() + 1));
  }
  return std::nullopt;
}

}  // namespace

SharedStore& SharedState::store_for(const StoreLocation& location, const Policy& policy, const char* const* envp) {
  std::unique_ptr<SharedStore>& store = stores_[location.text];
  if (!store)
    store = open_redis_store(RedisStoreSettings{location.text, variable(envp, "REDISCLI_AUTH"), policy.redis_tls.cacert,
                                                policy.redis_tls.cert, policy.redis_tls.key, stopping_});
  return *store;
}

SharedState::SharedState(const Policy& policy, const RunIdentity& identity, const char* const* envp,
                         std::function<bool()> stopping)
    : stopping_(std::move(stopping)) {
  const auto& circuit = policy.circuit.location;
  const auto& budget = policy.budget.location;
  // When the two share a store, a store that fails drops both.
  const bool shared = circuit && budget && circuit->redis && budget->redis && circuit->text == budget->text;
  if (circuit) {
    const CircuitSettings settings{circuit->text, policy.circuit.threshold, policy.circuit.cooldown};
    if (circuit->redis)
      circuit_ = std::make_unique<RedisCircuit>(store_for(*circuit, policy, envp), settings, *policy.name,
                                                shared ? "the circuit and the retry budget" : "the circuit");
    else
      circuit_ = std::make_unique<FileCircuit>(settings);
  }
  if (budget) {
    const BudgetSettings settings{budget->text, policy.name, policy.budget.ratio_ppm, policy.budget.min,
                                  to_millis(policy.budget.window)};
    if (budget->redis)
      budget_ = std::make_unique<RedisBudget>(store_for(*budget, policy, envp), settings, identity.run_id,
                                              shared ? "the circuit and the retry budget" : "the retry budget");
    else
      budget_ = std::make_unique<FileBudget>(settings);
  }
}

void SharedState::end() {
  circuit_.reset();
  budget_.reset();
  stores_.clear();  // each helper: its socket closed, its exit waited for, reaped
}

}  // namespace retryx
