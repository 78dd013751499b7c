#include <cerrno>
#include <chrono>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "attempt_log.hpp"

using namespace retryx;

TEST_CASE("the text log loses no line on a full non-blocking pipe shared with others") {
  // stderr is a pipe someone else made non-blocking (O_NONBLOCK is on the
  // open file, shared by every process that holds it), and it is full: its
  // reader is slow. Every line must still arrive, whole and in order.
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const int reader = fds[0];
  const int writer = fds[1];
  REQUIRE(::fcntl(writer, F_SETFL, O_NONBLOCK) == 0);
  std::string filled;
  const std::string filler(4096, '.');
  for (ssize_t n; (n = ::write(writer, filler.data(), filler.size())) > 0;)
    filled.append(filler, 0, static_cast<std::size_t>(n));
  REQUIRE(errno == EAGAIN);

  std::string got;
  std::thread slow_reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    char buffer[1000];
    ssize_t n;
    while ((n = ::read(reader, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
  });
  std::string expected = filled;
  {
    TextLog log(LogWriter(writer), Verbosity::normal);
    // About 150 KiB: more than the pipe holds, however early the reader is.
    for (int i = 0; i < 5000; ++i) {
      const std::string message = "a line from the circuit breaker, number " + std::to_string(i);
      log.circuit("problem", message);
      expected += "retryx: " + message + "\n";
    }
  }
  ::close(writer);
  slow_reader.join();
  ::close(reader);
  CHECK(got.size() == expected.size());
  const bool same = got == expected;  // not CHECK(got == expected): doctest would print both
  CHECK(same);
}

namespace {

// What a log wrote: it is given the write end of a pipe, run by `use`, then
// destroyed; the pipe's content comes back.
template <class Use>
std::string written(Use use) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  use(fds[1]);
  ::close(fds[1]);
  std::string got;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) got.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  return got;
}

// The text log's line for one record (normal verbosity, no colour).
std::string text_line(const AttemptRecord& record) {
  return written([&](int fd) { TextLog(LogWriter(fd), Verbosity::normal).attempt_ended(record); });
}

AttemptRecord retried(Duration delay, std::optional<Duration> directed, std::string reason = "every failure is retried") {
  AttemptRecord r{1, 5, {Exited{1}, std::chrono::milliseconds(5)}, AttemptOutcome::retry, std::move(reason), delay};
  r.directed_delay = directed;
  return r;
}

}  // namespace

TEST_CASE("the text log says where a retry's delay came from (--delay-from-output)") {
  using namespace std::chrono_literals;
  CHECK(text_line(retried(3s, 3s)) == "retryx: attempt 1/5 failed after 5ms: exit code 1; retrying in 3s (asked by the command)\n");
  CHECK(text_line(retried(60s, 2h)) ==
        "retryx: attempt 1/5 failed after 5ms: exit code 1; retrying in 1m (the command asked for 2h; capped by --max-delay)\n");
  CHECK(text_line(retried(4s, 1s)) ==
        "retryx: attempt 1/5 failed after 5ms: exit code 1; retrying in 4s (the backoff's; the command asked for 1s)\n");
  CHECK(text_line(retried(3s, 3s, "a line matched --retry-if-output")) ==
        "retryx: attempt 1/5 failed after 5ms: exit code 1; retrying in 3s (asked by the command; a line matched "
        "--retry-if-output)\n");
  // Nothing asked: as before.
  CHECK(text_line(retried(1s, std::nullopt)) == "retryx: attempt 1/5 failed after 5ms: exit code 1; retrying in 1s\n");
  AttemptRecord ignored = retried(1s, std::nullopt);
  ignored.directed_delay_problem = "--delay-from-output: ignored 'soon': neither a duration";
  CHECK(text_line(ignored) ==
        "retryx: attempt 1/5 failed after 5ms: exit code 1; retrying in 1s (--delay-from-output: ignored 'soon': "
        "neither a duration)\n");
  // Given up at the deadline: the reason says it, and an ignored value too.
  AttemptRecord deadline = retried(1s, std::nullopt);
  deadline.outcome = AttemptOutcome::deadline;
  deadline.delay.reset();
  deadline.reason = "the next delay (3s, asked by the command) would end after --max-time 2s";
  CHECK(text_line(deadline) == "retryx: attempt 1/5 failed after 5ms: exit code 1; not retrying: the next delay (3s, "
                               "asked by the command) would end after --max-time 2s\n");
}

namespace {

RunSummary refused_summary() {
  return RunSummary{RunOutcome::circuit_open, 0, 5, std::nullopt, "circuit open: 3 consecutive failed runs", {}, 75,
                    std::nullopt};
}

}  // namespace

TEST_CASE("--name prefixes every text line with retryx[NAME]") {
  const std::string got = written([](int fd) {
    TextLog log(LogWriter(fd), Verbosity::normal, false, std::string("nightly-backup"));
    log.attempt_ended(retried(std::chrono::seconds(1), std::nullopt));
  });
  CHECK(got == "retryx[nightly-backup]: attempt 1/5 failed after 5ms: exit code 1; retrying in 1s\n");
  const std::string coloured = written([](int fd) {
    TextLog log(LogWriter(fd), Verbosity::normal, true, std::string("job"));
    log.attempt_ended(retried(std::chrono::seconds(1), std::nullopt));
  });
  CHECK(coloured.starts_with("\x1b[1mretryx[job]:\x1b[0m \x1b[33mattempt 1/5"));
}

TEST_CASE("a log writer with timestamps starts every line with an RFC 3339 UTC time") {
  const std::string got = written([](int fd) {
    LogWriter out(fd, "log", true);
    out.write("one\n");
    out.write("two\nthree\n");
  });
  // "2026-12-03T03:03:37.001Z one\n" and so on: 24 characters and a space.
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = got.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(got.substr(start, end - start));
  REQUIRE(lines.size() == 3);
  const char* words[] = {"one", "two", "three"};
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(lines[i]);
    REQUIRE(lines[i].size() == 25 + std::string_view(words[i]).size());
    CHECK(lines[i].substr(25) == words[i]);
    CHECK(lines[i][4] == '-');
    CHECK(lines[i][10] == 'T');
    CHECK(lines[i][19] == '.');
    CHECK(lines[i][23] == 'Z');
    CHECK(lines[i][24] == ' ');
  }
  // Without: the text as it is.
  CHECK(written([](int fd) { LogWriter(fd).write("one\n"); }) == "one\n");
}

TEST_CASE("the text log says a circuit refusal in one line, and when the circuit opens and closes") {
  const std::string refused = written([](int fd) {
    TextLog log(LogWriter(fd), Verbosity::normal);
    log.circuit("refused", "circuit open: 3 consecutive failed runs");
    log.run_started(Policy{}, {"true"});
    log.run_ended(refused_summary());
  });
  CHECK(refused == "retryx: circuit open: 3 consecutive failed runs; not running the command; exit status 75\n");
  const std::string changes = written([](int fd) {
    TextLog log(LogWriter(fd), Verbosity::normal);
    log.circuit("trial", "circuit half-open: this run is the trial");  // quiet unless -v
    log.circuit("opened", "circuit opened: 3 consecutive failed runs; runs are refused for 5m");
    log.circuit("closed", "circuit closed: the trial run succeeded");
    log.circuit("problem", "cannot read state.json");
  });
  CHECK(changes ==
        "retryx: circuit opened: 3 consecutive failed runs; runs are refused for 5m\n"
        "retryx: circuit closed: the trial run succeeded\n"
        "retryx: cannot read state.json\n");
  const std::string verbose = written([](int fd) {
    TextLog log(LogWriter(fd), Verbosity::verbose);
    log.circuit("trial", "circuit half-open: this run is the trial");
  });
  CHECK(verbose == "retryx: circuit half-open: this run is the trial\n");
}
