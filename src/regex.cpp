#include "regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <pcre2.h>

#include "duration.hpp"

namespace retryx {

namespace {

// Constructs with which a match within one line can depend on what stands
// beside the line, or which change how PCRE2 moves from one start to the
// next. Found anywhere in the pattern text (even where escaped or quoted:
// a false alarm only costs speed), they keep matching line by line.
bool depends_on_context(std::string_view pattern) {
  static constexpr std::string_view tokens[] = {
      "\\A", "\\z", "\\Z", "\\G",       // anchored to the subject, not the line
      "(?=", "(?!", "(?<=", "(?<!",     // lookaround sees the next or previous line
      "(?*", "(?<*",                    // non-atomic lookaround
      "(*",                             // verbs ((*COMMIT), (*SKIP)), newline conventions
      "(?C",                            // callouts
      "(?^",                            // unsets multi-line mode
      // What cannot give back a '\n' it took, so that the scan fails where
      // the line alone matches: atomic groups, possessive quantifiers, and
      // \R and \X (atomic in PCRE2: "\r\n" is one of either).
      "(?>", "*+", "++", "?+", "}+", "\\R", "\\X",
      "\\K",                            // the reported start is not where the match began
  };
  for (const auto& token : tokens)
    if (pattern.find(token) != std::string_view::npos) return true;
  // An inline option group that names m: (?m), (?-m), (?im:...).
  for (std::size_t at = pattern.find("(?"); at != std::string_view::npos; at = pattern.find("(?", at + 2)) {
    std::size_t i = at + 2;
    bool names_m = false;
    while (i < pattern.size() && (std::isalpha(static_cast<unsigned char>(pattern[i])) || pattern[i] == '-')) {
      names_m = names_m || pattern[i] == 'm';
      ++i;
    }
    if (names_m && i < pattern.size() && (pattern[i] == ')' || pattern[i] == ':')) return true;
  }
  return false;
}

pcre2_code* compile(const std::string& pattern, uint32_t options) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &error,
                                   &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw ValueError(fmt::format("bad regular expression at offset {}: {}", offset,
                                 reinterpret_cast<const char*>(message)));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if refused
  return code;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;        // one line is the subject
  pcre2_code* lines_code = nullptr;  // many lines, multi-line mode; null: line by line only
  pcre2_match_data* data = nullptr;
  bool has_group = false;            // the value of a match is group 1, else the whole match
  ~Impl() {
    pcre2_match_data_free(data);
    pcre2_code_free(lines_code);
    pcre2_code_free(code);
  }
};

Regex::Regex(const std::string& pattern) : impl_(std::make_unique<Impl>()) {
  // Output is not always valid UTF-8: match it as UTF-8 where it is, and let
  // invalid bytes simply not match rather than fail the whole line.
  const uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  impl_->code = compile(pattern, options);
  // ^ and $ at each line's start and end, as on a line alone.
  if (!depends_on_context(pattern)) impl_->lines_code = compile(pattern, options | PCRE2_MULTILINE);
  impl_->data = pcre2_match_data_create(2, nullptr);  // the match and group 1
  uint32_t groups = 0;
  pcre2_pattern_info(impl_->code, PCRE2_INFO_CAPTURECOUNT, &groups);
  impl_->has_group = groups > 0;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

bool Regex::can_scan_lines() const { return impl_->lines_code != nullptr; }

bool Regex::search(std::string_view text) const {
  return pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, impl_->data,
                     nullptr) >= 0;
}

bool Regex::search_lines(std::string_view text) const { return find_line(text, 0).has_value(); }

std::optional<std::string_view> Regex::last_capture(std::string_view text) const {
  std::optional<std::string_view> last;
  std::size_t from = 0;
  while (const std::optional<Line> line = find_line(text, from)) {
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(impl_->data);
    const std::size_t group = impl_->has_group ? 1 : 0;
    const PCRE2_SIZE begin = ovector[2 * group], end = ovector[2 * group + 1];
    // An unset group; \K in a lookahead can also put the start after the end.
    if (begin == PCRE2_UNSET || end == PCRE2_UNSET || begin > end) last = text.substr(line->start, 0);
    else last = text.substr(line->start + begin, end - begin);
    from = line->start + line->size + 1;
    if (from > text.size()) break;
  }
  return last;
}

std::optional<Regex::Line> Regex::find_line(std::string_view text, std::size_t from) const {
  // From a line's start, the scan finds the leftmost place where the
  // pattern matches with the lines beside it in view. A line that matches
  // alone matches there too (nothing in the pattern looks past the line,
  // and '\n' stands where the line's ends were), so no line before the one
  // the match starts in can match alone. That line is then tried alone: a
  // match that only exists across lines is not a match.
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  bool scan = impl_->lines_code != nullptr;
  while (true) {
    if (scan) {
      const int rc = pcre2_match(impl_->lines_code, subject, text.size(), from, 0, impl_->data, nullptr);
      // In multi-line mode ^ does not match after a '\n' that ends the
      // subject: the empty last line such a text has is tried alone.
      if (rc == PCRE2_ERROR_NOMATCH) {
        if (text.ends_with('\n') && search(text.substr(text.size()))) return Line{text.size(), 0};
        return std::nullopt;
      }
      if (rc >= 0) {
        const std::size_t start = pcre2_get_ovector_pointer(impl_->data)[0];
        if (start > from) {
          const std::size_t newline = text.rfind('\n', start - 1);
          if (newline != std::string_view::npos && newline >= from) from = newline + 1;
        }
      } else {
        scan = false;  // a resource limit on this long subject: line by line
      }
    }
    const std::size_t end = std::min(text.find('\n', from), text.size());
    if (search(text.substr(from, end - from))) return Line{from, end - from};
    if (end == text.size()) return std::nullopt;
    from = end + 1;
  }
}

}  // namespace retryx
