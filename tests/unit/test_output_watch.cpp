#include <doctest/doctest.h>

#include <optional>
#include <utility>
#include <vector>

#include "output_watch.hpp"

using namespace retryx;

namespace {

OutputPatterns until(const std::string& pattern) {
  OutputPatterns p;
  p.until = pattern;
  return p;
}

// Feeds text in chunks of `step` bytes to a fresh watch; true if `until` matched.
bool matched(const OutputPatterns& patterns, const std::string& text, std::size_t step) {
  OutputWatch watch(patterns);
  LineSplitter splitter;
  for (std::size_t i = 0; i < text.size(); i += step) splitter.feed(std::string_view(text).substr(i, step), watch);
  splitter.finish(watch);
  return watch.matches().until;
}

}  // namespace

TEST_CASE("a line matches wherever the chunks are cut") {
  const std::string text = "alpha\nbeta ready now\ngamma\n";
  for (std::size_t step = 1; step <= text.size(); ++step) {
    CAPTURE(step);
    CHECK(matched(until("ready"), text, step));
    CHECK(matched(until("^beta ready now$"), text, step));
    CHECK_FALSE(matched(until("now\\ngamma"), text, step));  // never across lines
    CHECK_FALSE(matched(until("nope"), text, step));
  }
}

TEST_CASE("the last line counts without a newline") {
  CHECK(matched(until("^done$"), "x\ndone", 3));
  CHECK(matched(until("^done$"), "done", 100));
}

TEST_CASE("a line over 1 MiB is matched in pieces - memory stays bounded") {
  const std::size_t mib = OutputWatch::max_line;
  std::string text(3 * mib + 10, 'x');
  text[2 * mib + 5] = 'Y';  // inside the third piece
  CHECK(matched(until("Y"), text, 65536));
  CHECK(matched(until("Y"), text, 3 * mib + 10));
  // Pieces are exactly 1 MiB: 2 MiB + 1 byte gives two whole pieces and "x".
  CHECK(matched(until("^(?:x{1024}){1024}$"), std::string(2 * mib + 1, 'x'), 65536));
  CHECK(matched(until("^x$"), std::string(2 * mib + 1, 'x'), 65536));
  CHECK_FALSE(matched(until("^xx$"), std::string(2 * mib + 1, 'x'), 65536));
}

TEST_CASE("each condition is tracked - a matched one is not tried again") {
  OutputPatterns p;
  p.until = "ok";
  p.retry_if = "temporary";
  p.stop_if = "fatal";
  OutputWatch watch(p);
  LineSplitter lines;
  lines.feed("temporary failure\n", watch);
  CHECK(watch.matches().retry_if);
  CHECK_FALSE(watch.matches().until);
  CHECK_FALSE(watch.done());
  lines.feed("ok\nfatal\n", watch);
  CHECK(watch.matches().until);
  CHECK(watch.matches().stop_if);
  CHECK(watch.done());
  watch.reset();
  CHECK_FALSE(watch.matches().until);
}

TEST_CASE("PCRE2 syntax - UTF-8 - invalid bytes do not stop matching") {
  CHECK(matched(until("\\d{3}-\\w+"), "code 503-unavailable\n", 4));
  CHECK(matched(until("^h.llo$"), "h\xc3\xa9llo\n", 2));  // . is one character
  CHECK(matched(until("after"), "\xff\xfe bad bytes then after\n", 5));
  CHECK(matched(until("(?i)READY"), "ready\n", 1));
}

TEST_CASE("a bad pattern is a ValueError naming the problem") {
  CHECK_THROWS_AS(OutputWatch(until("(unclosed")), ValueError);
  try {
    OutputWatch w(until("a{2,1}"));
  } catch (const ValueError& e) {
    CHECK(std::string(e.what()).find("bad regular expression") != std::string::npos);
  }
}

TEST_CASE("--fail-if-output is matched as the other conditions, in stdout and stderr alike") {
  OutputPatterns p;
  p.fail_if = "^W: Failed to fetch";
  OutputWatch watch(p);
  LineSplitter out, err;
  out.feed("Hit:1 http://deb.example stable InRelease\nReading package li", watch);
  CHECK_FALSE(watch.matches().fail_if);
  err.feed("W: Failed to fe", watch);
  out.feed("sts... Done\n", watch);
  CHECK_FALSE(watch.matches().fail_if);
  err.feed("tch http://deb.example/dists/stable/InRelease\n", watch);
  CHECK(watch.matches().fail_if);
  CHECK(watch.done());
  watch.reset();
  CHECK_FALSE(watch.matches().fail_if);
  CHECK_FALSE(watch.done());
  // Not across lines, and the last line counts without its newline.
  LineSplitter last;
  last.feed("W: Failed\nto fetch\nW: Failed to fetch", watch);
  CHECK_FALSE(watch.matches().fail_if);
  last.finish(watch);
  CHECK(watch.matches().fail_if);
}

TEST_CASE("--fail-if-output joins done(): scanning stops once it and the others matched") {
  OutputPatterns p;
  p.until = "ready";
  p.fail_if = "warning";
  OutputWatch watch(p);
  LineSplitter lines;
  lines.feed("warning: one\n", watch);
  CHECK(watch.matches().fail_if);
  CHECK_FALSE(watch.done());
  lines.feed("ready\n", watch);
  CHECK(watch.done());
  CHECK_THROWS_AS(OutputWatch([] {
                    OutputPatterns bad;
                    bad.fail_if = "(unclosed";
                    return bad;
                  }()),
                  ValueError);
}

namespace {

// Feeds stdout and stderr pieces in turn to one watch; the delay text at the end.
std::optional<std::string> delay_text(const std::string& pattern, const std::vector<std::pair<int, std::string>>& pieces,
                                      OutputPatterns p = {}) {
  p.delay_from = pattern;
  OutputWatch watch(p);
  LineSplitter out, err;
  for (const auto& [stream, text] : pieces) (stream == 1 ? out : err).feed(text, watch);
  out.finish(watch);
  err.finish(watch);
  return watch.matches().delay_text;
}

const std::string retry_after = "(?i)^Retry-After: *(.*?)\\r?$";

}  // namespace

TEST_CASE("--delay-from-output: the last matching line of either stream gives the value") {
  CHECK(delay_text(retry_after, {{2, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n"}}) == "3");
  CHECK(delay_text(retry_after, {{2, "Retry-After: 3\r\n"}, {1, "retry-after: 5\n"}}) == "5");
  CHECK(delay_text(retry_after, {{1, "retry-after: 5\n"}, {2, "Retry-After: 3\r\n"}}) == "3");
  CHECK(delay_text(retry_after, {{2, "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n"}}) ==
        "Wed, 21 Oct 2026 07:28:00 GMT");
  CHECK(delay_text(retry_after, {{1, "nothing here\n"}}) == std::nullopt);
  // The last line without its newline counts; lines are cut wherever.
  CHECK(delay_text("wait (\\d+)", {{1, "wait 1\nwa"}, {1, "it 2\nwait"}, {1, " 3"}}) == "3");
  // No group: the whole match.
  CHECK(delay_text("\\d+ms", {{1, "in 250ms\n"}}) == "250ms");
}

TEST_CASE("--delay-from-output keeps scanning after the other patterns matched") {
  OutputPatterns p;
  p.until = "ready";
  p.delay_from = "wait (\\d+)";
  OutputWatch watch(p);
  LineSplitter lines;
  lines.feed("ready\nwait 1\n", watch);
  CHECK(watch.matches().until);
  CHECK_FALSE(watch.done());  // the last line counts: never done
  lines.feed("x\nwait 2\ny\n", watch);
  CHECK(watch.matches().delay_text == "2");
  watch.reset();
  CHECK_FALSE(watch.matches().delay_text);
}

TEST_CASE("--delay-from-output: the value kept is at most 256 bytes, whatever the line") {
  const std::string huge(3 * OutputWatch::max_line, '9');
  const auto text = delay_text("^wait (.*)$", {{1, "wait " + huge + "\n"}});
  REQUIRE(text);
  CHECK(text->size() == OutputMatches::max_delay_text);
  // A later short line replaces it.
  CHECK(delay_text("^wait (.*)$", {{1, "wait " + huge + "\nwait 4\n"}}) == "4");
}
