#pragma once
// The exit status of a run (spec §6): 0 on success; otherwise the last
// attempt's status as a shell reports it (code, 128 + signal, 126/127), or
// 124 when it timed out or was cut by --max-time (its own status with
// --preserve-status). Never 0 for a run that did not succeed: 1 instead.
// A run whose output could not be written to stdout (other than for want
// of a reader) exits 125. A run the circuit breaker refused exits 75. An interrupted run reports 128 + the signal, though retryx then dies by
// that signal instead of exiting.
#include <optional>

#include "outcome.hpp"

namespace retryx {

int exit_status(RunOutcome outcome, const std::optional<AttemptResult>& last, bool preserve_status,
                std::optional<int> signal = std::nullopt);

}  // namespace retryx
