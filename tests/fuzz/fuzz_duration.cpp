// libFuzzer target: parse_duration either throws ValueError or returns a
// duration in [0, max_duration] that format_duration writes back in a form
// parse_duration reads again (to the millisecond).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  retryx::Duration d{};
  try {
    d = retryx::parse_duration(text);
  } catch (const retryx::ValueError&) {
    return 0;
  }
  if (d < retryx::Duration::zero() || d > retryx::max_duration) std::abort();
  const retryx::Duration again = retryx::parse_duration(retryx::format_duration(d));
  if (retryx::to_millis(again) != retryx::to_millis(d)) std::abort();
  return 0;
}
