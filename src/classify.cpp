#include "classify.hpp"

#include <csignal>
#include <fmt/format.h>

namespace retryx {

Classification classify(const AttemptResult& result, const ClassifyPolicy& policy) {
  if (!result.timed_out) {
    if (auto* exited = std::get_if<Exited>(&result.how); exited && policy.success.contains(exited->code))
      return {Verdict::success, fmt::format("exit code {} is in --success", exited->code)};
  }

  if (auto* s = std::get_if<Signaled>(&result.how); s && s->signal == SIGINT && !result.timed_out)
    return {Verdict::fatal, "killed by SIGINT, which is never retried"};

  if (std::string hit = policy.stop_on.match(result); !hit.empty())
    return {Verdict::fatal, fmt::format("{} is in --stop-on", hit)};

  if (policy.retry_on) {
    if (std::string hit = policy.retry_on->match(result); !hit.empty())
      return {Verdict::retryable, fmt::format("{} is in --retry-on", hit)};
    return {Verdict::fatal, fmt::format("{} is not in --retry-on", condition_name(result))};
  }
  return {Verdict::retryable, "every failure is retried"};
}

}  // namespace retryx
