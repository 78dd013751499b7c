#pragma once
// The command line (spec §1): argv and RETRYX_* environment defaults become
// a validated Policy and the command. cli.cpp reads argv (the only user of
// Boost.Program_options) and the environment; option_table.cpp holds the
// options and the help text; policy_builder.cpp turns values into a Policy.
#include <stdexcept>
#include <string>
#include <variant>

#include "policy.hpp"

namespace retryx {

// A bad command line: what() names the option (or RETRYX_ variable) and the
// value, on one line. main reports it and exits 125; nothing is run.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ShowHelp {};
struct ShowVersion {};
struct RunRequest {
  Policy policy;
  Command command;  // may be empty only with dry_run
  bool dry_run = false;
};
using Invocation = std::variant<ShowHelp, ShowVersion, RunRequest>;

// Options stop at "--" or at the first operand: everything from there on is
// the command. envp supplies RETRYX_<NAME> defaults; the command line wins.
// Throws UsageError.
Invocation parse_command_line(int argc, const char* const* argv, const char* const* envp);

// The --help text (option_table.cpp).
std::string help_text();

}  // namespace retryx
