#include "classify.hpp"

#include <csignal>
#include <fmt/format.h>
#include <vector>

namespace retryx {

namespace {

// A success code, but a line matched --fail-if-output: the output said the
// command failed. --retry-on and --stop-on name how a process ended (exit
// codes, signals, timeout) and this one ended with a success code, so only
// the output rules decide: retried unless --stop-if-output matched, or
// --retry-if-output is given and did not.
Classification failed_output(const AttemptResult& result, const OutputPatterns& output) {
  if (output.stop_if && result.output.stop_if)
    return {Verdict::fatal, "a line matched --fail-if-output and one matched --stop-if-output"};
  if (output.retry_if && !result.output.retry_if)
    return {Verdict::fatal, "a line matched --fail-if-output but none matched --retry-if-output"};
  return {Verdict::retryable, output.retry_if ? "a line matched --fail-if-output and one matched --retry-if-output"
                                              : "a line matched --fail-if-output"};
}

}  // namespace

Classification classify(const AttemptResult& result, const ClassifyPolicy& policy) {
  const OutputPatterns& output = policy.output;
  bool no_until_line = false;
  if (!result.timed_out) {
    if (auto* exited = std::get_if<Exited>(&result.how); exited && policy.success.contains(exited->code)) {
      if (output.fail_if && result.output.fail_if) return failed_output(result, output);
      if (!output.until || result.output.until)
        return {Verdict::success, output.until
                                      ? fmt::format("exit code {} is in --success and a line matched --until-output",
                                                    exited->code)
                                      : fmt::format("exit code {} is in --success", exited->code)};
      no_until_line = true;
    }
  }

  if (auto* s = std::get_if<Signaled>(&result.how); s && s->signal == SIGINT && !result.timed_out)
    return {Verdict::fatal, "killed by SIGINT, which is never retried"};

  if (std::string hit = policy.stop_on.match(result); !hit.empty())
    return {Verdict::fatal, fmt::format("{} is in --stop-on", hit)};
  if (output.stop_if && result.output.stop_if) return {Verdict::fatal, "a line matched --stop-if-output"};

  std::vector<std::string> why;
  if (policy.retry_on) {
    if (std::string hit = policy.retry_on->match(result); !hit.empty())
      why.push_back(fmt::format("{} is in --retry-on", hit));
    else
      return {Verdict::fatal, fmt::format("{} is not in --retry-on", condition_name(result))};
  }
  if (output.retry_if) {
    if (!result.output.retry_if) return {Verdict::fatal, "no line matched --retry-if-output"};
    why.push_back("a line matched --retry-if-output");
  }
  if (why.empty())
    return {Verdict::retryable, no_until_line ? "no line matched --until-output" : "every failure is retried"};
  return {Verdict::retryable, fmt::format("{}", fmt::join(why, " and "))};
}

}  // namespace retryx
