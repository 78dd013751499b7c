#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

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
