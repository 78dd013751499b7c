#pragma once
// The attempt loop: spawn, wait, classify, back off, sleep, until success, a
// fatal failure, or the attempt limit. Everything outside (processes, time,
// randomness, the log) comes in through parameters, so tests run it with
// fakes.
#include "attempt_log.hpp"
#include "command_runner.hpp"
#include "outcome.hpp"
#include "policy.hpp"
#include "random.hpp"
#include "retry_budget.hpp"

namespace retryx {

// budget: --retry-budget, asked at the first attempt and before every
// retry; nullptr without one. started: when the run started (sleeper's
// now()), if before the loop: what came first (the circuit asked, its lock
// or store waited for) counts in --max-time and the run's elapsed time.
RunSummary run_attempts(const Policy& policy, const Command& command, CommandRunner& runner,
                        Sleeper& sleeper, AttemptLog& log, Random& random, RetryBudget* budget = nullptr,
                        std::optional<Duration> started = std::nullopt);

}  // namespace retryx
