#pragma once
// The option table (spec §1): one row per option, the single source of the
// command-line parser (cli.cpp), --help and the RETRYX_* environment names.
// Plain data and look-ups; no parsing of values here (policy_builder.cpp).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace retryx {

struct OptionSpec {
  const char* names;    // Program_options form: "attempts,max,max-attempts,a"
  const char* metavar;  // nullptr for a flag
  const char* help;
  bool env = true;      // settable as RETRYX_<first long name>
};

struct OptionGroup {
  const char* title;
  std::vector<OptionSpec> options;
};

// Every option, in --help's order and groups.
const std::vector<OptionGroup>& option_table();

// Options that cannot be combined, by first long name; the command line
// overrides the whole group's environment defaults.
const std::vector<std::vector<std::string>>& conflict_groups();

std::string first_long_name(const OptionSpec& spec);       // "attempts"
std::vector<std::string> long_names(const OptionSpec& spec);  // "attempts", "max", "max-attempts"
std::optional<char> short_name(const OptionSpec& spec);    // 'a'
std::string env_name(const std::string& option);           // "max-delay" -> "RETRYX_MAX_DELAY"

// Look-ups; nullptr when no option has that name.
const OptionSpec* find_by_long_name(std::string_view name);  // any long name, aliases included
const OptionSpec* find_by_short_name(char name);
const OptionSpec* find_by_first_long_name(std::string_view name);

// The --help text, two columns within 80.
std::string help_text();

}  // namespace retryx
