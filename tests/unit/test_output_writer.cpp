#include <doctest/doctest.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <condition_variable>
#include <string>
#include <thread>
#include <unistd.h>

#include "process/output_writer.hpp"

using namespace retryx::process;

namespace {

// Points the test's stderr (fd 2; doctest reports on stdout) at `fd` for
// the scope, as the writer only writes to 1 and 2.
struct StderrTo {
  int saved;
  explicit StderrTo(int fd) : saved(::dup(STDERR_FILENO)) { ::dup2(fd, STDERR_FILENO); }
  ~StderrTo() {
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
  }
};

// Signals from the writer thread, waited for with a generous bound.
struct Wakes {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  void wake() {
    std::lock_guard lock(mutex);
    ++count;
    changed.notify_all();
  }
  // done() is evaluated without the lock: the writer calls wake() while it
  // holds its own mutex, which done() takes (has_room(), idle()).
  template <class Done>
  bool wait_for(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::unique_lock lock(mutex);
      changed.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }
};

}  // namespace

TEST_CASE("the writer writes everything pushed, in order, and says when it is idle") {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  std::string expected;
  std::string got;
  std::thread reader([&] {
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<std::size_t>(n));
  });
  {
    StderrTo redirect(fds[1]);
    Wakes wakes;
    OutputWriter writer([&] { wakes.wake(); });
    for (int i = 0; i < 2000; ++i) {
      const std::string chunk = std::to_string(i) + std::string(997, static_cast<char>('a' + i % 26));
      while (!writer.has_room()) wakes.wait_for([&] { return writer.has_room(); });
      writer.push(STDERR_FILENO, chunk);
      expected += chunk;
    }
    CHECK(wakes.wait_for([&] { return writer.idle(); }));
    CHECK_FALSE(writer.error(STDERR_FILENO));
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  CHECK(got == expected);
}

TEST_CASE("a write error is kept per descriptor with its errno: EPIPE, ENOSPC") {
  auto previous = ::signal(SIGPIPE, SIG_IGN);  // as in retryx: EPIPE, not death
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  ::close(fds[0]);
  {
    StderrTo redirect(fds[1]);
    Wakes wakes;
    OutputWriter writer([&] { wakes.wake(); });
    writer.push(STDERR_FILENO, "lost");
    CHECK(wakes.wait_for([&] { return writer.error(STDERR_FILENO).has_value(); }));
    CHECK(writer.error(STDERR_FILENO) == EPIPE);
    writer.push(STDERR_FILENO, "dropped, not queued");
    CHECK(writer.idle());
  }
  ::close(fds[1]);
  ::signal(SIGPIPE, previous);

  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  {
    StderrTo redirect(full);
    Wakes wakes;
    OutputWriter writer([&] { wakes.wake(); });
    writer.push(STDERR_FILENO, "no room");
    CHECK(wakes.wait_for([&] { return writer.error(STDERR_FILENO).has_value(); }));
    CHECK(writer.error(STDERR_FILENO) == ENOSPC);
    CHECK_FALSE(writer.error(STDOUT_FILENO));
  }
  ::close(full);
}
