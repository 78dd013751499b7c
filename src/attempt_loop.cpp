#include "attempt_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <utility>

#include "backoff.hpp"
#include "classify.hpp"
#include "directed_delay.hpp"
#include "exit_status.hpp"
#include "signal_names.hpp"

namespace retryx {

namespace {

AttemptOutcome outcome_of(Verdict verdict) {
  switch (verdict) {
    case Verdict::success: return AttemptOutcome::success;
    case Verdict::fatal: return AttemptOutcome::fatal;
    case Verdict::retryable: return AttemptOutcome::retry;
  }
  return AttemptOutcome::fatal;
}

RunOutcome run_outcome_of(AttemptOutcome outcome) {
  switch (outcome) {
    case AttemptOutcome::success: return RunOutcome::success;
    case AttemptOutcome::exhausted: return RunOutcome::exhausted;
    case AttemptOutcome::deadline: return RunOutcome::deadline;
    case AttemptOutcome::interrupted: return RunOutcome::interrupted;
    case AttemptOutcome::budget: return RunOutcome::budget;
    case AttemptOutcome::fatal:
    case AttemptOutcome::retry: break;
  }
  return RunOutcome::fatal;
}

std::string number(std::uint64_t n) { return fmt::format("{}", n); }

// One run's state and steps; run_attempts below is its table of contents.
class AttemptLoop {
 public:
  AttemptLoop(const Policy& policy, const Command& command, CommandRunner& runner, Sleeper& sleeper,
              AttemptLog& log, Random& random, RetryBudget* budget, std::optional<Duration> started)
      : policy_(policy), command_(command), runner_(runner), sleeper_(sleeper), log_(log), random_(random),
        budget_(budget), backoff_(policy.backoff, random), start_(started.value_or(sleeper.now())) {
    if (policy.max_time) deadline_ = start_ + *policy.max_time;
  }

  RunSummary run() {
    log_.run_started(policy_, command_);
    if (auto signal = splay()) return interrupted(nullptr, *signal);

    std::optional<AttemptRecord> previous;
    for (std::uint64_t attempt = 1;; ++attempt) {
      // Nothing starts once retryx has been told to stop.
      if (auto signal = sleeper_.stop_requested()) return interrupted(previous ? &*previous : nullptr, *signal);
      if (attempt == 1 && budget_) told(budget_->run_started());  // the budget grows with the runs
      AttemptRecord record = run_attempt(attempt);
      if (record.outcome != AttemptOutcome::retry) return finish(record);

      log_.attempt_ended(record);
      if (auto signal = run_hook("on-retry", policy_.hooks.on_retry, record)) return interrupted(&record, *signal);
      if (deadline_ && sleeper_.now() + *record.delay > *deadline_) return deadline_after_hook(record);
      if (auto signal = sleeper_.sleep(*record.delay)) return interrupted(&record, *signal);
      previous = std::move(record);
    }
  }

 private:
  // --splay: one random sleep before the first attempt, kept inside --max-time.
  std::optional<int> splay() {
    if (policy_.splay <= Duration::zero()) return std::nullopt;
    auto delay = Duration(std::llround(random_.uniform(0, static_cast<double>(policy_.splay.count()))));
    if (deadline_) delay = std::min(delay, *deadline_ - sleeper_.now());
    log_.splay(delay);
    return sleeper_.sleep(delay);
  }

  // Spawn, wait, classify, and decide: success, retry (with its delay), or stop.
  AttemptRecord run_attempt(std::uint64_t attempt) {
    const auto [limit, deadline_binds] = time_limit();
    log_.attempt_starting(attempt, policy_.max_attempts);
    const AttemptRequest request{command_, child_environment(attempt), limit, false,
                                 [&](int pid) { log_.attempt_started(attempt, policy_.max_attempts, pid); }};
    AttemptResult result = runner_.run(request);
    status_before_last_ = previous_status_;
    previous_status_ = shell_status(result.how);

    AttemptRecord record = decide({attempt, policy_.max_attempts, std::move(result), AttemptOutcome::fatal, {}, {}, {}, {}, {}},
                                  deadline_binds);
    const OutputRelease released = runner_.release_output(record.outcome == AttemptOutcome::success);
    if (released.stdout_error) record.result.stdout_error = released.stdout_error;
    if (released.interrupted_by && record.outcome != AttemptOutcome::interrupted) {
      record.result.interrupted_by = released.interrupted_by;
      record.outcome = AttemptOutcome::interrupted;
      record.reason = received(*released.interrupted_by);
      record.delay.reset();
    }
    if (record.result.stdout_error && record.outcome != AttemptOutcome::interrupted) stdout_lost(record);
    return record;
  }

  // retryx's stdout can take no more (spec §3, §6). A write error lost
  // output the user asked for: the run fails (125). A reader that has gone
  // cannot come back: a retry's output would be read by no one, so none
  // starts, and the run ends with this attempt's status.
  static void stdout_lost(AttemptRecord& record) {
    const int error = *record.result.stdout_error;
    if (error != EPIPE) {
      record.outcome = AttemptOutcome::fatal;
      record.reason = fmt::format("write error on retryx's stdout: {}", std::strerror(error));
      record.delay.reset();
    } else if (record.outcome == AttemptOutcome::retry) {
      record.outcome = AttemptOutcome::fatal;
      record.reason = "retryx's stdout has no reader any more: a retry's output could not be read";
      record.delay.reset();
    }
  }

  // What follows an attempt: its outcome, the rule that decided, the delay.
  AttemptRecord decide(AttemptRecord record, bool deadline_binds) {
    const std::uint64_t attempt = record.attempt;
    if (record.result.interrupted_by) {
      record.outcome = AttemptOutcome::interrupted;
      record.reason = received(*record.result.interrupted_by);
      return record;
    }
    // Stopped at the deadline, not by --idle-timeout before it.
    if (record.result.timed_out && deadline_binds && !record.result.idle_limit) {
      record.outcome = AttemptOutcome::deadline;
      record.reason = fmt::format("--max-time {} reached", format_duration(*policy_.max_time));
      return record;
    }

    Classification classification = classify(record.result, policy_.classify);
    record.outcome = outcome_of(classification.verdict);
    record.reason = std::move(classification.reason);
    if (record.outcome != AttemptOutcome::retry) return record;

    if (policy_.max_attempts && attempt >= *policy_.max_attempts) {
      record.outcome = AttemptOutcome::exhausted;
      record.retry_reason = std::exchange(record.reason, fmt::format("attempt limit {} reached", *policy_.max_attempts));
      return record;
    }
    if (policy_.reset_after && record.result.duration >= *policy_.reset_after) backoff_.restart();
    Duration delay = backoff_.next();
    const bool directed = direct(record, delay);
    if (deadline_ && sleeper_.now() + delay > *deadline_) {
      // No sleep past the deadline: give up now rather than wake up too late.
      record.outcome = AttemptOutcome::deadline;
      record.reason = fmt::format("the next delay ({}{}) would end after --max-time {}", format_duration(delay),
                                  directed ? ", asked by the command" : "", format_duration(*policy_.max_time));
      return record;
    }
    if (budget_) {
      const BudgetVerdict verdict = told(budget_->retry());
      if (!verdict.granted) {
        record.outcome = AttemptOutcome::budget;
        record.retry_reason = std::exchange(
            record.reason, fmt::format("the retry budget is spent ({} retr{} in the last {}; {} allowed for {} run{})",
                                       verdict.retries, verdict.retries == 1 ? "y" : "ies",
                                       format_duration(policy_.budget.window), verdict.allowed, verdict.runs,
                                       verdict.runs == 1 ? "" : "s"));
        return record;
      }
    }
    record.delay = delay;
    return record;
  }

  // The budget's answer; a problem of its store is logged (once: the store
  // is not asked again).
  BudgetVerdict told(const BudgetAnswer& answer) {
    if (!answer.problem.empty()) log_.store(budget_->location(), answer.problem);
    return answer.verdict;
  }

  // --delay-from-output: the value the attempt's last matching line gave.
  // The delay becomes the longer of the backoff's and the command's, the
  // command's capped at --max-delay. A value that does not parse is noted
  // in the record (the log says so) and ignored. True: the command's
  // delay is the one taken.
  bool direct(AttemptRecord& record, Duration& delay) {
    const std::optional<std::string>& text = record.result.output.delay_text;
    if (!policy_.classify.output.delay_from || !text) return false;
    try {
      const Duration asked = parse_directed_delay(*text, sleeper_.wall_clock());
      record.directed_delay = asked;
      const Duration capped = std::min(asked, policy_.backoff.max_delay);
      if (capped <= delay) return false;
      delay = capped;
      return true;
    } catch (const ValueError& e) {
      record.directed_delay_problem = fmt::format("--delay-from-output: ignored '{}': {}", printable(*text), e.what());
      return false;
    }
  }

  // The command's value for a log line: control characters and bytes that
  // are not ASCII escaped as \xNN, at most 64 characters.
  static std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, 64)) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte >= 0x7f || c == '\\') out += fmt::format("\\x{:02x}", byte);
      else out += c;
    }
    if (text.size() > 64) out += "...";
    return out;
  }

  // What bounds the next attempt or hook: --timeout, or what is left of
  // --max-time when that is shorter (then the deadline "binds").
  std::pair<std::optional<Duration>, bool> time_limit() const {
    const std::optional<Duration> timeout = policy_.process.timeout;
    if (!deadline_) return {timeout, false};
    const Duration remaining = std::max(*deadline_ - sleeper_.now(), Duration(std::chrono::milliseconds(1)));
    if (timeout && *timeout <= remaining) return {timeout, false};
    return {remaining, true};
  }

  // RETRYX_* for an attempt (spec §5); hooks add theirs on top.
  ChildEnvironment child_environment(std::uint64_t attempt) const {
    ChildEnvironment env{
        {"RETRYX_ATTEMPT", number(attempt)},
        {"RETRYX_MAX_ATTEMPTS", policy_.max_attempts ? number(*policy_.max_attempts) : ""},
        {"RETRYX_PREVIOUS_STATUS", previous_status_ ? fmt::format("{}", *previous_status_) : ""},
        {"RETRYX_REMAINING_MS", std::nullopt},
        {"RETRYX_STATUS", std::nullopt},
        {"RETRYX_DELAY_MS", std::nullopt},
    };
    if (deadline_) env[3].second = fmt::format("{}", std::max(0LL, to_millis(*deadline_ - sleeper_.now())));
    return env;
  }

  // --on-retry / --on-giveup: /bin/sh -c CMD, bounded by --timeout; a
  // failure is logged and never changes the run. Returns a signal that
  // interrupted it.
  std::optional<int> run_hook(const char* name, const std::optional<std::string>& hook,
                              const AttemptRecord& record) {
    if (!hook) return std::nullopt;
    if (auto signal = sleeper_.stop_requested()) return signal;
    // The hook sees the attempt it follows: its number and its status.
    ChildEnvironment env = child_environment(record.attempt);
    env[2].second = status_before_last_ ? fmt::format("{}", *status_before_last_) : "";
    env[4].second = fmt::format("{}", shell_status(record.result.how));
    if (record.delay) env[5].second = fmt::format("{}", to_millis(*record.delay));
    const Command command{"/bin/sh", "-c", *hook};
    const AttemptResult result = runner_.run({command, env, time_limit().first, true, {}});
    log_.hook(name, result);
    return result.interrupted_by;
  }

  RunSummary finish(AttemptRecord& record) {
    log_.attempt_ended(record);
    RunSummary summary = summarize(run_outcome_of(record.outcome), record.attempt, record.result,
                                   record.reason, record.result.interrupted_by);
    if (summary.outcome != RunOutcome::success && summary.outcome != RunOutcome::interrupted) {
      if (auto signal = run_hook("on-giveup", policy_.hooks.on_giveup, record)) {
        summary = summarize(RunOutcome::interrupted, record.attempt, record.result, received(*signal), signal);
      }
    }
    log_.run_ended(summary);
    return summary;
  }

  // The on-retry hook took the time the delay needed.
  RunSummary deadline_after_hook(const AttemptRecord& record) {
    RunSummary summary =
        summarize(RunOutcome::deadline, record.attempt, record.result,
                  fmt::format("the delay ({}) would end after --max-time {} once the on-retry hook had run",
                              format_duration(*record.delay), format_duration(*policy_.max_time)),
                  std::nullopt);
    log_.run_ended(summary);
    return summary;
  }

  // A signal ended the run after `record`'s attempt, or before any (no record).
  RunSummary interrupted(const AttemptRecord* record, int signal) {
    RunSummary summary = record ? summarize(RunOutcome::interrupted, record->attempt, record->result,
                                            received(signal), signal)
                                : summarize(RunOutcome::interrupted, 0, std::nullopt, received(signal), signal);
    log_.run_ended(summary);
    return summary;
  }

  static std::string received(int signal) { return fmt::format("retryx received {}", signal_name(signal)); }

  RunSummary summarize(RunOutcome outcome, std::uint64_t attempts, std::optional<AttemptResult> last,
                       std::string reason, std::optional<int> signal) {
    RunSummary s{outcome, attempts, policy_.max_attempts, std::move(last), std::move(reason),
                 sleeper_.now() - start_, 0, signal};
    s.exit_status = exit_status(s.outcome, s.last, policy_.process.preserve_status, s.signal);
    return s;
  }

  const Policy& policy_;
  const Command& command_;
  CommandRunner& runner_;
  Sleeper& sleeper_;
  AttemptLog& log_;
  Random& random_;
  RetryBudget* budget_;
  Backoff backoff_;
  const Duration start_;
  std::optional<Duration> deadline_;
  std::optional<int> previous_status_;     // the last attempt's status
  std::optional<int> status_before_last_;  // the one before it (a hook's RETRYX_PREVIOUS_STATUS)
};

}  // namespace

RunSummary run_attempts(const Policy& policy, const Command& command, CommandRunner& runner,
                        Sleeper& sleeper, AttemptLog& log, Random& random, RetryBudget* budget,
                        std::optional<Duration> started) {
  return AttemptLoop(policy, command, runner, sleeper, log, random, budget, started).run();
}

}  // namespace retryx
