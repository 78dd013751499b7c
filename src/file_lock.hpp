#pragma once
// A bounded wait for an exclusive flock(2), for the files that runs of a
// job share and replace under a lock beside them (the retry budget's
// ledger, the metrics file).
#include <chrono>
#include <memory>
#include <string>

#include "file_io.hpp"

namespace retryx {

// Takes flock(LOCK_EX) on *lock (an open lock file): an empty string, or
// why not. A holder that leaves `watched` unchanged for `stalled` (a run
// stopped by SIGSTOP, a hung NFS client) is given up on; while the file
// keeps changing (a queue of runs taking their turns on a busy machine),
// the wait goes on, at most `bound` in all. Every holder must replace or
// write `watched` while it holds the lock, or its waiters give up early.
// When the wait is given up, the lock is released as soon as it comes
// (the descriptor stays with the waiting thread until then).
std::string lock_exclusive(const std::shared_ptr<UniqueFd>& lock, const std::string& watched,
                           std::chrono::milliseconds stalled = std::chrono::milliseconds(250),
                           std::chrono::milliseconds bound = std::chrono::milliseconds(10000));

}  // namespace retryx
