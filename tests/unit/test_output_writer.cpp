#include <doctest/doctest.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <string>
#include <thread>
#include <unistd.h>

#include "file_io.hpp"
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

TEST_CASE("ranges of a file are written whole and in order with data: to a pipe, to a file opened O_APPEND") {
  std::string content;
  for (int i = 0; content.size() < 3000000; ++i) content += std::to_string(i) + "\n";
  const std::string expected = content.substr(10, 1000000) + "between" + content.substr(2000000);
  // A source: an unlinked temporary file of 3 MB (used up by the writer:
  // what it wrote is punched out of it).
  auto source = [&] {
    const int file = retryx::make_temp_file("retryx-unit");
    REQUIRE(file >= 0);
    REQUIRE(retryx::write_all(file, content));
    return std::make_shared<const retryx::UniqueFd>(file);
  };
  // A pipe, and a file opened O_APPEND (cron's >> log).
  char path[] = "/tmp/retryx-unit-append.XXXXXX";
  const int made = ::mkstemp(path);
  REQUIRE(made >= 0);
  ::close(made);
  const int append = ::open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  REQUIRE(append >= 0);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  std::string got;
  std::thread reader([&] {
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<std::size_t>(n));
  });
  for (const int target : {fds[1], append}) {
    StderrTo redirect(target);
    Wakes wakes;
    OutputWriter writer([&] { wakes.wake(); });
    const auto file = source();
    writer.push_file(STDERR_FILENO, file, 10, 1000000);
    writer.push(STDERR_FILENO, "between");
    writer.push_file(STDERR_FILENO, file, 2000000, content.size() - 2000000);
    CHECK(wakes.wait_for([&] { return writer.idle(); }));
    CHECK_FALSE(writer.error(STDERR_FILENO));
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  ::close(append);
  CHECK(got == expected);
  std::ifstream in(path);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == expected);
  ::unlink(path);
}
