#pragma once
// One attempt's supervision, as coreutils timeout.c does it for one child
// (spec §4): its end (a pidfd, or the SIGCHLD watch where pidfd_open is
// refused), its time limit and its idle limit (--idle-timeout), the signal
// and the KILL after the grace, and the rest of its process group, which
// must be gone before the attempt is over. Part of the process layer: Asio
// is used here.
//
// The leader is left a zombie (its status read with WNOWAIT) until the rest
// of its group is gone, so that its pid, which is the group's id, cannot be
// reused while retryx may still signal the group.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <sys/types.h>

#include "duration.hpp"
#include "outcome.hpp"
#include "policy.hpp"

namespace retryx::process {

// --idle-timeout: the attempt is stopped as at its time limit once
// `last_output` (when it last wrote a byte) is `limit` ago. One timer,
// re-armed only when it fires early, not on every read.
struct IdleLimit {
  Duration limit;
  std::function<std::chrono::steady_clock::time_point()> last_output;
};

class Supervision {
 public:
  // `pid` has just been started; own_group: it leads a process group of
  // its own (not --foreground). Whichever of the two limits comes first
  // stops it.
  Supervision(boost::asio::io_context& io, const ProcessPolicy& policy, pid_t pid, bool own_group,
              std::optional<Duration> time_limit, std::optional<IdleLimit> idle = std::nullopt);
  // Reaps the leader if it is still a zombie; an attempt not over (an
  // exception left it) is KILLed first, group and all.
  ~Supervision();
  Supervision(const Supervision&) = delete;
  Supervision& operator=(const Supervision&) = delete;

  // A signal that ends the run, forwarded as it is; KILL after the grace.
  void stop(int signal);
  // A signal that is only passed on (USR1, USR2, WINCH, CONT).
  void pass(int signal);
  // SIGCHLD: the leader or an adopted orphan may have ended.
  void child_event();
  // Cancels the timers and the pidfd wait, so that no handler still
  // queued does anything once the attempt is over.
  void stop_waiting();

  bool over() const { return how_.has_value() && group_gone_; }
  bool leader_done() const { return how_.has_value(); }
  const Termination& how() const { return *how_; }
  bool timed_out() const { return timed_out_; }
  bool idle_timed_out() const { return idle_timed_out_; }  // the idle limit stopped it
  pid_t pid() const { return pid_; }
  pid_t pgid() const { return own_group_ ? pid_ : 0; }

 private:
  void wait_pidfd();
  void check_leader();
  void leader_ended(const Termination& how);
  void time_limit_reached();
  void check_idle();
  void arm_kill();
  void send(int signal);
  void reap_adopted();
  void check_group();
  void watch_group();
  bool group_has_members();
  void reap_leader();

  const ProcessPolicy& policy_;
  const pid_t pid_;
  const bool own_group_;
  int pidfd_ = -1;
  std::optional<boost::asio::posix::stream_descriptor> pidfd_watch_;
  std::optional<IdleLimit> idle_;
  boost::asio::steady_timer limit_timer_, idle_timer_, kill_timer_, check_timer_;
  std::optional<Termination> how_;
  bool leader_reaped_ = false;
  bool group_gone_ = false;
  bool signaled_ = false;
  bool kill_armed_ = false;
  bool timed_out_ = false;
  bool idle_timed_out_ = false;
};

}  // namespace retryx::process
