#include <chrono>
#include <cmath>
#include <doctest/doctest.h>

#include "backoff.hpp"

using namespace retryx;
using namespace std::chrono_literals;

namespace {

BackoffPolicy policy(BackoffKind kind, Duration delay = 1s, Duration cap = 1000s) {
  BackoffPolicy p;
  p.kind = kind;
  p.delay = delay;
  p.max_delay = cap;
  p.jitter = {Jitter::Kind::none, 0};
  return p;
}

Duration ns(double seconds) { return Duration(std::llround(seconds * 1e9)); }

}  // namespace

TEST_CASE("nominal delays follow each formula") {
  auto fixed = policy(BackoffKind::fixed, 2s);
  auto linear = policy(BackoffKind::linear, 2s);
  auto exponential = policy(BackoffKind::exponential, 1s);
  auto fibonacci = policy(BackoffKind::fibonacci, 1s);
  const long fib[] = {1, 1, 2, 3, 5, 8, 13, 21};
  for (std::uint64_t k = 1; k <= 8; ++k) {
    CAPTURE(k);
    CHECK(nominal_delay(fixed, k) == 2s);
    CHECK(nominal_delay(linear, k) == Duration(2s) * k);
    CHECK(nominal_delay(exponential, k) == Duration(1s) * (1L << (k - 1)));
    CHECK(nominal_delay(fibonacci, k) == Duration(1s) * fib[k - 1]);
  }
  exponential.multiplier = 1.5;
  CHECK(nominal_delay(exponential, 3) == 2250ms);
}

TEST_CASE("fibonacci stays exact where a double can hold it") {
  auto p = policy(BackoffKind::fibonacci, 1ms, max_duration);
  // F(40) = 102334155 ms.
  CHECK(nominal_delay(p, 40) == 102334155ms);
}

TEST_CASE("--delays gives the list in order the last repeating") {
  BackoffPolicy p = policy(BackoffKind::exponential);
  p.delays = {1s, 5s, 30s};
  CHECK(nominal_delay(p, 1) == 1s);
  CHECK(nominal_delay(p, 2) == 5s);
  CHECK(nominal_delay(p, 3) == 30s);
  CHECK(nominal_delay(p, 4) == 30s);
  CHECK(nominal_delay(p, 1'000'000) == 30s);
  p.max_delay = 10s;
  CHECK(nominal_delay(p, 3) == 10s);
}

TEST_CASE("the nominal delay is capped") {
  auto p = policy(BackoffKind::exponential, 1s, 60s);
  CHECK(nominal_delay(p, 6) == 32s);
  CHECK(nominal_delay(p, 7) == 60s);
  CHECK(nominal_delay(p, 100) == 60s);
}

TEST_CASE("huge k neither overflows nor slows down") {
  for (BackoffKind kind : {BackoffKind::exponential, BackoffKind::linear, BackoffKind::fibonacci,
                           BackoffKind::fixed, BackoffKind::decorrelated}) {
    auto p = policy(kind, 1s, 60s);
    p.multiplier = 10;
    CAPTURE(name(kind));
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t k : {std::uint64_t{1'000'000}, std::uint64_t{1} << 40, UINT64_MAX}) {
      Duration d = nominal_delay(p, k);
      CHECK(d >= 0s);
      CHECK(d <= 60s);
      if (kind != BackoffKind::fixed) CHECK(d == 60s);
    }
    // O(1): a thousand huge-k computations, far below any loop over k.
    for (int i = 0; i < 1000; ++i) (void)nominal_delay(p, 1'000'000 + static_cast<std::uint64_t>(i));
    CHECK(std::chrono::steady_clock::now() - start < 1s);
  }
}

TEST_CASE("a forever run of a million retries stays at the cap") {
  auto p = policy(BackoffKind::exponential, 100ms, 60s);
  p.jitter = {Jitter::Kind::full, 0};
  Random random(1);
  Backoff backoff(p, random);
  Duration last{};
  for (int i = 0; i < 1'000'000; ++i) last = backoff.next();
  CHECK(last <= 60s);
  CHECK(last >= 0s);
}

TEST_CASE("jitter formulas seeded match an independent computation") {
  const Duration cap = 100s;
  const double n = 10;  // seconds
  SUBCASE("full: uniform[0, D]") {
    Random expected(7), actual(7);
    for (int i = 0; i < 100; ++i)
      CHECK(apply_jitter(10s, {Jitter::Kind::full, 0}, cap, actual) == ns(n * expected.uniform01()));
  }
  SUBCASE("equal: D/2 + uniform[0, D/2]") {
    Random expected(7), actual(7);
    for (int i = 0; i < 100; ++i)
      CHECK(apply_jitter(10s, {Jitter::Kind::equal, 0}, cap, actual) ==
            ns(n / 2 + n / 2 * expected.uniform01()));
  }
  SUBCASE("proportional: uniform[D(1-P), D(1+P)]") {
    Random expected(7), actual(7);
    for (int i = 0; i < 100; ++i)
      CHECK(apply_jitter(10s, {Jitter::Kind::proportional, 0.2}, cap, actual) ==
            ns(8 + 4 * expected.uniform01()));
  }
  SUBCASE("none") {
    Random random(7);
    CHECK(apply_jitter(10s, {Jitter::Kind::none, 0}, cap, random) == 10s);
  }
}

TEST_CASE("jittered delays stay within their range over many draws") {
  for (Jitter jitter : {Jitter{Jitter::Kind::full, 0}, Jitter{Jitter::Kind::equal, 0},
                        Jitter{Jitter::Kind::proportional, 0.5}, Jitter{Jitter::Kind::proportional, 1}}) {
    auto p = policy(BackoffKind::exponential, 1s, 20s);
    p.jitter = jitter;
    Random random(123);
    CAPTURE(describe(jitter));
    for (std::uint64_t k = 1; k <= 8; ++k) {
      const DelayRange range = delay_range(p, k);
      Duration low = range.high, high = range.low;
      for (int i = 0; i < 20'000; ++i) {
        Duration d = apply_jitter(nominal_delay(p, k), jitter, p.max_delay, random);
        REQUIRE(d >= range.low);
        REQUIRE(d <= range.high);
        REQUIRE(d <= p.max_delay);
        low = std::min(low, d);
        high = std::max(high, d);
      }
      // The draws fill the range: within 1% of each end.
      const auto width = range.high - range.low;
      CHECK(low - range.low <= width / 100);
      CHECK(range.high - high <= width / 100);
    }
  }
}

TEST_CASE("the cap applies again after jitter") {
  auto p = policy(BackoffKind::fixed, 10s, 10s);
  p.jitter = {Jitter::Kind::proportional, 1};  // up to 20s before the second cap
  Random random(5);
  Backoff backoff(p, random);
  bool reached_cap = false;
  for (int i = 0; i < 1000; ++i) {
    Duration d = backoff.next();
    REQUIRE(d <= 10s);
    reached_cap |= d == 10s;
  }
  CHECK(reached_cap);
  CHECK(delay_range(p, 1).high == 10s);
  CHECK(delay_range(p, 1).low == 0s);
}

TEST_CASE("decorrelated: s_k = uniform(d 3 s_(k-1)) capped jitter not applied") {
  auto p = policy(BackoffKind::decorrelated, 1s, 30s);
  p.jitter = {Jitter::Kind::full, 0};  // ignored
  Random expected(9), actual(9);
  Backoff backoff(p, actual);
  double previous = 1;
  for (int k = 1; k <= 50; ++k) {
    double s = 1 + (3 * previous - 1) * expected.uniform01();
    s = std::min(s, 30.0);
    CHECK(backoff.next() == ns(s));
    previous = static_cast<double>(ns(s).count()) / 1e9;  // s_k is kept to the nanosecond
  }
  CHECK(delay_range(p, 1).low == 1s);
  CHECK(delay_range(p, 1).high == 3s);
  CHECK(delay_range(p, 2).high == 9s);
  CHECK(delay_range(p, 10).high == 30s);
}

TEST_CASE("a seed makes the delays reproducible - another seed changes them") {
  auto p = policy(BackoffKind::exponential, 1s, 60s);
  p.jitter = {Jitter::Kind::full, 0};
  auto delays = [&](std::uint64_t seed) {
    Random random(seed);
    Backoff backoff(p, random);
    std::vector<Duration> out;
    for (int i = 0; i < 10; ++i) out.push_back(backoff.next());
    return out;
  };
  CHECK(delays(42) == delays(42));
  CHECK(delays(42) != delays(43));
}

TEST_CASE("restart starts the schedule over at retry 1") {
  auto p = policy(BackoffKind::exponential, 1s, 60s);
  Random random(1);
  Backoff backoff(p, random);
  CHECK(backoff.next() == 1s);
  CHECK(backoff.next() == 2s);
  CHECK(backoff.next() == 4s);
  backoff.restart();
  CHECK(backoff.next() == 1s);
  CHECK(backoff.next() == 2s);
}

TEST_CASE("delay_range per jitter mode") {
  auto p = policy(BackoffKind::fixed, 10s, 60s);
  p.jitter = {Jitter::Kind::equal, 0};
  CHECK(delay_range(p, 1).low == 5s);
  CHECK(delay_range(p, 1).high == 10s);
  p.jitter = {Jitter::Kind::full, 0};
  CHECK(delay_range(p, 1).low == 0s);
  p.jitter = {Jitter::Kind::proportional, 0.1};
  CHECK(delay_range(p, 1).low == 9s);
  CHECK(delay_range(p, 1).high == 11s);
}

TEST_CASE("a zero base delay stays zero for every k - no NaN reaches the cap") {
  for (BackoffKind kind : {BackoffKind::exponential, BackoffKind::linear, BackoffKind::fibonacci,
                           BackoffKind::fixed, BackoffKind::decorrelated}) {
    auto p = policy(kind, 0s, 60s);
    p.multiplier = 1e20;
    CAPTURE(name(kind));
    for (std::uint64_t k : {std::uint64_t{1}, std::uint64_t{17}, std::uint64_t{1025}, std::uint64_t{1477},
                            std::uint64_t{1} << 40})
      CHECK(nominal_delay(p, k) == 0s);
  }
}
