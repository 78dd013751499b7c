#include "attempt_loop.hpp"

#include <cmath>
#include <fmt/format.h>

#include "backoff.hpp"
#include "classify.hpp"
#include "exit_status.hpp"

namespace retryx {

namespace {

AttemptOutcome outcome_of(Verdict verdict) {
  switch (verdict) {
    case Verdict::success: return AttemptOutcome::success;
    case Verdict::fatal: return AttemptOutcome::fatal;
    case Verdict::retryable: return AttemptOutcome::retry;
  }
  return AttemptOutcome::fatal;
}

RunOutcome run_outcome_of(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::success: return RunOutcome::success;
    case AttemptOutcome::exhausted: return RunOutcome::exhausted;
    default: return RunOutcome::fatal;
  }
}

}  // namespace

RunSummary run_attempts(const Policy& policy, const Command& command, CommandRunner& runner,
                        Sleeper& sleeper, AttemptLog& log, Random& random) {
  const Duration start = sleeper.now();
  log.run_started(policy, command);

  if (policy.splay > Duration::zero()) {
    const auto splay = Duration(std::llround(random.uniform(0, static_cast<double>(policy.splay.count()))));
    log.splay(splay);
    sleeper.sleep(splay);
  }

  Backoff backoff(policy.backoff, random);
  for (std::uint64_t attempt = 1;; ++attempt) {
    const AttemptRequest request{command, attempt, policy.max_attempts,
                                 [&](int pid) { log.attempt_started(attempt, policy.max_attempts, pid); }};
    AttemptResult result = runner.run(request);
    Classification classification = classify(result, policy.classify);

    AttemptRecord record{attempt, policy.max_attempts, std::move(result),
                         outcome_of(classification.verdict), std::move(classification.reason), {}};
    const bool last_allowed = policy.max_attempts && attempt >= *policy.max_attempts;
    if (record.outcome == AttemptOutcome::retry && last_allowed) {
      record.outcome = AttemptOutcome::exhausted;
      record.reason = fmt::format("attempt limit {} reached", *policy.max_attempts);
    }

    if (record.outcome != AttemptOutcome::retry) {
      log.attempt_ended(record);
      RunSummary summary{run_outcome_of(record.outcome), attempt, policy.max_attempts,
                         std::move(record.result), std::move(record.reason), sleeper.now() - start, 0};
      summary.exit_status = exit_status(summary.outcome, summary.last);
      log.run_ended(summary);
      return summary;
    }

    if (policy.reset_after && record.result.duration >= *policy.reset_after) backoff.restart();
    record.delay = backoff.next();
    log.attempt_ended(record);
    sleeper.sleep(*record.delay);
  }
}

}  // namespace retryx
