#pragma once
// retryx's own signals (spec §4): which ones it handles and how, on the
// event loop; the mask and dispositions it inherited, which the child gets
// back; and dying by a signal. Part of the process layer: Asio is used here.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>
#include <vector>

#include "process/spawn.hpp"

namespace retryx::process {

class OwnSignals {
 public:
  struct Handlers {
    // INT, TERM, HUP, QUIT and every other asynchronous signal whose
    // default action ends a process (ALRM, PROF, VTALRM, XCPU, XFSZ, PWR,
    // IO, STKFLT, the real-time signals): forwarded, and the run ends.
    std::function<void(int signal)> stop;
    std::function<void(int signal)> pass;  // USR1, USR2, WINCH: forwarded only
    std::function<void()> child;           // CHLD: a child ended or stopped
    std::function<void()> continued;      // CONT: retryx was continued (fg, bg)
  };

  // Records what retryx inherited, then: signals ignored at start stay
  // ignored and are not handled; the handled ones are unblocked for retryx
  // (a supervisor may have blocked them before exec); SIGCHLD is reset from
  // an inherited SIG_IGN (the kernel would reap children itself), SIGTTOU
  // ignored (retryx takes the terminal back from the background), SIGPIPE
  // ignored (a closed stderr must not kill retryx mid-run).
  OwnSignals(boost::asio::io_context& io, Handlers handlers);
  OwnSignals(const OwnSignals&) = delete;
  OwnSignals& operator=(const OwnSignals&) = delete;

  // The child starts with the mask and dispositions retryx inherited.
  void prepare(ChildSetup& setup) const;

 private:
  void wait_stop();
  void wait_pass();
  void wait_child();
  void wait_continue();

  Handlers handlers_;
  sigset_t inherited_mask_{};
  std::vector<int> handled_;
  std::vector<int> restored_;
  std::vector<struct sigaction> restored_actions_;
  boost::asio::signal_set stop_set_, pass_set_, child_set_, continue_set_;
};

}  // namespace retryx::process
