#pragma once
// Starting a command as execvp would: where PATH finds it (126 and 127 told
// apart), its environment block, and the /bin/sh fallback for a file
// without "#!". The child's own set-up is spawn.hpp's.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "command_runner.hpp"
#include "outcome.hpp"
#include "process/spawn.hpp"

namespace retryx::process {

// As timeout(1): 127 when there is no such file, 126 for any other reason.
SpawnFailed spawn_failure(const std::string& name, int error);

// Where execvp would find the command (a name with '/' as is), or why it
// would fail.
std::variant<std::string, SpawnFailed> resolve(const std::string& name);

// The environment of one child: retryx's, with the request's variables set
// or removed, and LISTEN_PID (when it names retryx) left for the child to
// rewrite with its own pid.
class ChildEnv {
 public:
  explicit ChildEnv(const ChildEnvironment& changes);
  char* const* get() const { return const_cast<char* const*>(pointers_.data()); }
  char* listen_pid() { return listen_pid_index_ ? listen_pid_ : nullptr; }

 private:
  std::vector<std::string> strings_;
  std::vector<const char*> pointers_;
  std::optional<std::size_t> listen_pid_index_;
  char listen_pid_[32] = {};
};

// Starts `executable` with `command` as its argv (argv[0] stays the name
// the user gave, as execvp keeps it); a file exec refuses as ENOEXEC is run
// by /bin/sh, as execvp and shells do.
std::variant<pid_t, SpawnError> launch(const std::string& executable, const Command& command, const ChildEnv& env,
                                       const ChildSetup& setup, const ChildStack& stack);

}  // namespace retryx::process
