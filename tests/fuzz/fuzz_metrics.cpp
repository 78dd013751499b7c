// libFuzzer target: any bytes as the previous content of a --metrics-file
// are merged with a run without a crash, and what retryx writes reads back
// whole: merged again, no line of it is dropped, every series it had is
// there again, and the job's count went up by one. The first byte chooses
// the job (one the input may name, or another) and the outcome.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics.hpp"

namespace {

std::size_t lines(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) n += c == '\n';
  return n;
}

// The value of the line that starts with series and a blank, or "".
std::string value(std::string_view text, std::string_view series) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    const std::string_view line = text.substr(at, end - at);
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ')
      return std::string(line.substr(series.size() + 1));
    at = end + 1;
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<const char*, 4> jobs = {"job", "x", "we\\ird \"job\"\nname", "tool\xff"};
  static const std::array<const char*, 3> outcomes = {"success", "exhausted", "budget"};
  const std::uint8_t choice = size ? data[0] : 0;
  const std::string_view previous(reinterpret_cast<const char*>(data) + (size ? 1 : 0), size ? size - 1 : 0);
  retryx::RunFigures run{jobs[choice % jobs.size()], outcomes[(choice / 4) % outcomes.size()], choice, 1503, 3,
                         1'700'000'000'123};

  const retryx::MergedMetrics first = retryx::merge_metrics(previous, run);
  if (first.text.empty() || first.text.back() != '\n') std::abort();
  if (first.dropped_lines > lines(previous) + 1) std::abort();
  if (first.dropped_lines > 0 && first.first_dropped.empty()) std::abort();

  const retryx::MergedMetrics second = retryx::merge_metrics(first.text, run);
  if (second.dropped_lines != 0) std::abort();
  if (lines(second.text) != lines(first.text)) std::abort();  // the same series: none lost, none added
  const std::string series = "retryx_runs_total{job=\"" + retryx::escape_label_value(run.job) + "\",outcome=\"" +
                             run.outcome + "\"}";
  const std::string before = value(first.text, series), after = value(second.text, series);
  if (before.empty() || after.empty()) std::abort();
  if (before.find_first_not_of("0123456789") == std::string::npos && before.size() < 15 &&
      std::stoull(after) != std::stoull(before) + 1)
    std::abort();
  return 0;
}
