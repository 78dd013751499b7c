#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "duration.hpp"
#include "regex.hpp"

using namespace retryx;

namespace {

// The answer search_lines must give: search on each line alone.
bool any_line(const Regex& regex, std::string_view text) {
  while (true) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    if (regex.search(text.substr(0, end))) return true;
    if (end == text.size()) return false;
    text.remove_prefix(end + 1);
  }
}

// Patterns chosen to differ between "on a line alone" and "with the lines
// beside it": anchors, \s and classes that take '\n', word boundaries,
// dot-all, empty matches, lookaround, subject anchors, verbs, options.
const std::vector<std::string> tricky_patterns = {
    "ab",         "^ab",          "ab$",          "^$",          "^",          "$",
    "a\\s*b",     "a[^x]b",       "(?s)a.b",      "\\bab\\b",    "\\B$",       "^\\B",
    "b\\n?a",     "a\\Rb",        "x*",           "(a|b)+$",     "^(ab|ba)+$", "(?i)AB",
    "(?<!x)ab",   "ab(?!\\s)",    "(?<=\\n)a",    "\\Aab",       "ab\\z",      "ab\\Z",
    "(*COMMIT)ab", "a(*SKIP)b|.", "(?-m)^ab$",    "(?^)^a",      "\\Gab",      "(?m)b$",
    "é",          "\\x{e9}b",     "[[:space:]]a", "\\h*$",       "a\\b",       "^\\s",
    // Found by review: what cannot give back a '\n' it took, and \K.
    "^ab\\R?$",   "a\\R$",        "a\\X$",        "a\\s*+$",     "a\\s++$",     "(?>a\\s*)$",
    "a[^x]*+$",   "a\\s{0,5}+$",  "a\\n?+$",      "(?|a\\s++)$", "a:\\s*\\K\\w*", "a\\s*\\K(b|$)",
};

std::string random_text(std::mt19937& rng) {
  static const std::string alphabet[] = {"a", "b", "x", " ", "\n", "\n", "\t", "\r", "\r\n", ":", "\xc3\xa9", "\xff", "ab", "ba"};
  std::uniform_int_distribution<std::size_t> length(0, 24), pick(0, std::size(alphabet) - 1);
  std::string text;
  for (std::size_t n = length(rng); n > 0; --n) text += alphabet[pick(rng)];
  return text;
}

}  // namespace

TEST_CASE("search_lines gives the answer of each line alone - random texts and tricky patterns") {
  std::mt19937 rng(20261123);
  for (const auto& pattern : tricky_patterns) {
    CAPTURE(pattern);
    const Regex regex(pattern);
    for (int i = 0; i < 3000; ++i) {
      const std::string text = random_text(rng);
      CAPTURE(text);
      REQUIRE(regex.search_lines(text) == any_line(regex, text));
    }
  }
}

TEST_CASE("search_lines - what lines beside a line must not change") {
  // Across lines is not a match.
  CHECK_FALSE(Regex("a\\s*b").search_lines("xa\nbx"));
  CHECK(Regex("a\\s*b").search_lines("xa\nbx\nab"));
  CHECK_FALSE(Regex("(?s)a.b").search_lines("a\nb"));
  // ^ and $ at each line's ends, not only the text's.
  CHECK(Regex("^two$").search_lines("one\ntwo\nthree"));
  CHECK(Regex("^$").search_lines("one\n\nthree"));
  CHECK(Regex("^$").search_lines("one\n"));  // "one" and an empty line
  CHECK_FALSE(Regex("^$").search_lines("one\ntwo"));
  // What a line alone would see at its ends.
  CHECK(Regex("(?<!x)ab").search_lines("x\nab"));
  CHECK(Regex("ab(?!\\s)").search_lines("ab\nx"));
  CHECK(Regex("\\Aab").search_lines("x\nab"));
  CHECK(Regex("ab\\z").search_lines("ab\nx"));
  CHECK(Regex("(?-m)^ab$").search_lines("x\nab\ny"));
  CHECK_FALSE(Regex("\\B$").search_lines("a\nb"));
  // A later line still counts after an earlier candidate failed alone.
  CHECK(Regex("a\\s+b").search_lines("a\n b\na b"));
  // CRLF output: \R and possessive quantifiers must not take the '\n'.
  CHECK(Regex("^OK\\R?$").search_lines("OK\r\nnext"));
  CHECK(Regex("done\\s*+$").search_lines("done \nx"));
  CHECK(Regex("error:\\s*\\K\\w*").search_lines("error:\nok"));
}

TEST_CASE("patterns that could see beside the line are matched line by line") {
  for (const char* pattern : {"(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", "\\Aa", "a\\z", "a\\Z", "\\Ga",
                              "(*COMMIT)a", "(*CR)a$", "(?m)a$", "(?-m)a$", "(?im:a)", "(?^)a", "(?C1)a",
                              "(?>a\\s*)$", "a\\s*+$", "a\\s++$", "a\\n?+$", "a\\s{0,5}+$", "a\\R$", "a\\X$", "a\\Kb"}) {
    CAPTURE(pattern);
    CHECK_FALSE(Regex(pattern).can_scan_lines());
  }
  for (const char* pattern : {"a", "^a$", "(?i)connection (refused|reset)", "a\\s*b", "(?:ab)+", "(?<name>x)\\k<name>",
                              "(?s)a.b", "\\bword\\b", "(?|a|b)"}) {
    CAPTURE(pattern);
    CHECK(Regex(pattern).can_scan_lines());
  }
}

TEST_CASE("a bad pattern is a ValueError with PCRE2's reason") {
  CHECK_THROWS_AS(Regex("(unclosed"), ValueError);
  CHECK_THROWS_WITH_AS(Regex("a{2,1}"), doctest::Contains("bad regular expression at offset"), ValueError);
}

namespace {

// The answer last_capture must give: each line alone, the last that matches.
std::optional<std::string> last_line_value(const std::string& pattern, std::string_view text) {
  const Regex alone(pattern);
  std::optional<std::string> last;
  while (true) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    if (auto v = alone.last_capture(text.substr(0, end))) last = std::string(*v);
    if (end == text.size()) return last;
    text.remove_prefix(end + 1);
  }
}

std::optional<std::string> last_capture(const std::string& pattern, std::string_view text) {
  const auto v = Regex(pattern).last_capture(text);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

}  // namespace

TEST_CASE("last_capture: group 1 of the last matching line, or the whole match") {
  CHECK(last_capture("^Retry-After: *(.*?)\\r?$", "HTTP/1.1 429\r\nRetry-After: 3\r\nX: y\r\n") == "3");
  CHECK(last_capture("^Retry-After: *(.*?)\\r?$", "Retry-After: 3\nRetry-After: 7\nother") == "7");
  CHECK(last_capture("(?i)^Retry-After: *(.*?)\\r?$", "retry-after: 120\r") == "120");
  CHECK(last_capture("(?i)^Retry-After: *(.*?)\\r?$", "RETRY-AFTER: Wed, 21 Oct 2026 07:28:00 GMT\r") ==
        "Wed, 21 Oct 2026 07:28:00 GMT");
  CHECK(last_capture("\\d+s", "wait 3s\nwait 10s then") == "10s");  // no group: the whole match
  CHECK(last_capture("wait (\\d+)|hold", "wait 3\nhold") == "");    // group 1 took no part
  CHECK(last_capture("(x)", "a\nb") == std::nullopt);
  CHECK(last_capture("^$", "a\n") == "");                          // the empty last line
  CHECK(last_capture("^(a*)$", "aa\nb\na") == "a");
  // Never across lines: the value comes from the line alone.
  CHECK(last_capture("a\\s*(b)", "a\nb") == std::nullopt);
  CHECK(last_capture("a\\s*(b)", "a\nb\nab") == "b");
  // Patterns matched line by line give the same answers.
  CHECK(last_capture("(?<!x)(ab)", "ab1\nxab\nab2") == "ab");
  CHECK(last_capture("\\Aab(\\d)", "ab1\nxab\nab2") == "2");
}

TEST_CASE("last_capture gives the answer of each line alone - random texts and tricky patterns") {
  std::mt19937 rng(20261203);
  for (const auto& base : tricky_patterns) {
    for (const std::string& pattern : {base, "(" + base + ")"}) {
      CAPTURE(pattern);
      const Regex regex(pattern);
      for (int i = 0; i < 1000; ++i) {
        const std::string text = random_text(rng);
        CAPTURE(text);
        const auto got = regex.last_capture(text);
        REQUIRE(got.has_value() == regex.search_lines(text));
        REQUIRE((got ? std::optional<std::string>(*got) : std::nullopt) == last_line_value(pattern, text));
      }
    }
  }
}
