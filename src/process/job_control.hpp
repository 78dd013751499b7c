#pragma once
// Job control (spec §4): the terminal goes to the attempt's process group
// whenever retryx is in the terminal's foreground group, checked again
// after every SIGCONT (fg, bg); retryx takes it back afterwards; an attempt
// stopped by Ctrl-Z or by touching the terminal from the background stops
// retryx too, so that the shell sees its job stopped.
#include <sys/types.h>

#include "process/supervision.hpp"

namespace retryx::process {

class JobControl {
 public:
  // Opens the controlling terminal unless --foreground (the attempt then
  // shares retryx's group and its terminal state).
  explicit JobControl(bool foreground);
  ~JobControl();
  JobControl(const JobControl&) = delete;
  JobControl& operator=(const JobControl&) = delete;

  // The terminal for the child to take for its new group before exec, or
  // -1 when retryx does not hold it.
  int terminal_for_attempt() const;
  // After the spawn: the attempt's group gets the terminal if retryx holds
  // it (the child did the same: whichever runs first, no race).
  void attempt_started(pid_t pgid) const;
  // The child took the terminal and then failed to exec.
  void exec_failed() const;
  // SIGCHLD: when the attempt has stopped, retryx stops too; once it is
  // continued, the attempt gets the terminal if retryx is in the
  // foreground, and is continued.
  void follow_stop(Supervision& attempt) const;
  // SIGCONT for retryx: the attempt gets the terminal if retryx is in the
  // foreground now.
  void continued(const Supervision& attempt) const;
  // Whether the attempt's group holds the terminal now.
  bool held_by(pid_t pgid) const;
  // Takes the terminal back from the attempt's group if it has it.
  void attempt_ended(pid_t pgid) const;

 private:
  bool retryx_holds() const;
  int tty_ = -1;
};

}  // namespace retryx::process
