#include "process/job_control.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace retryx::process {

namespace {

bool ignored(int signal) {
  struct sigaction action {};
  ::sigaction(signal, nullptr, &action);
  return action.sa_handler == SIG_IGN;
}

// Whether retryx's group is orphaned: its parent is outside its session
// (the shell that started it is gone). Approximate where retryx shares its
// parent's group: that group's leader's parent decides, and is taken to be
// a shell of the same session.
bool orphaned() { return ::getsid(::getppid()) != ::getsid(0); }

}  // namespace

JobControl::JobControl(bool foreground)
    : asynchronous_(ignored(SIGINT)), tstp_ignored_(ignored(SIGTSTP)) {
  if (!foreground) tty_ = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

JobControl::~JobControl() {
  if (tty_ >= 0) ::close(tty_);
}

bool JobControl::retryx_holds() const { return tty_ >= 0 && ::tcgetpgrp(tty_) == ::getpgrp(); }

bool JobControl::may_hand_over() const { return !asynchronous_ && retryx_holds(); }

int JobControl::terminal_for_attempt() const { return may_hand_over() ? tty_ : -1; }

// SIGTTOU is ignored by retryx, so these calls work from the background too.
void JobControl::attempt_started(pid_t pgid) const {
  if (pgid != 0 && may_hand_over()) ::tcsetpgrp(tty_, pgid);
}

void JobControl::exec_failed() const {
  if (tty_ >= 0 && !retryx_holds()) ::tcsetpgrp(tty_, ::getpgrp());
}

bool JobControl::held_by(pid_t pgid) const { return pgid != 0 && tty_ >= 0 && ::tcgetpgrp(tty_) == pgid; }

void JobControl::attempt_ended(pid_t pgid) const {
  if (held_by(pgid)) ::tcsetpgrp(tty_, ::getpgrp());
}

void JobControl::follow_stop(Supervision& attempt) const {
  if (attempt.pgid() == 0 || attempt.leader_done()) return;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(attempt.pid()), &info, WSTOPPED | WNOHANG) != 0) return;
  if (info.si_pid != attempt.pid() || info.si_code != CLD_STOPPED) return;
  const int stop = info.si_status;
  if (stop != SIGTSTP && stop != SIGTTIN && stop != SIGTTOU) return;
  attempt_ended(attempt.pgid());  // the shell gets the terminal from retryx's group
  if (orphaned()) {
    // Nobody could continue retryx. Ctrl-Z (TSTP) does nothing, as the
    // kernel discards it for an orphaned group; an attempt stopped for
    // touching the terminal would stop again at once: it gets HUP, as the
    // kernel gives an orphaned group that holds stopped processes.
    if (stop != SIGTSTP) attempt.pass(SIGHUP);
    attempt.pass(SIGCONT);
    return;
  }
  if (tstp_ignored_) ::kill(::getpid(), SIGSTOP);
  else ::kill(0, SIGTSTP);
  // Continued: by fg (retryx's group holds the terminal again) or bg.
  attempt_started(attempt.pgid());
  attempt.pass(SIGCONT);
}

void JobControl::continued(const Supervision& attempt) const {
  if (!attempt.leader_done()) attempt_started(attempt.pgid());
}

}  // namespace retryx::process
