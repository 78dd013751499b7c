#include "json_log.hpp"

#include <chrono>
#include <fmt/format.h>

#include "signal_names.hpp"

namespace retryx {

namespace {

// Milliseconds as a JSON number; a positive duration under one (-t
// 0.0000001) in full, so that it never reads as 0.
std::string exact_millis(Duration d) {
  if (d > Duration::zero() && d < std::chrono::milliseconds(1))
    return fmt::format("{}", static_cast<double>(d.count()) / 1e6);
  return fmt::format("{}", to_millis(d));
}

std::optional<long long> millis(const std::optional<Duration>& d) {
  if (!d) return std::nullopt;
  return to_millis(*d);
}

// exit_code and signal, as the spec's attempt and hook events carry them.
// A command that could not be started reports its status (126/127).
void add_termination(JsonObject& object, const Termination& how) {
  if (auto* s = std::get_if<Signaled>(&how)) {
    object.null_field("exit_code").field("signal", signal_name(s->signal));
  } else {
    object.field("exit_code", shell_status(how)).null_field("signal");
  }
}

}  // namespace

std::string policy_json(const Policy& p) {
  const BackoffPolicy& b = p.backoff;
  JsonObject o;
  o.optional_field("max_attempts", p.max_attempts);
  if (!b.delays.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < b.delays.size(); ++i) list += fmt::format("{}{}", i ? "," : "", to_millis(b.delays[i]));
    o.field("backoff", "delays").raw_field("delays_ms", list + "]");
  } else {
    o.field("backoff", name(b.kind)).field("delay_ms", to_millis(b.delay));
    if (b.kind == BackoffKind::exponential) o.raw_field("multiplier", fmt::format("{}", b.multiplier));
  }
  o.field("max_delay_ms", to_millis(b.max_delay));
  const bool jittered = !(b.delays.empty() && b.kind == BackoffKind::decorrelated);
  if (jittered) o.field("jitter", describe(b.jitter));
  o.optional_field("seed", p.seed);
  o.optional_field("reset_after_ms", millis(p.reset_after));
  o.field("splay_ms", to_millis(p.splay));
  o.raw_field("max_time_ms", p.max_time ? exact_millis(*p.max_time) : "null");
  o.raw_field("timeout_ms", p.process.timeout ? exact_millis(*p.process.timeout) : "null");
  o.raw_field("idle_timeout_ms", p.process.idle_timeout ? exact_millis(*p.process.idle_timeout) : "null");
  if (p.process.signal == 0) o.null_field("signal");  // -s 0: none, only the KILL after the grace
  else o.field("signal", signal_name(p.process.signal));
  o.raw_field("kill_after_ms", exact_millis(p.process.kill_after));
  o.field("preserve_status", p.process.preserve_status).field("foreground", p.process.foreground);
  o.field("stdin", p.process.stdin_mode == StdinMode::inherit  ? "inherit"
                   : p.process.stdin_mode == StdinMode::replay ? "replay"
                                                               : "null");
  o.field("hold_stdout", p.process.hold_stdout);
  o.field("output_on_failure", p.process.output_on_failure);
  o.optional_field("until_output", p.classify.output.until);
  o.optional_field("retry_if_output", p.classify.output.retry_if);
  o.optional_field("stop_if_output", p.classify.output.stop_if);
  o.optional_field("fail_if_output", p.classify.output.fail_if);
  o.optional_field("delay_from_output", p.classify.output.delay_from);
  o.optional_field("on_retry", p.hooks.on_retry);
  o.optional_field("on_giveup", p.hooks.on_giveup);
  // A Redis URL as shown: its password never written.
  o.optional_field("circuit", p.circuit.location ? std::optional(p.circuit.location->shown) : std::nullopt);
  if (p.circuit.location)
    o.field("circuit_threshold", p.circuit.threshold).field("circuit_cooldown_ms", to_millis(p.circuit.cooldown));
  o.optional_field("retry_budget", p.budget.location ? std::optional(p.budget.location->shown) : std::nullopt);
  if (p.budget.location)
    o.raw_field("budget_ratio", fmt::format("{}", static_cast<double>(p.budget.ratio_ppm) / 1e6))
        .field("budget_min", p.budget.min)
        .field("budget_window_ms", to_millis(p.budget.window));
  o.optional_field("preset", p.preset);  // its rules are the resolved fields around it
  o.field("success", format_codes(p.classify.success));
  if (p.classify.retry_on) o.field("retry_on", format_conditions(*p.classify.retry_on));
  else o.null_field("retry_on");
  o.field("stop_on", format_conditions(p.classify.stop_on));
  return o.str();
}

JsonObject attempt_fields(const AttemptRecord& r) {
  JsonObject o;
  o.field("attempt", r.attempt).optional_field("max_attempts", r.max_attempts);
  if (r.result.pid > 0) o.field("pid", r.result.pid);
  else o.null_field("pid");
  o.field("duration_ms", to_millis(r.result.duration));
  add_termination(o, r.result.how);
  o.field("timed_out", r.result.timed_out).field("outcome", name(r.outcome));
  // A --delay-from-output value that was ignored: said after the rule.
  const std::string reason =
      r.directed_delay_problem.empty() ? r.reason : fmt::format("{}; {}", r.reason, r.directed_delay_problem);
  // --idle-timeout stopped it: the reason says so before the rule that decided.
  if (r.result.idle_limit && r.outcome != AttemptOutcome::interrupted)
    o.field("reason", fmt::format("no output for {}; {}", format_duration(*r.result.idle_limit), reason));
  else
    o.field("reason", reason);
  if (r.outcome == AttemptOutcome::retry && r.delay) o.field("delay_ms", to_millis(*r.delay));
  // --delay-from-output: what the command asked for, before the cap.
  if (r.directed_delay) o.field("directed_delay_ms", to_millis(*r.directed_delay));
  if (auto* failed = std::get_if<SpawnFailed>(&r.result.how)) o.field("error", failed->error);
  return o;
}

JsonObject& add_end_fields(JsonObject& o, const RunSummary& s, const std::optional<std::string>& job) {
  o.field("outcome", name(s.outcome));
  if (job) o.field("name", *job);
  else o.null_field("name");
  return o.field("attempts", s.attempts)
      .field("elapsed_ms", to_millis(s.elapsed))
      .field("exit_status", s.exit_status);
}

JsonObject JsonLog::event(const char* name) const {
  JsonObject object;
  object.field("ts", rfc3339_now()).field("event", name).field("run_id", identity_.run_id);
  return object;
}

void JsonLog::emit(const JsonObject& object) { out_.write(object.str() + "\n"); }

void JsonLog::run_started(const Policy& policy, const Command& command) {
  JsonObject o = event("start");
  o.field("schema", 1).string_array("command", command).optional_field("name", identity_.name);
  o.field("pid", identity_.pid).optional_field("max_attempts", policy.max_attempts);
  o.raw_field("policy", policy_json(policy));
  emit(o);
}

void JsonLog::attempt_started(std::uint64_t attempt, std::optional<std::uint64_t>, int pid) {
  emit(event("attempt_start").field("attempt", attempt).field("pid", pid));
}

void JsonLog::attempt_ended(const AttemptRecord& record) {
  emit(event("attempt").merge(attempt_fields(record)));
}

void JsonLog::hook(std::string_view name, const AttemptResult& result) {
  JsonObject o = event("hook");
  o.field("hook", name);
  add_termination(o, result.how);
  emit(o);
}

void JsonLog::circuit(std::string_view state, std::string_view message) {
  emit(event("circuit").field("state", state).field("message", message));
}

void JsonLog::store(std::string_view location, std::string_view problem) {
  emit(event("store").field("location", location).field("problem", problem));
}

void JsonLog::run_ended(const RunSummary& summary) {
  JsonObject o = event("end");
  emit(add_end_fields(o, summary, identity_.name));
}

}  // namespace retryx
