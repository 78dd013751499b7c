#include "redis_circuit.hpp"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>

#include "fleet_scripts.hpp"

namespace retryx {

namespace {

// The four numbers of a state in a script's reply, from `at`.
std::optional<CircuitState> state_at(const std::vector<std::int64_t>& reply, std::size_t at) {
  if (reply.size() < at + 4 || reply[at] < 0 || reply[at] > 2 || reply[at + 1] < 0 || reply[at + 2] < 0 ||
      reply[at + 3] < 0)
    return std::nullopt;
  CircuitState state;
  state.phase = static_cast<CircuitState::Phase>(reply[at]);
  state.consecutive_failures = static_cast<std::uint64_t>(reply[at + 1]);
  state.last_failure_ms = reply[at + 2];
  state.trial_started_ms = reply[at + 3];
  return state;
}

// The word record_run's rules go by; nullopt: nothing to record.
std::optional<std::string> outcome_word(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::success: return "success";
    case RunOutcome::interrupted: return "interrupted";
    case RunOutcome::circuit_open: return std::nullopt;
    case RunOutcome::exhausted:
    case RunOutcome::budget:
    case RunOutcome::fatal:
    case RunOutcome::deadline: break;
  }
  return "failure";
}

}  // namespace

RedisCircuit::RedisCircuit(SharedStore& store, CircuitSettings settings, std::string name, std::string dropped)
    : store_(store), settings_(std::move(settings)), key_(fleet_key(name, "circuit")), dropped_(std::move(dropped)) {
  settings_.path = fmt::format("{} on {}", key_, store_.location());
}

std::optional<std::vector<std::int64_t>> RedisCircuit::ask(const std::string& script, std::vector<std::string> args,
                                                           std::size_t size, std::string& problem) {
  if (given_up_) return std::nullopt;
  StoreAnswer answer = store_.run_script(script, {key_}, args);
  if (answer.reply && answer.reply->size() == size && state_at(*answer.reply, 0)) return std::move(answer.reply);
  given_up_ = true;
  problem = store_unusable(store_, answer,
                           answer.reply ? fmt::format("the circuit script's reply is not one of ours ({} numbers)",
                                                      answer.reply->size())
                                        : "",
                           dropped_);
  return std::nullopt;
}

CircuitAdmission RedisCircuit::before_run() {
  const auto cooldown_ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.cooldown).count();
  std::string problem;
  const auto reply = ask(circuit_admit_script, {fmt::format("{}", cooldown_ms)}, 8, problem);
  if (!reply) {
    CircuitAdmission admitted;
    admitted.store_problem = problem;
    return admitted;
  }
  // The messages: admit on a copy of the state the script found, at the
  // server's time, as the file's (same decision: the same rules).
  CircuitState state = *state_at(*reply, 0);
  CircuitAdmission admission = admit(state, settings_, (*reply)[4]);
  admission.allowed = (*reply)[6] != 0;
  admission.trial = (*reply)[7] != 0;
  if ((*reply)[5] != 0) {
    const std::string corrupt = fmt::format("{} is not a circuit state this retryx wrote (treated as closed)", settings_.path);
    admission.problem = admission.problem.empty() ? corrupt : corrupt + "; " + admission.problem;
  }
  trial_ = admission.trial;
  return admission;
}

CircuitChange RedisCircuit::after_run(RunOutcome outcome) {
  const std::optional<std::string> word = outcome_word(outcome);
  if (!word) return {};
  const auto cooldown_ms = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.cooldown).count();
  std::string problem;
  const auto reply = ask(circuit_record_script,
                         {*word, trial_ ? "1" : "0", script_number(settings_.threshold), fmt::format("{}", cooldown_ms)},
                         10, problem);
  if (!reply || !state_at(*reply, 6)) {
    CircuitChange change;
    change.store_problem =
        reply ? store_unusable(store_, {reply, ""}, "the circuit script's reply is not one of ours", dropped_) : problem;
    given_up_ = true;
    return change;
  }
  // A state that is not ours now was said before the run, if then; the
  // file side does not say it twice either.
  return describe_change(*state_at(*reply, 0), *state_at(*reply, 6), outcome, settings_);
}

}  // namespace retryx
