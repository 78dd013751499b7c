// The command line: argv split at the command, read with
// Boost.Program_options (this file is its only user), and RETRYX_*
// environment defaults; the values go to policy_builder.cpp.
#include "cli.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <set>
#include <string_view>
#include <vector>

#include "option_table.hpp"
#include "policy_builder.hpp"

namespace po = boost::program_options;

namespace retryx {

namespace {

// Program_options keeps matching options after the first operand ("retryx
// curl --max 3" would read --max), so argv is split first, getopt's "+"
// way: the options end at "--" or at the first word that is neither an
// option nor an option's value. Returns where the command starts; sets
// `options_end` to where the options end (before a "--") and adds the
// options it saw to `used`.
int command_start(int argc, const char* const* argv, int& options_end, std::set<const OptionSpec*>& used) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") {
      options_end = i;
      return i + 1;
    }
    if (word.size() < 2 || word[0] != '-') {
      options_end = i;
      return i;
    }
    if (word.starts_with("--")) {
      const auto eq = word.find('=');
      const OptionSpec* spec = find_by_long_name(word.substr(2, eq == std::string_view::npos ? eq : eq - 2));
      if (spec) used.insert(spec);
      if (eq == std::string_view::npos && spec && spec->metavar) ++i;  // the value is the next word
      continue;
    }
    for (std::size_t j = 1; j < word.size(); ++j) {  // a cluster: "-qa3", "-a", "3"
      const OptionSpec* spec = find_by_short_name(word[j]);
      if (spec) used.insert(spec);
      if (spec && spec->metavar) {
        if (j + 1 == word.size()) ++i;
        break;
      }
    }
  }
  options_end = argc;
  return argc;
}

// Only the options the command line names: describing all fifty to
// Program_options costs more than the rest of retryx's start-up, and one
// it was not told of is reported as unrecognised either way.
po::options_description make_description(const std::set<const OptionSpec*>& used) {
  po::options_description description;
  for (const OptionSpec* spec : used) {
    // Every option is a list so that repeating one is allowed and the last
    // wins (an alias with defaults can then be overridden).
    auto* semantic = po::value<std::vector<std::string>>();
    if (!spec->metavar) semantic->zero_tokens();
    description.add_options()(spec->names, semantic, spec->help);
  }
  return description;
}

// The edit distance between two words: insertions, deletions, changes and
// swaps of two neighbours ("atempts", "max-tim", "dealy" are one away).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// "; did you mean '--attempts'?" for a mistyped long option ("--atempts"):
// the long names and aliases nearest to it, when they are near enough (one
// edit in three letters); "" when none is.
std::string did_you_mean(std::string_view typed) {
  if (!typed.starts_with("--")) return "";
  typed.remove_prefix(2);
  typed = typed.substr(0, typed.find('='));  // "--atempts=3"
  if (typed.empty() || typed.size() > 64) return "";
  std::string word(typed);
  std::transform(word.begin(), word.end(), word.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; });
  const std::size_t allowed = std::max<std::size_t>(1, word.size() / 3);
  std::size_t best = allowed;
  std::vector<std::string> nearest;
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options)
      for (const std::string& name : long_names(spec)) {
        const std::size_t distance = edit_distance(word, name);
        if (distance > best) continue;
        if (distance < best) nearest.clear();
        best = distance;
        nearest.push_back("'--" + name + "'");
      }
  if (nearest.empty() || nearest.size() > 3) return "";
  return fmt::format("; did you mean {}?", fmt::join(nearest, " or "));
}

// Our own words for Program_options' errors. Its what() substitutes
// placeholders such as %original_token% into its message until none is
// left, so a token that contains one ("--x%original_token%") never ends:
// found by fuzzing. The option's name is taken without substitution.
std::string usage_message(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  const std::string option = named ? named->get_option_name() : "";
  if (dynamic_cast<const po::unknown_option*>(&e))
    return fmt::format("unrecognised option '{}'{}", option, did_you_mean(option));
  if (const auto* syntax = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
    switch (syntax->kind()) {
      case po::invalid_syntax::missing_parameter:
        return fmt::format("the required argument for option '{}' is missing", option);
      case po::invalid_syntax::extra_parameter:
        return fmt::format("option '{}' does not take any arguments", option);
      case po::invalid_syntax::empty_adjacent_parameter:
        return fmt::format("option '{}' needs a value after '='", option);
      default: break;
    }
  }
  return option.empty() ? std::string("malformed command line") : fmt::format("malformed option '{}'", option);
}

void read_command_line(int argc, const char* const* argv, Values& values, Command& command) {
  int options_end = argc;
  std::set<const OptionSpec*> used;
  const int start = command_start(argc, argv, options_end, used);
  command.assign(argv + start, argv + argc);

  const po::options_description description = make_description(used);
  po::parsed_options parsed = [&] {
    try {
      return po::command_line_parser(options_end, argv)
          .options(description)
          // No abbreviations: a script's "--del" must not change meaning
          // when a new option is added.
          .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
          .run();
    } catch (const po::error& e) {
      throw UsageError(usage_message(e));
    }
  }();

  for (const po::option& option : parsed.options) {
    const OptionSpec* spec = find_by_first_long_name(option.string_key);
    if (!spec) throw UsageError(fmt::format("unrecognised option '{}'", option.string_key));
    const std::string name = first_long_name(*spec);
    // The name the user typed, for error messages.
    std::string typed = option.original_tokens.empty() ? "--" + name : option.original_tokens.front();
    if (auto eq = typed.find('='); eq != std::string::npos) typed.resize(eq);
    if (typed.size() > 2 && typed[0] == '-' && typed[1] != '-') typed.resize(2);  // "-a3" -> "-a"
    values.command_line[name] = Value{option.value.empty() ? "" : option.value.back(), typed};
  }
}

void read_environment(const char* const* envp, Values& values) {
  for (; envp && *envp; ++envp) {
    std::string_view entry = *envp;
    if (!entry.starts_with("RETRYX_")) continue;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq + 1 == entry.size()) continue;  // empty counts as unset
    const std::string variable(entry.substr(0, eq));
    const std::string text(entry.substr(eq + 1));
    for (const OptionGroup& group : option_table())
      for (const OptionSpec& spec : group.options) {
        const std::string name = first_long_name(spec);
        // Only first long names: the child's RETRYX_ATTEMPT or
        // RETRYX_MAX_ATTEMPTS are never read back as options.
        if (!spec.env || env_name(name) != variable) continue;
        // A flag's "0" is unset; any other text is checked in build_policy,
        // like every value, so that the command line can still override it.
        if (!spec.metavar && text == "0") continue;
        values.environment[name] = Value{text, variable};
      }
  }
}

void resolve_conflicts(Values& values) {
  for (const auto& group : conflict_groups()) {
    const bool on_command_line =
        std::any_of(group.begin(), group.end(), [&](auto& n) { return values.command_line.count(n) > 0; });
    if (on_command_line)
      for (const auto& n : group) values.environment.erase(n);
    std::vector<std::string> given;
    for (const auto& n : group)
      if (auto v = values.get(n)) given.push_back(v->source);
    if (given.size() > 1)
      throw UsageError(fmt::format("conflicting options: {}", fmt::join(given, " and ")));
  }
}

}  // namespace

Invocation parse_command_line(int argc, const char* const* argv, const char* const* envp) {
  Values values;
  Command command;
  read_command_line(argc, argv, values, command);
  if (values.command_line.count("help")) return ShowHelp{};
  if (values.command_line.count("version")) return ShowVersion{};

  read_environment(envp, values);
  resolve_conflicts(values);
  RunRequest request{build_policy(values), std::move(command), values.command_line.count("dry-run") > 0};
  if (request.command.empty() && !request.dry_run)
    throw UsageError("missing command (usage: retryx [OPTIONS] [--] COMMAND [ARG...])");
  return request;
}

}  // namespace retryx
