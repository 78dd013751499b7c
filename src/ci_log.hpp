#pragma once
// The CI log formats (--log-format github / gitlab, spec §10): the text
// log, with each attempt folded where the CI shows the job's log.
//
//   github: each attempt inside "::group::retryx: attempt N/M" ...
//           "::endgroup::" (its output and retryx's lines about it), then
//           "::warning title=retryx::..." when it will be retried; after
//           the run's last line, "::error title=retryx::..." unless it
//           succeeded (gave up, refused by the circuit, interrupted).
//   gitlab: each attempt inside a collapsed section, "\e[0Ksection_start:
//           TIME:NAME[collapsed=true]\r\e[0Kretryx: attempt N/M" ...
//           "\e[0Ksection_end:TIME:NAME\r\e[0K"; the line saying how it
//           ended follows the section, so it shows while folded. NAME holds
//           the run id: unique in a job log that runs retryx many times.
//
// A group opens before the attempt's process starts, and closes once its
// output has been written (the process layer writes captured output before
// the attempt ends), so the attempt's first and last bytes fall inside.
//
// Every marker, and every line of retryx's, starts a line: GitHub reads a
// workflow command only at the start of a line, and GitLab's docs show its
// markers there. An attempt's output (or a hook's) that does not end in a
// newline would leave the line open ("no-newline::endgroup::"), and retryx
// does not see that output when it is not captured (stdout and stderr
// inherited), so it cannot know the last byte. The rule: once a process of
// the command's or a hook's has run, the next thing retryx writes (the
// attempt's line, the closing marker, the next group) starts with "\n",
// once; after that retryx wrote the last line itself. The cost, when the
// output did end in a newline: an empty line at the end of the group or
// section, or (github) between the output and the attempt's line in its
// group; with a hook, after the hook's output. A command that could not
// start ran nothing: no "\n". Not in a --log-file (LogWriter::break_line):
// the output is not there. Left open: the verbose "started (pid N)" line,
// written just after the process starts, may follow the first bytes of
// its output.
// Group titles and section headers name the attempt, not the command: the
// CI shows the command just above, and a command line may be long or hold
// a token. The markers are never timestamped, in a --log-file either: a
// later step that prints the file folds it the same way.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "attempt_log.hpp"

namespace retryx {

// GitHub's workflow commands, "::COMMAND PROPERTY=VALUE::MESSAGE", escaped
// as GitHub's own toolkit escapes them (actions/toolkit,
// packages/core/src/command.ts, escapeData and escapeProperty; the runner
// undoes them): in the message '%' -> %25, CR -> %0D, LF -> %0A; in a
// property value also ':' -> %3A and ',' -> %2C. A raw CR or LF would end
// the command and start a line of its own, which the runner reads as a
// command too when it starts with "::".
std::string escape_workflow_data(std::string_view text);
std::string escape_workflow_property(std::string_view text);
// One command line, ending in '\n': "::warning title=retryx::message";
// no property when title is empty ("::group::message").
std::string workflow_command(std::string_view command, std::string_view title, std::string_view message);

// A GitLab section name: only the characters GitLab's parser takes,
// letters, digits, '_', '.' and '-' (docs "Custom collapsible sections";
// lib/gitlab/regex.rb, logs_section_prefix_regex); any other byte becomes
// '_'. An empty name becomes "_".
std::string gitlab_section_name(std::string_view text);

// "retryx", or "retryx[NAME]" with --name: the CI titles' name.
std::string ci_title(const std::optional<std::string>& name);

// The parts the two formats share: the text log, every event passed on.
class CiLog : public AttemptLog {
 public:
  // As TextLog's; name: --name, in the text lines' prefix and the titles.
  CiLog(LogWriter out, Verbosity verbosity, bool color, const std::optional<std::string>& name)
      : text_(std::move(out), verbosity, color, name), title_(ci_title(name)) {}
  void run_started(const Policy& p, const Command& c) override { text_.run_started(p, c); }
  void splay(Duration d) override { text_.splay(d); }
  // The process runs from here: its output may leave a line open.
  void attempt_started(std::uint64_t a, std::optional<std::uint64_t> m, int pid) override {
    text_.attempt_started(a, m, pid);
    text_.writer().break_line();
  }
  // The hook has run: its output may have left a line open.
  void hook(std::string_view n, const AttemptResult& r) override {
    text_.writer().break_line();
    text_.hook(n, r);
  }
  void circuit(std::string_view s, std::string_view m) override { text_.circuit(s, m); }
  void metrics(std::string_view p) override { text_.metrics(p); }
  void store(std::string_view l, std::string_view p) override { text_.store(l, p); }

 protected:
  // A marker: raw bytes, on the text log's descriptor, never timestamped.
  void mark(std::string_view text) { text_.writer().write_raw(text); }
  TextLog text_;
  const std::string title_;
  std::optional<std::uint64_t> open_;  // the attempt whose group is open
};

class GithubLog final : public CiLog {
 public:
  using CiLog::CiLog;
  // Closes a group left open (retryx's own failure during an attempt), so
  // that its error line shows.
  ~GithubLog() override { end_group(); }
  void attempt_starting(std::uint64_t attempt, std::optional<std::uint64_t> max) override;
  void attempt_ended(const AttemptRecord& record) override;
  void run_ended(const RunSummary& summary) override;

 private:
  void end_group();
};

class GitlabLog final : public CiLog {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // run_id: the run's id, part of every section name. clock: the sections'
  // UNIX_TIME (GitLab shows each section's duration from them).
  GitlabLog(LogWriter out, Verbosity verbosity, bool color, const std::optional<std::string>& name,
            std::string_view run_id, Clock clock = [] { return std::chrono::system_clock::now(); })
      : CiLog(std::move(out), verbosity, color, name), run_id_(run_id), clock_(std::move(clock)) {}
  ~GitlabLog() override;
  void attempt_starting(std::uint64_t attempt, std::optional<std::uint64_t> max) override;
  void attempt_ended(const AttemptRecord& record) override;
  void run_ended(const RunSummary& summary) override;

 private:
  std::string section(std::uint64_t attempt) const;
  void end_section();
  std::string run_id_;
  Clock clock_;
};

}  // namespace retryx
