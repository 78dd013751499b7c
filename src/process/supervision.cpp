#include "process/supervision.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdexcept>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace retryx::process {

namespace asio = boost::asio;

namespace {

constexpr auto p_pidfd = static_cast<idtype_t>(3);  // P_PIDFD, Linux 5.4

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The leader's end, read without reaping it (WNOWAIT): nullopt while it runs.
std::optional<Termination> peek_exit(pid_t pid, int pidfd) {
  siginfo_t info{};
  int result = -1;
  do {
    if (pidfd >= 0) result = ::waitid(p_pidfd, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG | WNOWAIT);
    // Linux 5.3 has pidfd_open but not P_PIDFD; the leader is not reaped
    // yet, so its pid still names it.
    if (pidfd < 0 || (result < 0 && errno == EINVAL))
      result = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (result < 0 && errno == EINTR);
  if (result < 0)
    throw std::runtime_error(fmt::format("cannot wait for process {}: {}", pid, std::strerror(errno)));
  if (info.si_pid == 0) return std::nullopt;
  if (info.si_code == CLD_EXITED) return Exited{info.si_status};
  return Signaled{info.si_status};  // CLD_KILLED, CLD_DUMPED
}

// retryx's children (every thread's), from /proc; nullopt without /proc.
std::optional<std::vector<pid_t>> own_children() {
  // The main thread's list: retryx clones there, and the kernel hands
  // orphans to a subreaper's first live thread, which is the main one. A
  // raw read: this runs at the end of every attempt.
  static const std::string path = fmt::format("/proc/self/task/{}/children", ::getpid());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  if (n < 0) return std::nullopt;
  std::vector<pid_t> children;
  long pid = 0;
  bool digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      pid = pid * 10 + (c - '0');
      digits = true;
    } else if (digits) {
      children.push_back(static_cast<pid_t>(pid));
      pid = 0;
      digits = false;
    }
  }
  if (digits) children.push_back(static_cast<pid_t>(pid));
  return children;
}

}  // namespace

Supervision::Supervision(asio::io_context& io, const ProcessPolicy& policy, pid_t pid, bool own_group,
                         std::optional<Duration> time_limit, std::optional<IdleLimit> idle)
    : policy_(policy), pid_(pid), own_group_(own_group), idle_(std::move(idle)), limit_timer_(io), idle_timer_(io),
      kill_timer_(io), check_timer_(io) {
  // A child that has already ended is still a zombie here, so the pid
  // cannot have been reused. Where there is no pidfd_open (Linux < 5.3,
  // valgrind, an old seccomp profile), SIGCHLD alone says when it ends.
  pidfd_ = pidfd_open(pid);
  if (pidfd_ >= 0) {
    pidfd_watch_.emplace(io, pidfd_);
    wait_pidfd();
  }
  check_leader();  // it may have ended before anything watched it
  if (time_limit) {
    limit_timer_.expires_after(*time_limit);
    limit_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) time_limit_reached();
    });
  }
  if (idle_) check_idle();
}

Supervision::~Supervision() {
  stop_waiting();
  if (!over()) {  // an exception left it running: nothing may outlive it
    if (own_group_) ::killpg(pid_, SIGKILL);
    else if (!how_) ::kill(pid_, SIGKILL);
    if (!leader_reaped_) {
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
      leader_reaped_ = true;
    }
  }
  if (how_ && !leader_reaped_) reap_leader();
}

void Supervision::stop_waiting() {
  limit_timer_.cancel();
  idle_timer_.cancel();
  kill_timer_.cancel();
  check_timer_.cancel();
  if (pidfd_watch_) pidfd_watch_->cancel();
}

void Supervision::wait_pidfd() {
  pidfd_watch_->async_wait(asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    // On any other error the SIGCHLD watch still sees the end; a status is
    // only ever read from the kernel, never made up.
    check_leader();
    if (!ec && !how_) wait_pidfd();
  });
}

void Supervision::check_leader() {
  if (how_) return;
  if (auto how = peek_exit(pid_, pidfd_)) leader_ended(*how);
}

void Supervision::child_event() {
  check_leader();
  reap_adopted();
  check_group();
}

void Supervision::leader_ended(const Termination& how) {
  how_ = how;
  check_group();
  if (group_gone_) return;
  // What the attempt left behind in its group ends with it, as on a
  // timeout: the signal, CONT, then KILL after the grace.
  if (!signaled_) {
    signaled_ = true;
    send(policy_.signal);
    send(SIGCONT);
  }
  arm_kill();
  watch_group();
}

void Supervision::time_limit_reached() {
  // A command that ended in time has not timed out, even while what it
  // left behind is still being stopped; nor is it stopped twice when both
  // limits come.
  if (how_ || timed_out_) return;
  timed_out_ = true;
  signaled_ = true;
  send(policy_.signal);  // signal 0 (-s 0): nothing, only the KILL after the grace
  send(SIGCONT);         // a stopped process must run to act on it
  arm_kill();
}

// The idle limit: due `limit` after the last byte. Reads only move the
// time of the last byte; the timer, when it fires early, is set again for
// the new due time, so a command that writes all the time costs one wake-up
// per `limit`, not a timer per read.
void Supervision::check_idle() {
  if (how_ || timed_out_) return;
  const auto due = idle_->last_output() + idle_->limit;
  if (std::chrono::steady_clock::now() >= due) {
    idle_timed_out_ = true;
    time_limit_reached();
    return;
  }
  idle_timer_.expires_at(due);
  idle_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_idle();
  });
}

void Supervision::stop(int signal) {
  // Forwarded as it is; what the attempt leaves behind then gets no
  // --signal of its own, only KILL after the grace.
  signaled_ = true;
  send(signal);
  if (signal != SIGKILL && signal != SIGCONT) send(SIGCONT);  // a stopped process must run to act on it
  arm_kill();
}

void Supervision::pass(int signal) { send(signal); }

void Supervision::arm_kill() {
  if (kill_armed_ || over()) return;
  kill_armed_ = true;
  kill_timer_.expires_after(policy_.kill_after);
  kill_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send(SIGKILL);
  });
}

void Supervision::send(int signal) {
  if (own_group_) {
    if (!group_gone_) ::killpg(pid_, signal);
  } else if (!how_) {
    if (pidfd_ < 0 || ::syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0) != 0) ::kill(pid_, signal);
  }
}

// Orphans of the attempt are adopted by retryx (a child subreaper): reap
// those that ended. The leader is left for reap_leader.
void Supervision::reap_adopted() {
  const auto children = own_children();
  if (!children) {
    // No /proc: reap what waits, stopping at the leader, which is first in
    // the kernel's list of retryx's children once it is a zombie.
    while (true) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
      if (info.si_pid == pid_ && !leader_reaped_) return;
      ::waitpid(info.si_pid, nullptr, WNOHANG);
    }
  }
  for (pid_t child : *children)
    if (child != pid_ || leader_reaped_) ::waitpid(child, nullptr, WNOHANG);
}

// Members of the group other than the leader, seen among retryx's children:
// once the leader has ended, every member left is an adopted orphan or a
// descendant of one.
bool Supervision::group_has_members() {
  const auto children = own_children();
  if (!children) return false;
  for (pid_t child : *children)
    if (child != pid_ && ::getpgid(child) == pid_) return true;
  return false;
}

void Supervision::check_group() {
  if (!how_ || group_gone_) return;
  if (!own_group_) {
    group_gone_ = true;
    reap_leader();
    return;
  }
  if (!leader_reaped_) {
    if (group_has_members()) return;  // the leader stays a zombie: the group's id stays ours
    // None of retryx's children is in the group: the kernel says whether a
    // member whose parent left the group is still there.
    reap_leader();
  }
  if (::killpg(pid_, 0) < 0 && errno == ESRCH) group_gone_ = true;
}

// Adopted members report their death by SIGCHLD; this slow check covers a
// member whose parent outside the group reaps it instead.
void Supervision::watch_group() {
  check_timer_.expires_after(std::chrono::milliseconds(100));
  check_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    reap_adopted();
    check_group();
    if (!group_gone_) watch_group();
  });
}

void Supervision::reap_leader() {
  while (::waitpid(pid_, nullptr, WNOHANG) < 0 && errno == EINTR) {
  }
  leader_reaped_ = true;
}

}  // namespace retryx::process
