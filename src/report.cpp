#include "report.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <fmt/format.h>
#include <stdexcept>
#include <unistd.h>

#include "atomic_file.hpp"
#include "file_io.hpp"
#include "json_log.hpp"
#include "timestamp.hpp"

namespace retryx {

RunReport::RunReport(std::string path, int error_fd, RunIdentity identity)
    : path_(std::move(path)), error_fd_(error_fd), identity_(std::move(identity)) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw std::runtime_error(fmt::format("--report: {} is a directory", path_));
  // The file the report is written to at the end (replace_file), tried
  // now; path itself is left as it is until then.
  std::string temp;
  if (!create_beside(path_, temp))
    throw std::runtime_error(fmt::format("--report: cannot write beside {}: {}", path_, std::strerror(errno)));
  ::unlink(temp.c_str());
}

void RunReport::run_started(const Policy&, const Command& command) { command_ = command; }

void RunReport::attempt_ended(const AttemptRecord& record) {
  std::string json = attempt_fields(record).str();
  if (first_.size() < keep_first) {
    first_.push_back(std::move(json));
    return;
  }
  last_.push_back(std::move(json));
  if (last_.size() > keep_last) {
    last_.pop_front();
    ++omitted_;
  }
}

std::string RunReport::text(const RunSummary& summary) const {
  // The end fields, but "attempts" is the array here (the spec's report):
  // the count is its length plus attempts_omitted.
  JsonObject report;
  report.field("run_id", identity_.run_id)
      .field("started_at", rfc3339(identity_.started_at))
      .optional_field("name", identity_.name)
      .field("outcome", name(summary.outcome))
      .field("elapsed_ms", to_millis(summary.elapsed))
      .field("exit_status", summary.exit_status)
      .string_array("command", command_);
  std::string attempts = "[";
  auto append = [&](const std::string& json) {
    if (attempts.size() > 1) attempts += ',';
    attempts += json;
  };
  for (const auto& json : first_) append(json);
  for (const auto& json : last_) append(json);
  report.raw_field("attempts", attempts + "]").field("attempts_omitted", omitted_);
  return report.str() + "\n";
}

void RunReport::run_ended(const RunSummary& summary) {
  if (const std::string error = replace_file(path_, text(summary), mode_for(path_)); !error.empty())
    write_all(error_fd_, fmt::format("retryx: error: cannot write the report {}: {}\n", path_, error));
}

}  // namespace retryx
