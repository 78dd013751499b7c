#include "exit_status.hpp"

#include <cerrno>

namespace retryx {

int exit_status(RunOutcome outcome, const std::optional<AttemptResult>& last, bool preserve_status,
                std::optional<int> signal) {
  if (outcome == RunOutcome::success) return 0;
  if (outcome == RunOutcome::circuit_open) return 75;  // EX_TEMPFAIL: try again later
  if (outcome == RunOutcome::interrupted && signal) return 128 + *signal;
  if (!last) return 1;
  // Output the user asked for was lost (a full disk): retryx's own failure.
  if (last->stdout_error && *last->stdout_error != EPIPE) return 125;
  // As timeout(1): a timed-out command exits 124, whatever signal stopped it.
  const int status = last->timed_out && !preserve_status ? 124 : shell_status(last->how);
  // A failure that would read as success (exit 0 outside --success) must not.
  return status == 0 ? 1 : status;
}

}  // namespace retryx
