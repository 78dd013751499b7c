#pragma once
// The attempt log: what happened, for people (text) on stderr. The base
// class logs nothing (-q); TextLog writes one "retryx: " line per event
// ("retryx[NAME]: " with --name).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "file_io.hpp"
#include "held_output.hpp"
#include "outcome.hpp"
#include "policy.hpp"

namespace retryx {

class AttemptLog {
 public:
  virtual ~AttemptLog() = default;
  virtual void run_started(const Policy&, const Command&) {}
  virtual void splay(Duration) {}
  // Before the attempt's process is started (the CI logs open its group
  // here, so that its first byte of output lands inside).
  virtual void attempt_starting(std::uint64_t /*attempt*/, std::optional<std::uint64_t> /*max*/) {}
  virtual void attempt_started(std::uint64_t /*attempt*/, std::optional<std::uint64_t> /*max*/, int /*pid*/) {}
  virtual void attempt_ended(const AttemptRecord&) {}
  virtual void hook(std::string_view /*name*/, const AttemptResult&) {}
  virtual void run_ended(const RunSummary&) {}
  // The circuit breaker (--circuit): state is "opened", "closed",
  // "refused", "trial" or "problem" (spec §6's circuit event); a refusal
  // or a problem may come before run_started.
  virtual void circuit(std::string_view /*state*/, std::string_view /*message*/) {}
  // --metrics-file (spec §10): what of the file could not be carried over
  // (or the lock that could not be taken); comes after run_ended.
  virtual void metrics(std::string_view /*problem*/) {}
  // A shared store (--retry-budget) could not help: the run goes on
  // without it (spec §11). location never holds a password.
  virtual void store(std::string_view /*location*/, std::string_view /*problem*/) {}
};

// Writes log lines to fd with write_all (file_io.hpp: a non-blocking stderr
// shared with other writers is waited for, no line is lost); the first
// failure (a full disk, /dev/full) is reported once on stderr, when fd is
// not stderr itself. A failure never changes what retryx does.
class LogWriter {
 public:
  // name: what the error message calls it (the --log-file path).
  // timestamps: every line starts with an RFC 3339 UTC time and a space
  // (the text log in a --log-file, which outlives the run).
  explicit LogWriter(int fd, std::string name = "", bool timestamps = false)
      : fd_(fd), name_(std::move(name)), timestamps_(timestamps) {}
  // text: whole lines, each ending in '\n'.
  void write(std::string_view text);
  // The same, never timestamped: markers that must start a line as they
  // are (the CI logs').
  void write_raw(std::string_view text);
  // --output-on-failure with the log on stderr: lines are appended to held
  // (as stderr's) rather than written.
  void hold_in(HeldOutput* held) { held_ = held; }
  // The CI logs: another writer on the same stream (an attempt, a hook) may
  // have left a line open, so the next write, text or raw, first ends it
  // with "\n". Ignored in a --log-file (a name was given): no one else
  // writes there.
  void break_line() { break_line_ = name_.empty(); }

 private:
  int fd_;
  std::string name_;
  bool timestamps_;
  bool failed_ = false;
  bool break_line_ = false;
  HeldOutput* held_ = nullptr;
};

// The text log. Normal verbosity: a line per failed attempt (its cause, its
// duration and the next delay or why there is none) and a last line saying
// why retryx stopped; a success at the first attempt is silent, as cron
// mails any output. Verbose adds the policy, attempt starts and successes.
class TextLog final : public AttemptLog {
 public:
  // color: ANSI colours (green success, yellow retried failure, red stop).
  // name: --name, shown in the prefix.
  TextLog(LogWriter out, Verbosity verbosity, bool color = false, const std::optional<std::string>& name = {})
      : out_(std::move(out)), verbose_(verbosity == Verbosity::verbose), color_(color),
        prefix_(name ? "retryx[" + *name + "]:" : "retryx:") {}
  void run_started(const Policy& policy, const Command& command) override;
  void splay(Duration delay) override;
  void attempt_started(std::uint64_t attempt, std::optional<std::uint64_t> max, int pid) override;
  void attempt_ended(const AttemptRecord& record) override;
  void hook(std::string_view name, const AttemptResult& result) override;
  void run_ended(const RunSummary& summary) override;
  void circuit(std::string_view state, std::string_view message) override;
  void metrics(std::string_view problem) override { line(std::string(problem), Tone::warn); }
  void store(std::string_view location, std::string_view problem) override;
  // Where its lines go: the CI logs write their markers there too.
  LogWriter& writer() { return out_; }

 private:
  enum class Tone { plain, good, warn, bad };
  void line(const std::string& text, Tone tone = Tone::plain);
  LogWriter out_;
  bool verbose_;
  bool color_;
  std::string prefix_;  // "retryx:" or "retryx[NAME]:"
};

// Passes every event to several logs (the attempt log and the report).
class LogFanout final : public AttemptLog {
 public:
  void add(AttemptLog& log) { logs_.push_back(&log); }
  void run_started(const Policy& p, const Command& c) override { for (auto* l : logs_) l->run_started(p, c); }
  void splay(Duration d) override { for (auto* l : logs_) l->splay(d); }
  void attempt_starting(std::uint64_t a, std::optional<std::uint64_t> m) override {
    for (auto* l : logs_) l->attempt_starting(a, m);
  }
  void attempt_started(std::uint64_t a, std::optional<std::uint64_t> m, int pid) override {
    for (auto* l : logs_) l->attempt_started(a, m, pid);
  }
  void attempt_ended(const AttemptRecord& r) override { for (auto* l : logs_) l->attempt_ended(r); }
  void hook(std::string_view n, const AttemptResult& r) override { for (auto* l : logs_) l->hook(n, r); }
  void run_ended(const RunSummary& s) override { for (auto* l : logs_) l->run_ended(s); }
  void circuit(std::string_view s, std::string_view m) override { for (auto* l : logs_) l->circuit(s, m); }
  void metrics(std::string_view p) override { for (auto* l : logs_) l->metrics(p); }
  void store(std::string_view w, std::string_view p) override { for (auto* l : logs_) l->store(w, p); }

 private:
  std::vector<AttemptLog*> logs_;
};

// A log line stays one line: control characters (a newline in a command's
// name, an escape sequence) are written as \xNN.
std::string one_line(std::string_view text);

// "attempt 2/5", or "attempt 2" with no limit.
std::string attempt_label(std::uint64_t attempt, std::optional<std::uint64_t> max);
// What the text log says of an attempt that ended ("attempt 2/5 failed
// after 1s: exit code 3; retrying in 2s") and of the run's end ("giving up
// after ..."), without the prefix; the CI logs' annotations say the same.
std::string attempt_end_message(const AttemptRecord& record);
std::string run_end_message(const RunSummary& summary);


}  // namespace retryx
