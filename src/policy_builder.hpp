#pragma once
// Option values to a validated Policy (spec §1-§7): each value is parsed and
// checked here, and a bad one is a UsageError naming where it came from.
// Where the values come from (argv, RETRYX_*) is cli.cpp's business.
#include <map>
#include <optional>
#include <string>

#include "policy.hpp"

namespace retryx {

// One option's value as the user wrote it, and where: "--attempts", "-a"
// or "RETRYX_ATTEMPTS", so that errors name what the user wrote.
struct Value {
  std::string text;
  std::string source;
};

// Every value given, by the option's first long name; the command line
// wins over the environment, and both over a --preset's values (which
// build_policy fills in; source "--preset NAME").
struct Values {
  std::map<std::string, Value> command_line;
  std::map<std::string, Value> environment;
  std::map<std::string, Value> preset;

  std::optional<Value> get(const std::string& name) const {
    if (auto it = command_line.find(name); it != command_line.end()) return it->second;
    if (auto it = environment.find(name); it != environment.end()) return it->second;
    if (auto it = preset.find(name); it != preset.end()) return it->second;
    return std::nullopt;
  }
};

// Throws UsageError ("--signal: invalid value 'NOPE': ...").
Policy build_policy(const Values& values);

}  // namespace retryx
