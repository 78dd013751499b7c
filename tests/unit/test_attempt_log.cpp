#include <cerrno>
#include <chrono>
#include <doctest/doctest.h>
#include <fcntl.h>
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
