#pragma once
// What tells one run from another (spec §6, §10): a run id unique to the
// run (in every JSON event, the report, GitLab's section names), the job's
// --name, retryx's pid and when the run started.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retryx {

struct RunIdentity {
  std::string run_id;               // a random UUID (version 4), lower-case hex
  std::optional<std::string> name;  // --name
  int pid = 0;                      // retryx's own
  std::chrono::system_clock::time_point started_at;
};

// A new identity for this process's run, now.
RunIdentity new_run_identity(std::optional<std::string> name);

// A random UUID version 4 ("0b6c1f9e-3d5a-4c62-9a1e-5f0e2c7d8b4a") from
// the kernel's random source.
std::string new_run_id();

// --name's rule: letters, digits, '.', '_', '-'; 1 to 64 characters.
// Returns why NAME breaks it, or an empty string.
std::string name_problem(std::string_view name);

// The job's label in the metrics: --name, or the command's base name.
std::string job_label(const std::optional<std::string>& name, const std::vector<std::string>& command);

}  // namespace retryx
