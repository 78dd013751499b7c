#include <doctest/doctest.h>

#include "directed_delay.hpp"

using namespace retryx;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// 2026-10-21 07:28:00 UTC, a Wednesday, plus `extra`.
WallClock::time_point at(Duration extra = Duration::zero()) {
  return WallClock::time_point(sys_days(2026y / October / 21) + 7h + 28min) + duration_cast<WallClock::duration>(extra);
}

Duration parse(std::string_view text, WallClock::time_point now = at()) { return parse_directed_delay(text, now); }

std::string problem(std::string_view text) {
  try {
    parse(text);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("durations: a bare number is seconds, units as everywhere else") {
  CHECK(parse("30") == 30s);
  CHECK(parse("0") == 0s);
  CHECK(parse("1.5") == 1500ms);
  CHECK(parse("1.5s") == 1500ms);
  CHECK(parse("250ms") == 250ms);
  CHECK(parse("2m") == 2min);
  CHECK(parse("1m30s") == 90s);
}

TEST_CASE("whitespace around the value is ignored: the CR of a CRLF header") {
  CHECK(parse("3\r") == 3s);
  CHECK(parse("  3  ") == 3s);
  CHECK(parse("\t2m\r\n") == 2min);
  CHECK(parse("Wed, 21 Oct 2026 07:28:05 GMT\r") == 5s);
}

TEST_CASE("a huge number of seconds is the longest duration - the loop caps it at --max-delay") {
  CHECK(parse("99999999999999999999") == max_duration);
  CHECK(parse("8640000") == max_duration);  // exactly 100 days
  CHECK(parse("8640001") == max_duration);
}

TEST_CASE("IMF-fixdate relative to now") {
  CHECK(parse("Wed, 21 Oct 2026 07:28:03 GMT") == 3s);
  CHECK(parse("Wed, 21 Oct 2026 08:28:00 GMT") == 1h);
  CHECK(parse("Thu, 22 Oct 2026 07:28:00 GMT") == 24h);
  // Sub-second now: the date is a whole second, the delay is what is left.
  CHECK(parse("Wed, 21 Oct 2026 07:28:03 GMT", at(250ms)) == 2750ms);
  // Names in any case, the day without its leading 0, UTC for GMT.
  CHECK(parse("wed, 21 OCT 2026 07:28:03 gmt") == 3s);
  CHECK(parse("Sat, 1 Nov 2026 07:28:00 UTC") == days(11));
}

TEST_CASE("a date in the past (or now) means no wait") {
  CHECK(parse("Wed, 21 Oct 2026 07:27:59 GMT") == 0s);
  CHECK(parse("Wed, 21 Oct 2026 07:28:00 GMT") == 0s);
  CHECK(parse("Wed, 21 Oct 2026 07:28:00 GMT", at(500ms)) == 0s);
  CHECK(parse("Sun, 06 Nov 1994 08:49:37 GMT") == 0s);
  CHECK(parse("Mon, 01 Jan 0001 00:00:00 GMT") == 0s);
}

TEST_CASE("a far future date is the longest duration - no overflow") {
  CHECK(parse("Fri, 31 Dec 9999 23:59:59 GMT") == max_duration);
  CHECK(parse("Sat, 21 Oct 2028 07:28:00 GMT") == max_duration);
  CHECK(parse("Wed, 28 Jan 2027 07:28:00 GMT") == days(99));
}

TEST_CASE("the obsolete RFC 850 and asctime forms") {
  CHECK(parse("Wednesday, 21-Oct-26 07:28:03 GMT") == 3s);
  CHECK(parse("Wed, 21-Oct-26 07:28:03 GMT") == 3s);
  CHECK(parse("Wed Oct 21 07:28:03 2026") == 3s);
  CHECK(parse("Wed Oct  1 07:28:00 2026") == 0s);  // asctime pads the day with a space
  CHECK(parse("Sun Nov  6 08:49:37 1994") == 0s);
  // RFC 850's two-digit year: more than 50 years ahead is the past century.
  const WallClock::time_point now = at();
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == sys_days(1994y / November / 6) + 8h + 49min + 37s);
  CHECK(parse_http_date("Sunday, 06-Nov-76 08:49:37 GMT", now) == sys_days(2076y / November / 6) + 8h + 49min + 37s);
  CHECK(parse_http_date("Sunday, 06-Nov-77 08:49:37 GMT", now) == sys_days(1977y / November / 6) + 8h + 49min + 37s);
}

TEST_CASE("the RFC 9110 examples give the same instant") {
  const auto expected = sys_days(1994y / November / 6) + 8h + 49min + 37s;
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", at()) == expected);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", at()) == expected);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994", at()) == expected);
}

TEST_CASE("bad values are ValueErrors that say why") {
  CHECK(problem("") == "an empty value");
  CHECK(problem("\r") == "an empty value");
  CHECK(problem("soon").find("neither a duration") != std::string::npos);
  CHECK(problem("-5") == "a duration cannot be negative");
  CHECK(problem("5 seconds") != "");
  CHECK(problem("3x") != "");
  CHECK(problem("1000d") != "");  // with a unit, over 100 days is out of range as everywhere
  CHECK(problem(".") != "");
  CHECK(problem("1.2.3") != "");
  // Dates that are not dates.
  CHECK(problem("Wed, 32 Oct 2026 07:28:00 GMT") != "");
  CHECK(problem("Wed, 29 Feb 2026 07:28:00 GMT") != "");  // not a leap year
  CHECK(problem("Wed, 21 Oct 2026 24:00:00 GMT") != "");
  CHECK(problem("Wed, 21 Oct 2026 07:60:00 GMT") != "");
  CHECK(problem("Wed, 21 Oct 2026 07:28:00 CET") != "");
  CHECK(problem("Wed, 21 Oct 2026 07:28:00 +0000") != "");
  CHECK(problem("Wed, 21 Oct 2026 07:28 GMT") != "");
  CHECK(problem("Wed, 21 Okt 2026 07:28:00 GMT") != "");
  CHECK(problem("Xyz, 21 Oct 2026 07:28:00 GMT") != "");
  CHECK(problem("Wed, 21 Oct 26 07:28:00 GMT") != "");  // IMF-fixdate has four digits
  CHECK(problem("Wed, 21 Oct 2026 07:28:00 GMT extra") != "");
  CHECK(problem("Wed Oct 21 07:28:00") != "");
  CHECK(problem("2026-10-21T07:28:00Z") != "");
}

TEST_CASE("a leap second is read as the second after") {
  CHECK(parse("Wed, 21 Oct 2026 07:28:60 GMT") == 60s);
}
