#include "policy.hpp"

#include <fmt/format.h>

#include "signal_names.hpp"

namespace retryx {

std::string_view name(BackoffKind kind) {
  switch (kind) {
    case BackoffKind::exponential: return "exponential";
    case BackoffKind::linear: return "linear";
    case BackoffKind::fixed: return "fixed";
    case BackoffKind::fibonacci: return "fibonacci";
    case BackoffKind::decorrelated: return "decorrelated";
  }
  return "?";
}

std::string describe(const Jitter& jitter) {
  switch (jitter.kind) {
    case Jitter::Kind::none: return "none";
    case Jitter::Kind::full: return "full";
    case Jitter::Kind::equal: return "equal";
    case Jitter::Kind::proportional: return fmt::format("±{:g}%", jitter.proportion * 100);
  }
  return "?";
}

std::string describe_policy(const Policy& p) {
  const BackoffPolicy& b = p.backoff;
  std::string attempts = p.max_attempts ? fmt::format("attempts {}", *p.max_attempts) : "attempts unlimited";
  std::string backoff;
  if (!b.delays.empty()) {
    std::vector<std::string> delays;
    for (Duration d : b.delays) delays.push_back(format_duration(d));
    backoff = fmt::format("delays {} (the last repeats)", fmt::join(delays, ","));
  } else {
    backoff = fmt::format("backoff {}, delay {}", name(b.kind), format_duration(b.delay));
    if (b.kind == BackoffKind::exponential) backoff += fmt::format(", multiplier {:g}", b.multiplier);
  }
  backoff += fmt::format(", max delay {}", format_duration(b.max_delay));
  const bool jittered = b.delays.empty() ? b.kind != BackoffKind::decorrelated : true;
  std::string jitter = jittered ? fmt::format(", jitter {}", describe(b.jitter)) : "";

  std::string extras;
  if (p.reset_after) extras += fmt::format(", reset after {}", format_duration(*p.reset_after));
  if (p.splay > Duration::zero()) extras += fmt::format(", splay {}", format_duration(p.splay));
  if (p.seed) extras += fmt::format(", seed {}", *p.seed);

  const ProcessPolicy& process = p.process;
  if (p.max_time) extras += fmt::format(", max time {}", format_duration(*p.max_time));
  // Signal 0 (-s 0) sends nothing: only the KILL after the grace.
  if (process.timeout) extras += fmt::format(", timeout {}", format_duration(*process.timeout));
  if (process.idle_timeout) extras += fmt::format(", idle timeout {}", format_duration(*process.idle_timeout));
  if (process.timeout || process.idle_timeout)
    extras += fmt::format(" (then {}, KILL after {})", process.signal == 0 ? "no signal" : signal_name(process.signal),
                          format_duration(process.kill_after));
  if (process.preserve_status) extras += ", preserve status";
  if (process.foreground) extras += ", foreground";
  if (process.stdin_mode == StdinMode::replay) extras += ", stdin replay";
  if (process.stdin_mode == StdinMode::null) extras += ", stdin null";
  if (process.hold_stdout) extras += ", hold stdout";
  if (process.output_on_failure) extras += ", output on failure";
  const OutputPatterns& output = p.classify.output;
  if (output.until) extras += fmt::format(", until output /{}/", *output.until);
  if (output.retry_if) extras += fmt::format(", retry if output /{}/", *output.retry_if);
  if (output.stop_if) extras += fmt::format(", stop if output /{}/", *output.stop_if);
  if (output.fail_if) extras += fmt::format(", fail if output /{}/", *output.fail_if);
  if (output.delay_from) extras += fmt::format(", delay from output /{}/", *output.delay_from);
  if (p.circuit.location)
    extras += fmt::format(", circuit {} (threshold {}, cooldown {})", p.circuit.location->shown, p.circuit.threshold,
                          format_duration(p.circuit.cooldown));
  if (p.budget.location)
    extras += fmt::format(", retry budget {} ({} + {}% of the runs per {})", p.budget.location->shown, p.budget.min,
                          static_cast<double>(p.budget.ratio_ppm) / 1e4, format_duration(p.budget.window));
  if (p.hooks.on_retry) extras += ", on-retry hook";
  if (p.hooks.on_giveup) extras += ", on-giveup hook";

  const ClassifyPolicy& c = p.classify;
  // The preset's rules are shown resolved, below; this names it and the
  // options given explicitly in its place.
  std::string preset;
  if (p.preset) {
    std::vector<std::string> replaced;
    for (const auto& option : p.preset_replaced) replaced.push_back("--" + option);
    preset = replaced.empty() ? fmt::format("preset {}; ", *p.preset)
                              : fmt::format("preset {} ({} given explicitly); ", *p.preset, fmt::join(replaced, ", "));
  }
  std::string classify = fmt::format("{}success {}; retry on {}; stop on {}", preset, format_codes(c.success),
                                     c.retry_on ? format_conditions(*c.retry_on) : "any failure",
                                     format_conditions(c.stop_on));
  return fmt::format("{}; {}{}{}; {}", attempts, backoff, jitter, extras, classify);
}

}  // namespace retryx
