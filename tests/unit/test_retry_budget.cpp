#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include "attempt_loop_runs.hpp"
#include "file_io.hpp"
#include "retry_budget.hpp"
#include "temp_files.hpp"

using namespace retryx;
using retryx::testing::file_text;
using retryx::testing::temp_dir;

TEST_CASE("retries allowed: floor(min + ratio x runs), exactly") {
  CHECK(retries_allowed(200000, 10, 0) == 10);
  CHECK(retries_allowed(200000, 10, 4) == 10);   // 0.8 rounds down
  CHECK(retries_allowed(200000, 10, 5) == 11);
  CHECK(retries_allowed(100000, 2, 20) == 4);    // the 2 + 10% of 20
  CHECK(retries_allowed(290000, 0, 100) == 29);  // 0.29 x 100 in floating point is 28.999...
  CHECK(retries_allowed(1000000, 0, 7) == 7);
  CHECK(retries_allowed(0, 3, 1000) == 3);
  CHECK(retries_allowed(1000000, 0, UINT64_MAX) == UINT64_MAX);
  CHECK(retries_allowed(1000000, 5, UINT64_MAX) == UINT64_MAX);  // saturates
  CHECK(retries_allowed(999999, 0, UINT64_MAX) == UINT64_MAX / 1000000 * 999999 + UINT64_MAX % 1000000 * 999999 / 1000000);
}

TEST_CASE("a sliding window: runs and retries older than the window are forgotten") {
  BudgetSettings s;
  s.ratio_ppm = 500000;  // 50%
  s.min = 1;
  s.window_ms = 1000;
  BudgetLedger ledger;
  record_run_start(ledger, s, 10000);
  record_run_start(ledger, s, 10100);  // 2 runs: 1 + 1 retries
  CHECK(spend_retry(ledger, s, 10200).granted);
  BudgetVerdict second = spend_retry(ledger, s, 10300);
  CHECK(second.granted);
  CHECK(second.retries == 1);
  CHECK(second.allowed == 2);
  BudgetVerdict third = spend_retry(ledger, s, 10400);
  CHECK_FALSE(third.granted);
  CHECK(third.retries == 2);
  CHECK(third.runs == 2);
  CHECK(ledger.retries.size() == 2);  // a refusal is not recorded
  // At 11000 the first run (10000) is out of the window (older than 1s):
  // 1 run, 1 allowed; retries 10200 and 10300 are still in: refused.
  CHECK_FALSE(spend_retry(ledger, s, 11000).granted);
  CHECK(ledger.runs == std::vector<std::int64_t>{10100});
  // At 11300 both retries have left it: min's one is there again.
  CHECK(spend_retry(ledger, s, 11300).granted);
  CHECK(ledger.retries == std::vector<std::int64_t>{11300});
  // A time far ahead of now (the clock was set back) is forgotten.
  ledger.runs.push_back(99999999);
  record_run_start(ledger, s, 11400);
  CHECK(ledger.runs == std::vector<std::int64_t>{11400});
}

TEST_CASE("the ledger's text and back, anything else is not ours") {
  BudgetBook book;
  book["nightly"].runs = {1, 2};
  book["nightly"].retries = {3};
  book["*"].runs = {1764720000123};
  const std::string text = format_budget(book);
  CHECK(text == "retryx retry budget 1\n* run 1764720000123\nnightly run 1\nnightly run 2\nnightly retry 3\n");
  CHECK(parse_budget(text) == book);
  CHECK(parse_budget("retryx retry budget 1\n") == BudgetBook{});
  for (const char* bad : {"", "retryx retry budget 2\n", "retryx retry budget 1", "retryx retry budget 1\nx run 1",
                          "retryx retry budget 1\nx run\n", "retryx retry budget 1\nx walk 1\n",
                          "retryx retry budget 1\nx run -1\n", "retryx retry budget 1\nx run 1e3\n",
                          "retryx retry budget 1\nbad/name run 1\n", "retryx retry budget 1\nx run 99999999999999999\n",
                          "{\"schema\":1,\"state\":\"closed\"}\n", "retryx retry budget 1\nx  run 1\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_budget(bad).has_value());
  }
}

TEST_CASE("a file budget: runs of one job share it, other jobs' ledgers are kept") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/budget";
  BudgetSettings s{path, std::string("job"), 0, 2, 60000};
  {
    FileBudget first(s);
    CHECK(first.run_started().problem.empty());
    CHECK(first.retry().verdict.granted);
    CHECK(first.retry().verdict.granted);
    const BudgetAnswer third = first.retry();
    CHECK(third.problem.empty());
    CHECK_FALSE(third.verdict.granted);
  }
  {
    FileBudget second(s);  // another run of the same job: the two retries are spent
    second.run_started();
    CHECK_FALSE(second.retry().verdict.granted);
  }
  BudgetSettings other = s;
  other.name = "other";
  FileBudget third(other);  // another job in the same file has its own
  third.run_started();
  CHECK(third.retry().verdict.granted);
  const auto book = parse_budget(file_text(path));
  REQUIRE(book.has_value());
  CHECK(book->at("job").runs.size() == 2);
  CHECK(book->at("job").retries.size() == 2);
  CHECK(book->at("other").retries.size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a file that is not a ledger is said once and replaced, a store that fails is given up") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/budget";
  { std::ofstream(path) << "garbage\n"; }
  BudgetSettings s{path, std::nullopt, 0, 1, 60000};
  FileBudget budget(s);
  const BudgetAnswer start = budget.run_started();
  CHECK(start.problem == path + " is not a retry budget of retryx; starting a new one");
  CHECK(budget.retry().problem.empty());  // the new ledger is read back
  CHECK(file_text(path).starts_with("retryx retry budget 1\n* run "));

  // A directory that is not there: said once, and never asked again.
  FileBudget missing(BudgetSettings{dir + "/no/such/dir/budget", std::nullopt, 0, 0, 60000});
  const BudgetAnswer failed = missing.run_started();
  CHECK(failed.problem.find("cannot open " + dir + "/no/such/dir/budget.lock") == 0);
  CHECK(failed.problem.ends_with("; going on without the retry budget"));
  const BudgetAnswer after = missing.retry();
  CHECK(after.problem.empty());
  CHECK(after.verdict.granted);  // as without a budget, though min 0 would refuse
  std::filesystem::remove_all(dir);
}

TEST_CASE("a lock held by a run that hangs is given up after 250ms without a change") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/budget";
  const UniqueFd holder(::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  REQUIRE(holder);
  REQUIRE(::flock(holder.get(), LOCK_EX) == 0);
  FileBudget budget(BudgetSettings{path, std::nullopt, 0, 0, 60000});
  const BudgetAnswer answer = budget.run_started();
  CHECK(answer.problem == "cannot lock " + path + ".lock: held by another run for 250ms without a change of " + path +
                              "; going on without the retry budget");
  CHECK(budget.retry().verdict.granted);
  std::filesystem::remove_all(dir);
}

// What the attempt loop asks the budget, and what it does with the answer.

using namespace retryx::testing;

namespace {

// A retry budget that grants `allowed` retries, and whose store fails on
// the step numbered `fail_at` (1: the run's start) when set.
class FakeBudget : public RetryBudget {
 public:
  std::uint64_t allowed = 1;
  std::optional<int> fail_at;
  int starts = 0;
  int asks = 0;
  BudgetAnswer run_started() override { return step(false); }
  BudgetAnswer retry() override { return step(true); }
  std::string location() const override { return "/var/lib/job/budget"; }

 private:
  BudgetAnswer step(bool is_retry) {
    ++steps_;
    BudgetAnswer answer;
    if (fail_at && steps_ >= *fail_at) {
      if (steps_ == *fail_at) answer.problem = "cannot lock it; going on without the retry budget";
      if (is_retry) ++asks;
      return answer;  // granted: the store can only help
    }
    if (!is_retry) {
      ++starts;
      return answer;
    }
    answer.verdict = {asks < static_cast<int>(allowed), static_cast<std::uint64_t>(asks), 1, allowed};
    ++asks;
    return answer;
  }
  int steps_ = 0;
};

Run run_with_budget(const Policy& policy, std::deque<AttemptResult> script, RetryBudget& budget) {
  Run r;
  FakeRunner runner(r.time, std::move(script));
  Random random(1);
  const Command command{"cmd"};
  r.summary = run_attempts(policy, command, runner, r.time, r.log, random, &budget);
  r.attempts = runner.attempts();
  return r;
}

}  // namespace

TEST_CASE("a retry the budget refuses is not made: the run gives up with the attempt's status") {
  FakeBudget budget;
  budget.allowed = 1;
  Run r = run_with_budget(base_policy(5), {exit_with(3), exit_with(4), exit_with(5)}, budget);
  CHECK(budget.starts == 1);  // the run's start, once
  CHECK(budget.asks == 2);    // before retry 1 (granted) and retry 2 (refused)
  CHECK(r.attempts.size() == 2);
  CHECK(r.summary.outcome == RunOutcome::budget);
  CHECK(r.summary.exit_status == 4);
  REQUIRE(r.log.records.size() == 2);
  CHECK(r.log.records[0].outcome == AttemptOutcome::retry);
  CHECK(r.log.records[1].outcome == AttemptOutcome::budget);
  CHECK(r.log.records[1].reason == "the retry budget is spent (1 retry in the last 1m; 1 allowed for 1 run)");
  CHECK(r.log.records[1].retry_reason == "every failure is retried");
  CHECK(r.summary.reason == r.log.records[1].reason);
  CHECK(r.time.sleeps.size() == 1);  // no sleep after the refusal
}

TEST_CASE("the budget is not asked for what is no retry: success, a fatal failure, the last attempt") {
  FakeBudget budget;
  budget.allowed = 0;
  Run success = run_with_budget(base_policy(5), {exit_with(0)}, budget);
  CHECK(success.summary.outcome == RunOutcome::success);
  CHECK(budget.asks == 0);
  Run fatal = run_with_budget(base_policy(5), {exit_with(127)}, budget);
  CHECK(fatal.summary.outcome == RunOutcome::fatal);
  CHECK(budget.asks == 0);
  Run single = run_with_budget(base_policy(1), {exit_with(1)}, budget);
  CHECK(single.summary.outcome == RunOutcome::exhausted);
  CHECK(budget.asks == 0);
  CHECK(budget.starts == 3);  // but every run's start counts
}

TEST_CASE("a store that fails is said once and the run goes on as without a budget") {
  FakeBudget budget;
  budget.allowed = 0;  // it would refuse every retry, were it asked
  budget.fail_at = 1;  // it fails at the run's start
  Run r = run_with_budget(base_policy(3), {exit_with(1), exit_with(1), exit_with(0)}, budget);
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.attempts.size() == 3);
  CHECK(r.log.store_problems == std::vector<std::string>{"cannot lock it; going on without the retry budget"});
}
