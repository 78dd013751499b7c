#include "duration.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace retryx {

namespace {

// Seconds per unit; "ms" must be tried before "m".
struct Unit {
  std::string_view name;
  double seconds;
};
constexpr Unit units[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Duration parse_duration(std::string_view text) {
  if (text.empty()) throw ValueError("empty duration");
  if (text.front() == '-') throw ValueError("a duration cannot be negative");
  if (text.front() == '+') throw ValueError("not a duration (expected e.g. 250ms, 1.5s, 2m, 1m30s)");

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
      throw ValueError("not a duration (expected e.g. 250ms, 1.5s, 2m, 1m30s)");
    // Only [0-9.] reach strtod; an overflow comes back as HUGE_VAL and is
    // refused by the range check below.
    const double value = std::strtod(std::string(number).c_str(), nullptr);

    double unit_seconds = 0;
    if (i == text.size()) {
      if (start != 0) throw ValueError("a unit is missing after " + std::string(number));
      bare_number = true;
      unit_seconds = 1;
    } else {
      for (const Unit& unit : units) {
        if (text.substr(i, unit.name.size()) == unit.name) {
          unit_seconds = unit.seconds;
          i += unit.name.size();
          break;
        }
      }
      if (unit_seconds == 0) throw ValueError("unknown unit in duration (use ms, s, m, h or d)");
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
