#include <algorithm>
#include <atomic>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "metrics.hpp"
#include "temp_files.hpp"

using namespace retryx;
using retryx::testing::file_text;
using retryx::testing::temp_dir;

namespace {

constexpr std::int64_t now_ms = 1'700'000'000'123;  // November 2023

RunFigures run(std::string job, std::string outcome, std::uint64_t attempts = 1, int status = 0,
               std::int64_t ended_at = now_ms) {
  return {std::move(job), std::move(outcome), attempts, 1503, status, ended_at};
}

// The value of the series written exactly as `series` (name and labels),
// or nullopt when the text has no such line.
std::optional<std::string> value(const std::string& text, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const std::size_t at = ("\n" + text).find(key);
  if (at == std::string::npos) return std::nullopt;
  const std::size_t start = at + key.size() - 1;
  return text.substr(start, text.find('\n', start) - start);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

std::string runs(const std::string& job, const std::string& outcome) {
  return "retryx_runs_total{job=\"" + job + "\",outcome=\"" + outcome + "\"}";
}
std::string of(const std::string& family, const std::string& job) { return family + "{job=\"" + job + "\"}"; }

// The text after `runs` runs of a job, one after the other.
std::string after(const std::vector<RunFigures>& runs, std::string text = "") {
  for (const RunFigures& r : runs) {
    const MergedMetrics merged = merge_metrics(text, r);
    CHECK(merged.dropped_lines == 0);
    text = merged.text;
  }
  return text;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("metrics: one run's text, every family with HELP and TYPE") {
  const MergedMetrics merged = merge_metrics("", run("backup", "exhausted", 3, 7));
  CHECK(merged.dropped_lines == 0);
  const std::string& t = merged.text;
  CHECK(t.starts_with("# HELP retryx_runs_total "));
  CHECK(t.find("# TYPE retryx_runs_total counter\n") != std::string::npos);
  CHECK(value(t, runs("backup", "exhausted")) == "1");
  // Every outcome of the end event is there from the first run on, at 0.
  for (const char* outcome : {"success", "fatal", "deadline", "interrupted", "circuit_open", "budget"})
    CHECK(value(t, runs("backup", outcome)) == "0");
  CHECK(value(t, of("retryx_attempts_total", "backup")) == "3");
  CHECK(value(t, of("retryx_last_run_attempts", "backup")) == "3");
  CHECK(value(t, of("retryx_last_run_duration_seconds", "backup")) == "1.503");
  CHECK(value(t, of("retryx_last_run_exit_status", "backup")) == "7");
  CHECK(value(t, of("retryx_last_run_timestamp_seconds", "backup")) == "1700000000.123");
  // Absent until a first success, HELP and TYPE included.
  CHECK(t.find("retryx_last_success_timestamp_seconds") == std::string::npos);
  for (const char* family : {"retryx_attempts_total counter", "retryx_last_run_attempts gauge",
                             "retryx_last_run_duration_seconds gauge", "retryx_last_run_exit_status gauge",
                             "retryx_last_run_timestamp_seconds gauge"})
    CHECK(count(t, std::string("# TYPE ") + family + "\n") == 1);
  CHECK(count(t, "# HELP ") == 6);
  CHECK(t.back() == '\n');
}

TEST_CASE("metrics: counters carried over, gauges of the last run, the last success kept") {
  const std::string t = after({run("job", "success", 2, 0, now_ms), run("job", "exhausted", 5, 3, now_ms + 60'000),
                               run("job", "exhausted", 5, 3, now_ms + 120'000)});
  CHECK(value(t, runs("job", "success")) == "1");
  CHECK(value(t, runs("job", "exhausted")) == "2");
  CHECK(value(t, of("retryx_attempts_total", "job")) == "12");
  CHECK(value(t, of("retryx_last_run_attempts", "job")) == "5");
  CHECK(value(t, of("retryx_last_run_exit_status", "job")) == "3");
  CHECK(value(t, of("retryx_last_run_timestamp_seconds", "job")) == "1700000120.123");
  CHECK(value(t, of("retryx_last_success_timestamp_seconds", "job")) == "1700000000.123");
  // A new success moves it.
  const std::string t2 = after({run("job", "success", 1, 0, now_ms + 180'000)}, t);
  CHECK(value(t2, of("retryx_last_success_timestamp_seconds", "job")) == "1700000180.123");
  CHECK(value(t2, runs("job", "success")) == "2");
  // The text reads back as itself: no series gained or lost.
  CHECK(count(t2, "\n") == count(t, "\n"));
}

TEST_CASE("metrics: other jobs' series are kept as they were") {
  const std::string other = after({run("other", "fatal", 1, 127), run("other", "success", 4, 0)});
  const std::string t = after({run("mine", "success", 2)}, other);
  CHECK(value(t, runs("other", "fatal")) == "1");
  CHECK(value(t, runs("other", "success")) == "1");
  CHECK(value(t, of("retryx_attempts_total", "other")) == "5");
  CHECK(value(t, of("retryx_last_run_exit_status", "other")) == "0");
  CHECK(value(t, runs("mine", "success")) == "1");
  CHECK(value(t, of("retryx_attempts_total", "mine")) == "2");
  // One HELP and TYPE per family, the jobs' series together under it.
  CHECK(count(t, "# TYPE retryx_runs_total counter") == 1);
  // Written by hand (blanks, a trailing comma, labels in another order,
  // special values): read as the format allows, kept.
  const std::string by_hand =
      "retryx_runs_total { outcome = \"budget\" , job=\"hand\", } 4\n"
      "  retryx_last_run_duration_seconds{job=\"hand\"}\t+Inf\n"
      "\n"
      "retryx_last_run_exit_status{job=\"hand\"} 1e2\n";
  const MergedMetrics merged = merge_metrics(by_hand, run("mine", "success"));
  CHECK(merged.dropped_lines == 0);
  CHECK(value(merged.text, runs("hand", "budget")) == "4");
  CHECK(value(merged.text, of("retryx_last_run_duration_seconds", "hand")) == "+Inf");
  CHECK(value(merged.text, of("retryx_last_run_exit_status", "hand")) == "100");
  // An outcome this retryx does not have (a newer one's) counts on for the job.
  const std::string newer = merge_metrics(by_hand, run("hand", "budget")).text;
  CHECK(value(newer, runs("hand", "budget")) == "5");
}

TEST_CASE("metrics: label values escaped, and found again when read back") {
  const std::string job = "we\\ird \"job\"\nname";
  const std::string t = after({run(job, "success"), run(job, "fatal", 1, 126)});
  const std::string escaped = "we\\\\ird \\\"job\\\"\\nname";
  CHECK(escape_label_value(job) == escaped);
  CHECK(value(t, runs(escaped, "success")) == "1");
  CHECK(value(t, runs(escaped, "fatal")) == "1");
  CHECK(value(t, of("retryx_attempts_total", escaped)) == "2");
  CHECK(count(t, "\n") == 7 + 7 * 2 + 6);  // 7 outcomes, 7 HELP/TYPE pairs, 6 other series

  // Bytes that are not UTF-8 become U+FFFD, and the next run finds its series.
  const std::string bad = "tool\xff";
  CHECK(escape_label_value(bad) == "tool\xef\xbf\xbd");
  const std::string t2 = after({run(bad, "success"), run(bad, "success")});
  CHECK(value(t2, runs("tool\xef\xbf\xbd", "success")) == "2");
  CHECK(escape_label_value("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(escape_label_value("\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82") ==
        "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
        "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("metrics: broken or foreign lines are dropped and counted, the rest carried over") {
  const std::string good = after({run("job", "success", 3), run("other", "exhausted", 2, 1)});
  struct Case {
    const char* line;
    const char* why;
  };
  const Case cases[] = {
      {"garbage here", "not a series of retryx"},
      {"node_load1 0.5", "not a series of retryx"},
      {"# a comment", "a comment retryx does not write"},
      {"# HELP node_load1 Load.", "not a series of retryx"},
      {"retryx_attempts_total{job=\"x\"} 5 1700000000000", "a timestamp"},
      {"retryx_attempts_total{job=\"x\" 5", "bad syntax"},
      {"retryx_attempts_total{job=x} 5", "bad syntax"},
      {"retryx_attempts_total{job=\"x\\t\"} 5", "bad syntax"},
      {"retryx_attempts_total{job=\"x} 5", "bad syntax"},
      {"retryx_attempts_total{job=\"x\"} five", "not a valid value"},
      {"retryx_attempts_total{job=\"x\"}", "not a valid value"},
      {"retryx_attempts_total 5", "not the labels retryx writes"},
      {"retryx_attempts_total{job=\"x\",host=\"a\"} 5", "not the labels retryx writes"},
      {"retryx_runs_total{job=\"x\"} 5", "not the labels retryx writes"},
      {"retryx_attempts_total{job=\"x\",job=\"y\"} 5", "a label given twice"},
      {"retryx_attempts_total{job=\"\xff\"} 5", "not UTF-8"},
      {"retryx_attempts_total{job=\"job\"} 2.5", "not a count"},
      {"retryx_attempts_total{job=\"job\"} -1", "not a count"},
      {"retryx_last_success_timestamp_seconds{job=\"job\"} NaN", "not a time"},
      {"retryx_attempts_total{job=\"other\"} 9", "a series given twice"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    // In the middle of a good file: dropped, reported, the rest kept.
    const std::string broken = good.substr(0, good.find("# HELP retryx_last_run_attempts")) + c.line + "\n" +
                               good.substr(good.find("# HELP retryx_last_run_attempts"));
    const MergedMetrics merged = merge_metrics(broken, run("job", "success", 1));
    CHECK(merged.dropped_lines == 1);
    CHECK(merged.carried_series == 7 + 7 + 2 * 5 + 1);  // two jobs: runs_total (7 outcomes), attempts and 4 gauges; one success
    CHECK(merged.first_dropped.find(c.why) != std::string::npos);
    CHECK(merged.first_dropped.starts_with("line " + std::to_string(count(good.substr(0, good.find("# HELP retryx_last_run_attempts")), "\n") + 1) + " ("));
    CHECK(value(merged.text, runs("job", "success")) == "2");
    CHECK(value(merged.text, of("retryx_attempts_total", "job")) == "4");
    CHECK(value(merged.text, of("retryx_attempts_total", "other")) == "2");
    CHECK(value(merged.text, of("retryx_attempts_total", "x")) == std::nullopt);
    // What is written is valid again: read back, nothing is dropped.
    CHECK(merge_metrics(merged.text, run("job", "success")).dropped_lines == 0);
  }
}

TEST_CASE("metrics: a job's counter that cannot be read starts again, as do a cut or garbage file") {
  // The job's own attempts counter is broken: it starts again, the rest goes on.
  std::string text = after({run("job", "success", 3)});
  const std::string line = "retryx_attempts_total{job=\"job\"} 3\n";
  text.replace(text.find(line), line.size(), "retryx_attempts_total{job=\"job\"} 3x\n");
  MergedMetrics merged = merge_metrics(text, run("job", "success", 1));
  CHECK(merged.dropped_lines == 1);
  CHECK(value(merged.text, of("retryx_attempts_total", "job")) == "1");
  CHECK(value(merged.text, runs("job", "success")) == "2");

  // Cut short: the last line has no line feed, so its value may be cut too.
  const std::string whole = after({run("job", "success", 12)});
  const std::string cut = whole.substr(0, whole.find(of("retryx_attempts_total", "job")) + 34);
  REQUIRE(cut.ends_with("} 1"));
  merged = merge_metrics(cut, run("job", "success", 1));
  CHECK(merged.dropped_lines == 1);
  CHECK(merged.first_dropped.find("cut short") != std::string::npos);
  CHECK(value(merged.text, of("retryx_attempts_total", "job")) == "1");
  CHECK(value(merged.text, runs("job", "success")) == "2");

  // Binary garbage, NUL bytes and all: every line dropped, quoted printable.
  const char raw[] = "\x7f" "ELF\x02\x01\x01\0\0\0\nPK\x03\x04\nretryx_runs_total{\n";
  const std::string garbage(raw, sizeof raw - 1);
  merged = merge_metrics(garbage, run("job", "fatal", 1, 127));
  CHECK(merged.dropped_lines == 3);
  CHECK(merged.carried_series == 0);
  CHECK(merged.first_dropped == "line 1 (not a series of retryx): '?ELF" + std::string(6, '?') + "'");
  CHECK(value(merged.text, runs("job", "fatal")) == "1");
  CHECK(merge_metrics(merged.text, run("job", "fatal")).dropped_lines == 0);

  // A long line is quoted in part.
  merged = merge_metrics(std::string(1000, 'x') + "\n", run("job", "success"));
  CHECK(merged.first_dropped.size() < 100);
  CHECK(merged.first_dropped.ends_with("...'"));
}

TEST_CASE("metrics file: unwritable paths are refused before anything runs") {
  const std::string dir = temp_dir();
  const auto refused = [](const std::string& path, const std::string& why) {
    CAPTURE(path);
    try {
      MetricsFile file(path);
      FAIL("not refused");
    } catch (const std::runtime_error& e) {
      const std::string message = e.what();
      CHECK(message.starts_with("--metrics-file: "));
      CHECK(message.find(path) != std::string::npos);
      CHECK(message.find(why) != std::string::npos);
    }
  };
  refused(dir + "/missing/m.prom", "No such file or directory");
  std::filesystem::create_directory(dir + "/a-directory.prom");
  refused(dir + "/a-directory.prom", "is a directory");
  REQUIRE(::mkfifo((dir + "/fifo.prom").c_str(), 0600) == 0);
  refused(dir + "/fifo.prom", "not a regular file");
  // Nothing was made by the checks but for the lock beside a good path.
  MetricsFile good(dir + "/m.prom");
  CHECK(std::filesystem::exists(dir + "/m.prom.lock"));
  CHECK(!std::filesystem::exists(dir + "/m.prom"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("metrics file: replaced with the merged text, problems reported, nothing left beside") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/retryx.prom";
  const MetricsFile file(path);
  MetricsFile::Outcome outcome = file.record(run("job", "success", 2));
  CHECK(outcome.problem.empty());
  CHECK(outcome.error.empty());
  CHECK(value(file_text(path), runs("job", "success")) == "1");
  // Foreign content: reported once, replaced with valid content.
  write(path, "not metrics\n" + file_text(path) + "# another\n");
  outcome = file.record(run("job", "success", 1));
  CHECK(outcome.problem.find("2 lines of " + path + " dropped") != std::string::npos);
  CHECK(outcome.problem.find("line 1 (not a series of retryx): 'not metrics'") != std::string::npos);
  CHECK(outcome.problem.ends_with("the rest was carried over, the counts of what was dropped start again"));
  CHECK(value(file_text(path), runs("job", "success")) == "2");
  CHECK(file.record(run("job", "success")).problem.empty());
  // Only the file and its lock: the temporary file was renamed.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"retryx.prom", "retryx.prom.lock"});
  // Too large to be ours: not read, replaced.
  write(path, std::string((16 << 20) + 10, '\n'));
  outcome = file.record(run("job", "success"));
  CHECK(outcome.problem.find("larger than 16 MiB") != std::string::npos);
  CHECK(value(file_text(path), runs("job", "success")) == "1");
  // The directory went away: reported, no crash.
  std::filesystem::remove_all(dir);
  outcome = file.record(run("job", "success"));
  CHECK(outcome.error.find("cannot write the metrics file " + path) != std::string::npos);
}

TEST_CASE("metrics file: concurrent runs lose no count") {
  const std::string dir = temp_dir();
  const std::string path = dir + "/m.prom";
  const MetricsFile file(path);
  constexpr int threads = 8, each = 25;
  std::atomic<int> problems{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i)
    workers.emplace_back([&, i] {
      for (int k = 0; k < each; ++k) {
        const auto outcome = file.record(run(i % 2 ? "odd" : "even", "exhausted", 2, 1));
        if (!outcome.problem.empty() || !outcome.error.empty()) ++problems;
      }
    });
  for (auto& worker : workers) worker.join();
  CHECK(problems == 0);
  const std::string text = file_text(path);
  CHECK(value(text, runs("odd", "exhausted")) == std::to_string(threads / 2 * each));
  CHECK(value(text, runs("even", "exhausted")) == std::to_string(threads / 2 * each));
  CHECK(value(text, of("retryx_attempts_total", "odd")) == std::to_string(threads / 2 * each * 2));
  std::filesystem::remove_all(dir);
}
