#include "retryx.hpp"

#include <fmt/format.h>
#include <iostream>
#include <random>
#include <unistd.h>

#include "attempt_log.hpp"
#include "attempt_loop.hpp"
#include "cli.hpp"
#include "dry_run.hpp"
#include "process_layer.hpp"
#include "random.hpp"
#include "version.hpp"

namespace retryx {

namespace {

std::uint64_t seed_from_os() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::unique_ptr<AttemptLog> make_log(const Policy& policy) {
  if (policy.verbosity == Verbosity::quiet) return std::make_unique<AttemptLog>();
  return std::make_unique<TextLog>(STDERR_FILENO, policy.verbosity);
}

}  // namespace

int run(int argc, const char* const* argv, const char* const* envp) {
  // argv -> cli -> Policy
  const Invocation invocation = parse_command_line(argc, argv, envp);
  if (std::holds_alternative<ShowHelp>(invocation)) {
    std::cout << help_text();
    return 0;
  }
  if (std::holds_alternative<ShowVersion>(invocation)) {
    std::cout << fmt::format("retryx {}\n", version);
    return 0;
  }
  const auto& [policy, command, dry_run] = std::get<RunRequest>(invocation);
  if (dry_run) {
    print_dry_run(policy, command, std::cout);
    return 0;
  }

  // the attempt loop, with real processes and time, logging as it goes
  ProcessLayer processes(policy.process, policy.classify.output);
  Random random(policy.seed.value_or(seed_from_os()));
  const std::unique_ptr<AttemptLog> log = make_log(policy);
  const RunSummary summary = run_attempts(policy, command, processes, processes, *log, random);

  // -> exit status, or death by the signal that interrupted the run
  if (summary.signal) die_by_signal(*summary.signal);
  return summary.exit_status;
}

}  // namespace retryx
