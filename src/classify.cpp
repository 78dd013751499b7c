#include "classify.hpp"

#include <csignal>
#include <fmt/format.h>
#include <vector>

namespace retryx {

Classification classify(const AttemptResult& result, const ClassifyPolicy& policy) {
  const OutputPatterns& output = policy.output;
  bool no_until_line = false;
  if (!result.timed_out) {
    if (auto* exited = std::get_if<Exited>(&result.how); exited && policy.success.contains(exited->code)) {
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
