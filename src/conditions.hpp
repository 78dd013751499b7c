#pragma once
// Sets of exit codes (CODES: "0", "1-3,75") and of failure conditions
// (CONDS: codes, ranges, signals such as "SIGKILL"/"KILL"/"SIG9", and the
// word "timeout"), as given to --success, --retry-on and --stop-on.
#include <bitset>
#include <string>
#include <string_view>

#include "duration.hpp"
#include "outcome.hpp"

namespace retryx {

struct CodeSet {
  std::bitset<256> codes;
  bool contains(int code) const { return code >= 0 && code < 256 && codes.test(code); }
  bool empty() const { return codes.none(); }
};

struct Conditions {
  CodeSet codes;
  std::bitset<128> signals;  // indexed by signal number
  bool timeout = false;

  bool empty() const { return codes.empty() && signals.none() && !timeout; }
  // Which item matches this attempt's failure, as the user would write it
  // ("timeout", "SIGKILL", "exit code 3"), or empty when none does. A
  // timed-out attempt matches only "timeout"; a command that could not be
  // started matches its status (126/127) as an exit code.
  std::string match(const AttemptResult& result) const;
};

// How a failure is named in conditions: "timeout", "SIGKILL", "exit code 3"
// (a command that could not be started: its status, 126 or 127).
std::string condition_name(const AttemptResult& result);

// Throw ValueError for malformed lists, codes outside 0-255, reversed
// ranges and unknown signals.
CodeSet parse_codes(std::string_view text);
Conditions parse_conditions(std::string_view text);

// "0", "1-3,75": the canonical text of a set (for logs and --dry-run).
std::string format_codes(const CodeSet& set);
std::string format_conditions(const Conditions& conditions);

}  // namespace retryx
