#pragma once
// The real process layer: runs attempts with Boost.Process v2 and sleeps on
// an Asio timer, both on one event loop, so that waiting costs no CPU. The
// only user of Boost.Process and Asio; this header exposes standard types.
#include <memory>

#include "command_runner.hpp"

namespace retryx {

class ProcessLayer final : public CommandRunner, public Sleeper {
 public:
  // Construct it early: it records the descriptors and SIGCHLD disposition
  // retryx inherited, for its children to inherit in turn.
  ProcessLayer();
  ~ProcessLayer() override;
  ProcessLayer(const ProcessLayer&) = delete;
  ProcessLayer& operator=(const ProcessLayer&) = delete;

  // Looks the command up as execvp does (PATH, a name with '/' as is, a file
  // without "#!" run by /bin/sh), runs it with retryx's stdin, stdout,
  // stderr and inherited descriptors, and waits for it without polling.
  AttemptResult run(const AttemptRequest& request) override;
  void sleep(Duration delay) override;
  Duration now() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace retryx
