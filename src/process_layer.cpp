#include "process_layer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file_io.hpp"
#include "process/job_control.hpp"
#include "process/launch.hpp"
#include "process/output_capture.hpp"
#include "process/own_signals.hpp"
#include "process/spawn.hpp"
#include "process/stdin_source.hpp"
#include "process/supervision.hpp"

namespace asio = boost::asio;

namespace retryx {

namespace {

using Clock = std::chrono::steady_clock;

// A pipe or socket on retryx's stdout whose reader has gone (| head -1
// exited): poll reports POLLERR for a pipe, POLLHUP for a socket. A
// regular file or a terminal never says so.
bool stdout_has_no_reader() {
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) != 0) return false;
  const bool fifo = S_ISFIFO(st.st_mode);
  if (!fifo && !S_ISSOCK(st.st_mode)) return false;
  pollfd p{STDOUT_FILENO, 0, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & POLLERR) || (!fifo && (p.revents & POLLHUP));
}

bool from_terminal(const Termination& how) {
  const auto* killed = std::get_if<Signaled>(&how);
  return killed && (killed->signal == SIGINT || killed->signal == SIGQUIT);
}

}  // namespace

// The event loop and its owners, in the order they are built: io first,
// so that it is the last to go, after everything that waits on it.
struct ProcessLayer::Impl {
  const ProcessPolicy policy;
  asio::io_context io;
  std::optional<int> interrupted;               // the signal that told retryx to stop
  std::optional<process::Supervision> attempt;  // the attempt or hook running now
  asio::steady_timer sleep_timer{io};
  bool sleeping = false;
  process::OwnSignals signals{io, {[this](int s) { on_stop(s); }, [this](int s) { on_pass(s); },
                                   [this] { on_child(); }, [this] { on_continue(); }}};
  process::JobControl terminal{policy.foreground};
  process::StdinSource stdin_source{policy.stdin_mode, [this] { return stop_requested(); }};
  std::optional<process::OutputCapture> capture;
  process::ChildStack child_stack;

  HeldOutput* const held_run;  // --output-on-failure

  Impl(const ProcessPolicy& p, const OutputPatterns& patterns, HeldOutput* held) : policy(p), held_run(held) {
    // Orphans of an attempt are adopted by retryx, so that it can wait for
    // the whole group and reap every process it leaves.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (policy.hold_stdout) process::check_temp_dir("--hold-stdout");
    if (held_run) process::check_temp_dir("--output-on-failure");
    if (patterns.any() || policy.hold_stdout || policy.idle_timeout || held_run)
      capture.emplace(io, patterns, policy.hold_stdout, policy.idle_timeout.has_value(),
                      [this] { return interrupted.has_value(); }, held_run);
  }

  void on_stop(int signal) {
    if (!interrupted) interrupted = signal;
    if (attempt) attempt->stop(signal);
    if (sleeping) sleep_timer.cancel();
  }

  void on_pass(int signal) {
    if (attempt) attempt->pass(signal);
  }

  void on_child() {
    if (attempt) {
      terminal.follow_stop(*attempt);
      attempt->child_event();
      return;
    }
    // Between attempts: an orphan that escaped its attempt's group ended.
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  void on_continue() {
    if (attempt) terminal.continued(*attempt);
  }

  std::optional<int> stop_requested() {
    io.restart();
    io.poll();
    return interrupted;
  }

  // The loop has asked stop_requested() first: no attempt or hook starts
  // once retryx has been told to stop.
  AttemptResult run(const AttemptRequest& request) {
    const auto start = Clock::now();
    auto elapsed = [&] { return std::chrono::duration_cast<Duration>(Clock::now() - start); };
    io.restart();
    const std::string& name = request.command.front();
    auto resolved = process::resolve(name);
    if (auto* failed = std::get_if<SpawnFailed>(&resolved)) return {*failed, elapsed(), 0, false, interrupted, {}, {}, {}};

    process::ChildEnv env(request.environment);
    UniqueFd child_stdin = stdin_source.for_attempt(request.is_hook);
    UniqueFd child_stdout, child_stderr;
    // Hooks are captured only to be held (--output-on-failure).
    const bool captured = capture && (!request.is_hook || held_run);
    if (captured) std::tie(child_stdout, child_stderr) = capture->open();
    // Under -O only the attempt that succeeds writes to stdout: a hook's
    // stdout goes to stderr.
    if (request.is_hook && policy.hold_stdout) child_stdout.reset(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0));

    process::ChildSetup setup;
    signals.prepare(setup);
    setup.parent = ::getpid();
    setup.new_group = !policy.foreground;
    setup.tty = policy.foreground ? -1 : terminal.terminal_for_attempt();
    setup.stdin_fd = child_stdin.get();
    setup.stdout_fd = child_stdout.get();
    setup.stderr_fd = child_stderr.get();
    setup.listen_pid = env.listen_pid();
    const auto launched =
        process::launch(std::get<std::string>(resolved), request.command, env, setup, child_stack);
    child_stdin.reset();
    child_stdout.reset();
    child_stderr.reset();
    if (const auto* failed = std::get_if<process::SpawnError>(&launched)) {
      if (setup.tty >= 0) terminal.exec_failed();
      if (captured) capture->finish();
      return {process::spawn_failure(name, failed->error), elapsed(), 0, false, interrupted, {}, {}, {}};
    }
    if (captured) capture->start_reading();

    const pid_t pid = std::get<pid_t>(launched);
    std::optional<process::IdleLimit> idle;  // hooks are not captured: bounded by --timeout only
    if (captured && !request.is_hook && policy.idle_timeout)
      idle = process::IdleLimit{*policy.idle_timeout, [this] { return capture->last_output(); }};
    attempt.emplace(io, policy, pid, !policy.foreground, request.time_limit, std::move(idle));
    terminal.attempt_started(attempt->pgid());
    if (request.on_started) request.on_started(pid);
    if (interrupted) attempt->stop(*interrupted);  // it came while starting: pass it on now
    while (!attempt->over()) io.run_one();
    const bool held_terminal = terminal.held_by(attempt->pgid());
    // A signal that came with the attempt's end (Ctrl-C reaching both) is
    // still queued: it belongs to this attempt.
    io.poll();
    if (captured) capture->finish();
    terminal.attempt_ended(attempt->pgid());
    // Ctrl-C and Ctrl-\ at the terminal reach only the group that holds it:
    // its death by them is retryx's stop too, so that the shell loop or
    // script that called retryx stops as it would with the command alone.
    if (held_terminal && !interrupted && !attempt->timed_out() && from_terminal(attempt->how())) {
      interrupted = std::get<Signaled>(attempt->how()).signal;
      // Sharing its caller's group (a script run without job control),
      // retryx passes the keystroke on to that group, which the terminal
      // would have signalled had retryx not handed it over.
      if (::getpgrp() != ::getpid()) ::kill(0, *interrupted);
    }

    AttemptResult result{attempt->how(), elapsed(), pid, attempt->timed_out(), interrupted,
                         captured ? capture->matches() : OutputMatches{}, {}, {}};
    if (captured) result.stdout_error = capture->stdout_error();
    if (attempt->idle_timed_out()) result.idle_limit = policy.idle_timeout;
    // Held to the end of the run, the output is not written yet: a reader
    // that went away stops nothing before then.
    if (!request.is_hook && !held_run && !result.stdout_error && stdout_has_no_reader())
      result.stdout_error = EPIPE;
    // Handlers already queued run while the supervision still exists.
    attempt->stop_waiting();
    io.poll();
    attempt.reset();
    return result;
  }

  OutputRelease release_output(bool succeeded) {
    if (!capture) return {interrupted, std::nullopt};
    capture->release(succeeded);
    return {interrupted, capture->stdout_error()};
  }

  OutputRelease write_out_held() {
    if (!capture || !held_run) return {interrupted, std::nullopt};
    io.restart();
    capture->write_out(*held_run);  // cut short only once interrupted: the signal says so
    return {interrupted, capture->stdout_error()};
  }

  std::optional<int> sleep(Duration delay) {
    io.restart();
    io.poll();
    // No delay (-d 0): no timer to arm and wait for, only the signals that
    // came meanwhile.
    if (interrupted || delay <= Duration::zero()) return interrupted;
    sleep_timer.expires_after(delay);
    bool done = false;
    sleep_timer.async_wait([&](const boost::system::error_code&) { done = true; });
    sleeping = true;
    while (!done) io.run_one();
    sleeping = false;
    return interrupted;
  }
};

ProcessLayer::ProcessLayer(const ProcessPolicy& policy, const OutputPatterns& patterns, HeldOutput* held_run)
    : impl_(std::make_unique<Impl>(policy, patterns, held_run)) {}
ProcessLayer::~ProcessLayer() = default;

AttemptResult ProcessLayer::run(const AttemptRequest& request) { return impl_->run(request); }
OutputRelease ProcessLayer::release_output(bool succeeded) { return impl_->release_output(succeeded); }
OutputRelease ProcessLayer::write_out_held() { return impl_->write_out_held(); }
std::optional<int> ProcessLayer::stop_requested() { return impl_->stop_requested(); }
std::optional<int> ProcessLayer::sleep(Duration delay) { return impl_->sleep(delay); }
Duration ProcessLayer::now() { return std::chrono::duration_cast<Duration>(Clock::now().time_since_epoch()); }

}  // namespace retryx
