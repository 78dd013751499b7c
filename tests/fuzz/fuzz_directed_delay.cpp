// libFuzzer target: the value a command gives --delay-from-output either
// throws ValueError or is a delay in [0, max_duration], for any bytes, at
// any calendar time (the first 8 bytes choose "now", seconds from 1970 up to
// year 9999, the rest is the value); an HTTP date that parses gives no
// overflow and the same delay twice.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "directed_delay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono;
  std::uint64_t seconds_since_epoch = 0;
  if (size >= sizeof seconds_since_epoch) {
    std::memcpy(&seconds_since_epoch, data, sizeof seconds_since_epoch);
    data += sizeof seconds_since_epoch;
    size -= sizeof seconds_since_epoch;
  }
  seconds_since_epoch %= 253402300800ULL;  // 10000-01-01
  // The wall clock counts nanoseconds in 64 bits: up to year 2262.
  const auto now = retryx::WallClock::time_point(
      duration_cast<retryx::WallClock::duration>(seconds(static_cast<std::int64_t>(seconds_since_epoch % 9000000000ULL))));
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  retryx::Duration d{};
  try {
    d = retryx::parse_directed_delay(text, now);
  } catch (const retryx::ValueError&) {
    return 0;
  }
  if (d < retryx::Duration::zero() || d > retryx::max_duration) std::abort();
  if (retryx::parse_directed_delay(text, now) != d) std::abort();
  return 0;
}
