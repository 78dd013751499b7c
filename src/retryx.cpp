#include "retryx.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <fmt/format.h>
#include <optional>
#include <cstdio>
#include <sstream>
#include <random>
#include <unistd.h>

#include "attempt_log.hpp"
#include "attempt_loop.hpp"
#include "ci_log.hpp"
#include "cli.hpp"
#include "dry_run.hpp"
#include "exit_status.hpp"
#include "file_io.hpp"
#include "held_output.hpp"
#include "json_log.hpp"
#include "metrics.hpp"
#include "process_layer.hpp"
#include "random.hpp"
#include "report.hpp"
#include "run_identity.hpp"
#include "shared_state.hpp"
#include "timestamp.hpp"
#include "version.hpp"

namespace retryx {

namespace {

// What retryx was asked to print (--help, --version, --dry-run), written
// and flushed here so that a failed write is not lost silently (spec §6):
// it is thrown as "write error: No space left on device", which main
// reports with status 125, as coreutils' programs do. A reader that went
// away kills retryx by SIGPIPE first, as it does them; if SIGPIPE is
// ignored, EPIPE is reported like any other write error, as they do.
void print_to_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw std::runtime_error(fmt::format("write error: {}", std::strerror(errno)));
}

std::uint64_t seed_from_os() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

// Where the attempt log goes: stderr, or --log-file opened for appending.
// An unwritable path is retryx's own failure (125), before anything runs.
int open_log(const LogPolicy& log) {
  if (!log.file) return STDERR_FILENO;
  const int fd = ::open(log.file->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("--log-file: cannot open {}: {}", *log.file, std::strerror(errno)));
  return fd;
}

bool use_color(const LogPolicy& log, int fd) {
  if (log.color != ColorMode::automatic) return log.color == ColorMode::always;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return ::isatty(fd) && !(no_color && *no_color) && !(term && std::string_view(term) == "dumb");
}

// held: --output-on-failure's store, where lines meant for stderr go.
std::unique_ptr<AttemptLog> make_log(const Policy& policy, int fd, const RunIdentity& identity, HeldOutput* held) {
  if (policy.verbosity == Verbosity::quiet) return std::make_unique<AttemptLog>();
  const std::string file = policy.log.file.value_or("");
  if (policy.log.file) held = nullptr;  // a --log-file is written as usual
  if (policy.log.format == LogFormat::json) {
    LogWriter out(fd, file);
    out.hold_in(held);
    return std::make_unique<JsonLog>(out, identity);
  }
  // A file outlives the run: its text lines say when they were written.
  LogWriter out(fd, file, policy.log.file.has_value());
  out.hold_in(held);
  const bool color = use_color(policy.log, fd);
  if (policy.log.format == LogFormat::github)
    return std::make_unique<GithubLog>(out, policy.verbosity, color, policy.name);
  if (policy.log.format == LogFormat::gitlab)
    return std::make_unique<GitlabLog>(out, policy.verbosity, color, policy.name, identity.run_id);
  return std::make_unique<TextLog>(out, policy.verbosity, color, policy.name);
}

// An open circuit: nothing runs; the log (a circuit event, then the end)
// and the report say why.
RunSummary refuse(const Policy& policy, const Command& command, AttemptLog& log, const std::string& why) {
  log.circuit("refused", why);
  log.run_started(policy, command);
  RunSummary summary{RunOutcome::circuit_open, 0, policy.max_attempts, std::nullopt, why, {}, 0, std::nullopt};
  summary.exit_status = exit_status(summary.outcome, summary.last, false);
  log.run_ended(summary);
  return summary;
}

// --metrics-file: the run added to the job's series (spec §10). Content of
// the old file that could not be carried over goes to the log; a file that
// cannot be written is said on stderr, as for --report, and changes no
// exit status.
void record_metrics(const std::optional<MetricsFile>& metrics, const Policy& policy, const Command& command,
                    const RunSummary& summary, AttemptLog& log) {
  if (!metrics) return;
  const auto [problem, error] = metrics->record(run_figures(summary, job_label(policy.name, command), unix_now_ms()));
  if (!problem.empty()) log.metrics(problem);
  if (!error.empty()) write_all(STDERR_FILENO, fmt::format("retryx: error: {}\n", error));
}

// --output-on-failure (spec §10): a run that did not succeed writes out
// everything held. Held output lost (a write error on stdout other than
// EPIPE, bytes dropped when the temporary file failed) is said on stderr and
// makes the status 125, as for -O (§6). A signal that came meanwhile is the
// one retryx dies by, if none did before.
int write_out_held(ProcessLayer& processes, const HeldOutput& held, int status, std::optional<int>& signal) {
  const OutputRelease released = processes.write_out_held();
  if (!signal) signal = released.interrupted_by;
  bool lost = false;
  if (released.stdout_error && *released.stdout_error != EPIPE) {
    write_all(STDERR_FILENO, fmt::format("retryx: error: write error on stdout: {}\n", std::strerror(*released.stdout_error)));
    lost = true;
  }
  if (const auto error = held.spill_error()) {
    const std::string why = fmt::format("cannot write the temporary file in {}: {}", temp_file_dir(), std::strerror(*error));
    if (held.dropped() > 0)
      write_all(STDERR_FILENO, fmt::format("retryx: error: held output: {} bytes dropped: {}\n", held.dropped(), why));
    else
      write_all(STDERR_FILENO, fmt::format("retryx: held output was kept in memory: {}\n", why));
    lost = lost || held.dropped() > 0;
  }
  return lost ? 125 : status;
}

// retryx's own failure during a run with --output-on-failure (125, said by
// main): what was held is written out first, not lost with it.
struct WriteOutOnError {
  HeldOutput* held;
  ~WriteOutOnError() {
    if (held && std::uncaught_exceptions() > 0)
      held->release([](int stream, std::string_view data) {
        write_all(stream == STDOUT_FILENO ? STDOUT_FILENO : STDERR_FILENO, data);
        return true;
      });
  }
};

}  // namespace

int run(int argc, const char* const* argv, const char* const* envp) {
  open_standard_descriptors();
  // argv -> cli -> Policy
  const Invocation invocation = parse_command_line(argc, argv, envp);
  if (std::holds_alternative<ShowHelp>(invocation)) {
    print_to_stdout(help_text());
    return 0;
  }
  if (std::holds_alternative<ShowVersion>(invocation)) {
    print_to_stdout(fmt::format("retryx {}\n", version));
    return 0;
  }
  const auto& [policy, command, dry_run] = std::get<RunRequest>(invocation);
  if (dry_run) {
    // Not <iostream>: its static initialisation is a tenth of start-up.
    std::ostringstream out;
    print_dry_run(policy, command, out);
    print_to_stdout(out.str());
    return 0;
  }

  // the attempt log and the report, checked before anything runs
  const RunIdentity identity = new_run_identity(policy.name);
  const int log_fd = open_log(policy.log);
  std::optional<HeldOutput> held;  // --output-on-failure: the whole run's output and log
  if (policy.process.output_on_failure) held.emplace(HeldOutput::fallback_bound);
  const WriteOutOnError held_guard{held ? &*held : nullptr};
  const std::unique_ptr<AttemptLog> log = make_log(policy, log_fd, identity, held ? &*held : nullptr);
  std::optional<RunReport> report;
  if (policy.log.report) report.emplace(*policy.log.report, STDERR_FILENO, identity);
  LogFanout logs;
  logs.add(*log);
  if (report) logs.add(*report);
  std::optional<MetricsFile> metrics;
  if (policy.log.metrics_file) metrics.emplace(*policy.log.metrics_file);

  // the process layer, set up before the circuit is asked: when it cannot
  // be (no temporary directory for -O, say), no half-open trial is recorded
  ProcessLayer processes(policy.process, policy.classify.output, held ? &*held : nullptr);
  // --circuit and --retry-budget: on files, or on a Redis store (a fleet;
  // its helper is started at the first request)
  SharedState shared(policy, identity, envp, [&processes] { return processes.stop_requested().has_value(); });

  // -> exit status, or death by the signal that interrupted the run; what
  // was held written out first unless the run succeeded, the stores'
  // helpers ended before dying
  // A signal that came after the loop (while the circuit, the metrics or
  // the budget waited for a lock) is not lost either: retryx dies by it.
  auto finish = [&](int status, std::optional<int> signal, bool succeeded) {
    if (!signal) signal = processes.stop_requested();
    if (held && !succeeded) status = write_out_held(processes, *held, status, signal);
    if (signal) {
      shared.end();
      die_by_signal(*signal);
    }
    return status;
  };

  // the circuit breaker may refuse the run (75); a store that fails admits
  // it. The run's time (--max-time, elapsed) counts from here.
  const Duration started = processes.now();
  CircuitBreaker* circuit = shared.circuit();
  if (circuit) {
    const CircuitAdmission admission = circuit->before_run();
    if (!admission.store_problem.empty()) logs.store(circuit->location(), admission.store_problem);
    if (!admission.problem.empty()) logs.circuit("problem", admission.problem);
    if (!admission.allowed) {
      const RunSummary refused = refuse(policy, command, logs, admission.message);
      record_metrics(metrics, policy, command, refused, logs);
      return finish(refused.exit_status, std::nullopt, false);
    }
    if (admission.trial) logs.circuit("trial", admission.message);
  }

  // the attempt loop, with real processes and time (and the retry budget)
  Random random(policy.seed.value_or(seed_from_os()));
  const RunSummary summary = run_attempts(policy, command, processes, processes, logs, random, shared.budget(), started);
  if (circuit) {
    const CircuitChange change = circuit->after_run(summary.outcome);
    if (!change.store_problem.empty()) logs.store(circuit->location(), change.store_problem);
    if (!change.problem.empty()) logs.circuit("problem", change.problem);
    if (!change.transition.empty()) logs.circuit(change.transition, change.message);
  }
  record_metrics(metrics, policy, command, summary, logs);

  // Output lost to a write error is said on stderr even when the text log
  // is not there (-q, --log-file, JSON): retryx's own failure (spec §6).
  if (summary.last && summary.last->stdout_error && *summary.last->stdout_error != EPIPE &&
      (policy.verbosity == Verbosity::quiet || policy.log.file || policy.log.format == LogFormat::json))
    fmt::print(stderr, "retryx: error: write error on stdout: {}\n", std::strerror(*summary.last->stdout_error));

  return finish(summary.exit_status, summary.signal, summary.outcome == RunOutcome::success);
}

}  // namespace retryx
