#pragma once
// Presets (spec §9): classification rules for well-known commands, as plain
// data. A preset is the values of a few options (--retry-on, --stop-on and
// the output conditions), written as a user would write them on the command
// line, with the documented source of every code and message they name.
// policy_builder.cpp applies a preset beneath the options given explicitly;
// --dry-run, -v and the man page's PRESETS section show the same values.
#include <string_view>
#include <vector>

namespace retryx {

// One option of a preset: its first long name ("retry-on") and its value.
struct PresetOption {
  std::string_view option;
  std::string_view value;
};

// Where an item of a preset's values comes from: the item ("22", "timeout",
// "Retry-After"), what it means, and the documentation that says so.
struct PresetSource {
  std::string_view item;
  std::string_view meaning;
  std::string_view source;
};

struct Preset {
  std::string_view name;                // "curl"
  std::string_view summary;             // one line, for --dry-run and the man page
  std::vector<PresetOption> options;    // in the order of --help
  std::vector<PresetSource> sources;
};

// Every preset, in the order the documentation lists them.
const std::vector<Preset>& presets();

// nullptr when there is no preset of that name.
const Preset* find_preset(std::string_view name);

// "curl, wget, git, ssh, rsync, apt, sysexits".
std::string_view preset_names();

// The preset's value for an option (first long name), or nullptr.
const PresetOption* preset_option(const Preset& preset, std::string_view option);

}  // namespace retryx
