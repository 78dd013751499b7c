#include "cli.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <set>

#include "regex.hpp"
#include "signal_names.hpp"
#include "version.hpp"

namespace po = boost::program_options;

namespace retryx {

namespace {

// ---------------------------------------------------------------------------
// The option table: one row per option, the single source of the parser,
// --help and the RETRYX_* environment names.

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

const std::vector<OptionGroup>& option_table() {
  static const std::vector<OptionGroup> table = {
      {"Attempts",
       {
           {"attempts,max,max-attempts,a", "N", "at most N attempts in all, the first included (default 5)"},
           {"retries,r", "N", "at most N retries after the first attempt (--attempts N+1)"},
           {"forever", nullptr, "no attempt limit"},
       }},
      {"Backoff",
       {
           {"backoff,b", "NAME",
            "exponential (default), linear, fixed (alias constant), fibonacci or decorrelated"},
           {"delay,d", "DURATION", "base delay (default 1s)"},
           {"max-delay,m", "DURATION", "cap on any one delay (default 60s)"},
           {"multiplier", "X", "growth factor of exponential, X >= 1 (default 2)"},
           {"delays", "LIST",
            "explicit delays, e.g. 1s,5s,30s; the last repeats; replaces --backoff; no jitter unless "
            "--jitter is given"},
           {"jitter,j", "MODE", "none, full, equal (default), or a proportion P or P% for +/-P"},
           {"seed", "N", "seed of the jitter's random generator, for reproducible runs"},
           {"reset-after", "DURATION", "an attempt that ran at least this long starts the backoff over"},
           {"splay", "DURATION", "sleep a random time in [0, DURATION] before the first attempt"},
       }},
      {"Classification",
       {
           {"success", "CODES", "exit codes that count as success (default 0)"},
           {"retry-on", "CONDS", "failures that are retried; any other failure stops the run (default: all)"},
           {"stop-on", "CONDS", "failures never retried, winning over --retry-on; 'none' empties it "
                                "(default 126,127)"},
       }},
      {"Time limits",
       {
           {"max-time,deadline,T", "DURATION",
            "bound on the whole run, sleeps included: no delay is slept past it, and an attempt "
            "still running at it is stopped (exit 124)"},
           {"timeout,t", "DURATION", "limit on each attempt (and hook); 0 means none"},
           {"signal,s", "SIG", "signal sent to an attempt that runs past its time (default TERM)"},
           {"kill-after,k", "DURATION", "then KILL after this grace (default 10s; 0: at once)"},
           {"preserve-status", nullptr, "on timeout, exit with the command's own status instead of 124"},
       }},
      {"Process",
       {
           {"foreground", nullptr, "don't give attempts a process group of their own (as timeout --foreground)"},
           {"stdin", "MODE",
            "inherit (default: every attempt reads retryx's stdin), replay (read it once, give all of it "
            "to every attempt) or null"},
           {"replay-stdin,I", nullptr, "same as --stdin replay"},
       }},
      {"Output conditions",
       {
           {"until-output", "REGEX", "an attempt succeeds only if it also printed a line matching REGEX"},
           {"retry-if-output", "REGEX", "a failed attempt is retried only if it printed a line matching REGEX"},
           {"stop-if-output", "REGEX", "a failed attempt that printed a line matching REGEX is never retried"},
           {"hold-stdout,O", nullptr,
            "stdout reaches stdout only from the attempt that succeeds; a failed attempt's goes to stderr"},
       }},
      {"Circuit breaker",
       {
           {"circuit", "PATH", "circuit-breaker state shared by the runs of one job: after enough failed runs, "
                               "runs are refused (exit 75) until a cooldown has passed"},
           {"circuit-threshold", "N", "consecutive failed runs that open the circuit (default 3)"},
           {"circuit-cooldown", "DURATION", "how long an open circuit refuses to run (default 5m)"},
       }},
      {"Hooks",
       {
           {"on-retry", "CMD", "shell command (/bin/sh -c) run after each failed attempt that will be retried"},
           {"on-giveup", "CMD", "shell command run once when retryx gives up"},
       }},
      {"Logging",
       {
           {"quiet,q", nullptr, "log nothing (usage errors are still reported)"},
           {"verbose,v", nullptr, "also log the policy, each attempt's start and successes"},
           {"log-format", "FMT", "text (default) or json (JSON Lines)"},
           {"log-file", "PATH", "append the attempt log to PATH instead of stderr"},
           {"color", "WHEN", "auto (default: on a terminal, unless NO_COLOR is set or TERM=dumb), always or never"},
           {"report", "PATH", "write a JSON summary of the run to PATH, atomically, at the end"},
       }},
      {"Other",
       {
           {"dry-run", nullptr, "print the policy and the delay schedule, run nothing", false},
           {"help,h", nullptr, "show this help and exit", false},
           {"version,V", nullptr, "show the version and exit", false},
       }},
  };
  return table;
}

// Options that cannot be combined; the command line overrides the whole
// group's environment defaults.
const std::vector<std::vector<std::string>> conflict_groups = {
    {"attempts", "retries", "forever"},
    {"quiet", "verbose"},
    {"stdin", "replay-stdin"},
};

std::string first_long_name(const OptionSpec& spec) {
  std::string names = spec.names;
  return names.substr(0, names.find(','));
}

std::vector<std::string> long_names(const OptionSpec& spec) {
  std::vector<std::string> out;
  std::string names = spec.names;
  std::size_t start = 0;
  while (start <= names.size()) {
    std::size_t comma = names.find(',', start);
    std::string name = names.substr(start, comma - start);
    if (name.size() > 1) out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<char> short_name(const OptionSpec& spec) {
  std::string names = spec.names;
  std::size_t comma = names.rfind(',');
  if (comma != std::string::npos && names.size() - comma == 2) return names.back();
  return std::nullopt;
}

std::string env_name(const std::string& option) {
  std::string out = "RETRYX_";
  for (char c : option) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// ---------------------------------------------------------------------------
// Where each value came from, so that errors name what the user wrote.

struct Value {
  std::string text;
  std::string source;  // "--attempts" or "RETRYX_ATTEMPTS"
};

class Values {
 public:
  std::map<std::string, Value> command_line;  // by first long name
  std::map<std::string, Value> environment;

  std::optional<Value> get(const std::string& name) const {
    if (auto it = command_line.find(name); it != command_line.end()) return it->second;
    if (auto it = environment.find(name); it != environment.end()) return it->second;
    return std::nullopt;
  }
};

[[noreturn]] void bad_value(const Value& v, const std::string& why) {
  throw UsageError(fmt::format("{}: invalid value '{}': {}", v.source, v.text, why));
}

// A flag is set by its option, or by RETRYX_<NAME>=1.
bool flag(const Values& values, const std::string& name) {
  const auto v = values.get(name);
  if (!v) return false;
  if (v->source.starts_with("RETRYX_") && v->text != "1") bad_value(*v, "use 1 or 0");
  return true;
}

// ---------------------------------------------------------------------------
// Reading argv: Program_options, stopped at the first operand.

const OptionSpec* find_by_long_name(std::string_view name) {
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options)
      for (const auto& long_name : long_names(spec))
        if (long_name == name) return &spec;
  return nullptr;
}

const OptionSpec* find_by_short_name(char name) {
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options)
      if (short_name(spec) == name) return &spec;
  return nullptr;
}

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

const OptionSpec* find_spec(const std::string& first_name) {
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options)
      if (first_long_name(spec) == first_name) return &spec;
  return nullptr;
}

// Our own words for Program_options' errors. Its what() substitutes
// placeholders such as %original_token% into its message until none is
// left, so a token that contains one ("--x%original_token%") never ends:
// found by fuzzing. The option's name is taken without substitution.
std::string usage_message(const po::error& e) {
  const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
  const std::string option = named ? named->get_option_name() : "";
  if (dynamic_cast<const po::unknown_option*>(&e)) return fmt::format("unrecognised option '{}'", option);
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
    const OptionSpec* spec = find_spec(option.string_key);
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
  for (const auto& group : conflict_groups) {
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

// ---------------------------------------------------------------------------
// Values to policy.

std::uint64_t parse_unsigned(const Value& v) {
  std::uint64_t n = 0;
  const char* end = v.text.data() + v.text.size();
  auto [ptr, ec] = std::from_chars(v.text.data(), end, n);
  if (v.text.empty() || ec == std::errc::invalid_argument || ptr != end) bad_value(v, "not a whole number");
  if (ec == std::errc::result_out_of_range) bad_value(v, "out of range");
  return n;
}

// A plain decimal: digits with an optional fraction; no sign, exponent,
// "inf" or "nan".
double parse_decimal(const Value& v, std::string_view text) {
  const bool shape_ok = !text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos &&
                        std::count(text.begin(), text.end(), '.') <= 1 &&
                        text.find_first_of("0123456789") != std::string_view::npos;
  if (!shape_ok) bad_value(v, "not a number");
  const double x = std::strtod(std::string(text).c_str(), nullptr);
  if (!std::isfinite(x)) bad_value(v, "out of range");
  return x;
}

Duration duration_of(const Value& v) {
  try {
    return parse_duration(v.text);
  } catch (const ValueError& e) {
    bad_value(v, e.what());
  }
}

template <class Parse>
auto parsed_list(const Value& v, Parse parse) {
  try {
    return parse(v.text);
  } catch (const ValueError& e) {
    bad_value(v, e.what());
  }
}


Jitter jitter_of(const Value& v) {
  if (v.text == "none") return {Jitter::Kind::none, 0};
  if (v.text == "full") return {Jitter::Kind::full, 0};
  if (v.text == "equal") return {Jitter::Kind::equal, 0};
  std::string_view text = v.text;
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string_view::npos)
    bad_value(v, "use none, full, equal, or a proportion P or P% (0 < P <= 1)");
  double p = parse_decimal(v, text) / (percent ? 100 : 1);
  if (!(p > 0 && p <= 1)) bad_value(v, "a proportion must be above 0 and at most 1 (100%)");
  return {Jitter::Kind::proportional, p};
}

std::vector<Duration> delays_of(const Value& v) {
  std::vector<Duration> delays;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = v.text.find(',', start);
    const std::string item = v.text.substr(start, comma - start);
    try {
      delays.push_back(parse_duration(item));
    } catch (const ValueError& e) {
      bad_value(v, fmt::format("'{}': {}", item, e.what()));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return delays;
}

// As timeout(1) -s: a name (TERM, SIGTERM, SIG15) or a number.
int signal_of(const Value& v) {
  if (auto signal = parse_signal(v.text)) return *signal;
  int n = 0;
  const char* end = v.text.data() + v.text.size();
  auto [ptr, ec] = std::from_chars(v.text.data(), end, n);
  if (!v.text.empty() && ec == std::errc() && ptr == end && n >= 1 && n < NSIG) return n;
  bad_value(v, "not a signal (e.g. TERM, SIGKILL, SIG9, 9)");
}


// A regular expression, compiled once here so that a bad one is a usage error.
std::string pattern_of(const Value& v) {
  try {
    Regex check(v.text);
  } catch (const ValueError& e) {
    bad_value(v, e.what());
  }
  return v.text;
}

std::string path_of(const Value& v) {
  if (v.text.empty()) bad_value(v, "empty path");
  return v.text;
}

// One of a few words; the error lists them.
template <class T>
T choice_of(const Value& v, std::initializer_list<std::pair<std::string_view, T>> choices) {
  std::vector<std::string_view> words;
  for (const auto& [word, value] : choices) {
    if (word == v.text) return value;
    words.push_back(word);
  }
  bad_value(v, fmt::format("use {}", fmt::join(words, ", ")));
}

std::string hook_of(const Value& v) {
  if (v.text.empty()) bad_value(v, "empty command");
  return v.text;
}

Policy build_policy(const Values& values) {
  Policy p;
  if (auto v = values.get("attempts")) {
    p.max_attempts = parse_unsigned(*v);
    if (*p.max_attempts < 1) bad_value(*v, "at least 1 attempt is needed");
  }
  if (auto v = values.get("retries")) {
    const std::uint64_t retries = parse_unsigned(*v);
    if (retries == UINT64_MAX) bad_value(*v, "out of range");
    p.max_attempts = retries + 1;
  }
  if (flag(values, "forever")) p.max_attempts.reset();

  BackoffPolicy& b = p.backoff;
  if (auto v = values.get("backoff"))
    b.kind = choice_of<BackoffKind>(*v, {{"exponential", BackoffKind::exponential}, {"linear", BackoffKind::linear},
                            {"fixed", BackoffKind::fixed}, {"constant", BackoffKind::fixed},
                            {"fibonacci", BackoffKind::fibonacci}, {"decorrelated", BackoffKind::decorrelated}});
  if (auto v = values.get("delay")) b.delay = duration_of(*v);
  if (auto v = values.get("max-delay")) b.max_delay = duration_of(*v);
  if (auto v = values.get("multiplier")) {
    b.multiplier = parse_decimal(*v, v->text);
    if (b.multiplier < 1) bad_value(*v, "the multiplier must be at least 1");
  }
  if (auto v = values.get("delays")) {
    b.delays = delays_of(*v);
    b.jitter = {Jitter::Kind::none, 0};  // explicit delays are taken as they are...
  }
  if (auto v = values.get("jitter")) b.jitter = jitter_of(*v);  // ...unless jitter is asked for
  if (auto v = values.get("seed")) p.seed = parse_unsigned(*v);
  if (auto v = values.get("reset-after")) {
    Duration d = duration_of(*v);
    if (d > Duration::zero()) p.reset_after = d;  // 0 means none
  }
  if (auto v = values.get("splay")) p.splay = duration_of(*v);

  ClassifyPolicy& c = p.classify;
  c.success.codes.set(0);
  c.stop_on.codes.codes.set(126).set(127);
  if (auto v = values.get("success")) c.success = parsed_list(*v, parse_codes);
  if (auto v = values.get("retry-on")) {
    if (v->text == "none") bad_value(*v, "'none' is only for --stop-on (to never retry, use --attempts 1)");
    c.retry_on = parsed_list(*v, parse_conditions);
  }
  if (auto v = values.get("stop-on"))
    c.stop_on = v->text == "none" ? Conditions{} : parsed_list(*v, parse_conditions);

  if (auto v = values.get("max-time")) {
    const Duration d = duration_of(*v);
    if (d > Duration::zero()) p.max_time = d;  // 0 means none, as timeout(1)
  }
  ProcessPolicy& process = p.process;
  if (auto v = values.get("timeout")) {
    const Duration d = duration_of(*v);
    if (d > Duration::zero()) process.timeout = d;
  }
  if (auto v = values.get("signal")) process.signal = signal_of(*v);
  if (auto v = values.get("kill-after")) process.kill_after = duration_of(*v);
  process.preserve_status = flag(values, "preserve-status");
  process.foreground = flag(values, "foreground");
  if (auto v = values.get("stdin"))
    process.stdin_mode =
        choice_of<StdinMode>(*v, {{"inherit", StdinMode::inherit}, {"replay", StdinMode::replay}, {"null", StdinMode::null}});
  if (flag(values, "replay-stdin")) process.stdin_mode = StdinMode::replay;

  ClassifyPolicy& classify = p.classify;
  if (auto v = values.get("until-output")) classify.output.until = pattern_of(*v);
  if (auto v = values.get("retry-if-output")) classify.output.retry_if = pattern_of(*v);
  if (auto v = values.get("stop-if-output")) classify.output.stop_if = pattern_of(*v);
  process.hold_stdout = flag(values, "hold-stdout");

  LogPolicy& log = p.log;
  if (auto v = values.get("log-format")) log.format = choice_of<LogFormat>(*v, {{"text", LogFormat::text}, {"json", LogFormat::json}});
  if (auto v = values.get("log-file")) log.file = path_of(*v);
  if (auto v = values.get("color"))
    log.color = choice_of<ColorMode>(*v, {{"auto", ColorMode::automatic}, {"always", ColorMode::always}, {"never", ColorMode::never}});
  if (auto v = values.get("report")) log.report = path_of(*v);

  if (auto v = values.get("circuit")) p.circuit.path = path_of(*v);
  if (auto v = values.get("circuit-threshold")) {
    p.circuit.threshold = parse_unsigned(*v);
    if (p.circuit.threshold < 1) bad_value(*v, "at least 1 failed run is needed to open the circuit");
  }
  if (auto v = values.get("circuit-cooldown")) p.circuit.cooldown = duration_of(*v);

  if (auto v = values.get("on-retry")) p.hooks.on_retry = hook_of(*v);
  if (auto v = values.get("on-giveup")) p.hooks.on_giveup = hook_of(*v);

  if (flag(values, "quiet")) p.verbosity = Verbosity::quiet;
  if (flag(values, "verbose")) p.verbosity = Verbosity::verbose;
  return p;
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

std::string help_text() {
  std::string out = fmt::format(
      "Usage: retryx [OPTIONS] [--] COMMAND [ARG...]\n"
      "Run COMMAND, and run it again after a jittered backoff when it fails in a way\n"
      "worth retrying. Options stop at '--' or at the first operand.\n");
  for (const OptionGroup& group : option_table()) {
    out += fmt::format("\n{}:\n", group.title);
    for (const OptionSpec& spec : group.options) {
      const auto names = long_names(spec);
      const auto short_opt = short_name(spec);
      std::string left = short_opt ? fmt::format("-{}, ", *short_opt) : std::string("    ");
      left += "--" + names.front();
      if (spec.metavar) left += fmt::format(" {}", spec.metavar);
      std::string help = spec.help;
      if (names.size() > 1) {
        std::vector<std::string> aliases;
        for (std::size_t i = 1; i < names.size(); ++i) aliases.push_back("--" + names[i]);
        help += fmt::format(" (also {})", fmt::join(aliases, ", "));
      }
      // Two columns within 80: the option at 2, its help wrapped at 28.
      out += left.size() > 24 ? fmt::format("  {}\n{:28}", left, "") : fmt::format("  {:24}  ", left);
      std::size_t column = 28;
      std::size_t start = 0;
      while (start < help.size()) {
        std::size_t end = help.find(' ', start);
        if (end == std::string::npos) end = help.size();
        const std::string word = help.substr(start, end - start);
        if (column > 28 && column + 1 + word.size() > 80) {
          out += fmt::format("\n{:28}", "");
          column = 28;
        }
        if (column > 28) {
          out += ' ';
          ++column;
        }
        out += word;
        column += word.size();
        start = end + 1;
      }
      out += '\n';
    }
  }
  out +=
      "\n"
      "DURATION: 250ms, 1.5s, 2m, 1h, 3d, 1m30s; a bare number is seconds.\n"
      "CODES: exit codes and ranges, e.g. 0 or 1-3,75.\n"
      "CONDS: exit codes, ranges, signals (KILL, SIGKILL, SIG9) and the word timeout.\n"
      "Each option's first long name can be set in the environment as RETRYX_<NAME>\n"
      "(RETRYX_ATTEMPTS=3, RETRYX_FOREVER=1); the command line wins.\n"
      "\n"
      "Exit status: 0 on success; when retryx gives up, the last attempt's status\n"
      "(128+N if killed by signal N; 124 if it timed out or was cut by --max-time);\n"
      "125 for a usage error; 126 if COMMAND is not executable; 127 if it is not\n"
      "found; 75 when --circuit refused the run. Interrupted by INT, TERM, HUP or\n"
      "QUIT, retryx dies by that signal.\n"
      "\n"
      "Full documentation: man retryx\n";
  return out;
}

}  // namespace retryx
