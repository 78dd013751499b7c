#include "attempt_log.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <unistd.h>

#include "timestamp.hpp"

namespace retryx {

void LogWriter::write(std::string_view text) {
  std::string stamped;
  if (timestamps_) {
    // One time for the whole text: its lines were logged together.
    const std::string now = rfc3339_now() + " ";
    for (std::size_t start = 0; start < text.size();) {
      const std::size_t end = std::min(text.find('\n', start), text.size() - 1) + 1;
      stamped.append(now).append(text.substr(start, end - start));
      start = end;
    }
    text = stamped;
  }
  write_raw(text);
}

void LogWriter::write_raw(std::string_view text) {
  std::string broken;
  if (break_line_) {
    break_line_ = false;
    broken.append("\n").append(text);
    text = broken;
  }
  if (held_) {
    held_->append(STDERR_FILENO, text, true);
    return;
  }
  if (write_all(fd_, text) || failed_) return;
  failed_ = true;
  if (fd_ != STDERR_FILENO)
    write_all(STDERR_FILENO, fmt::format("retryx: error: cannot write the attempt log {}: {}\n", name_,
                                         std::strerror(errno)));
}

std::string attempt_label(std::uint64_t attempt, std::optional<std::uint64_t> max) {
  return max ? fmt::format("attempt {}/{}", attempt, *max) : fmt::format("attempt {}", attempt);
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) out += fmt::format("\\x{:02x}", byte);
    else out += c;
  }
  return out;
}

void TextLog::line(const std::string& raw, Tone tone) {
  const std::string text = one_line(raw);
  if (!color_ || tone == Tone::plain) {
    out_.write(prefix_ + " " + text + "\n");
    return;
  }
  // SGR: 32 green, 33 yellow, 31 red; 1 bold for the prefix.
  const char* sgr = tone == Tone::good ? "32" : tone == Tone::warn ? "33" : "31";
  out_.write(fmt::format("\x1b[1m{}\x1b[0m \x1b[{}m{}\x1b[0m\n", prefix_, sgr, text));
}

void TextLog::run_started(const Policy& policy, const Command&) {
  if (verbose_) line("policy: " + describe_policy(policy));
}

void TextLog::splay(Duration delay) {
  if (verbose_) line(fmt::format("splay: waiting {} before the first attempt", format_duration(delay)));
}

void TextLog::attempt_started(std::uint64_t attempt, std::optional<std::uint64_t> max, int pid) {
  if (verbose_) line(fmt::format("{} started (pid {})", attempt_label(attempt, max), pid));
}

namespace {

// "exit code 3", "killed by SIGKILL", "timed out (killed by SIGTERM)",
// "timed out, no output for 30s (killed by SIGTERM)" (--idle-timeout).
std::string what_happened(const AttemptResult& result) {
  if (result.idle_limit)
    return fmt::format("timed out, no output for {} ({})", format_duration(*result.idle_limit), describe(result.how));
  if (result.timed_out) return fmt::format("timed out ({})", describe(result.how));
  return describe(result.how);
}

// " (why)" when the reason an attempt was retryable says more than the
// default rule: "(no line matched --until-output)" after an exit code 0.
std::string why_retryable(const std::string& reason) {
  if (reason.empty() || reason == "every failure is retried") return "";
  return " (" + reason + ")";
}

// Where a retry's delay came from, with --delay-from-output: "asked by the
// command", "the command asked for 2h; capped by --max-delay", "the
// backoff's; the command asked for 1s", or why its value was ignored.
std::string delay_source(const AttemptRecord& r) {
  if (!r.directed_delay_problem.empty()) return r.directed_delay_problem;
  if (!r.directed_delay || !r.delay) return "";
  if (*r.directed_delay == *r.delay) return "asked by the command";
  if (*r.directed_delay > *r.delay)
    return fmt::format("the command asked for {}; capped by --max-delay", format_duration(*r.directed_delay));
  return fmt::format("the backoff's; the command asked for {}", format_duration(*r.directed_delay));
}

// " (delay source; why retryable)", either part left out when it says nothing.
std::string notes(const std::string& source, const std::string& reason) {
  const std::string why = why_retryable(reason);
  if (source.empty()) return why;
  if (why.empty()) return " (" + source + ")";
  return " (" + source + "; " + why.substr(2);
}

}  // namespace

std::string attempt_end_message(const AttemptRecord& r) {
  const std::string label = attempt_label(r.attempt, r.max_attempts);
  const std::string took = format_duration(r.result.duration);
  const std::string what = what_happened(r.result);
  switch (r.outcome) {
    case AttemptOutcome::success: return fmt::format("{} succeeded after {}: {}", label, took, what);
    case AttemptOutcome::retry:
      return fmt::format("{} failed after {}: {}; retrying in {}{}", label, took, what,
                         format_duration(r.delay.value_or(Duration::zero())), notes(delay_source(r), r.reason));
    case AttemptOutcome::fatal:
    case AttemptOutcome::deadline:
    case AttemptOutcome::budget:
      return fmt::format("{} failed after {}: {}; not retrying: {}{}", label, took, what, r.reason,
                         r.directed_delay_problem.empty() ? "" : " (" + r.directed_delay_problem + ")");
    case AttemptOutcome::exhausted:
      return fmt::format("{} failed after {}: {}{}; no attempts left", label, took, what,
                         why_retryable(r.retry_reason));
    case AttemptOutcome::interrupted: return fmt::format("{} interrupted after {}: {}", label, took, what);
  }
  return label;
}

void TextLog::attempt_ended(const AttemptRecord& r) {
  if (r.outcome == AttemptOutcome::success && !verbose_) return;
  const Tone tone = r.outcome == AttemptOutcome::success ? Tone::good
                    : r.outcome == AttemptOutcome::retry ? Tone::warn
                                                         : Tone::bad;
  line(attempt_end_message(r), tone);
}

void TextLog::hook(std::string_view name, const AttemptResult& result) {
  const bool ok = !result.timed_out && std::holds_alternative<Exited>(result.how) &&
                  std::get<Exited>(result.how).code == 0;
  if (!ok)
    line(fmt::format("{} hook failed after {}: {}", name, format_duration(result.duration), what_happened(result)),
         Tone::warn);
  else if (verbose_)
    line(fmt::format("{} hook succeeded after {}", name, format_duration(result.duration)));
}

void TextLog::circuit(std::string_view state, std::string_view message) {
  // A refusal is said once, by run_ended's last line; a trial run that
  // succeeds is as quiet as any success (cron mails any output).
  if (state == "refused" || (state == "trial" && !verbose_)) return;
  line(std::string(message), state == "closed" ? Tone::good : Tone::warn);
}

void TextLog::store(std::string_view, std::string_view problem) { line(std::string(problem), Tone::warn); }

std::string run_end_message(const RunSummary& s) {
  const std::string attempts = fmt::format("{} attempt{}", s.attempts, s.attempts == 1 ? "" : "s");
  switch (s.outcome) {
    case RunOutcome::success:
      return fmt::format("succeeded on {} after {}", attempt_label(s.attempts, s.max_attempts),
                         format_duration(s.elapsed));
    case RunOutcome::interrupted:
      return fmt::format("interrupted after {} in {}: {}; exiting by the same signal", attempts,
                         format_duration(s.elapsed), s.reason);
    case RunOutcome::circuit_open:
      return fmt::format("{}; not running the command; exit status {}", s.reason, s.exit_status);
    default:
      return fmt::format("giving up after {} in {}: {}; exit status {}", attempts, format_duration(s.elapsed),
                         s.reason, s.exit_status);
  }
}

void TextLog::run_ended(const RunSummary& s) {
  if (s.outcome == RunOutcome::success && !verbose_ && s.attempts <= 1) return;
  line(run_end_message(s), s.outcome == RunOutcome::success ? Tone::good : Tone::bad);
}

}  // namespace retryx
