#pragma once
// --report PATH (spec §6): one JSON object summing up the run: "run_id"
// and "started_at" (RFC 3339 UTC), the "end" fields (outcome, name,
// attempts, elapsed_ms, exit_status), "command",
// "attempts" (the "attempt" events, without ts/event) and
// "attempts_omitted". It keeps the first and the last 500 attempts and
// counts the ones between, so a --forever run's memory stays flat. Written
// at the end of every run, also one that gives up or is interrupted, to a
// file beside PATH that is then renamed over it.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "attempt_log.hpp"
#include "run_identity.hpp"

namespace retryx {

class RunReport final : public AttemptLog {
 public:
  static constexpr std::size_t keep_first = 500;
  static constexpr std::size_t keep_last = 500;

  // Checks now that a file can be created beside path: throws
  // std::runtime_error when not, before anything runs. A failure to write
  // at the end is reported on error_fd and changes nothing else.
  RunReport(std::string path, int error_fd, RunIdentity identity = {});

  void run_started(const Policy& policy, const Command& command) override;
  void attempt_ended(const AttemptRecord& record) override;
  void run_ended(const RunSummary& summary) override;

  // The report's text, as it would be written now.
  std::string text(const RunSummary& summary) const;

 private:
  std::string path_;
  int error_fd_;
  RunIdentity identity_;
  std::vector<std::string> command_;
  std::vector<std::string> first_;  // the first attempts' JSON
  std::deque<std::string> last_;    // the latest attempts' JSON
  std::uint64_t omitted_ = 0;
};

}  // namespace retryx
