#pragma once
// --circuit on a Redis LOCATION (spec §11): the file breaker's rules
// (circuit.hpp, spec §7) for all the runs of a fleet at once, one
// half-open trial for the whole fleet. The state is the hash
// retryx:{NAME}:circuit; each decision is one Lua script on the server
// (fleet_scripts.hpp), timed by its clock.
//
// The scripts return the state they found and the server's time, so that
// the messages are circuit.cpp's own (admit on a copy of that state,
// describe_change): the file and Redis say the same words.
//
// A store that cannot answer is a store problem, said once: the run goes
// ahead as if --circuit were not given, and nothing is recorded after it.
// A reply that is not one of ours is one too, and gives the store up
// (SharedStore::give_up): a budget that shares it is not asked either.
#include <string>

#include "circuit.hpp"
#include "shared_store.hpp"

namespace retryx {

class RedisCircuit final : public CircuitBreaker {
 public:
  // settings.path is not used (the store's location is); name: --name.
  // dropped: what the run goes on without when the store fails ("the
  // circuit", or "the circuit and the retry budget" when they share it).
  RedisCircuit(SharedStore& store, CircuitSettings settings, std::string name,
               std::string dropped = "the circuit");
  CircuitAdmission before_run() override;
  CircuitChange after_run(RunOutcome outcome) override;
  std::string location() const override { return store_.location(); }

 private:
  // The script's reply, or nullopt with problem set (said once).
  std::optional<std::vector<std::int64_t>> ask(const std::string& script, std::vector<std::string> args,
                                               std::size_t size, std::string& problem);
  SharedStore& store_;
  CircuitSettings settings_;  // path: the key and the location, for messages
  std::string key_;
  std::string dropped_;
  bool trial_ = false;
  bool given_up_ = false;  // the store failed: nothing more is asked or recorded
};

}  // namespace retryx
