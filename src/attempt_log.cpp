#include "attempt_log.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <unistd.h>

namespace retryx {

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;  // signal handlers run without SA_RESTART
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string attempt_label(std::uint64_t attempt, std::optional<std::uint64_t> max) {
  return max ? fmt::format("attempt {}/{}", attempt, *max) : fmt::format("attempt {}", attempt);
}

void TextLog::line(const std::string& text) { write_all(fd_, "retryx: " + text + "\n"); }

void TextLog::run_started(const Policy& policy, const Command&) {
  if (verbose_) line("policy: " + describe_policy(policy));
}

void TextLog::splay(Duration delay) {
  if (verbose_) line(fmt::format("splay: waiting {} before the first attempt", format_duration(delay)));
}

void TextLog::attempt_started(std::uint64_t attempt, std::optional<std::uint64_t> max, int pid) {
  if (verbose_) line(fmt::format("{} started (pid {})", attempt_label(attempt, max), pid));
}

void TextLog::attempt_ended(const AttemptRecord& r) {
  const std::string head = fmt::format("{} {} after {}: {}", attempt_label(r.attempt, r.max_attempts),
                                       r.outcome == AttemptOutcome::success ? "succeeded" : "failed",
                                       format_duration(r.result.duration), describe(r.result.how));
  switch (r.outcome) {
    case AttemptOutcome::success:
      if (verbose_) line(head);
      break;
    case AttemptOutcome::retry:
      line(fmt::format("{}; retrying in {}", head, format_duration(r.delay.value_or(Duration::zero()))));
      break;
    case AttemptOutcome::fatal:
      line(fmt::format("{}; not retrying: {}", head, r.reason));
      break;
    case AttemptOutcome::exhausted:
      line(fmt::format("{}; no attempts left", head));
      break;
  }
}

void TextLog::run_ended(const RunSummary& s) {
  const std::string attempts = fmt::format("{} attempt{}", s.attempts, s.attempts == 1 ? "" : "s");
  if (s.outcome == RunOutcome::success) {
    if (verbose_ || s.attempts > 1)
      line(fmt::format("succeeded on {} after {}", attempt_label(s.attempts, s.max_attempts),
                       format_duration(s.elapsed)));
    return;
  }
  line(fmt::format("giving up after {} in {}: {}; exit status {}", attempts, format_duration(s.elapsed),
                   s.reason, s.exit_status));
}

}  // namespace retryx
