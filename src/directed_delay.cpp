#include "directed_delay.hpp"

#include <array>
#include <cstdlib>
#include <string>
#include <vector>

namespace retryx {

namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> short_days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> long_days = {"monday", "tuesday", "wednesday", "thursday",
                                                       "friday", "saturday", "sunday"};
constexpr std::array<std::string_view, 12> months = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// A number of min_digits to max_digits digits and nothing else.
std::optional<int> digits(std::string_view s, std::size_t min_digits, std::size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_day_name(std::string_view s, bool long_allowed) {
  for (auto name : short_days)
    if (iequals(s, name)) return true;
  if (long_allowed)
    for (auto name : long_days)
      if (iequals(s, name)) return true;
  return false;
}

std::optional<unsigned> month_of(std::string_view s) {
  for (std::size_t i = 0; i < months.size(); ++i)
    if (iequals(s, months[i])) return static_cast<unsigned>(i + 1);
  return std::nullopt;
}

bool is_gmt(std::string_view s) { return iequals(s, "gmt") || iequals(s, "utc"); }

// "08:49:37" (a leap second 60 allowed): seconds since midnight.
std::optional<seconds> time_of_day(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  const auto h = digits(s.substr(0, 2), 2, 2), m = digits(s.substr(3, 2), 2, 2), sec = digits(s.substr(6, 2), 2, 2);
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return hours(*h) + minutes(*m) + seconds(*sec);
}

std::optional<sys_seconds> make_date(std::optional<int> y, std::optional<unsigned> mo, std::optional<int> d,
                                     std::optional<seconds> t) {
  if (!y || !mo || !d || !t) return std::nullopt;
  const year_month_day date{year{*y}, month{*mo}, day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return sys_seconds(sys_days(date)) + *t;
}

// RFC 850's two-digit year, placed by RFC 9110 §5.6.7.
int full_year(int two_digits, WallClock::time_point now) {
  const int this_year = static_cast<int>(year_month_day(floor<days>(now)).year());
  int y = this_year / 100 * 100 + two_digits;
  if (y > this_year + 50) y -= 100;
  return y;
}

// A bare number of seconds ("30", "1.5"): the form of Retry-After.
bool is_bare_number(std::string_view s) {
  bool digit = false, dot = false;
  for (char c : s) {
    if (c == '.' && !dot) dot = true;
    else if (is_digit(c)) digit = true;
    else return false;
  }
  return digit;
}

}  // namespace

std::optional<sys_seconds> parse_http_date(std::string_view text, WallClock::time_point now) {
  const std::vector<std::string_view> w = words(trim(text));
  if (w.empty()) return std::nullopt;
  if (w.front().ends_with(',')) {
    const std::string_view day_name = w.front().substr(0, w.front().size() - 1);
    if (w.size() == 6 && is_day_name(day_name, false) && is_gmt(w[5])) {
      // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
      return make_date(digits(w[3], 4, 4), month_of(w[2]), digits(w[1], 1, 2), time_of_day(w[4]));
    }
    if (w.size() == 4 && is_day_name(day_name, true) && is_gmt(w[3])) {
      // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
      const std::string_view date = w[1];
      const std::size_t dash1 = date.find('-'), dash2 = date.rfind('-');
      if (dash1 == std::string_view::npos || dash1 == dash2) return std::nullopt;
      const std::string_view y = date.substr(dash2 + 1);
      std::optional<int> full = digits(y, 4, 4);
      if (const auto two = digits(y, 2, 2)) full = full_year(*two, now);
      return make_date(full, month_of(date.substr(dash1 + 1, dash2 - dash1 - 1)),
                       digits(date.substr(0, dash1), 1, 2), time_of_day(w[2]));
    }
    return std::nullopt;
  }
  if (w.size() == 5 && is_day_name(w[0], false)) {
    // asctime: Sun Nov  6 08:49:37 1994
    return make_date(digits(w[4], 4, 4), month_of(w[1]), digits(w[2], 1, 2), time_of_day(w[3]));
  }
  return std::nullopt;
}

Duration parse_directed_delay(std::string_view text, WallClock::time_point now) {
  text = trim(text);
  if (text.empty()) throw ValueError("an empty value");
  if (is_bare_number(text)) {
    // Seconds, however many: a far-off wish is capped later, not refused.
    if (std::strtod(std::string(text).c_str(), nullptr) > duration<double>(max_duration).count())
      return max_duration;
    return parse_duration(text);
  }
  if (is_digit(text.front()) || text.front() == '.' || text.front() == '-' || text.front() == '+')
    return parse_duration(text);  // its own ValueError says what is wrong
  const std::optional<sys_seconds> date = parse_http_date(text, now);
  if (!date) throw ValueError("neither a duration (30, 1.5s, 2m) nor an HTTP date (Wed, 21 Oct 2026 07:28:00 GMT)");
  // Whole seconds first, so that no date, however far, overflows.
  const auto now_seconds = floor<seconds>(now);
  const seconds ahead = *date - now_seconds;
  if (ahead <= seconds::zero()) return Duration::zero();
  if (ahead > duration_cast<seconds>(max_duration)) return max_duration;
  return std::max(Duration::zero(), Duration(ahead) - duration_cast<Duration>(now - now_seconds));
}

}  // namespace retryx
