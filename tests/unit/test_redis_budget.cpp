// --retry-budget on Redis: the budget scripts (fleet_scripts.cpp) and
// RedisBudget against a real redis-server: the same verdicts and figures
// as the file's ledger, exactly; the window; the expiries; a store that
// fails is said once and grants everything after.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <thread>

#include "fleet_scripts.hpp"
#include "in_process_store.hpp"
#include "redis_budget.hpp"
#include "redis_circuit.hpp"

using namespace retryx;
using retryx::testing::FailingStore;
using retryx::testing::InProcessStore;
using retryx::testing::RepliesStore;
using retryx::testing::ServerAtHand;

namespace {

constexpr std::int64_t minute = 60'000;
constexpr std::int64_t week = fleet_expiry_floor_ms;
const std::string runs_key = "retryx:{job}:budget:runs";
const std::string retries_key = "retryx:{job}:budget:retries";

BudgetSettings settings(std::uint64_t ratio_ppm, std::uint64_t min, std::int64_t window_ms = minute) {
  return {"unused", "job", ratio_ppm, min, window_ms};
}

std::vector<std::string> args(const BudgetSettings& s, const std::string& member) {
  return {std::to_string(s.window_ms), std::to_string(s.ratio_ppm), std::to_string(s.min), member};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("store") {

TEST_CASE("redis budget: min 2 and ratio 10 percent - 20 runs started grant 4 retries and refuse the 5th") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  const BudgetSettings s = settings(100000, 2);
  BudgetLedger ledger;  // the file's pure steps, beside it
  std::vector<std::unique_ptr<RedisBudget>> runs;
  for (int i = 0; i < 20; ++i) {
    runs.push_back(std::make_unique<RedisBudget>(store, s, fmt::format("run-{}", i)));
    const BudgetAnswer started = runs.back()->run_started();
    CHECK(started.problem.empty());
    CHECK(started.verdict.runs == static_cast<std::uint64_t>(i + 1));
    record_run_start(ledger, s, redis.server_now());
  }
  for (int i = 0; i < 5; ++i) {
    INFO("retry " << i + 1);
    const BudgetAnswer answer = runs[static_cast<std::size_t>(i)]->retry();
    const BudgetVerdict file = spend_retry(ledger, s, redis.server_now());
    CHECK(answer.problem.empty());
    CHECK(answer.verdict.granted == (i < 4));
    CHECK(answer.verdict.retries == static_cast<std::uint64_t>(i));
    CHECK(answer.verdict.runs == 20);
    CHECK(answer.verdict.allowed == 4);
    CHECK(answer.verdict.granted == file.granted);  // the file's figures, the same
    CHECK(answer.verdict.retries == file.retries);
    CHECK(answer.verdict.runs == file.runs);
    CHECK(answer.verdict.allowed == file.allowed);
  }
  CHECK(redis.call({"ZCARD", runs_key}).integer == 20);
  CHECK(redis.call({"ZCARD", retries_key}).integer == 4);
  // One member per retry: the run's id and the attempt it makes.
  CHECK(redis.call({"ZSCORE", retries_key, "run-0:2"}).kind == store::RedisReply::Kind::string);
  CHECK(runs[0]->retry().verdict.granted == false);  // spent for every run
}

TEST_CASE("redis budget: allowed is min + floor(ratio x runs) exactly - where doubles round wrong") {
  ServerAtHand redis;
  struct Row {
    std::uint64_t ratio_ppm, min, runs;
  };
  // 0.29 x 100 and 0.57 x 100 are 28.999... and 56.999... in doubles.
  for (const Row& row : {Row{290000, 0, 100}, Row{570000, 0, 100}, Row{333333, 1, 3}, Row{333334, 0, 3},
                         Row{1000000, 5, 7}, Row{100000, 2, 20}, Row{1, 0, 999}, Row{999999, 0, 1000},
                         Row{0, 3, 50}, Row{200000, 10, 0}}) {
    INFO(row.ratio_ppm << " ppm, min " << row.min << ", " << row.runs << " runs");
    redis.call({"DEL", runs_key, retries_key});
    const std::int64_t now = redis.server_now();
    store::Command zadd{"ZADD", runs_key};
    for (std::uint64_t i = 0; i < row.runs; ++i) {
      zadd.push_back(std::to_string(now));
      zadd.push_back(fmt::format("run-{}", i));
    }
    if (row.runs > 0) redis.call(zadd);
    const BudgetSettings s = settings(row.ratio_ppm, row.min);
    const auto reply = redis.run(budget_retry_script, {runs_key, retries_key}, args(s, "r:2"));
    REQUIRE(reply.size() == 4);
    CHECK(reply[2] == static_cast<std::int64_t>(row.runs));
    CHECK(reply[3] == static_cast<std::int64_t>(retries_allowed(row.ratio_ppm, row.min, row.runs)));
    CHECK(reply[0] == (retries_allowed(row.ratio_ppm, row.min, row.runs) > 0 ? 1 : 0));
  }
  // A --budget-min past what Lua counts exactly: capped, still granted.
  InProcessStore store(redis.server.unix_url());
  RedisBudget huge(store, settings(0, UINT64_MAX), "run-x");
  const BudgetAnswer answer = huge.retry();
  CHECK(answer.problem.empty());
  CHECK(answer.verdict.granted);
  CHECK(answer.verdict.allowed == UINT64_MAX);
}

TEST_CASE("redis budget: entries at or before now - window and after now + window are forgotten") {
  ServerAtHand redis;
  const BudgetSettings s = settings(1000000, 0, 10 * minute);
  const std::int64_t now = redis.server_now();
  const std::int64_t w = s.window_ms;
  // The script's time is at least now and, here, less than a minute later.
  redis.call({"ZADD", runs_key, std::to_string(now - w), "at-the-edge", std::to_string(now - w + minute), "inside",
              std::to_string(now + w), "ahead-inside", std::to_string(now + w + minute), "ahead-outside"});
  redis.call({"ZADD", retries_key, std::to_string(now - w), "old:2", std::to_string(now), "new:2"});
  const auto reply = redis.run(budget_retry_script, {runs_key, retries_key}, args(s, "r:2"));
  CHECK(reply[1] == 1);  // new:2
  CHECK(reply[2] == 2);  // inside, ahead-inside
  CHECK(reply[3] == 2);
  CHECK(redis.call({"ZSCORE", runs_key, "at-the-edge"}).kind == store::RedisReply::Kind::nil);
  CHECK(redis.call({"ZSCORE", runs_key, "ahead-outside"}).kind == store::RedisReply::Kind::nil);
  CHECK(redis.call({"ZSCORE", retries_key, "old:2"}).kind == store::RedisReply::Kind::nil);
}

TEST_CASE("redis budget: a run older than the window no longer counts - on the server's clock") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  const BudgetSettings s = settings(1000000, 0, 300);
  RedisBudget run(store, s, "run-1");
  REQUIRE(run.run_started().problem.empty());
  const BudgetAnswer first = run.retry();
  CHECK(first.verdict.granted);
  CHECK(first.verdict.runs == 1);
  const auto started = redis.call({"ZSCORE", runs_key, "run-1"});
  REQUIRE(started.kind == store::RedisReply::Kind::string);
  const std::int64_t started_ms = std::stoll(started.text);
  // Wait for the server's clock to pass the window (bounded: 10 s).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (redis.server_now() < started_ms + s.window_ms) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const BudgetAnswer later = run.retry();
  CHECK(later.problem.empty());
  CHECK_FALSE(later.verdict.granted);
  CHECK(later.verdict.runs == 0);
  CHECK(later.verdict.retries == 0);
  CHECK(later.verdict.allowed == 0);
}

TEST_CASE("redis budget: both keys expire after the longer of the window and 7 days - refreshed by every step") {
  ServerAtHand redis;
  InProcessStore store(redis.server.unix_url());
  RedisBudget run(store, settings(1000000, 1), "run-1");
  run.run_started();
  run.retry();
  CHECK(redis.pttl(runs_key) > week - minute);
  CHECK(redis.pttl(runs_key) <= week);
  CHECK(redis.pttl(retries_key) > week - minute);
  redis.call({"PEXPIRE", runs_key, "1000"});
  redis.call({"PEXPIRE", retries_key, "1000"});
  run.retry();
  CHECK(redis.pttl(runs_key) > week - minute);
  CHECK(redis.pttl(retries_key) > week - minute);
  const std::int64_t ten_days = 10 * 24 * 3600 * 1000LL;
  RedisBudget long_window(store, settings(1000000, 1, ten_days), "run-2");
  long_window.run_started();
  CHECK(redis.pttl(runs_key) > ten_days - minute);
  CHECK(redis.pttl(retries_key) > ten_days - minute);
}

TEST_CASE("redis budget: a key of another type (WRONGTYPE) is said once - then every retry is granted unasked") {
  ServerAtHand redis;
  redis.call({"SET", runs_key, "not a sorted set"});
  InProcessStore store(redis.server.unix_url());
  RedisBudget run(store, settings(0, 0), "run-1");
  const BudgetAnswer started = run.run_started();
  CHECK(contains(started.problem, store.location() + ": reply: WRONGTYPE"));
  CHECK(contains(started.problem, "; going on without the retry budget"));
  for (int i = 0; i < 3; ++i) {
    const BudgetAnswer answer = run.retry();
    CHECK(answer.verdict.granted);  // min 0, ratio 0: a budget would refuse
    CHECK(answer.problem.empty());
  }
  CHECK(store.calls == 1);
  CHECK(redis.call({"GET", runs_key}).text == "not a sorted set");
}

TEST_CASE("redis budget: a store that cannot be reached is said once and grants every retry") {
  FailingStore store;
  RedisBudget run(store, settings(0, 0), "run-1", "the circuit and the retry budget");
  const BudgetAnswer started = run.run_started();
  CHECK(started.problem ==
        "redis://127.0.0.1:1: connect: Connection refused; going on without the circuit and the retry budget");
  CHECK(run.retry().verdict.granted);
  CHECK(run.retry().problem.empty());
  CHECK(store.calls == 1);
  CHECK(run.location() == "redis://127.0.0.1:1");
}

TEST_CASE("redis budget: a reply that is not one of ours gives the store up - for the circuit sharing it too") {
  const std::string both = "the circuit and the retry budget";
  // The circuit admits the run; the budget's script answers two numbers
  // where it answers four.
  RepliesStore store({{0, 0, 0, 0, 1000, 0, 1, 0}, {1, 2}});
  RedisCircuit circuit(store, {"", 1, std::chrono::minutes(5)}, "job", both);
  RedisBudget run(store, settings(0, 0), "run-1", both);
  REQUIRE(circuit.before_run().store_problem.empty());
  const BudgetAnswer started = run.run_started();
  CHECK(started.problem == "redis://127.0.0.1:6379: the budget script's reply is not one of ours (2 numbers); "
                           "going on without the circuit and the retry budget");
  CHECK(store.given_up);
  CHECK(run.retry().verdict.granted);
  // The circuit goes on without the store, as said: the failed run is
  // not recorded, nothing said.
  const CircuitChange change = circuit.after_run(RunOutcome::exhausted);
  CHECK(change.store_problem.empty());
  CHECK(change.transition.empty());
  CHECK(store.calls == 2);
}

}  // TEST_SUITE
