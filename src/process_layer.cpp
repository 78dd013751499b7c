#include "process_layer.hpp"

#include "held_output.hpp"
#include "output_watch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2/process.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sched.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdexcept>
#include <variant>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace retryx {

namespace {

using Clock = std::chrono::steady_clock;

// Signals that end the run, and signals that are only passed on (spec §4).
constexpr int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr int pass_signals[] = {SIGUSR1, SIGUSR2, SIGWINCH};
// Dispositions retryx changes for itself only; the child gets them back.
constexpr int own_dispositions[] = {SIGCHLD, SIGTTOU, SIGPIPE};

bool ignored_at_start(int signal) {
  struct sigaction current {};
  ::sigaction(signal, nullptr, &current);
  return current.sa_handler == SIG_IGN;
}

// Socket activation (sd_listen_fds) checks LISTEN_PID against its own pid:
// descriptors passed to retryx are meant for the command, so the child's
// entry names the child. Writes "LISTEN_PID=<pid>" into a 32-byte buffer
// without allocating (it runs between fork and exec).
void write_listen_pid(char* entry, pid_t pid) {
  char digits[16];
  int n = 0;
  for (auto value = static_cast<unsigned long>(pid); n == 0 || value > 0; value /= 10)
    digits[n++] = static_cast<char>('0' + value % 10);
  char* out = entry + std::strlen("LISTEN_PID=");
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

// The child's side of a spawn: it runs in the new process between clone
// and exec, on its own stack but in retryx's memory (CLONE_VM, as
// posix_spawn), so it must not allocate, lock or return: only system
// calls, and nothing but `error` is written. Not instrumented by the
// sanitizers, which cannot follow the stack switch.
struct ChildSetup {
  const struct sigaction (&saved)[std::size(own_dispositions)];
  const std::vector<int>& handled_signals;
  const sigset_t& inherited_mask;
  pid_t parent;
  bool new_group;
  int tty;        // give the terminal to the new group; -1: not
  int stdin_fd;   // dup'ed onto 0; -1: inherit retryx's
  int stdout_fd;  // dup'ed onto 1; -1: inherit
  int stderr_fd;  // dup'ed onto 2; -1: inherit
  char* listen_pid;  // the child's "LISTEN_PID=" entry to rewrite, or null
};

struct ExecError {
  int error;  // errno
};

struct ChildStart {
  const ChildSetup& setup;
  const char* executable;
  char* const* argv;
  char* const* envp;
  int error_fd;  // close-on-exec: the child writes exec's errno here
};

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
  // The environment block is retryx's memory too, rebuilt for each attempt.
  if (setup.listen_pid) write_listen_pid(setup.listen_pid, ::getpid());
  // Die with retryx; if it is already gone, do not run at all.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != setup.parent) ::_exit(127);
  // Back to what retryx inherited: dispositions first (retryx's handlers
  // must not run here once signals are unblocked), then the mask.
  for (int signal : setup.handled_signals) ::signal(signal, SIG_DFL);
  for (std::size_t i = 0; i < std::size(own_dispositions); ++i)
    ::sigaction(own_dispositions[i], &setup.saved[i], nullptr);
  ::sigprocmask(SIG_SETMASK, &setup.inherited_mask, nullptr);
  ::execve(start.executable, start.argv, start.envp);
  const int error = errno;
  while (::write(start.error_fd, &error, sizeof error) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

// Starts `executable` in a new process that shares retryx's memory until
// it execs (CLONE_VM | CLONE_VFORK, what posix_spawn does): no copy of
// retryx's page tables and no copy-on-write faults afterwards, which a
// fork costs on every attempt. Every descriptor retryx opens is
// close-on-exec, so the child gets exactly what retryx inherited plus its
// 0-2. Exec's error comes back through a close-on-exec pipe rather than
// the shared memory, so that it also arrives where vfork is emulated by
// fork (valgrind, qemu-user). Returns the pid, or the errno of the
// failure with the failed child already reaped.
std::variant<pid_t, ExecError> spawn_process(const ChildSetup& setup, const char* executable, char* const* argv,
                                       char* const* envp, void* stack_top) {
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) return ExecError{errno};
  ChildStart start{setup, executable, argv, envp, error_pipe[1]};
  const pid_t pid = ::clone(child_main, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  const int clone_error = errno;
  ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(error_pipe[0]);
    return ExecError{clone_error};
  }
  int error = 0;
  ssize_t n;
  while ((n = ::read(error_pipe[0], &error, sizeof error)) < 0 && errno == EINTR) {
  }
  ::close(error_pipe[0]);
  if (n != sizeof error) return pid;  // exec'ed: the pipe closed empty
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return ExecError{error};
}

SpawnFailed spawn_failure(const std::string& name, int error) {
  // As timeout(1): 127 when there is no such file, 126 for any other reason.
  if (error == ENOENT) return {127, fmt::format("command not found: {}", name)};
  if (error == EACCES) return {126, fmt::format("permission denied: {}", name)};
  return {126, fmt::format("cannot run {}: {}", name, std::strerror(error))};
}

// Where execvp would find the command, or why it would fail.
std::variant<std::string, SpawnFailed> resolve(const std::string& name) {
  if (name.empty()) return SpawnFailed{127, "command not found: ''"};
  if (name.find('/') != std::string::npos) return name;
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env ? path_env : "/bin:/usr/bin";  // glibc's execvp default
  bool denied = false;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon - start);
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0) {
      // As execvp, an entry that exists but cannot be run (a directory, no
      // x bit) is remembered and the search goes on.
      if (S_ISREG(st.st_mode) && ::faccessat(AT_FDCWD, candidate.c_str(), X_OK, AT_EACCESS) == 0)
        return candidate;
      denied = true;
    } else if (errno == EACCES) {
      denied = true;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return spawn_failure(name, denied ? EACCES : ENOENT);
}

Termination decode(int raw_status) {
  // Boost's exit_code() gives a signal's number as if it were an exit code;
  // the raw wait status tells the two apart.
  if (WIFSIGNALED(raw_status)) return Signaled{WTERMSIG(raw_status)};
  return Exited{WEXITSTATUS(raw_status)};
}

// The environment of one child: retryx's, with the request's variables set
// or removed.
class ChildEnv {
 public:
  explicit ChildEnv(const ChildEnvironment& changes) {
    const std::string own_listen_pid = fmt::format("LISTEN_PID={}", ::getpid());
    for (char** entry = environ; entry && *entry; ++entry) {
      const std::string_view text = *entry;
      const std::string_view name = text.substr(0, text.find('='));
      const bool changed =
          std::any_of(changes.begin(), changes.end(), [&](const auto& change) { return change.first == name; });
      if (changed) continue;
      if (text == own_listen_pid) listen_pid_index_ = strings_.size();
      strings_.emplace_back(text);
    }
    for (const auto& [name, value] : changes)
      if (value) strings_.push_back(name + "=" + *value);
    for (const auto& s : strings_) pointers_.push_back(s.c_str());
    pointers_.push_back(nullptr);
    if (listen_pid_index_) {
      std::memcpy(listen_pid_, "LISTEN_PID=", 12);
      pointers_[*listen_pid_index_] = listen_pid_;
    }
  }
  const char* const* get() const { return pointers_.data(); }
  // The buffer the child rewrites with its own pid, if LISTEN_PID named retryx.
  char* listen_pid() { return listen_pid_index_ ? listen_pid_ : nullptr; }

 private:
  std::vector<std::string> strings_;
  std::vector<const char*> pointers_;
  std::optional<std::size_t> listen_pid_index_;
  char listen_pid_[32] = {};
};

void write_fully(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(fmt::format("--stdin replay: cannot store stdin: {}", std::strerror(errno)));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string temp_dir_error(const char* option) {
  const char* tmpdir = std::getenv("TMPDIR");
  return fmt::format("{}: cannot create a temporary file in {}: {}", option, tmpdir && *tmpdir ? tmpdir : "/tmp",
                     std::strerror(errno));
}

// Both --stdin replay and --hold-stdout may need a temporary file: a
// directory where none can be made is an error before anything runs.
void check_temp_dir(const char* option) {
  const int fd = make_temp_file("retryx-check");
  if (fd < 0) throw std::runtime_error(temp_dir_error(option));
  ::close(fd);
}

// --stdin replay: all of stdin, read once, kept in memory (a memfd) up to
// a bound and in an unlinked temporary file beyond it. Returns its fd.
int store_stdin() {
  constexpr std::size_t memory_bound = 4 << 20;
  int fd = ::memfd_create("retryx-stdin", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("--stdin replay: memfd_create: {}", std::strerror(errno)));
  std::size_t stored = 0;
  bool spilled = false;
  std::vector<char> buffer(1 << 16);
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EBADF)
      throw std::runtime_error(fmt::format("--stdin replay: cannot read stdin: {}", std::strerror(errno)));
    if (n <= 0) break;
    if (!spilled && stored + static_cast<std::size_t>(n) > memory_bound) {
      const int file = make_temp_file("retryx-stdin");
      if (file < 0) throw std::runtime_error(temp_dir_error("--stdin replay"));
      ::lseek(fd, 0, SEEK_SET);
      // In small pieces: a buffer of the whole bound would add to the peak.
      std::vector<char> copy(1 << 16);
      ssize_t kept;
      while ((kept = ::read(fd, copy.data(), copy.size())) > 0 || (kept < 0 && errno == EINTR))
        if (kept > 0) write_fully(file, copy.data(), static_cast<std::size_t>(kept));
      ::close(fd);
      fd = file;
      spilled = true;
    }
    write_fully(fd, buffer.data(), static_cast<std::size_t>(n));
    stored += static_cast<std::size_t>(n);
  }
  return fd;
}

}  // namespace

// The stack the child runs on between clone and exec, mapped once. It
// only holds child_main's frame and the system call wrappers' frames.
class ChildStack {
 public:
  ChildStack() {
    base_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error(fmt::format("cannot map a stack: {}", std::strerror(errno)));
    // A guard page at the low end: an overflow faults instead of writing
    // over retryx's memory.
    ::mprotect(base_, guard, PROT_NONE);
  }
  ~ChildStack() { ::munmap(base_, size); }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  void* top() const { return static_cast<char*>(base_) + size; }

 private:
  static constexpr std::size_t size = 64 << 10;
  static constexpr std::size_t guard = 4 << 10;
  void* base_;
};

// One captured stream of an attempt: the read end of its pipe, where its
// bytes go, and the lines it has given so far.
struct Stream {
  asio::posix::stream_descriptor pipe;
  int target;  // STDOUT_FILENO or STDERR_FILENO
  bool hold;   // stdout under --hold-stdout
  LineSplitter lines;
  // Large reads: the loop's cost is per read (a wake-up, a hand-over to the
  // writer thread, a regex scan), not per byte. Left uninitialised: memory
  // is only touched by what the attempt writes.
  static constexpr std::size_t buffer_size = 256 << 10;
  std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(buffer_size);
  bool open = true;
  bool paused = false;  // not read while the writer's queue is full
  explicit Stream(asio::io_context& io, int fd, int target_fd, bool hold_it)
      : pipe(io, fd), target(target_fd), hold(hold_it) {}
};

struct ProcessLayer::Impl {
  // The running attempt's state; the event handlers below update it.
  struct Running {
    int pid = 0;
    int pgid = 0;  // 0 with --foreground: the attempt shares retryx's group
    bool owns_tty = false;
    bool leader_done = false;
    bool group_gone = false;
    bool signaled = false;
    bool kill_armed = false;
    bool timed_out = false;
    bool pidfd_wait = false;  // false: reap_leader() waits for it
    int raw_status = 0;
  };

  const ProcessPolicy policy;
  const OutputPatterns patterns;
  const bool capture = patterns.any() || policy.hold_stdout;
  std::optional<OutputWatch> watch;
  std::optional<Stream> out, err;
  std::optional<HeldOutput> held;
  ChildStack child_stack;
  const pid_t self = ::getpid();
  asio::io_context io;
  asio::signal_set stop_set{io};
  asio::signal_set pass_set{io};
  asio::signal_set child_set{io};
  asio::steady_timer limit_timer{io};
  asio::steady_timer kill_timer{io};
  asio::steady_timer check_timer{io};
  asio::steady_timer sleep_timer{io};
  // After io, so that it stops before io goes away.
  std::optional<OutputWriter> writer;
  struct sigaction saved[std::size(own_dispositions)] {};
  std::vector<int> handled_signals;
  sigset_t inherited_mask{};
  int tty = -1;
  int null_fd = -1;
  int replay_fd = -1;
  std::optional<off_t> stdin_offset;  // inherit from a regular file: where attempt 1 started
  std::optional<int> interrupted;
  std::optional<Running> running;
  bool sleeping = false;

  Impl(const ProcessPolicy& p, const OutputPatterns& o) : policy(p), patterns(o) {
    if (patterns.any()) watch.emplace(patterns);
    if (capture) writer.emplace([this] { asio::post(io, [this] { writer_progress(); }); });
    if (policy.hold_stdout) check_temp_dir("--hold-stdout");
    ::sigprocmask(SIG_SETMASK, nullptr, &inherited_mask);
    for (std::size_t i = 0; i < std::size(own_dispositions); ++i)
      ::sigaction(own_dispositions[i], nullptr, &saved[i]);
    // An inherited SIG_IGN for SIGCHLD makes the kernel reap children itself
    // and every exit status reads as lost; SIGCHLD also reports an attempt
    // stopped by Ctrl-Z. SIGTTOU: retryx takes the terminal back from the
    // background. SIGPIPE: a closed stderr must not kill retryx mid-run.
    ::signal(SIGTTOU, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGCHLD, SIG_DFL);
    // Orphans of an attempt are adopted by retryx, so that it can wait for
    // the whole group and reap every process it leaves.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);

    for (int signal : stop_signals)
      if (!ignored_at_start(signal)) add(stop_set, signal);
    for (int signal : pass_signals)
      if (!ignored_at_start(signal)) add(pass_set, signal);
    add(child_set, SIGCHLD);
    wait_stop_signal();
    wait_pass_signal();
    wait_child_signal();

    if (!policy.foreground) tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    switch (policy.stdin_mode) {
      case StdinMode::inherit: {
        struct stat st {};
        if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
          const off_t offset = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
          if (offset >= 0) stdin_offset = offset;
        }
        break;
      }
      case StdinMode::replay:
        check_temp_dir("--stdin replay");
        replay_fd = store_stdin();
        break;
      case StdinMode::null: break;
    }
  }

  ~Impl() {
    for (int fd : {tty, null_fd, replay_fd})
      if (fd >= 0) ::close(fd);
  }

  void add(asio::signal_set& set, int signal) {
    set.add(signal);
    handled_signals.push_back(signal);
  }

  // --- Signals ------------------------------------------------------------

  void wait_stop_signal() {
    stop_set.async_wait([this](const bp::error_code& ec, int signal) {
      if (ec) return;
      if (!interrupted) interrupted = signal;
      if (running) {
        // Forwarded as it is; what the attempt leaves behind then gets no
        // --signal of its own, only KILL after the grace.
        running->signaled = true;
        signal_attempt(signal);
        arm_kill();
      }
      if (sleeping) sleep_timer.cancel();
      wait_stop_signal();
    });
  }

  void wait_pass_signal() {
    pass_set.async_wait([this](const bp::error_code& ec, int signal) {
      if (ec) return;
      if (running) signal_attempt(signal);
      wait_pass_signal();
    });
  }

  void wait_child_signal() {
    child_set.async_wait([this](const bp::error_code& ec, int) {
      if (ec) return;
      if (running && !running->leader_done) {
        follow_stop();
        reap_adopted_but_leader();
        if (!running->pidfd_wait) reap_leader();
      } else {
        reap_adopted();
        if (running) check_group();
      }
      wait_child_signal();
    });
  }

  // Ctrl-Z stopped the attempt (it has the terminal, retryx does not see
  // the keystroke): retryx stops too, so that the shell sees its job
  // stopped, and on `fg` gives the terminal back and continues the attempt.
  void follow_stop() {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(running->pid), &info, WSTOPPED | WNOHANG) != 0) return;
    if (info.si_pid != running->pid || info.si_code != CLD_STOPPED) return;
    const int stop = info.si_status;
    if (running->pgid == 0 || (stop != SIGTSTP && stop != SIGTTIN && stop != SIGTTOU)) return;
    if (running->owns_tty) ::tcsetpgrp(tty, ::getpgrp());
    ::kill(self, SIGSTOP);
    // Continued.
    if (running->owns_tty && ::tcgetpgrp(tty) == ::getpgrp()) ::tcsetpgrp(tty, running->pgid);
    signal_attempt(SIGCONT);
  }

  // --- The running attempt ------------------------------------------------

  void signal_attempt(int signal) {
    if (!running) return;
    if (running->pgid != 0) {
      if (!running->group_gone) ::killpg(running->pgid, signal);
    } else if (!running->leader_done) {
      ::kill(running->pid, signal);
    }
  }

  // After the signal: KILL when the grace runs out.
  void arm_kill() {
    if (!running || running->kill_armed) return;
    running->kill_armed = true;
    kill_timer.expires_after(policy.kill_after);
    kill_timer.async_wait([this](const bp::error_code& ec) {
      if (!ec) signal_attempt(SIGKILL);
    });
  }

  void time_limit_reached() {
    // A command that ended in time has not timed out, even while what it
    // left behind is still being stopped.
    if (!running || running->leader_done) return;
    running->timed_out = true;
    running->signaled = true;
    signal_attempt(policy.signal);
    signal_attempt(SIGCONT);  // a stopped process must run to act on it
    arm_kill();
  }

  // While the leader runs, orphans retryx adopted may end too: reap them,
  // and leave the leader's status to Boost's pidfd wait.
  void reap_adopted_but_leader() {
    while (true) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
      if (info.si_pid == running->pid) return;  // the leader is next: its wait will see it
      ::waitpid(info.si_pid, nullptr, WNOHANG);
    }
  }

  // Without a pidfd: the leader's status, if it has ended.
  void reap_leader() {
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(running->pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (reaped == running->pid) leader_finished(status);
  }

  // Every child retryx has now is one it adopted (the leader is reaped).
  void reap_adopted() {
    if (running && !running->leader_done) return;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

  void check_group() {
    if (!running || !running->leader_done) return;
    if (running->pgid == 0) {
      running->group_gone = true;
      return;
    }
    reap_adopted();
    if (::killpg(running->pgid, 0) < 0 && errno == ESRCH) running->group_gone = true;
  }

  void leader_finished(int raw_status) {
    running->leader_done = true;
    running->raw_status = raw_status;
    check_group();
    if (running->group_gone) return;
    // Processes the attempt left behind in its group end with it, as on a
    // timeout: the signal, CONT, then KILL after the grace.
    if (!running->signaled) {
      running->signaled = true;
      signal_attempt(policy.signal);
      signal_attempt(SIGCONT);
    }
    arm_kill();
    watch_group();
  }

  // Adopted members report their death by SIGCHLD; this slow check covers
  // a member whose parent outside the group reaps it instead.
  void watch_group() {
    check_timer.expires_after(std::chrono::milliseconds(100));
    check_timer.async_wait([this](const bp::error_code& ec) {
      if (ec || !running) return;
      check_group();
      if (!running->group_gone) watch_group();
    });
  }

  bool over() const { return running->leader_done && running->group_gone; }

  // --- Output capture -----------------------------------------------------

  // Handles bytes the attempt wrote on one stream: on to retryx's stream
  // (through the writer thread) or held, then to the line matcher.
  void forward(Stream& stream, std::string_view data) {
    if (stream.hold) held->append(data);
    else writer->push(stream.target, data);
    if (watch) stream.lines.feed(data, *watch);
  }

  void read_stream(Stream& stream) {
    stream.pipe.async_read_some(asio::buffer(stream.buffer.get(), Stream::buffer_size), [this, &stream](const bp::error_code& ec, std::size_t n) {
      if (n > 0) forward(stream, std::string_view(stream.buffer.get(), n));
      if (ec || !stream.open) {
        if (ec != asio::error::operation_aborted) close_stream(stream);
        return;
      }
      if (!writer->has_room()) {
        stream.paused = true;  // writer_progress resumes it
        return;
      }
      read_stream(stream);
    });
  }

  // The writer thread wrote something: resume paused streams, and close the
  // attempt's stdout pipe when retryx's stdout reader went away (| head -1),
  // so that the attempt sees the broken pipe itself, as without retryx.
  void writer_progress() {
    for (auto* stream : {&out, &err}) {
      if (!*stream || !(*stream)->open) continue;
      Stream& s = **stream;
      if (!s.hold && writer->broken(s.target)) {
        close_stream(s);
      } else if (s.paused && writer->has_room()) {
        s.paused = false;
        read_stream(s);
      }
    }
  }

  // Runs the event loop until done(). Once retryx is interrupted, the
  // writer gets one second more: enough to flush to a reader that reads,
  // while a stalled one cannot keep retryx from ending. False: gave up.
  bool wait_writer(const std::function<bool()>& done) {
    std::optional<asio::steady_timer> grace;
    bool expired = false;
    while (!done() && !expired) {
      if (interrupted && !grace) {
        grace.emplace(io, std::chrono::seconds(1));
        grace->async_wait([&expired](const bp::error_code& ec) { expired = !ec; });
      }
      io.run_one();
    }
    if (grace) {
      grace->cancel();
      io.poll();
    }
    return done();
  }

  // The attempt's output written out before retryx goes on.
  void wait_for_writer() {
    if (writer) wait_writer([this] { return writer->idle(); });
  }

  void close_stream(Stream& stream) {
    if (!stream.open) return;
    stream.open = false;
    if (watch) stream.lines.finish(*watch);
    bp::error_code ignored;
    stream.pipe.close(ignored);
  }

  // The attempt's whole group is gone: what is left in the pipe is all
  // there will be, unless a process that escaped the group holds it open.
  void drain(Stream& stream) {
    if (!stream.open) return;
    stream.paused = false;  // read here, not resumed by writer_progress
    stream.pipe.cancel();
    io.poll();
    while (stream.open) {
      const ssize_t n = ::read(stream.pipe.native_handle(), stream.buffer.get(), Stream::buffer_size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      forward(stream, std::string_view(stream.buffer.get(), static_cast<std::size_t>(n)));
    }
    close_stream(stream);
  }

  // Pipes for the attempt's stdout (and stderr when lines are matched).
  // Returns the write ends for the child; -1 for a stream not captured.
  std::pair<int, int> open_capture() {
    if (watch) watch->reset();
    if (policy.hold_stdout) held.emplace();
    auto make = [&](std::optional<Stream>& stream, int target, bool hold) {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
      ::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);  // fewer wake-ups; refused is fine
      stream.emplace(io, fds[0], target, hold);
      return fds[1];
    };
    const int out_fd = make(out, STDOUT_FILENO, policy.hold_stdout);
    const int err_fd = watch ? make(err, STDERR_FILENO, false) : -1;
    return {out_fd, err_fd};
  }

  void finish_capture() {
    for (auto* stream : {&out, &err})
      if (*stream) drain(**stream);
    out.reset();
    err.reset();
    // The attempt's output before retryx's line about it.
    wait_for_writer();
  }

  // --- Spawning -----------------------------------------------------------

  // Starts the command once; ENOEXEC is handed back for the /bin/sh retry.
  std::variant<pid_t, ExecError> launch(const std::string& executable, std::vector<const char*>& argv,
                                  const ChildEnv& env, const ChildSetup& setup) {
    // No signal handler of retryx's may run in the child; the child
    // unblocks once its dispositions are back to the inherited ones.
    sigset_t all, previous;
    ::sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &previous);
    argv.push_back(nullptr);
    auto result = spawn_process(setup, executable.c_str(), const_cast<char* const*>(argv.data()),
                                const_cast<char* const*>(env.get()), child_stack.top());
    argv.pop_back();
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    return result;
  }

  // The descriptor the attempt reads as stdin (-1: retryx's own), opened
  // for this attempt only.
  int stdin_for(const AttemptRequest& request) {
    if (request.is_hook || policy.stdin_mode == StdinMode::null) return ::fcntl(null_fd, F_DUPFD_CLOEXEC, 0);
    if (policy.stdin_mode == StdinMode::replay) {
      // A fresh open file description: every attempt reads from offset 0.
      return ::open(fmt::format("/proc/self/fd/{}", replay_fd).c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (stdin_offset) ::lseek(STDIN_FILENO, *stdin_offset, SEEK_SET);
    return -1;
  }

  AttemptResult run(const AttemptRequest& request) {
    const auto start = Clock::now();
    auto elapsed = [&] { return std::chrono::duration_cast<Duration>(Clock::now() - start); };
    io.restart();
    io.poll();  // signals that arrived between attempts
    const std::string& name = request.command.front();

    auto resolved = resolve(name);
    if (auto* failed = std::get_if<SpawnFailed>(&resolved)) return {*failed, elapsed(), 0, false, interrupted, {}};
    const std::string executable = std::get<std::string>(resolved);

    // argv[0] stays the name the user gave, as execvp keeps it.
    std::vector<const char*> argv;
    for (const auto& arg : request.command) argv.push_back(arg.c_str());
    ChildEnv env(request.environment);
    const bool owns_tty = !policy.foreground && tty >= 0 && ::tcgetpgrp(tty) == ::getpgrp();
    const int child_stdin = stdin_for(request);
    auto [child_stdout, child_stderr] = capture && !request.is_hook ? open_capture() : std::pair{-1, -1};
    // Under -O only the attempt that succeeds writes to stdout: a hook's
    // stdout goes to stderr.
    if (request.is_hook && policy.hold_stdout) child_stdout = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    const ChildSetup setup{saved, handled_signals, inherited_mask, self, !policy.foreground,
                           owns_tty ? tty : -1, child_stdin, child_stdout, child_stderr, env.listen_pid()};

    auto launched = launch(executable, argv, env, setup);
    if (auto* failed = std::get_if<ExecError>(&launched); failed && failed->error == ENOEXEC) {
      // A file without "#!" is a shell script, as execvp and shells run it.
      std::vector<const char*> sh_argv{"/bin/sh", executable.c_str()};
      sh_argv.insert(sh_argv.end(), argv.begin() + 1, argv.end());
      launched = launch("/bin/sh", sh_argv, env, setup);
    }
    for (int fd : {child_stdin, child_stdout, child_stderr})
      if (fd >= 0) ::close(fd);
    if (const auto* failed = std::get_if<ExecError>(&launched)) {
      // The child took the terminal for its group before its exec failed.
      if (owns_tty && ::tcgetpgrp(tty) != ::getpgrp()) ::tcsetpgrp(tty, ::getpgrp());
      finish_capture();
      return {spawn_failure(name, failed->error), elapsed(), 0, false, interrupted, {}};
    }
    for (auto* stream : {&out, &err})
      if (*stream) read_stream(**stream);

    const pid_t pid = std::get<pid_t>(launched);
    running = Running{pid, policy.foreground ? 0 : pid, owns_tty};
    // The leader's end comes through a pidfd. A child that has already
    // ended is still a zombie here, so the pid cannot have been reused.
    // Where there is no pidfd_open (Linux < 5.3, valgrind, an old seccomp
    // profile), the SIGCHLD watch reaps the leader instead.
    std::optional<bp::process> proc;
    if (const auto pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); pidfd >= 0) {
      proc.emplace(io.get_executor(), pid, pidfd);
      running->pidfd_wait = true;
      proc->async_wait([this, &proc](const bp::error_code&, int) { leader_finished(proc->native_exit_code()); });
    } else {
      reap_leader();  // it may have ended before the watch looked
    }
    if (owns_tty) ::tcsetpgrp(tty, pid);
    if (request.on_started) request.on_started(pid);

    if (request.time_limit) {
      limit_timer.expires_after(*request.time_limit);
      limit_timer.async_wait([this](const bp::error_code& e) {
        if (!e) time_limit_reached();
      });
    }
    if (interrupted) {  // it came while starting: pass it on now
      running->signaled = true;
      signal_attempt(*interrupted);
      arm_kill();
    }
    while (!over()) io.run_one();
    // A signal that came with the attempt's end (Ctrl-C reaching both) is
    // still queued: it belongs to this attempt.
    io.poll();
    finish_capture();

    limit_timer.cancel();
    kill_timer.cancel();
    check_timer.cancel();
    if (owns_tty && ::tcgetpgrp(tty) == pid) ::tcsetpgrp(tty, ::getpgrp());
    AttemptResult result{decode(running->raw_status), elapsed(), pid, running->timed_out, interrupted,
                         watch ? watch->matches() : OutputMatches{}};
    running.reset();
    io.poll();  // let the cancelled timers' handlers go
    return result;
  }

  std::optional<int> release_output(bool succeeded) {
    if (!held) return std::nullopt;
    const int fd = succeeded ? STDOUT_FILENO : STDERR_FILENO;
    held->release([&](std::string_view chunk) {
      writer->push(fd, chunk);
      return wait_writer([this] { return writer->has_room(); }) && !writer->broken(fd);
    });
    wait_for_writer();
    held.reset();
    return interrupted;
  }

  std::optional<int> sleep(Duration delay) {
    io.restart();
    io.poll();
    // No delay (-d 0): no timer to arm and wait for, only the signals
    // that came meanwhile.
    if (interrupted || delay <= Duration::zero()) return interrupted;
    sleep_timer.expires_after(delay);
    bool done = false;
    sleep_timer.async_wait([&](const bp::error_code&) { done = true; });
    sleeping = true;
    while (!done) io.run_one();
    sleeping = false;
    return interrupted;
  }
};

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

ProcessLayer::ProcessLayer(const ProcessPolicy& policy, const OutputPatterns& patterns)
    : impl_(std::make_unique<Impl>(policy, patterns)) {}
ProcessLayer::~ProcessLayer() = default;

AttemptResult ProcessLayer::run(const AttemptRequest& request) { return impl_->run(request); }
std::optional<int> ProcessLayer::release_output(bool succeeded) { return impl_->release_output(succeeded); }
std::optional<int> ProcessLayer::sleep(Duration delay) { return impl_->sleep(delay); }
Duration ProcessLayer::now() { return std::chrono::duration_cast<Duration>(Clock::now().time_since_epoch()); }

void die_by_signal(int signal) {
  // No core file for a signal that would dump one (QUIT): this is an exit.
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::signal(signal, SIG_DFL);
  sigset_t set;
  ::sigemptyset(&set);
  ::sigaddset(&set, signal);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(signal);
  ::_exit(128 + signal);
}

}  // namespace retryx
