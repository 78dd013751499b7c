#pragma once
// The JSON Lines attempt log (--log-format json, spec §6): one object per
// event, each with "ts" (RFC 3339 UTC, milliseconds), "event" and
// "run_id" (the same in every event of a run, and in its report):
//   start         schema (1), command, name, pid, max_attempts, policy
//   attempt_start attempt, pid
//   attempt       attempt, max_attempts, pid, duration_ms, exit_code,
//                 signal, timed_out, outcome, reason, [delay_ms], [error]
//   hook          hook, exit_code, signal
//   end           outcome, name, attempts, elapsed_ms, exit_status
//   circuit       state (opened, closed, refused, trial, problem), message
//                 (--circuit; a refusal or a problem may come before start)
//   metrics       problem (--metrics-file: what of the file was dropped; after end)
//   store         location, problem (--retry-budget could not help)
#include <string>

#include "attempt_log.hpp"
#include "json_writer.hpp"
#include "run_identity.hpp"
#include "timestamp.hpp"

namespace retryx {

class JsonLog final : public AttemptLog {
 public:
  // Every event is written whatever the verbosity: consumers filter.
  JsonLog(LogWriter out, RunIdentity identity) : out_(std::move(out)), identity_(std::move(identity)) {}
  void run_started(const Policy& policy, const Command& command) override;
  void attempt_started(std::uint64_t attempt, std::optional<std::uint64_t> max, int pid) override;
  void attempt_ended(const AttemptRecord& record) override;
  void hook(std::string_view name, const AttemptResult& result) override;
  void run_ended(const RunSummary& summary) override;
  void circuit(std::string_view state, std::string_view message) override;
  void metrics(std::string_view problem) override { emit(event("metrics").field("problem", problem)); }
  void store(std::string_view location, std::string_view problem) override;

 private:
  JsonObject event(const char* name) const;
  void emit(const JsonObject& event);
  LogWriter out_;
  RunIdentity identity_;
};

// The pieces the report shares with the log: an "attempt" event's fields
// (without ts/event) and the "end" fields.
JsonObject attempt_fields(const AttemptRecord& record);
JsonObject& add_end_fields(JsonObject& object, const RunSummary& summary, const std::optional<std::string>& name);
std::string policy_json(const Policy& policy);

}  // namespace retryx
