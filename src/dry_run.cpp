#include "dry_run.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include "backoff.hpp"
#include "presets.hpp"

namespace retryx {

namespace {

constexpr std::uint64_t max_rows = 20;

// Shell-style quoting, so the command line shown can be pasted back.
std::string quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789@%+=:,./-_") == std::string::npos)
    return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void print_dry_run(const Policy& policy, const Command& command, std::ostream& out) {
  std::vector<std::string> quoted;
  for (const auto& arg : command) quoted.push_back(quote(arg));
  if (policy.name) fmt::print(out, "name: {}\n", *policy.name);
  if (!command.empty()) fmt::print(out, "command: {}\n", fmt::join(quoted, " "));
  if (const Preset* preset = policy.preset ? find_preset(*policy.preset) : nullptr) {
    // The options the preset stands for, pasteable; those given explicitly
    // replace its values (the policy line shows the rules in force).
    fmt::print(out, "preset {} stands for:\n", preset->name);
    for (const PresetOption& option : preset->options) {
      const bool replaced = std::find(policy.preset_replaced.begin(), policy.preset_replaced.end(),
                                      option.option) != policy.preset_replaced.end();
      fmt::print(out, "  --{} {}{}\n", option.option, quote(std::string(option.value)),
                 replaced ? fmt::format("  (not in force: --{} given explicitly)", option.option) : "");
    }
  }
  fmt::print(out, "policy: {}\n", describe_policy(policy));

  const bool decorrelated = policy.backoff.delays.empty() && policy.backoff.kind == BackoffKind::decorrelated;
  const std::uint64_t retries = policy.max_attempts ? *policy.max_attempts - 1 : UINT64_MAX;
  if (retries == 0) {
    fmt::print(out, "no retries: a single attempt\n");
    return;
  }
  if (policy.splay > Duration::zero())
    fmt::print(out, "before attempt 1: a random splay of 0 to {}\n", format_duration(policy.splay));

  fmt::print(out, "{:>5}  {:>13}  {:>12}  {:>21}  {:>12}\n", "retry", "after attempt", "nominal",
             "delay range", "worst total");
  Duration worst_total{};
  const std::uint64_t rows = std::min(retries, max_rows);
  bool past_deadline = false;
  for (std::uint64_t k = 1; k <= rows; ++k) {
    const DelayRange range = delay_range(policy.backoff, k);
    worst_total += range.high;
    const std::string nominal = decorrelated ? "random" : format_duration(nominal_delay(policy.backoff, k));
    // Delays alone, attempts' own time not counted: past --max-time, this
    // retry may never come.
    const bool past = policy.max_time && worst_total > *policy.max_time;
    fmt::print(out, "{:>5}  {:>13}  {:>12}  {:>21}  {:>12}{}\n", k, k, nominal,
               fmt::format("{} - {}", format_duration(range.low), format_duration(range.high)),
               format_duration(worst_total), past && !past_deadline ? "  <- past --max-time" : "");
    past_deadline = past_deadline || past;
  }
  if (retries > rows) {
    const std::string more = policy.max_attempts ? fmt::format("{} more retries", retries - rows)
                                                 : std::string("retries without limit (--forever)");
    // Every strategy's delays only grow, except a --delays list's items.
    Duration largest = delay_range(policy.backoff, retries).high;
    for (std::uint64_t k = rows + 1; k <= std::min<std::uint64_t>(retries, policy.backoff.delays.size()); ++k)
      largest = std::max(largest, delay_range(policy.backoff, k).high);
    fmt::print(out, "... and {}, each at most {}\n", more, format_duration(largest));
  }
  if (policy.max_time)
    fmt::print(out,
               "--max-time {}: no delay is slept past it, and an attempt still running at it is stopped; "
               "the totals above count delays only, not the attempts' own time\n",
               format_duration(*policy.max_time));
  if (policy.reset_after)
    fmt::print(out, "an attempt that runs {} or longer starts the schedule over at retry 1\n",
               format_duration(*policy.reset_after));
  if (policy.classify.output.delay_from)
    fmt::print(out,
               "--delay-from-output: a failed attempt may ask for a longer delay than the schedule's, "
               "up to --max-delay {}\n",
               format_duration(policy.backoff.max_delay));
}

}  // namespace retryx
