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
  // shares retryx's group and its terminal state). Construct it after
  // OwnSignals: it reads whether SIGINT and SIGTSTP were ignored at start.
  explicit JobControl(bool foreground);
  ~JobControl();
  JobControl(const JobControl&) = delete;
  JobControl& operator=(const JobControl&) = delete;

  // The terminal for the child to take for its new group before exec, or
  // -1 when retryx may not hand it over: it is not in the foreground, or
  // it is an asynchronous command of a shell without job control (SIGINT
  // ignored at start: `cmd &` in a script, whose own reads need the
  // terminal).
  int terminal_for_attempt() const;
  // After the spawn: the attempt's group gets the terminal if retryx holds
  // it (the child did the same: whichever runs first, no race).
  void attempt_started(pid_t pgid) const;
  // The child took the terminal (terminal_for_attempt() was not -1) and
  // then failed to exec: retryx's group gets it back.
  void exec_failed() const;
  // SIGCHLD: when the attempt has stopped (Ctrl-Z, or the terminal from
  // the background), retryx's own group is stopped as the terminal would
  // have stopped it (the calling script too, when retryx shares its
  // group); once continued, the attempt gets the terminal if retryx is in
  // the foreground, and is continued. When retryx's group is orphaned
  // (nobody could continue it: retryx leads the terminal's session, or its
  // shell is gone), it does not stop: Ctrl-Z is undone (CONT), as the
  // kernel ignores it for an orphaned group, and an attempt stopped by the
  // terminal gets HUP and CONT, as the kernel does for orphaned groups.
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
  bool may_hand_over() const;
  int tty_ = -1;
  bool asynchronous_ = false;  // SIGINT ignored at start
  bool tstp_ignored_ = false;  // SIGTSTP ignored at start: stop with SIGSTOP
};

}  // namespace retryx::process
