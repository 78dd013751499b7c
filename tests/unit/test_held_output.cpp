#include <doctest/doctest.h>
#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <utility>
#include <vector>

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

// Everything released as (stream, bytes), the pieces of one record joined
// and consecutive records of one stream too (how they are cut is the
// store's business; what went to which stream in which order is not).
using Parts = std::vector<std::pair<int, std::string>>;
void add(Parts& parts, int stream, std::string_view text) {
  if (parts.empty() || parts.back().first != stream) parts.emplace_back(stream, "");
  parts.back().second.append(text);
}

Parts released_parts(HeldOutput& held) {
  Parts out;
  CHECK(held.release([&](int stream, std::string_view chunk) {
    add(out, stream, chunk);
    return true;
  }));
  return out;
}

// TMPDIR set for one scope (restored on the way out).
class TmpdirSetting {
 public:
  explicit TmpdirSetting(const char* dir) {
    const char* old = std::getenv("TMPDIR");
    if (old) saved_ = old;
    ::setenv("TMPDIR", dir, 1);
  }
  ~TmpdirSetting() {
    if (saved_) ::setenv("TMPDIR", saved_->c_str(), 1);
    else ::unsetenv("TMPDIR");
  }

 private:
  std::optional<std::string> saved_;
};
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
  std::string expected;
  HeldOutput held;
  {
    TmpdirSetting tmpdir("/nonexistent-retryx-dir");
    for (int i = 0; i < 300; ++i) {
      std::string chunk(10000, static_cast<char>('a' + i % 26));
      held.append(chunk);
      expected += chunk;
    }
  }
  CHECK(released(held) == expected);
  CHECK(held.spill_error() == ENOENT);
  CHECK(held.dropped() == 0);
  CHECK(make_temp_file("retryx-unit") >= 0);
}

TEST_CASE("--output-on-failure: each stream's bytes come back in order, in memory and spilled") {
  HeldOutput held(HeldOutput::fallback_bound);
  Parts expected;
  // Small writes, alternating streams and repeating one, past the memory
  // bound; a record larger than the bound (straight to the file); a last
  // few in memory after the file's.
  for (int i = 0; i < 4000; ++i) {
    const int stream = i % 3 == 0 ? 2 : 1;
    const std::string text = std::to_string(i) + std::string(i % 700, static_cast<char>('a' + i % 26)) + "\n";
    held.append(stream, text);
    add(expected, stream, text);
  }
  const std::string big(HeldOutput::memory_bound + 12345, 'B');
  held.append(1, big);
  add(expected, 1, big);
  held.append(2, std::string("\0tail\n", 6));
  add(expected, 2, std::string("\0tail\n", 6));
  held.append(1, "");  // nothing: no record
  CHECK_FALSE(held.spill_error());
  CHECK(released_parts(held) == expected);
  CHECK(released_parts(held).empty());
  CHECK(held.empty());
}

TEST_CASE("--output-on-failure: with no temporary file, memory holds the fallback bound, then bytes are dropped") {
  HeldOutput held(std::size_t{4096});  // a small fallback, for the test
  TmpdirSetting tmpdir("/nonexistent-retryx-dir");
  const std::string chunk(1000, 'x');
  std::size_t total = 0;
  while (total < HeldOutput::memory_bound + 100000) {
    held.append(total % 3000 == 0 ? 2 : 1, chunk);
    total += chunk.size();
  }
  held.append(2, "retryx: giving up\n", true);  // a log line: kept past the bound
  CHECK(held.spill_error() == ENOENT);
  CHECK(held.dropped() > 0);
  std::size_t kept = 0;
  const Parts parts = released_parts(held);
  for (const auto& [stream, text] : parts) kept += text.size();
  CHECK(kept + held.dropped() == total + 18);
  CHECK(kept <= HeldOutput::memory_bound + 4096 + 18);
  CHECK(kept >= HeldOutput::memory_bound);
  REQUIRE(!parts.empty());
  CHECK(parts.back().first == 2);
  CHECK(parts.back().second.ends_with("retryx: giving up\n"));
}

TEST_CASE("a write to the temporary file that fails half way is undone: the records stay whole") {
  // RLIMIT_FSIZE: writes past 1.5 MiB fail (EFBIG; SIGXFSZ ignored), as a
  // full disk would, after a first spill that fits.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limit = saved;
  limit.rlim_cur = HeldOutput::memory_bound * 3 / 2;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  HeldOutput held;  // -O's: nothing lost, the rest kept in memory
  Parts expected;
  for (int i = 0; i < 600; ++i) {
    const int stream = 1 + i % 2;
    // Pieces of 100 KB too: written to the file as they are once spilling.
    const std::string text((i % 5 == 0 ? 100000 : 10000) + i, static_cast<char>('a' + i % 26));
    held.append(stream, text);
    add(expected, stream, text);
  }
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &saved) == 0);
  std::signal(SIGXFSZ, old_handler);
  CHECK(held.spill_error() == EFBIG);
  CHECK(held.dropped() == 0);
  CHECK(released_parts(held) == expected);
}
