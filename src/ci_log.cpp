#include "ci_log.hpp"

#include <fmt/format.h>

namespace retryx {

namespace {

// '%' first, so that the escapes added after it are not escaped again.
std::string escape(std::string_view text, bool property) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '%': out += "%25"; break;
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case ':': out += property ? "%3A" : ":"; break;
      case ',': out += property ? "%2C" : ","; break;
      default: out += c;
    }
  }
  return out;
}

bool section_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

}  // namespace

std::string escape_workflow_data(std::string_view text) { return escape(text, false); }

std::string escape_workflow_property(std::string_view text) { return escape(text, true); }

std::string workflow_command(std::string_view command, std::string_view title, std::string_view message) {
  if (title.empty()) return fmt::format("::{}::{}\n", command, escape_workflow_data(message));
  return fmt::format("::{} title={}::{}\n", command, escape_workflow_property(title), escape_workflow_data(message));
}

std::string gitlab_section_name(std::string_view text) {
  if (text.empty()) return "_";
  std::string out(text);
  for (char& c : out)
    if (!section_char(c)) c = '_';
  return out;
}

std::string ci_title(const std::optional<std::string>& name) { return name ? "retryx[" + *name + "]" : "retryx"; }

// --- github ---------------------------------------------------------------------------

void GithubLog::end_group() {
  if (open_) mark(workflow_command("endgroup", "", ""));
  open_.reset();
}

void GithubLog::attempt_starting(std::uint64_t attempt, std::optional<std::uint64_t> max) {
  end_group();
  mark(workflow_command("group", "", fmt::format("{}: {}", title_, attempt_label(attempt, max))));
  open_ = attempt;
}

// The attempt's line inside its group; folded, the warning says it.
void GithubLog::attempt_ended(const AttemptRecord& record) {
  text_.attempt_ended(record);
  end_group();
  if (record.outcome == AttemptOutcome::retry) mark(workflow_command("warning", title_, attempt_end_message(record)));
}

void GithubLog::run_ended(const RunSummary& summary) {
  end_group();
  text_.run_ended(summary);
  if (summary.outcome != RunOutcome::success) mark(workflow_command("error", title_, run_end_message(summary)));
}

// --- gitlab ---------------------------------------------------------------------------

GitlabLog::~GitlabLog() { end_section(); }

std::string GitlabLog::section(std::uint64_t attempt) const {
  return gitlab_section_name(fmt::format("retryx-{}-attempt-{}", run_id_, attempt));
}

void GitlabLog::attempt_starting(std::uint64_t attempt, std::optional<std::uint64_t> max) {
  end_section();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  mark(fmt::format("\x1b[0Ksection_start:{}:{}[collapsed=true]\r\x1b[0K{}: {}\n", now, section(attempt), title_,
                   attempt_label(attempt, max)));
  open_ = attempt;
}

void GitlabLog::end_section() {
  if (!open_) return;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  mark(fmt::format("\x1b[0Ksection_end:{}:{}\r\x1b[0K\n", now, section(*open_)));
  open_.reset();
}

// The attempt's line after its section: it shows while the section is folded.
void GitlabLog::attempt_ended(const AttemptRecord& record) {
  end_section();
  text_.attempt_ended(record);
}

void GitlabLog::run_ended(const RunSummary& summary) {
  end_section();
  text_.run_ended(summary);
}

}  // namespace retryx
