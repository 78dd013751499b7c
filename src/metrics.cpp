#include "metrics.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "atomic_file.hpp"
#include "file_io.hpp"
#include "file_lock.hpp"

namespace retryx {

namespace {

// --- The series --------------------------------------------------------------

struct Family {
  std::string_view name;
  std::string_view type;
  bool has_outcome;  // labels job and outcome; the others have job alone
  std::string_view help;
};

constexpr std::array<Family, 7> families = {{
    {"retryx_runs_total", "counter", true, "Runs of the job that ended, by the outcome of the end event."},
    {"retryx_attempts_total", "counter", false, "Attempts made by the job's runs."},
    {"retryx_last_run_attempts", "gauge", false, "Attempts made by the job's last run."},
    {"retryx_last_run_duration_seconds", "gauge", false, "How long the job's last run took, delays included."},
    {"retryx_last_run_exit_status", "gauge", false, "The exit status of the job's last run."},
    {"retryx_last_run_timestamp_seconds", "gauge", false, "When the job's last run ended (Unix time)."},
    {"retryx_last_success_timestamp_seconds", "gauge", false, "When a run of the job last succeeded (Unix time)."},
}};
enum FamilyIndex : std::size_t {
  runs_total, attempts_total, last_attempts, last_duration, last_exit_status, last_timestamp, last_success
};

// The end event's outcomes (name(RunOutcome)): a job's runs_total series
// exist from its first run on, at 0 until the outcome happens, so that
// rate() and increase() see the first one.
constexpr std::array<std::string_view, 7> every_outcome = {"success",     "exhausted",    "fatal", "deadline",
                                                           "interrupted", "circuit_open", "budget"};
// A RunOutcome added without a place above stops the build here (-Wswitch).
[[maybe_unused]] constexpr bool in_every_outcome(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::success:
    case RunOutcome::exhausted:
    case RunOutcome::fatal:
    case RunOutcome::deadline:
    case RunOutcome::interrupted:
    case RunOutcome::circuit_open:
    case RunOutcome::budget: return true;
  }
  return false;
}

struct SeriesKey {
  std::string job;
  std::string outcome;  // empty but in runs_total
  auto operator<=>(const SeriesKey&) const = default;
};
using Series = std::array<std::map<SeriesKey, double>, families.size()>;

std::optional<std::size_t> family_of(std::string_view name) {
  for (std::size_t f = 0; f < families.size(); ++f)
    if (families[f].name == name) return f;
  return std::nullopt;
}

// A counter this retryx can go on counting: a whole number a double holds exactly.
bool whole_count(double value) { return value >= 0 && value <= 9007199254740992.0 && std::floor(value) == value; }

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);  // the shortest text that reads back as the same double
}

// --- UTF-8 --------------------------------------------------------------------

// The length of the valid UTF-8 sequence at text[i], or 0.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t code = 0;
  if (c >= 0xc2 && c <= 0xdf) n = 2, code = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, code = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, code = c & 0x07;
  else return 0;
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3f);
  }
  const bool overlong = (n == 3 && code < 0x800) || (n == 4 && code < 0x10000);
  if (overlong || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return 0;
  return n;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    out += n ? text.substr(i, n) : "\xef\xbf\xbd";  // U+FFFD
    i += n ? n : 1;
  }
  return out;
}

bool is_utf8(std::string_view text) { return valid_utf8(text) == text; }

// --- Reading the previous text ---------------------------------------------

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool blank(char c) { return c == ' ' || c == '\t'; }

// One line, read as the exposition format's grammar has it.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return i_ >= text_.size(); }
  bool take(char c) {
    if (done() || text_[i_] != c) return false;
    ++i_;
    return true;
  }
  bool skip_blanks() {
    const std::size_t start = i_;
    while (!done() && blank(text_[i_])) ++i_;
    return i_ > start;
  }
  // A metric name, or a label name (no ':'); empty when there is none.
  std::string_view name(bool metric) {
    const std::size_t start = i_;
    while (!done() && (i_ == start ? name_start(text_[i_]) : name_char(text_[i_])) && (metric || text_[i_] != ':'))
      ++i_;
    return text_.substr(start, i_ - start);
  }
  // Up to the next blank.
  std::string_view token() {
    const std::size_t start = i_;
    while (!done() && !blank(text_[i_])) ++i_;
    return text_.substr(start, i_ - start);
  }
  // A quoted label value, unescaped; nullopt for a bad escape or no end.
  std::optional<std::string> quoted() {
    if (!take('"')) return std::nullopt;
    std::string value;
    while (!done()) {
      const char c = text_[i_++];
      if (c == '"') return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (done()) return std::nullopt;
      const char e = text_[i_++];
      if (e == 'n') value += '\n';
      else if (e == '\\' || e == '"') value += e;
      else return std::nullopt;
    }
    return std::nullopt;
  }

 private:
  std::string_view text_;
  std::size_t i_ = 0;
};

// A sample value as Prometheus reads it (Go's ParseFloat): a decimal,
// NaN, +Inf, -Inf.
std::optional<double> parse_value(std::string_view text) {
  if (text.starts_with('+')) text.remove_prefix(1);
  if (text.empty() || text.starts_with('+')) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

using Why = std::optional<std::string_view>;  // why a line was dropped; nothing: kept

Why read_comment(std::string_view line) {
  Cursor c(line.substr(1));
  c.skip_blanks();
  const std::string_view keyword = c.token();
  if (keyword != "HELP" && keyword != "TYPE") return "a comment retryx does not write";
  c.skip_blanks();
  if (!family_of(c.name(true))) return "not a series of retryx";
  return std::nullopt;  // ours: written anew
}

Why read_sample(std::string_view line, Series& series, const std::string& job) {
  Cursor c(line);
  const auto family = family_of(c.name(true));
  if (!family) return "not a series of retryx";
  c.skip_blanks();
  std::map<std::string, std::string> labels;
  if (c.take('{')) {
    while (true) {
      c.skip_blanks();
      if (c.take('}')) break;
      const std::string label(c.name(false));
      c.skip_blanks();
      if (label.empty() || !c.take('=')) return "bad syntax";
      c.skip_blanks();
      auto value = c.quoted();
      if (!value) return "bad syntax";
      if (!labels.emplace(label, std::move(*value)).second) return "a label given twice";
      c.skip_blanks();
      if (c.take('}')) break;
      if (!c.take(',')) return "bad syntax";
    }
    c.skip_blanks();
  }
  const auto value = parse_value(c.token());
  if (!value) return "not a valid value";
  c.skip_blanks();
  if (!c.done()) return "a timestamp, which node_exporter's textfile collector refuses";
  const bool has_outcome = families[*family].has_outcome;
  if (labels.size() != (has_outcome ? 2u : 1u) || !labels.contains("job") || (has_outcome && !labels.contains("outcome")))
    return "not the labels retryx writes";
  for (const auto& [label, text] : labels)
    if (!is_utf8(text)) return "a label value that is not UTF-8";
  SeriesKey key{labels["job"], has_outcome ? labels["outcome"] : ""};
  // This job's counters go on from their values: they must be counts.
  if (key.job == job && families[*family].type == "counter" && !whole_count(*value)) return "not a count";
  if (key.job == job && *family == last_success && !(*value >= 0 && std::isfinite(*value))) return "not a time";
  if (!series[*family].emplace(std::move(key), *value).second) return "a series given twice";
  return std::nullopt;
}

Why read_line(std::string_view line, Series& series, const std::string& job) {
  std::size_t start = 0;
  while (start < line.size() && blank(line[start])) ++start;
  line.remove_prefix(start);
  if (line.empty()) return std::nullopt;
  return line.starts_with('#') ? read_comment(line) : read_sample(line, series, job);
}

// A dropped line as the report quotes it: printable ASCII, 60 bytes at most.
std::string excerpt(std::string_view line) {
  std::string out;
  for (const char c : line.substr(0, 60)) out += c >= 0x20 && c < 0x7f ? c : '?';
  return "'" + out + (line.size() > 60 ? "...'" : "'");
}

// --- This run ----------------------------------------------------------------

void add_run(Series& series, const RunFigures& run) {
  const SeriesKey job{run.job, ""};
  for (const std::string_view outcome : every_outcome) series[runs_total].try_emplace({run.job, std::string(outcome)}, 0.0);
  series[runs_total][{run.job, run.outcome}] += 1;
  series[attempts_total][job] += static_cast<double>(run.attempts);
  series[last_attempts][job] = static_cast<double>(run.attempts);
  series[last_duration][job] = static_cast<double>(run.duration_ms) / 1000;
  series[last_exit_status][job] = run.exit_status;
  series[last_timestamp][job] = static_cast<double>(run.ended_at_ms) / 1000;
  if (run.outcome == "success") series[last_success][job] = static_cast<double>(run.ended_at_ms) / 1000;
}

std::string render(const Series& series) {
  std::string out;
  for (std::size_t f = 0; f < families.size(); ++f) {
    if (series[f].empty()) continue;
    const Family& family = families[f];
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name, family.type);
    for (const auto& [key, value] : series[f]) {
      out += fmt::format("{}{{job=\"{}\"", family.name, escape_label_value(key.job));
      if (family.has_outcome) out += fmt::format(",outcome=\"{}\"", escape_label_value(key.outcome));
      out += fmt::format("}} {}\n", format_value(value));
    }
  }
  return out;
}

// --- The file side -----------------------------------------------------------

// The previous text is read up to this size; a larger file is not ours.
constexpr std::size_t most_read = 16 << 20;

// Holds flock on PATH.lock for one read-merge-replace. The lock file is
// opened for reading, so that another user's one serves as well. The wait
// is bounded (file_lock.hpp): a run stopped while it holds the lock must
// not hang every later run of the job, nor keep a TERM waiting.
class Lock {
 public:
  Lock(const std::string& path, const std::string& lock_path)
      : fd_(std::make_shared<UniqueFd>(::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644))) {
    const std::string error = *fd_ ? lock_exclusive(fd_, path) : std::strerror(errno);
    if (!error.empty())
      error_ = fmt::format("cannot lock {}: {}; went on without the lock (a concurrent run's count may be lost)",
                           lock_path, error);
  }
  const std::string& error() const { return error_; }

 private:
  std::shared_ptr<UniqueFd> fd_;  // closing it releases the lock
  std::string error_;
};

// The file's text, or an empty one with problem set when it cannot be
// read; a missing file is a first run's normal case.
std::string read_previous(const std::string& path, std::string& problem) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd) {
    if (errno != ENOENT) problem = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return "";
  }
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = fmt::format("{} is not a regular file", path);
    return "";
  }
  std::string text;
  if (!read_all(fd.get(), text, most_read)) {
    problem = fmt::format("cannot read {}: {}", path, std::strerror(errno));
    return "";
  }
  if (text.size() > most_read) {
    problem = fmt::format("{} is larger than {} MiB, not metrics retryx wrote", path, most_read >> 20);
    return "";
  }
  return text;
}

}  // namespace

RunFigures run_figures(const RunSummary& summary, std::string job, std::int64_t ended_at_ms) {
  return {std::move(job), std::string(name(summary.outcome)), summary.attempts,
          std::chrono::duration_cast<std::chrono::milliseconds>(summary.elapsed).count(), summary.exit_status,
          ended_at_ms};
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (const char c : valid_utf8(value)) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

MergedMetrics merge_metrics(std::string_view previous, const RunFigures& given) {
  RunFigures run = given;
  run.job = valid_utf8(run.job);  // as the file will hold it, to be found there next time
  MergedMetrics merged;
  Series series;
  for (std::uint64_t number = 1; !previous.empty(); ++number) {
    const std::size_t end = previous.find('\n');
    const std::string_view line = previous.substr(0, end);
    previous.remove_prefix(end == std::string_view::npos ? previous.size() : end + 1);
    const Why why = end == std::string_view::npos ? Why("cut short: no line feed at its end") : read_line(line, series, run.job);
    if (why && merged.dropped_lines++ == 0)
      merged.first_dropped = fmt::format("line {} ({}): {}", number, *why, excerpt(line));
  }
  for (const auto& family : series) merged.carried_series += family.size();
  add_run(series, run);
  merged.text = render(series);
  return merged;
}

MetricsFile::MetricsFile(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("--metrics-file: {} is a directory", path_));
    if (!S_ISREG(st.st_mode)) throw std::runtime_error(fmt::format("--metrics-file: {} is not a regular file", path_));
    if (!UniqueFd(::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)))
      throw std::runtime_error(fmt::format("--metrics-file: cannot read {}: {}", path_, std::strerror(errno)));
  }
  // The new file is made beside PATH at the end (replace_file): tried now.
  std::string temp;
  if (!create_beside(path_, temp))
    throw std::runtime_error(fmt::format("--metrics-file: cannot create a file beside {}: {}", path_, std::strerror(errno)));
  ::unlink(temp.c_str());
  const std::string lock_path = path_ + ".lock";
  if (!UniqueFd(::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644)))
    throw std::runtime_error(fmt::format("--metrics-file: cannot open {}: {}", lock_path, std::strerror(errno)));
}

MetricsFile::Outcome MetricsFile::record(const RunFigures& run) const {
  Outcome outcome;
  const Lock lock(path_, path_ + ".lock");
  std::string unread;
  const std::string previous = read_previous(path_, unread);
  const MergedMetrics merged = merge_metrics(previous, run);
  if (!unread.empty())
    outcome.problem = fmt::format("metrics: {}; replaced with this run's metrics, the counts start again", unread);
  else if (merged.dropped_lines > 0)
    outcome.problem = fmt::format(
        "metrics: {} line{} of {} dropped, not retryx's metrics or unreadable (the first, {}); {}",
        merged.dropped_lines, merged.dropped_lines == 1 ? "" : "s", path_, merged.first_dropped,
        merged.carried_series == 0 ? "replaced with this run's metrics, the counts start again"
                                   : "the rest was carried over, the counts of what was dropped start again");
  if (!lock.error().empty()) outcome.problem += (outcome.problem.empty() ? "metrics: " : "; ") + lock.error();
  if (const std::string error = replace_file(path_, merged.text, mode_for(path_)); !error.empty())
    outcome.error = fmt::format("cannot write the metrics file {}: {}", path_, error);
  return outcome;
}

}  // namespace retryx
