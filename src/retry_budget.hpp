#pragma once
// The retry budget (--retry-budget, spec §11): within any --budget-window,
// the retries of all the runs that share a budget (a LOCATION and a
// --name) are at most floor(--budget-min + --budget-ratio x the runs
// started in that window), as Finagle's RetryBudget. First attempts are
// never refused. Each decision is one atomic step on the store.
//
// On a file (one machine's runs), the ledger is a small text file:
//   retryx retry budget 1
//   JOB run MS
//   JOB retry MS
// one line per run start and per retry within the window (JOB: the
// --name, or "*"; MS: milliseconds since the Unix epoch), read and
// replaced under flock on PATH.lock, written
// beside PATH and renamed over it. Entries older than the window are
// dropped at every write, so the file holds at most one window of a job.
//
// The lock is waited for as long as other runs keep taking their turns
// (the ledger changes), at most 10 s; a holder that changes nothing for
// 250 ms (stopped, hung) is given up on.
//
// The store is a helper, never a new way to fail: a problem (the lock not
// taken in time, a file that cannot be read or written) is said once and
// the run goes on as if there were no budget, without asking again.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retryx {

struct BudgetSettings {
  std::string location;             // the file
  std::optional<std::string> name;  // --name: whose ledger in the file
  std::uint64_t ratio_ppm = 200000;  // --budget-ratio, in millionths (20%)
  std::uint64_t min = 10;            // --budget-min
  std::int64_t window_ms = 60000;    // --budget-window
};

// One job's runs and retries within the window, as times in milliseconds.
struct BudgetLedger {
  std::vector<std::int64_t> runs;
  std::vector<std::int64_t> retries;
  bool operator==(const BudgetLedger&) const = default;
};
using BudgetBook = std::map<std::string, BudgetLedger>;  // by job

// floor(min + ratio x runs), exactly (integer arithmetic, saturating).
std::uint64_t retries_allowed(std::uint64_t ratio_ppm, std::uint64_t min, std::uint64_t runs);

// What the budget said about a retry, with the figures for the log.
struct BudgetVerdict {
  bool granted = true;
  std::uint64_t retries = 0;  // spent within the window, before this one
  std::uint64_t runs = 0;     // started within the window
  std::uint64_t allowed = 0;  // retries_allowed for those runs
};

// The pure steps, for tests: entries outside [now - window, now + window]
// are forgotten first (a time far ahead means the clock was set back).
void record_run_start(BudgetLedger& ledger, const BudgetSettings& settings, std::int64_t now_ms);
BudgetVerdict spend_retry(BudgetLedger& ledger, const BudgetSettings& settings, std::int64_t now_ms);

std::string format_budget(const BudgetBook& book);
std::optional<BudgetBook> parse_budget(std::string_view text);  // nullopt: not a ledger of ours

// The attempt loop's seam: a run's start, then each retry it wants.
// problem is set once, on the first failure of the store; from then on
// everything is granted without asking it.
struct BudgetAnswer {
  BudgetVerdict verdict;
  std::string problem;
};

class RetryBudget {
 public:
  virtual ~RetryBudget() = default;
  virtual BudgetAnswer run_started() = 0;
  virtual BudgetAnswer retry() = 0;
  virtual std::string location() const = 0;  // for the log (never a password)
};

class FileBudget final : public RetryBudget {
 public:
  explicit FileBudget(BudgetSettings settings) : settings_(std::move(settings)) {}
  BudgetAnswer run_started() override;
  BudgetAnswer retry() override;
  std::string location() const override { return settings_.location; }

 private:
  BudgetAnswer step(bool is_retry);
  BudgetSettings settings_;
  bool given_up_ = false;  // the store failed once: not asked again in this run
};

// The job's key in a budget: --name, or "*".
std::string budget_job(const std::optional<std::string>& name);

}  // namespace retryx
