#pragma once
// --metrics-file PATH (spec §10): the job's metrics in the Prometheus text
// exposition format (0.0.4), for node_exporter's textfile collector. At the
// end of every run the file is read, this run is added to its job's
// counters, its last-run gauges replace the job's, and the whole is written
// beside PATH (a name not ending in .prom, which the collector skips) and
// renamed over it, all under flock on PATH.lock, so that concurrent runs
// lose no count. Other jobs' series in the file are kept as they were.
//
//   retryx_runs_total{job,outcome}            counter
//   retryx_attempts_total{job}                counter
//   retryx_last_run_attempts{job}             gauge
//   retryx_last_run_duration_seconds{job}     gauge
//   retryx_last_run_exit_status{job}          gauge
//   retryx_last_run_timestamp_seconds{job}    gauge
//   retryx_last_success_timestamp_seconds{job} gauge (kept from the file when
//                                                this run failed; absent until a
//                                                first success)
//
// The previous content is read line by line: a line that is not one of
// these series (with exactly these labels and a valid value) or their
// # HELP / # TYPE, one with a timestamp (the collector refuses them), a
// repeated series, a last line without its line feed (cut short), is
// dropped and reported once; what it counted starts again. Every other
// series, other jobs' included, is carried over.
#include <cstdint>
#include <string>
#include <string_view>

#include "outcome.hpp"

namespace retryx {

// One run, as the metrics see it.
struct RunFigures {
  std::string job;      // the job label: --name, or the command's base name
  std::string outcome;  // the end event's outcome: "success", "exhausted", ...
  std::uint64_t attempts = 0;
  std::int64_t duration_ms = 0;
  int exit_status = 0;
  std::int64_t ended_at_ms = 0;  // Unix time
};

RunFigures run_figures(const RunSummary& summary, std::string job, std::int64_t ended_at_ms);

// The file's new text: the previous text with run merged in, and what of
// the previous text was dropped.
struct MergedMetrics {
  std::string text;
  std::uint64_t dropped_lines = 0;
  std::uint64_t carried_series = 0;  // the series read from it and kept
  std::string first_dropped;  // "line 3 (a timestamp): ...", for the report
};

MergedMetrics merge_metrics(std::string_view previous, const RunFigures& run);

// A label value as the exposition format writes it between its quotes:
// backslash, double quote and line feed escaped; bytes that are not UTF-8
// replaced by U+FFFD (the format is UTF-8; promtool refuses anything else).
std::string escape_label_value(std::string_view value);

// The file side: check, lock, read, merge, replace.
class MetricsFile {
 public:
  // Checks now, before anything runs, that PATH can be written at the end:
  // not a directory or other non-regular file, readable when it exists, a
  // new file can be created beside it, and PATH.lock can be opened. Throws
  // std::runtime_error naming --metrics-file and the path (status 125).
  explicit MetricsFile(std::string path);

  struct Outcome {
    std::string problem;  // the previous content was not all read: for the attempt log
    std::string error;    // the file could not be written (or locked): for stderr
  };
  // At the end of the run.
  Outcome record(const RunFigures& run) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace retryx
