#include <doctest/doctest.h>

#include "attempt_loop_runs.hpp"
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

// How the attempt loop takes the value (--delay-from-output).

using namespace retryx::testing;

namespace {

Policy delay_from_policy(std::uint64_t attempts = 5) {
  Policy p = base_policy(attempts);
  p.classify.output.delay_from = "^Retry-After: *(.*?)\\r?$";
  return p;
}

// A failed attempt (exit 1, 5ms) whose last matching line gave `text`.
AttemptResult asking(std::string text, int code = 1) {
  AttemptResult r = exit_with(code);
  r.output.delay_text = std::move(text);
  return r;
}

}  // namespace

TEST_CASE("--delay-from-output: the command's delay when longer than the backoff's") {
  Run r = run_with(delay_from_policy(), {asking("3"), exit_with(0)});
  CHECK(r.summary.outcome == RunOutcome::success);
  CHECK(r.time.sleeps == std::vector<Duration>{3s});
  REQUIRE(r.log.records.size() == 2);
  CHECK(r.log.records[0].delay == 3s);
  CHECK(r.log.records[0].directed_delay == 3s);
  CHECK(r.log.records[0].directed_delay_problem.empty());
}

TEST_CASE("--delay-from-output: the backoff's delay when longer than the command's") {
  Run r = run_with(delay_from_policy(), {asking("0.5"), asking("0"), exit_with(0)});
  CHECK(r.time.sleeps == std::vector<Duration>{1s, 2s});
  CHECK(r.log.records[0].directed_delay == 500ms);
  CHECK(r.log.records[1].directed_delay == 0s);
}

TEST_CASE("--delay-from-output: each attempt asks for itself, the backoff goes on counting") {
  Run r = run_with(delay_from_policy(), {asking("10"), exit_with(1), exit_with(0)});
  CHECK(r.time.sleeps == std::vector<Duration>{10s, 2s});
  CHECK_FALSE(r.log.records[1].directed_delay);
}

TEST_CASE("--delay-from-output: capped at --max-delay, however far") {
  Policy p = delay_from_policy();
  p.backoff.max_delay = 10s;
  Run r = run_with(p, {asking("3600"), asking("Fri, 31 Dec 9999 23:59:59 GMT"), asking("99999999999"), exit_with(0)});
  CHECK(r.time.sleeps == std::vector<Duration>{10s, 10s, 10s});
  CHECK(r.log.records[0].directed_delay == 1h);
  CHECK(r.log.records[1].directed_delay == max_duration);
  CHECK(r.log.records[2].directed_delay == max_duration);
}

TEST_CASE("--delay-from-output: an HTTP date is relative to the calendar time") {
  // The fake calendar starts at 2026-10-21 00:00:00 UTC; the attempt took 5ms.
  Run r = run_with(delay_from_policy(), {asking("Wed, 21 Oct 2026 00:00:03 GMT\r"), exit_with(0)});
  CHECK(r.time.sleeps == std::vector<Duration>{3s - 5ms});
  CHECK(r.log.records[0].directed_delay == 3s - 5ms);
  // A date in the past is no wait: the backoff's delay.
  Run past = run_with(delay_from_policy(), {asking("Tue, 20 Oct 2026 23:59:00 GMT"), exit_with(0)});
  CHECK(past.time.sleeps == std::vector<Duration>{1s});
  CHECK(past.log.records[0].directed_delay == 0s);
}

TEST_CASE("--delay-from-output: a value that does not parse is noted once and ignored") {
  Run r = run_with(delay_from_policy(), {asking("soon"), asking("\x1b[31m-5"), exit_with(0)});
  CHECK(r.time.sleeps == std::vector<Duration>{1s, 2s});
  CHECK_FALSE(r.log.records[0].directed_delay);
  CHECK(r.log.records[0].directed_delay_problem.find("--delay-from-output: ignored 'soon': neither a duration") == 0);
  // Control characters are escaped.
  CHECK(r.log.records[1].directed_delay_problem.find("--delay-from-output: ignored '\\x1b[31m-5': neither") == 0);
  CHECK(r.log.records[2].directed_delay_problem.empty());
}

TEST_CASE("--delay-from-output: never slept past --max-time: deadline at once") {
  Policy p = delay_from_policy();
  p.max_time = 2s;
  Run r = run_with(p, {asking("3", 7), exit_with(0)});
  CHECK(r.attempts.size() == 1);
  CHECK(r.time.sleeps.empty());
  CHECK(r.summary.outcome == RunOutcome::deadline);
  CHECK(r.summary.exit_status == 7);
  REQUIRE(r.log.records.size() == 1);
  CHECK(r.log.records[0].outcome == AttemptOutcome::deadline);
  CHECK(r.log.records[0].directed_delay == 3s);
  CHECK(r.log.records[0].reason == "the next delay (3s, asked by the command) would end after --max-time 2s");
  // A shorter ask fits.
  Run fits = run_with(p, {asking("1.5"), exit_with(0)});
  CHECK(fits.summary.outcome == RunOutcome::success);
  CHECK(fits.time.sleeps == std::vector<Duration>{1500ms});
}

TEST_CASE("--delay-from-output: read only for an attempt that will be retried") {
  // Success, a fatal failure, the last attempt: no next delay, nothing read.
  Run ok = run_with(delay_from_policy(), {asking("3", 0)});
  CHECK_FALSE(ok.log.records[0].directed_delay);
  Run fatal = run_with(delay_from_policy(), {asking("3", 127)});
  CHECK_FALSE(fatal.log.records[0].directed_delay);
  Run last = run_with(delay_from_policy(1), {asking("soon")});
  CHECK(last.summary.outcome == RunOutcome::exhausted);
  CHECK_FALSE(last.log.records[0].directed_delay);
  CHECK(last.log.records[0].directed_delay_problem.empty());
  // Without the option, a value is never read.
  Run without = run_with(base_policy(), {asking("30"), exit_with(0)});
  CHECK(without.time.sleeps == std::vector<Duration>{1s});
}

TEST_CASE("--delay-from-output: the on-retry hook sees the delay taken") {
  Policy p = delay_from_policy();
  p.hooks.on_retry = "true";
  Run r = run_with(p, {asking("4"), exit_with(0)});
  REQUIRE(r.seen.size() == 3);
  CHECK(r.seen[1].is_hook);
  CHECK(r.seen[1].environment["RETRYX_DELAY_MS"] == "4000");
}
