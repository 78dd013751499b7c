#include "duration.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace retryx {

namespace {

// Seconds per unit.
struct Unit {
  std::string_view name;
  double seconds;
};
constexpr Unit units[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

constexpr std::string_view expected_forms = "expected e.g. 250ms, 1.5s, 2m, 1m30s";

// Units as people also write them ("5min", "30 sec", "2 hours"), and the
// unit retryx reads instead; compared without regard to case.
struct Spelling {
  std::string_view word;
  std::string_view unit;
};
constexpr Spelling spellings[] = {
    {"ms", "ms"},     {"msec", "ms"},   {"msecs", "ms"},  {"millisecond", "ms"}, {"milliseconds", "ms"},
    {"s", "s"},       {"sec", "s"},     {"secs", "s"},    {"second", "s"},       {"seconds", "s"},
    {"m", "m"},       {"min", "m"},     {"mins", "m"},    {"minute", "m"},       {"minutes", "m"},
    {"h", "h"},       {"hr", "h"},      {"hrs", "h"},     {"hour", "h"},         {"hours", "h"},
    {"d", "d"},       {"day", "d"},     {"days", "d"},
};

std::string_view unit_for(std::string_view word) {
  for (const Spelling& s : spellings) {
    if (s.word.size() != word.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < word.size() && same; ++k)
      same = s.word[k] == (word[k] >= 'A' && word[k] <= 'Z' ? char(word[k] - 'A' + 'a') : word[k]);
    if (same) return s.unit;
  }
  return {};
}

// The value with every unit respelled the way retryx reads it and no blank
// before a unit ("1 hour 30 min" -> "1h30m"), or "" when some word is no
// unit at all.
std::string respelled(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_blank(text[i])) {
      ++i;
    } else if (is_letter(text[i])) {
      const std::size_t start = i;
      while (i < text.size() && is_letter(text[i])) ++i;
      const std::string_view unit = unit_for(text.substr(start, i - start));
      if (unit.empty()) return "";
      out += unit;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// Why the word after a number is not a unit, with what was probably meant.
[[noreturn]] void unknown_unit(std::string_view text, std::string_view word, bool after_blank) {
  std::string suggestion;
  if (const std::string_view unit = unit_for(word); !unit.empty()) {
    suggestion = fmt::format("did you mean '{}'? ", unit);
    const std::string whole = respelled(text);
    try {
      if (!whole.empty() && whole != text) {
        (void)parse_duration(whole);
        suggestion = fmt::format("did you mean '{}'? ", whole);
      }
    } catch (const ValueError&) {
    }
    if (after_blank && unit == word)
      throw ValueError(fmt::format("no blank is allowed before the unit '{}' ({}units: ms, s, m, h, d)", word,
                                   suggestion));
  }
  throw ValueError(fmt::format("unknown unit '{}' ({}units: ms, s, m, h, d)", word, suggestion));
}

}  // namespace

Duration parse_duration(std::string_view text) {
  if (text.empty()) throw ValueError("empty duration");
  if (text.front() == '-') throw ValueError("a duration cannot be negative");
  if (text.front() == '+') throw ValueError(fmt::format("not a duration ({})", expected_forms));

  // Scanned by hand rather than with strtod/from_chars so that "inf", "nan",
  // hex floats and exponents are refused instead of half-accepted.
  double total_seconds = 0;
  std::size_t i = 0;
  bool bare_number = false;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && is_digit(text[i])) ++i;
    }
    const std::string_view number = text.substr(start, i - start);
    if (number.find_first_of("0123456789") == std::string_view::npos)
      throw ValueError(fmt::format("not a duration ({})", expected_forms));
    // Only [0-9.] reach strtod; an overflow comes back as HUGE_VAL and is
    // refused by the range check below.
    const double value = std::strtod(std::string(number).c_str(), nullptr);

    double unit_seconds = 0;
    if (i == text.size()) {
      if (start != 0) throw ValueError("a unit is missing after " + std::string(number));
      bare_number = true;
      unit_seconds = 1;
    } else {
      // The unit is the whole word of letters after the number: "5min"
      // is an unknown unit "min", not 5 minutes followed by "in".
      std::size_t word_start = i;
      while (word_start < text.size() && is_blank(text[word_start])) ++word_start;
      std::size_t word_end = word_start;
      while (word_end < text.size() && is_letter(text[word_end])) ++word_end;
      const std::string_view word = text.substr(word_start, word_end - word_start);
      if (word.empty()) throw ValueError(fmt::format("not a duration ({})", expected_forms));
      for (const Unit& unit : units)
        if (word_start == i && word == unit.name) unit_seconds = unit.seconds;
      if (unit_seconds == 0) unknown_unit(text, word, word_start != i);
      i = word_end;
    }
    total_seconds += value * unit_seconds;
    if (!std::isfinite(total_seconds) ||
        total_seconds > std::chrono::duration<double>(max_duration).count())
      throw ValueError("duration out of range (at most 100 days)");
    if (bare_number) break;
  }
  // A positive duration never rounds to 0, which means "none" for several
  // options (spec §1): below a nanosecond it becomes the shortest there is.
  const Duration d(std::llround(total_seconds * 1e9));
  return total_seconds > 0 && d == Duration::zero() ? Duration(1) : d;
}

long long to_millis(Duration d) {
  return std::chrono::round<std::chrono::milliseconds>(d).count();
}

std::string format_duration(Duration d) {
  long long ms = to_millis(d);
  if (ms == 0 && d > Duration::zero()) {
    // Under half a millisecond, yet not none: in full ("0.000001ms").
    std::string fraction = fmt::format("0.{:06}", d.count());
    while (fraction.back() == '0') fraction.pop_back();
    return fraction + "ms";
  }
  if (ms < 1000) return fmt::format("{}ms", ms);

  std::string out;
  constexpr long long ms_per_day = 86'400'000, ms_per_hour = 3'600'000, ms_per_minute = 60'000;
  for (auto [size, suffix] : {std::pair{ms_per_day, 'd'}, {ms_per_hour, 'h'}, {ms_per_minute, 'm'}}) {
    if (ms >= size) {
      out += fmt::format("{}{}", ms / size, suffix);
      ms %= size;
    }
  }
  if (ms != 0) {
    std::string seconds = fmt::format("{}.{:03}", ms / 1000, ms % 1000);
    while (seconds.back() == '0') seconds.pop_back();
    if (seconds.back() == '.') seconds.pop_back();
    out += seconds + "s";
  }
  return out;
}

}  // namespace retryx
