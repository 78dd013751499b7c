#pragma once
// The real process layer: runs attempts and sleeps on one Asio event loop
// that also holds the signals retryx handles, the attempt's timeout and
// kill-after timers and the child's exit (a pidfd), so that waiting costs
// no CPU. Its parts are in src/process/ (see docs/ARCHITECTURE.md), the
// only users of Asio; this header exposes standard types.
//
// What it guarantees (spec §4):
// - each attempt runs in a process group of its own (unless foreground),
//   given the terminal while it runs when retryx has it;
// - a timeout sends the policy's signal to the group, then CONT, then KILL
//   after kill_after, and so does --idle-timeout when the attempt wrote no
//   byte to stdout or stderr for that long; an attempt ends only when its
//   whole group is gone;
// - INT, TERM, HUP, QUIT and the other asynchronous signals whose default
//   action ends a process are forwarded to the running attempt and end the
//   run (the result or the sleep says which signal); USR1, USR2 and WINCH
//   are forwarded only; signals ignored at start stay ignored, those
//   blocked at start are unblocked for retryx alone;
// - an attempt that held the terminal and died by SIGINT or SIGQUIT (Ctrl-C,
//   Ctrl-\) counts as that signal received by retryx;
// - after each attempt, the result says when retryx's stdout can take no
//   more (its reader has gone, or a write to it failed);
// - the child starts with the signal mask and dispositions retryx inherited,
//   its inherited descriptors, and dies with retryx (PR_SET_PDEATHSIG);
// - no zombie is left: retryx is a child subreaper and reaps what it adopts;
// - with output conditions, --idle-timeout or --hold-stdout, every byte the attempt prints
//   is forwarded unchanged and promptly to the same stream (stdout held to
//   the end of the attempt with --hold-stdout; everything, hooks' output
//   too, held to the end of the run with --output-on-failure), and lines are matched in
//   bounded memory; if retryx's stdout reader goes away, the attempt's
//   stdout pipe is closed so that it sees the broken pipe itself.
#include <memory>

#include "command_runner.hpp"
#include "held_output.hpp"
#include "policy.hpp"

namespace retryx {

class ProcessLayer final : public CommandRunner, public Sleeper {
 public:
  // Construct it early: it records the descriptors, signal dispositions and
  // stdin offset retryx inherited, and reads all of stdin for replay.
  // Throws std::runtime_error when it cannot set up (replay's temporary
  // file, say).
  // With output patterns, --idle-timeout or --hold-stdout, the attempt's
  // stdout and stderr are read through pipes, forwarded unchanged as they
  // come, matched, and timed.
  // held_run (--output-on-failure): every attempt's and hook's stdout and
  // stderr are appended to it as they come, and written out only by
  // write_out_held().
  ProcessLayer(const ProcessPolicy& policy, const OutputPatterns& patterns, HeldOutput* held_run = nullptr);
  ~ProcessLayer() override;
  ProcessLayer(const ProcessLayer&) = delete;
  ProcessLayer& operator=(const ProcessLayer&) = delete;

  // Looks the command up as execvp does (PATH, a name with '/' as is, a file
  // without "#!" run by /bin/sh) and runs it to its end.
  // Throws std::runtime_error when the attempt's stdin or output pipes
  // cannot be set up (retryx's own failure, 125), never falling back.
  AttemptResult run(const AttemptRequest& request) override;
  OutputRelease release_output(bool succeeded) override;
  // --output-on-failure: everything held in held_run written out, in order,
  // stdout's parts to stdout and the rest to stderr, through the writer
  // thread (a stalled reader holds retryx back only until a signal comes,
  // and a second more). Says what cut it short or failed.
  OutputRelease write_out_held();
  std::optional<int> stop_requested() override;
  std::optional<int> sleep(Duration delay) override;
  Duration now() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Puts /dev/null on any of descriptors 0-2 that retryx was started without,
// before anything else is opened: otherwise retryx's own descriptors would
// take those numbers (its log would go to an eventfd, a command's stdin be
// an internal pipe). Call it first thing.
void open_standard_descriptors();

// Ends retryx by the signal it was interrupted with, so that its parent sees
// it killed by that signal (no core dump). Does not return.
[[noreturn]] void die_by_signal(int signal);

}  // namespace retryx
