#pragma once
// The exit status of a run (spec §6): 0 on success; otherwise the last
// attempt's status as a shell reports it (code, 128 + signal, 126/127), or
// 124 when it timed out. Never 0 for a run that did not succeed: 1 instead.
#include "outcome.hpp"

namespace retryx {

int exit_status(RunOutcome outcome, const AttemptResult& last);

}  // namespace retryx
