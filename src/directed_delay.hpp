#pragma once
// The delay a command asks for in its own output (--delay-from-output, spec
// §9), as an HTTP server's Retry-After gives it: a duration ("30", "1.5s",
// "2m", the syntax of spec §1) or an HTTP date (RFC 9110 §5.6.7: the
// IMF-fixdate "Wed, 21 Oct 2026 07:28:00 GMT", and the obsolete RFC 850
// "Wednesday, 21-Oct-26 07:28:00 GMT" and asctime "Wed Oct 21 07:28:00 2026"
// forms), relative to now.
#include <chrono>
#include <optional>
#include <string_view>

#include "duration.hpp"

namespace retryx {

using WallClock = std::chrono::system_clock;

// How long from `now` the command asks to wait. Whitespace around the value
// (the CR of a CRLF line end) is ignored. A date in the past gives 0; a bare
// number of seconds or a date further than max_duration gives max_duration
// (the attempt loop caps it at --max-delay). Throws ValueError saying why
// the value is neither a duration nor an HTTP date.
Duration parse_directed_delay(std::string_view text, WallClock::time_point now);

// An HTTP date in any of its three forms (day and month names in any case;
// GMT, or UTC, as the zone), in whole seconds, or nullopt. `now` places the
// two-digit year of RFC 850 (RFC 9110: a year more than 50 years ahead is
// the most recent past one with those digits). The weekday is not checked
// against the date.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text, WallClock::time_point now);

}  // namespace retryx
