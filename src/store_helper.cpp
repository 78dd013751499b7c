#include "store_helper.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "signal_names.hpp"
#include "store_helper_path.hpp"

extern char** environ;

namespace retryx {

namespace {

constexpr auto p_pidfd = static_cast<idtype_t>(3);  // P_PIDFD, Linux 5.4

std::string describe_status(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return fmt::format("exit status {}", info.si_status);
  return fmt::format("killed by {}", signal_name(info.si_status));
}

// Reaps the helper if it has ended, without waiting: how it ended, ""
// while it runs, nullopt when it is not this process's child any more.
std::optional<std::string> reap(pid_t pid, int pidfd) {
  for (;;) {
    siginfo_t info{};
    int result = pidfd >= 0 ? ::waitid(p_pidfd, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) : -1;
    // No pidfd, or Linux 5.3 (pidfd_open without P_PIDFD): the pid, which
    // the caller knows to be this unreaped child.
    if (pidfd < 0 || (result < 0 && errno == EINVAL))
      result = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
    if (result < 0 && errno == EINTR) continue;
    if (result < 0) return std::nullopt;  // ECHILD: reaped elsewhere
    if (info.si_pid == 0) return "";
    return describe_status(info);
  }
}

// After SIGKILL: reaps the helper once it has ended, waiting at most
// `bound` (one in uninterruptible sleep, or held by a tracer, ends when it
// can, and init reaps it then): how it ended, nullopt when it did not end
// in time or is not this process's child any more. Without a pidfd, or
// when the pidfd says it ended but it cannot be reaped yet (a tracer
// holds its exit), short sleeps between polls.
std::optional<std::string> reap_within(pid_t pid, int pidfd, std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    auto how = reap(pid, pidfd);
    if (!how || !how->empty()) return how;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd watched{pidfd, POLLIN, 0};
    if (pidfd >= 0 && ::poll(&watched, 1, 0) == 0) {
      ::poll(&watched, 1, static_cast<int>(left.count()));  // EINTR: polled again
    } else {
      std::this_thread::sleep_for(std::min(pause, left));
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
  }
}

// A descriptor of start()'s at 3 or above, so that dup2 onto 0, 1 and 2
// always makes new descriptors (and no file action overwrites another's).
bool above_stderr(UniqueFd& fd) {
  if (fd.get() > STDERR_FILENO) return true;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) return false;
  fd.reset(moved);
  return true;
}

// Waits until the helper has ended or closed its end of the socket (what
// it does on its way out), at most `wait`.
void wait_for_end(int pidfd, int socket, std::chrono::milliseconds wait) {
  const auto until = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd watched{pidfd >= 0 ? pidfd : socket, POLLIN, 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || pidfd >= 0) return;
    char drained[4096];  // a reply nobody waits for, or the end
    const ssize_t got = ::recv(socket, drained, sizeof drained, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return;
  }
}

}  // namespace

std::vector<std::string> store_helper_candidates(const std::string& executable) {
  const std::filesystem::path bindir = std::filesystem::path(executable).parent_path();
  return {(bindir / "retryx-store").string(), (bindir / store_helper_from_bindir).lexically_normal().string()};
}

std::string find_store_helper(const std::string& executable) {
  const auto candidates = store_helper_candidates(executable);
  for (const std::string& candidate : candidates)
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  return candidates.back();
}

std::string find_store_helper() {
  char path[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return std::string(store_helper_from_bindir);  // no /proc: relative to nothing, will not start
  return find_store_helper(std::string(path, static_cast<std::size_t>(length)));
}

std::string StoreHelper::start(const std::string& path) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return fmt::format("no socket pair: {}", std::strerror(errno));
  UniqueFd ours(pair[0]), theirs(pair[1]);
  // Its stderr: a pipe, read by end() (non-blocking on retryx's side; the
  // helper's side blocks when full, and retryx's waits are bounded).
  int errors[2];
  if (::pipe2(errors, O_CLOEXEC) != 0) return fmt::format("no pipe: {}", std::strerror(errno));
  UniqueFd said(errors[0]), their_stderr(errors[1]);
  if (::fcntl(said.get(), F_SETFL, O_NONBLOCK) != 0 || !above_stderr(theirs) || !above_stderr(their_stderr))
    return std::strerror(errno);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attributes);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, their_stderr.get(), STDERR_FILENO);
  // Descriptors retryx inherited without close-on-exec (kept for the
  // attempts: a jobserver, 3>file) are not the helper's.
  ::posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  sigset_t none, all;
  ::sigemptyset(&none);
  ::sigfillset(&all);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(&attributes, 0);
  ::posix_spawnattr_setsigmask(&attributes, &none);
  ::posix_spawnattr_setsigdefault(&attributes, &all);

  std::string parent = std::to_string(::getpid());
  std::string program = path;
  char* argv[] = {program.data(), parent.data(), nullptr};
  // Without the passwords retryx may have been given there (REDISCLI_AUTH,
  // and a URL in RETRYX_CIRCUIT or RETRYX_RETRY_BUDGET): the helper reads
  // none of retryx's RETRYX_* options. The rest stays (OpenSSL's
  // SSL_CERT_FILE/SSL_CERT_DIR, the resolver's RES_OPTIONS, LOCALDOMAIN...).
  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, "REDISCLI_AUTH=", 14) != 0 && std::strncmp(*entry, "RETRYX_", 7) != 0)
      envp.push_back(*entry);
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int failed = ::posix_spawn(&pid, path.c_str(), &actions, &attributes, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (failed != 0) return std::strerror(failed);
  pid_ = pid;
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // close-on-exec; -1 where refused
  socket_ = std::move(ours);
  stderr_ = std::move(said);
  said_.clear();
  said_all_ = true;
  return "";
}

void StoreHelper::read_said() {
  char buffer[said_limit + 1];
  while (stderr_ && said_.size() <= said_limit) {
    const ssize_t got = ::read(stderr_.get(), buffer, said_limit + 1 - said_.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // all of it (the end), or nothing more now: never waited for
    said_.append(buffer, static_cast<std::size_t>(got));
  }
  said_all_ = said_.size() <= said_limit;
  said_.resize(std::min(said_.size(), said_limit));
  stderr_.reset();
}

std::string StoreHelper::end(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return "";
  // The end of its stdin, while retryx's end stays open to see it go.
  ::shutdown(socket_.get(), SHUT_WR);
  wait_for_end(pidfd_.get(), socket_.get(), wait);
  socket_.reset();
  auto how = reap(pid_, pidfd_.get());
  if (how && how->empty()) {
    // Still this unreaped child (the pidfd names no other; without one,
    // waitpid just said so, and nothing else in retryx reaps meanwhile).
    if (pidfd_.get() >= 0) {
      if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0) ::kill(pid_, SIGKILL);
    } else {
      ::kill(pid_, SIGKILL);
    }
    how = reap_within(pid_, pidfd_.get(), kill_bound);
  }
  read_said();
  pid_ = 0;
  pidfd_.reset();
  return how.value_or("");
}

// Here rather than in shared_store.cpp: the helper's words, shaped.
std::string HelperStore::helper_said() const {
  std::string text = helper_.said();
  // Cut at said_limit: a password cut there would escape scrubbed(), so a
  // tail that is the start of one goes.
  if (!helper_.said_all())
    for (const auto& secret : {password_, settings_.env_password}) {
      if (!secret) continue;
      for (std::size_t length = std::min(secret->size(), text.size() + 1); length-- > 1;)
        if (text.ends_with(std::string_view(*secret).substr(0, length))) {
          text.resize(text.size() - length);
          break;
        }
    }
  text = scrubbed(std::move(text));
  std::string line;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view piece = std::string_view(text).substr(start, end - start);
    while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.back()))) piece.remove_suffix(1);
    if (!piece.empty()) line.append(line.empty() ? "" : "; ").append(piece);
    start = end + 1;
  }
  if (!helper_.said_all()) line += " ...";
  return line;
}

}  // namespace retryx
