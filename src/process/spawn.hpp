#pragma once
// Starting a process: the only code that runs between clone and exec. It
// runs in the child on a stack of its own but in retryx's memory (CLONE_VM,
// as posix_spawn does), so it may only make system calls: no allocation, no
// lock, no return. Audit it as glibc's spawni.c: everything the child needs
// is prepared by the parent in ChildSetup.
#include <csignal>
#include <cstddef>
#include <sys/types.h>
#include <variant>

namespace retryx::process {

// What the child sets up before exec. Pointers refer to the parent's memory,
// which the child shares until it execs.
struct ChildSetup {
  // Signals retryx handles: back to SIG_DFL (retryx's handlers must not run
  // in the child). Only signals that were not ignored at start are here.
  const int* reset_signals = nullptr;
  std::size_t reset_count = 0;
  // Signals whose disposition retryx changed for itself: back to what
  // retryx inherited.
  const int* restore_signals = nullptr;
  const struct sigaction* restore_actions = nullptr;
  std::size_t restore_count = 0;
  const sigset_t* mask = nullptr;  // the signal mask retryx inherited
  pid_t parent = 0;                // retryx: the child dies with it
  bool new_group = true;           // a process group of its own
  int tty = -1;                    // give the terminal to the new group; -1: not
  int stdin_fd = -1;               // dup'ed onto 0; -1: keep retryx's
  int stdout_fd = -1;              // dup'ed onto 1; -1: keep retryx's
  int stderr_fd = -1;              // dup'ed onto 2; -1: keep retryx's
  char* listen_pid = nullptr;      // the "LISTEN_PID=" entry to rewrite with the child's pid
};

// The stack the child runs on between clone and exec, mapped once, with a
// guard page at its low end.
class ChildStack {
 public:
  ChildStack();  // throws std::runtime_error when it cannot be mapped
  ~ChildStack();
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  void* top() const;

 private:
  void* base_;
};

struct SpawnError {
  int error;  // errno of clone or exec
};

// Starts `executable` set up as `setup` says. All of retryx's signals are
// blocked around the clone; the child unblocks to the inherited mask just
// before exec. Returns once the child has exec'ed (its pid) or failed (the
// errno; the failed child already reaped).
std::variant<pid_t, SpawnError> spawn(const ChildSetup& setup, const char* executable, char* const* argv,
                                      char* const* envp, const ChildStack& stack);

}  // namespace retryx::process
