#include <cerrno>
#include <chrono>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>

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
    TextLog log(writer, Verbosity::normal);
    // About 150 KiB: more than the pipe holds, however early the reader is.
    for (int i = 0; i < 5000; ++i) {
      const std::string message = "a line from the circuit breaker, number " + std::to_string(i);
      log.notice(message);
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

// The text log's line for one record (normal verbosity, no colour).
std::string text_line(const AttemptRecord& record) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  {
    TextLog log(fds[1], Verbosity::normal);
    log.attempt_ended(record);
  }
  ::close(fds[1]);
  std::string got;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) got.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  return got;
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
