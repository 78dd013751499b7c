#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <unistd.h>

#include "report.hpp"
#include "temp_files.hpp"

using namespace retryx;
using retryx::testing::file_text;
using retryx::testing::temp_dir;

namespace {

AttemptRecord record(std::uint64_t attempt, AttemptOutcome outcome = AttemptOutcome::retry) {
  return {attempt, std::nullopt, {Exited{1}, std::chrono::milliseconds(5), 100}, outcome, "why", std::chrono::seconds(1)};
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the report holds the end fields - the command and every attempt") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/report.json";
  RunIdentity identity{"0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a", "nightly", 42,
                       std::chrono::system_clock::time_point(std::chrono::milliseconds(1764720000123))};
  RunReport report(path, STDERR_FILENO, identity);
  report.run_started(Policy{}, {"curl", "-f"});
  report.attempt_ended(record(1));
  report.attempt_ended(record(2, AttemptOutcome::exhausted));
  RunSummary summary{RunOutcome::exhausted, 2, std::nullopt, AttemptResult{Exited{1}}, "limit", std::chrono::seconds(2), 1};
  report.run_ended(summary);
  const std::string text = file_text(path);
  CHECK(text.starts_with("{\"run_id\":\"0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a\",\"started_at\":\"2025-12-03T00:00:00.123Z\","
                         "\"name\":\"nightly\",\"outcome\":\"exhausted\",\"elapsed_ms\":2000,\"exit_status\":1,"));
  CHECK(text.find("\"command\":[\"curl\",\"-f\"]") != std::string::npos);
  CHECK(count(text, "\"attempt\":") == 2);
  CHECK(text.find("\"attempts_omitted\":0}") != std::string::npos);
  CHECK(text.back() == '\n');
  // Nothing is left beside it.
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a million attempts keep the first and last 500 and count the rest") {
  const std::string dir = temp_dir();
  RunReport report(dir + "/r.json", STDERR_FILENO);
  for (std::uint64_t i = 1; i <= 1'000'000; ++i) report.attempt_ended(record(i));
  RunSummary summary{RunOutcome::exhausted, 1'000'000, std::nullopt, AttemptResult{Exited{1}}, "", {}, 1};
  const std::string text = report.text(summary);
  CHECK(count(text, "\"attempt\":") == 1000);
  CHECK(text.find("\"attempt\":500,") != std::string::npos);
  CHECK(text.find("\"attempt\":501,") == std::string::npos);
  CHECK(text.find("\"attempt\":999501,") != std::string::npos);
  CHECK(text.find("\"attempt\":999500,") == std::string::npos);
  CHECK(text.find("\"attempts_omitted\":999000") != std::string::npos);
  CHECK(text.size() < 1'000'000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an unwritable directory is refused up front") {
  CHECK_THROWS_AS(RunReport("/nonexistent-dir/report.json", STDERR_FILENO), std::runtime_error);
}

TEST_CASE("a directory that disappears is reported on the error descriptor - nothing thrown") {
  const std::string dir = temp_dir();
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  RunReport report(dir + "/r.json", pipe_fds[1]);
  std::filesystem::remove_all(dir);
  RunSummary summary{RunOutcome::success, 1, std::nullopt, AttemptResult{Exited{0}}, "", {}, 0};
  CHECK_NOTHROW(report.run_ended(summary));
  ::close(pipe_fds[1]);
  char buffer[512] = {};
  const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer - 1);
  ::close(pipe_fds[0]);
  REQUIRE(n > 0);
  CHECK(std::string(buffer).find("retryx: error: cannot write the report " + dir + "/r.json") != std::string::npos);
}
