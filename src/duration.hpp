#pragma once
// Durations as users write them: "250ms", "1.5s", "2m", "1h", "1m30s", "3d";
// a bare number is seconds ("0.2"). Units: ms, s, m, h, d.
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace retryx {

using Duration = std::chrono::nanoseconds;

// The largest duration accepted anywhere: 100 days.
inline constexpr Duration max_duration = std::chrono::hours(24 * 100);

// Thrown for a malformed value; what() says what is wrong with it, without
// naming the option (the caller knows which option it was).
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Parses a duration. Throws ValueError when it is empty, negative, NaN,
// infinite, malformed, or over max_duration. A positive value never comes
// back as 0: one below a nanosecond gives 1ns, the shortest there is.
Duration parse_duration(std::string_view text);

// Formats a duration the way parse_duration reads it, rounded to the
// millisecond: "0ms", "250ms", "1.5s", "1m30s", "2h", "1d2h"; a positive
// duration under half a millisecond is never shown as 0: "0.000001ms".
std::string format_duration(Duration d);

// Whole milliseconds, rounded to nearest (for logs and the environment).
long long to_millis(Duration d);

}  // namespace retryx
