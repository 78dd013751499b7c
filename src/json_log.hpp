#pragma once
// The JSON Lines attempt log (--log-format json, spec §6): one object per
// event, each with "ts" (RFC 3339 UTC, milliseconds) and "event":
//   start         schema (1), command, max_attempts, policy
//   attempt_start attempt, pid
//   attempt       attempt, max_attempts, pid, duration_ms, exit_code,
//                 signal, timed_out, outcome, reason, [delay_ms], [error]
//   hook          hook, exit_code, signal
//   end           outcome, attempts, elapsed_ms, exit_status
//   circuit       message (--circuit: the breaker's state or a problem with
//                 its file; may come before start)
#include <string>

#include "attempt_log.hpp"
#include "json_writer.hpp"

namespace retryx {

class JsonLog final : public AttemptLog {
 public:
  // Every event is written whatever the verbosity: consumers filter.
  explicit JsonLog(int fd, std::string name = "") : out_(fd, std::move(name)) {}
  void run_started(const Policy& policy, const Command& command) override;
  void attempt_started(std::uint64_t attempt, std::optional<std::uint64_t> max, int pid) override;
  void attempt_ended(const AttemptRecord& record) override;
  void hook(std::string_view name, const AttemptResult& result) override;
  void run_ended(const RunSummary& summary) override;
  void notice(std::string_view message) override;

 private:
  void emit(const JsonObject& event);
  LogWriter out_;
};

// The pieces the report shares with the log: an "attempt" event's fields
// (without ts/event) and the "end" fields.
JsonObject attempt_fields(const AttemptRecord& record);
JsonObject& add_end_fields(JsonObject& object, const RunSummary& summary);
std::string policy_json(const Policy& policy);

// "2026-11-23T10:52:02.123Z"
std::string rfc3339_now();

}  // namespace retryx
