#include "process/job_control.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace retryx::process {

JobControl::JobControl(bool foreground) {
  if (!foreground) tty_ = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

JobControl::~JobControl() {
  if (tty_ >= 0) ::close(tty_);
}

bool JobControl::retryx_holds() const { return tty_ >= 0 && ::tcgetpgrp(tty_) == ::getpgrp(); }

int JobControl::terminal_for_attempt() const { return retryx_holds() ? tty_ : -1; }

// SIGTTOU is ignored by retryx, so these calls work from the background too.
void JobControl::attempt_started(pid_t pgid) const {
  if (pgid != 0 && retryx_holds()) ::tcsetpgrp(tty_, pgid);
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
  ::kill(::getpid(), SIGSTOP);
  // Continued: by fg (retryx's group holds the terminal again) or bg.
  attempt_started(attempt.pgid());
  attempt.pass(SIGCONT);
}

void JobControl::continued(const Supervision& attempt) const {
  if (!attempt.leader_done()) attempt_started(attempt.pgid());
}

}  // namespace retryx::process
