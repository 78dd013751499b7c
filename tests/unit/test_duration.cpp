#include <doctest/doctest.h>
#include <string>
#include <string_view>

#include "duration.hpp"

using namespace retryx;
using namespace std::chrono_literals;

TEST_CASE("parse_duration reads units fractions and composites") {
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("2m") == 120s);
  CHECK(parse_duration("1h") == 3600s);
  CHECK(parse_duration("3d") == std::chrono::hours(72));
  CHECK(parse_duration("1m30s") == 90s);
  CHECK(parse_duration("1h2m3s4ms") == 3723004ms);
  CHECK(parse_duration("0.2") == 200ms);
  CHECK(parse_duration("5") == 5s);
  CHECK(parse_duration("0") == 0s);
  CHECK(parse_duration(".5s") == 500ms);
  CHECK(parse_duration("100d") == max_duration);
}

TEST_CASE("parse_duration refuses bad values") {
  for (const char* bad : {"", "-1", "-1s", "+1s", "nan", "inf", "infinity", "1e3", "1x", "s", "1.2.3s",
                          "1s2", "99999999999h", "100d1ms", "101d", "1 s", " 1s", "0x10",
                          "9999999999999999999999999999999999999999999999999999999999999999999"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_duration(bad), ValueError);
  }
}

TEST_CASE("format_duration rounds to the millisecond and reads back") {
  CHECK(format_duration(0ms) == "0ms");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(999ms) == "999ms");
  CHECK(format_duration(1s) == "1s");
  CHECK(format_duration(1500ms) == "1.5s");
  CHECK(format_duration(1024ms) == "1.024s");
  CHECK(format_duration(60s) == "1m");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(std::chrono::hours(26)) == "1d2h");
  CHECK(format_duration(std::chrono::microseconds(1499)) == "1ms");
  for (Duration d : {Duration(1ms), Duration(61500ms), Duration(3723004ms), max_duration})
    CHECK(parse_duration(format_duration(d)) == d);
}

TEST_CASE("a positive duration never rounds to 0") {
  using std::chrono::nanoseconds;
  CHECK(parse_duration("0.0000000001") == nanoseconds(1));
  CHECK(parse_duration("0.0000000001s") == nanoseconds(1));
  CHECK(parse_duration("0.000000000000000001ms") == nanoseconds(1));
  CHECK(parse_duration("0.0000000000001m") == nanoseconds(1));
  CHECK(parse_duration("0.0000000004") == nanoseconds(1));
  CHECK(parse_duration("0.000000001") == nanoseconds(1));
  CHECK(parse_duration("0.0000000016") == nanoseconds(2));
  CHECK(parse_duration("0s0.0000000001ms") == nanoseconds(1));
  // Zero is still zero, however it is written.
  CHECK(parse_duration("0") == 0s);
  CHECK(parse_duration("0.000") == 0s);
  CHECK(parse_duration("0ms0s") == 0s);
}

TEST_CASE("format_duration never shows a positive duration as 0ms") {
  using std::chrono::nanoseconds;
  CHECK(format_duration(nanoseconds(1)) == "0.000001ms");
  CHECK(format_duration(std::chrono::microseconds(400)) == "0.4ms");
  CHECK(format_duration(nanoseconds(499'999)) == "0.499999ms");
  CHECK(format_duration(std::chrono::microseconds(500)) == "0.5ms");  // to_millis rounds half to even
  CHECK(format_duration(std::chrono::microseconds(501)) == "1ms");
  CHECK(format_duration(0ns) == "0ms");
  for (Duration d : {Duration(1), Duration(12'345), Duration(400'000), Duration(500'000)})
    CHECK(parse_duration(format_duration(d)) == d);
}

namespace {

std::string why(std::string_view text) {
  try {
    parse_duration(text);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("a unit written another way is named as unknown, with the unit meant") {
  // "5min" is the unknown unit "min", as "5 min" is: not "5m" then "in".
  CHECK(why("5min") == "unknown unit 'min' (did you mean '5m'? units: ms, s, m, h, d)");
  CHECK(why("5 min") == "unknown unit 'min' (did you mean '5m'? units: ms, s, m, h, d)");
  CHECK(why("1h30min") == "unknown unit 'min' (did you mean '1h30m'? units: ms, s, m, h, d)");
  CHECK(why("2hr30mins") == "unknown unit 'hr' (did you mean '2h30m'? units: ms, s, m, h, d)");
  CHECK(why("30sec") == "unknown unit 'sec' (did you mean '30s'? units: ms, s, m, h, d)");
  CHECK(why("30 secs") == "unknown unit 'secs' (did you mean '30s'? units: ms, s, m, h, d)");
  CHECK(why("2hours") == "unknown unit 'hours' (did you mean '2h'? units: ms, s, m, h, d)");
  CHECK(why("1hour") == "unknown unit 'hour' (did you mean '1h'? units: ms, s, m, h, d)");
  CHECK(why("3days") == "unknown unit 'days' (did you mean '3d'? units: ms, s, m, h, d)");
  CHECK(why("250msec") == "unknown unit 'msec' (did you mean '250ms'? units: ms, s, m, h, d)");
  CHECK(why("5MIN") == "unknown unit 'MIN' (did you mean '5m'? units: ms, s, m, h, d)");
  CHECK(why("5S") == "unknown unit 'S' (did you mean '5s'? units: ms, s, m, h, d)");
  // The whole value respelled would still be refused: the unit alone.
  CHECK(why("101days") == "unknown unit 'days' (did you mean 'd'? units: ms, s, m, h, d)");
  // A real unit after a blank.
  CHECK(why("1 s") == "no blank is allowed before the unit 's' (did you mean '1s'? units: ms, s, m, h, d)");
  // No unit meant: no suggestion.
  CHECK(why("1x") == "unknown unit 'x' (units: ms, s, m, h, d)");
  CHECK(why("5weeks") == "unknown unit 'weeks' (units: ms, s, m, h, d)");
  CHECK(why("5min later") == "unknown unit 'min' (did you mean 'm'? units: ms, s, m, h, d)");
  CHECK(why("1.2.3s") == "not a duration (expected e.g. 250ms, 1.5s, 2m, 1m30s)");
  CHECK(why("soon") == "not a duration (expected e.g. 250ms, 1.5s, 2m, 1m30s)");
  CHECK(why("") == "empty duration");
  // The units themselves are still read, "ms" before "m".
  CHECK(parse_duration("5m") == 300s);
  CHECK(parse_duration("5ms") == 5ms);
  CHECK(parse_duration("1m5ms") == 60005ms);
}
