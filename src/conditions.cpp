#include "conditions.hpp"

#include <charconv>
#include <fmt/format.h>
#include <vector>

#include "signal_names.hpp"

namespace retryx {

namespace {

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> items;
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

// An exit code: 0-255, decimal digits only.
std::optional<int> parse_code(std::string_view text) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value > 255) return std::nullopt;
  return value;
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Adds "N" or "A-B" to the set; false when the item is neither.
bool add_code_item(std::string_view item, CodeSet& set) {
  auto dash = item.find('-');
  if (dash == std::string_view::npos) {
    if (!all_digits(item)) return false;
    auto code = parse_code(item);
    if (!code) throw ValueError(fmt::format("exit code {} is out of range (0-255)", item));
    set.codes.set(static_cast<std::size_t>(*code));
    return true;
  }
  std::string_view low_text = item.substr(0, dash), high_text = item.substr(dash + 1);
  if (!all_digits(low_text) || !all_digits(high_text)) return false;
  auto low = parse_code(low_text), high = parse_code(high_text);
  if (!low || !high) throw ValueError(fmt::format("range {} is out of 0-255", item));
  if (*low > *high) throw ValueError(fmt::format("range {} is reversed", item));
  for (int c = *low; c <= *high; ++c) set.codes.set(static_cast<std::size_t>(c));
  return true;
}

std::string format_code_ranges(const CodeSet& set) {
  std::vector<std::string> parts;
  for (int c = 0; c < 256;) {
    if (!set.contains(c)) {
      ++c;
      continue;
    }
    int end = c;
    while (end + 1 < 256 && set.contains(end + 1)) ++end;
    parts.push_back(end == c ? fmt::format("{}", c) : fmt::format("{}-{}", c, end));
    c = end + 1;
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

}  // namespace

CodeSet parse_codes(std::string_view text) {
  if (text.empty()) throw ValueError("empty list of exit codes");
  CodeSet set;
  for (std::string_view item : split_commas(text)) {
    if (item.empty()) throw ValueError("empty item in list");
    if (!add_code_item(item, set))
      throw ValueError(fmt::format("'{}' is not an exit code or a range (e.g. 0, 1-3)", item));
  }
  return set;
}

Conditions parse_conditions(std::string_view text) {
  if (text.empty()) throw ValueError("empty list of conditions");
  Conditions conditions;
  for (std::string_view item : split_commas(text)) {
    if (item.empty()) throw ValueError("empty item in list");
    if (add_code_item(item, conditions.codes)) continue;
    if (item == "timeout") {
      conditions.timeout = true;
      continue;
    }
    auto signal = parse_signal(item);
    if (!signal || *signal >= static_cast<int>(conditions.signals.size()))
      throw ValueError(fmt::format(
          "'{}' is not an exit code, a range, a signal or 'timeout'", item));
    conditions.signals.set(static_cast<std::size_t>(*signal));
  }
  return conditions;
}

std::string condition_name(const AttemptResult& result) {
  if (result.timed_out) return "timeout";
  if (auto* s = std::get_if<Signaled>(&result.how)) return signal_name(s->signal);
  return fmt::format("exit code {}", shell_status(result.how));
}

std::string Conditions::match(const AttemptResult& result) const {
  bool hit = false;
  if (result.timed_out) {
    hit = timeout;
  } else if (auto* s = std::get_if<Signaled>(&result.how)) {
    hit = s->signal < static_cast<int>(signals.size()) && signals.test(static_cast<std::size_t>(s->signal));
  } else {
    hit = codes.contains(shell_status(result.how));
  }
  return hit ? condition_name(result) : "";
}

std::string format_codes(const CodeSet& set) { return format_code_ranges(set); }

std::string format_conditions(const Conditions& conditions) {
  std::vector<std::string> parts;
  if (!conditions.codes.empty()) parts.push_back(format_code_ranges(conditions.codes));
  for (std::size_t s = 1; s < conditions.signals.size(); ++s)
    if (conditions.signals.test(s)) parts.push_back(signal_name(static_cast<int>(s)));
  if (conditions.timeout) parts.push_back("timeout");
  if (parts.empty()) return "none";
  return fmt::format("{}", fmt::join(parts, ","));
}

}  // namespace retryx
