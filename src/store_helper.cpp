#include "store_helper.hpp"

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

// Reaps the helper if it has ended (or waits for it: block): how it ended,
// "" while it runs, nullopt when it is not this process's child any more.
std::optional<std::string> reap(pid_t pid, int pidfd, bool block) {
  const int options = WEXITED | (block ? 0 : WNOHANG);
  for (;;) {
    siginfo_t info{};
    int result = pidfd >= 0 ? ::waitid(p_pidfd, static_cast<id_t>(pidfd), &info, options) : -1;
    // No pidfd, or Linux 5.3 (pidfd_open without P_PIDFD): the pid, which
    // the caller knows to be this unreaped child when it blocks.
    if (pidfd < 0 || (result < 0 && errno == EINVAL)) result = ::waitid(P_PID, static_cast<id_t>(pid), &info, options);
    if (result < 0 && errno == EINTR) continue;
    if (result < 0) return std::nullopt;  // ECHILD: reaped elsewhere
    if (info.si_pid == 0) return "";
    return describe_status(info);
  }
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
  // At 3 or above, so that dup2 onto 0 and 1 always makes new descriptors.
  if (theirs.get() <= STDERR_FILENO) {
    const int moved = ::fcntl(theirs.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    if (moved < 0) return std::strerror(errno);
    theirs.reset(moved);
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attributes);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDOUT_FILENO);
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
  std::vector<char*> envp;
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, "REDISCLI_AUTH=", 14) != 0) envp.push_back(*entry);
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int failed = ::posix_spawn(&pid, path.c_str(), &actions, &attributes, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (failed != 0) return std::strerror(failed);
  pid_ = pid;
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // close-on-exec; -1 where refused
  socket_ = std::move(ours);
  return "";
}

std::string StoreHelper::end(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return "";
  // The end of its stdin, while retryx's end stays open to see it go.
  ::shutdown(socket_.get(), SHUT_WR);
  wait_for_end(pidfd_.get(), socket_.get(), wait);
  socket_.reset();
  auto how = reap(pid_, pidfd_.get(), false);
  if (how && how->empty()) {
    // Still this unreaped child (the pidfd names no other; without one,
    // waitpid just said so, and nothing else in retryx reaps meanwhile).
    if (pidfd_.get() >= 0) {
      if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0) ::kill(pid_, SIGKILL);
    } else {
      ::kill(pid_, SIGKILL);
    }
    how = reap(pid_, pidfd_.get(), true);
  }
  pid_ = 0;
  pidfd_.reset();
  return how.value_or("");
}

}  // namespace retryx
