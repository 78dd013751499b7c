#include <doctest/doctest.h>
#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "file_io.hpp"
#include "held_output.hpp"

using namespace retryx;

namespace {
// Everything released, in order, through the sink retryx uses.
std::string released(HeldOutput& held) {
  std::string out;
  CHECK(held.release([&](std::string_view chunk) {
    out.append(chunk);
    return true;
  }));
  return out;
}
}  // namespace

TEST_CASE("held output comes back byte for byte - small and spilled") {
  HeldOutput small;
  small.append("one\n");
  small.append(std::string("two\0three", 9));
  CHECK(released(small) == std::string("one\ntwo\0three", 13));
  CHECK(released(small).empty());  // released once, then forgotten

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

TEST_CASE("release stops when the sink says so (its reader went away)") {
  HeldOutput held;
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    std::string chunk(1000, static_cast<char>('a' + i % 26));
    held.append(chunk);
    expected += chunk;
  }
  int calls = 0;
  CHECK_FALSE(held.release([&](std::string_view) { return ++calls < 2; }));
  CHECK(calls == 2);
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
