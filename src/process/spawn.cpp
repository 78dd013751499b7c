#include "process/spawn.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace retryx::process {

namespace {

constexpr std::size_t stack_size = 64 << 10;
constexpr std::size_t guard_size = 4 << 10;

struct ChildStart {
  const ChildSetup& setup;
  const char* executable;
  char* const* argv;
  char* const* envp;
  int error_fd;  // close-on-exec: the child writes exec's errno here
};

// Socket activation (sd_listen_fds) checks LISTEN_PID against its own pid:
// descriptors passed to retryx are meant for the command, so the child's
// entry names the child. Writes into the 32-byte buffer the parent made.
void write_listen_pid(char* entry, pid_t pid) {
  char digits[16];
  int n = 0;
  for (auto value = static_cast<unsigned long>(pid); n == 0 || value > 0; value /= 10)
    digits[n++] = static_cast<char>('0' + value % 10);
  char* out = entry + sizeof "LISTEN_PID=" - 1;
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

// Not instrumented by the sanitizers, which cannot follow the stack switch.
[[gnu::no_sanitize_address, gnu::no_sanitize_undefined]] int child_main(void* arg) {
  const auto& start = *static_cast<const ChildStart*>(arg);
  const ChildSetup& setup = start.setup;
  if (setup.new_group) {
    ::setpgid(0, 0);
    // SIGTTOU is ignored here (inherited from retryx), so a background
    // group may take the terminal.
    if (setup.tty >= 0) ::tcsetpgrp(setup.tty, ::getpid());
  }
  if (setup.stdin_fd >= 0) ::dup2(setup.stdin_fd, STDIN_FILENO);
  if (setup.stdout_fd >= 0) ::dup2(setup.stdout_fd, STDOUT_FILENO);
  if (setup.stderr_fd >= 0) ::dup2(setup.stderr_fd, STDERR_FILENO);
  if (setup.listen_pid) write_listen_pid(setup.listen_pid, ::getpid());
  // Die with retryx; if it is already gone, do not run at all.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != setup.parent) ::_exit(127);
  // Back to what retryx inherited: dispositions first (retryx's handlers
  // must not run here once signals are unblocked), then the mask.
  for (std::size_t i = 0; i < setup.reset_count; ++i) ::signal(setup.reset_signals[i], SIG_DFL);
  for (std::size_t i = 0; i < setup.restore_count; ++i)
    ::sigaction(setup.restore_signals[i], &setup.restore_actions[i], nullptr);
  ::sigprocmask(SIG_SETMASK, setup.mask, nullptr);
  ::execve(start.executable, start.argv, start.envp);
  const int error = errno;
  while (::write(start.error_fd, &error, sizeof error) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

}  // namespace

ChildStack::ChildStack() {
  base_ = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base_ == MAP_FAILED) throw std::runtime_error(std::string("cannot map a stack: ") + std::strerror(errno));
  // An overflow faults instead of writing over retryx's memory.
  ::mprotect(base_, guard_size, PROT_NONE);
}

ChildStack::~ChildStack() { ::munmap(base_, stack_size); }

void* ChildStack::top() const { return static_cast<char*>(base_) + stack_size; }

// CLONE_VM | CLONE_VFORK, what posix_spawn does: no copy of retryx's page
// tables and no copy-on-write faults afterwards, which a fork costs on
// every attempt. Every descriptor retryx opens is close-on-exec, so the
// child gets exactly what retryx inherited plus its 0-2. Exec's error
// comes back through a close-on-exec pipe rather than the shared memory,
// so that it also arrives where vfork is emulated by fork (valgrind,
// qemu-user).
std::variant<pid_t, SpawnError> spawn(const ChildSetup& setup, const char* executable, char* const* argv,
                                      char* const* envp, const ChildStack& stack) {
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return SpawnError{errno};
  // No handler of retryx's may run in the child before its dispositions
  // are reset.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, &previous);
  ChildStart start{setup, executable, argv, envp, error_pipe[1]};
  const pid_t pid = ::clone(child_main, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  const int clone_error = errno;
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(error_pipe[0]);
    return SpawnError{clone_error};
  }
  int error = 0;
  ssize_t n;
  while ((n = ::read(error_pipe[0], &error, sizeof error)) < 0 && errno == EINTR) {
  }
  ::close(error_pipe[0]);
  if (n != sizeof error) return pid;  // exec'ed: the pipe closed empty
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return SpawnError{error};
}

}  // namespace retryx::process
