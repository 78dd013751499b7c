#include "process/own_signals.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "process_layer.hpp"

namespace retryx::process {

namespace {

// The signals that end the run: as coreutils timeout (9.5 and later), every
// asynchronous signal whose default action terminates, except USR1 and
// USR2, which are only passed on. Synchronous ones (SEGV, BUS, FPE, ILL,
// TRAP, SYS, ABRT) are retryx's own faults, left to their default.
std::vector<int> stop_signals() {
  std::vector<int> signals{SIGINT,  SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGPROF,
                           SIGVTALRM, SIGXCPU, SIGXFSZ, SIGPWR, SIGIO, SIGSTKFLT};
  for (int signal = SIGRTMIN; signal <= SIGRTMAX; ++signal) signals.push_back(signal);
  return signals;
}
constexpr int pass_signals[] = {SIGUSR1, SIGUSR2, SIGWINCH};
// Dispositions retryx sets for itself; the child gets the inherited ones.
constexpr int own_dispositions[] = {SIGCHLD, SIGCONT, SIGTTOU, SIGPIPE};

bool ignored_at_start(int signal) {
  struct sigaction current {};
  ::sigaction(signal, nullptr, &current);
  return current.sa_handler == SIG_IGN;
}

}  // namespace

OwnSignals::OwnSignals(boost::asio::io_context& io, Handlers handlers)
    : handlers_(std::move(handlers)), stop_set_(io), pass_set_(io), child_set_(io), continue_set_(io) {
  ::sigprocmask(SIG_SETMASK, nullptr, &inherited_mask_);
  for (int signal : own_dispositions) {
    struct sigaction action {};
    ::sigaction(signal, nullptr, &action);
    restored_.push_back(signal);
    restored_actions_.push_back(action);
  }
  ::signal(SIGTTOU, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);

  sigset_t unblock;
  ::sigemptyset(&unblock);
  auto handle = [&](boost::asio::signal_set& set, int signal) {
    set.add(signal);
    handled_.push_back(signal);
    ::sigaddset(&unblock, signal);
  };
  for (int signal : stop_signals())
    if (!ignored_at_start(signal)) handle(stop_set_, signal);
  for (int signal : pass_signals)
    if (!ignored_at_start(signal)) handle(pass_set_, signal);
  // CHLD and CONT are handled whatever their inherited disposition: the
  // child gets that back through restored_.
  child_set_.add(SIGCHLD);
  continue_set_.add(SIGCONT);
  ::sigaddset(&unblock, SIGCHLD);
  ::sigaddset(&unblock, SIGCONT);
  ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);

  wait_stop();
  wait_pass();
  wait_child();
  wait_continue();
}

void OwnSignals::prepare(ChildSetup& setup) const {
  setup.reset_signals = handled_.data();
  setup.reset_count = handled_.size();
  setup.restore_signals = restored_.data();
  setup.restore_actions = restored_actions_.data();
  setup.restore_count = restored_.size();
  setup.mask = &inherited_mask_;
}

void OwnSignals::wait_stop() {
  stop_set_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    handlers_.stop(signal);
    wait_stop();
  });
}

void OwnSignals::wait_pass() {
  pass_set_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    handlers_.pass(signal);
    wait_pass();
  });
}

void OwnSignals::wait_child() {
  child_set_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    handlers_.child();
    wait_child();
  });
}

void OwnSignals::wait_continue() {
  continue_set_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    handlers_.continued();
    wait_continue();
  });
}

}  // namespace retryx::process

namespace retryx {

void open_standard_descriptors() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int null = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
  }
}

void die_by_signal(int signal) {
  // No core dump for a signal that would make one (QUIT): this is an exit.
  // Not dumpable stops a piped core handler (systemd-coredump) too, which
  // RLIMIT_CORE 0 does not; the limit covers kernels that refuse the prctl.
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
  }
  ::signal(signal, SIG_DFL);
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, signal);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(signal);
  ::_exit(128 + signal);
}

}  // namespace retryx
