#include <doctest/doctest.h>
#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "held_output.hpp"

using namespace retryx;

namespace {
// Releases into a pipe read by this thread in pieces (small data only).
std::string released(HeldOutput& held) {
  char name[] = "/tmp/retryx-held.XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::unlink(name);
  CHECK(held.release(fd));
  ::lseek(fd, 0, SEEK_SET);
  std::string out;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}
}  // namespace

TEST_CASE("held output comes back byte for byte - small and spilled") {
  HeldOutput small;
  small.append("one\n");
  small.append(std::string("two\0three", 9));
  CHECK(released(small) == std::string("one\ntwo\0three", 13));
  CHECK(small.size() == 0);

  HeldOutput big;
  std::string expected;
  for (int i = 0; i < 3000; ++i) {
    std::string chunk = std::to_string(i) + std::string(1000, static_cast<char>('a' + i % 26)) + "\n";
    big.append(chunk);
    expected += chunk;
  }
  CHECK(expected.size() > HeldOutput::memory_bound);
  CHECK(released(big) == expected);
}

TEST_CASE("release reports a reader that went away") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  HeldOutput held;
  held.append("data");
  auto previous = ::signal(SIGPIPE, SIG_IGN);  // as in retryx: EPIPE, not death
  CHECK_FALSE(held.release(fds[1]));
  ::signal(SIGPIPE, previous);
  ::close(fds[1]);
}

TEST_CASE("with no usable temporary directory nothing is lost: the rest stays in memory") {
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", "/nonexistent-retryx-dir", 1);
  HeldOutput held;
  std::string expected;
  for (int i = 0; i < 300; ++i) {
    std::string chunk(10000, static_cast<char>('a' + i % 26));
    held.append(chunk);
    expected += chunk;
  }
  if (old) ::setenv("TMPDIR", saved.c_str(), 1);
  else ::unsetenv("TMPDIR");
  CHECK(released(held) == expected);
  CHECK(make_temp_file("retryx-unit") >= 0);
}
