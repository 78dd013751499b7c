#pragma once
// The fleet's decisions on Redis (spec §11): the Lua scripts that
// --circuit and --retry-budget run on a Redis LOCATION, each one atomic
// step timed by the server's clock (TIME, in milliseconds), never the
// clients'. They mirror the file side exactly: circuit.cpp's admit() and
// record_run(), retry_budget.cpp's record_run_start() and spend_retry().
//
// Keys (the hash tag {NAME} keeps a job's keys in one Redis Cluster slot):
//   retryx:{NAME}:circuit          a hash {phase: closed|open|half_open,
//                                  failures, last_failure_ms,
//                                  trial_started_ms}
//   retryx:{NAME}:budget:runs      sorted sets, score: the server's time in
//   retryx:{NAME}:budget:retries   ms; member: the run id (runs), the run
//                                  id and the attempt, "ID:N" (retries)
// Every write sets the expiry of the keys written: the longer of the
// cooldown (or the window) and 7 days (PEXPIRE, refreshed each time).
//
// A key of another type fails the script (WRONGTYPE): a store problem.
// A circuit hash that is not ours (a field missing, foreign or out of
// range) is treated as closed, flagged as corrupt and overwritten.
//
// Replies are flat arrays of integers:
//   circuit admit  (KEYS: circuit; ARGV: cooldown_ms)
//     {phase, failures, last_failure_ms, trial_started_ms,   the state before
//      now_ms, corrupt, allowed, trial}
//   circuit record (KEYS: circuit; ARGV: outcome ("success", "interrupted"
//                   or "failure"), trial (0 or 1), threshold, cooldown_ms)
//     {phase, failures, last_failure_ms, trial_started_ms,   the state before
//      now_ms, corrupt,
//      phase, failures, last_failure_ms, trial_started_ms}   the state after
//   budget run, budget retry (KEYS: runs, retries; ARGV: window_ms,
//                   ratio_ppm, min, member)
//     {granted, retries, runs, allowed}: retries spent within the window
//     before this one, runs started within it (this one included), and
//     min + floor(ratio_ppm x runs / 10^6); a run start is always granted.
// A phase is 0 closed, 1 open, 2 half_open.
#include <cstdint>
#include <string>
#include <string_view>

#include "shared_store.hpp"

namespace retryx {

extern const std::string circuit_admit_script;
extern const std::string circuit_record_script;
extern const std::string budget_run_script;
extern const std::string budget_retry_script;

// "retryx:{NAME}:" followed by what: "circuit", "budget:runs", ...
std::string fleet_key(std::string_view name, std::string_view what);

// The largest number the scripts count exactly (Lua's numbers are
// doubles): figures passed to them are capped there.
constexpr std::uint64_t script_number_cap = 9'007'199'254'740'991;  // 2^53 - 1
// A figure as a script's argument, capped at script_number_cap.
std::string script_number(std::uint64_t n);

// What the circuit or the budget says when its script got no usable
// answer: "LOCATION: PROBLEM; going on without DROPPED", or nothing when
// the store failed before (and was said then). A reply that came but is
// not one of ours (not_ours: what is wrong with it) gives the store up,
// for every option sharing it.
std::string store_unusable(SharedStore& store, const StoreAnswer& answer, std::string_view not_ours,
                           std::string_view dropped);

// The keys' expiry: the longer of `ms` and 7 days.
constexpr std::int64_t fleet_expiry_floor_ms = 7LL * 24 * 3600 * 1000;

}  // namespace retryx
