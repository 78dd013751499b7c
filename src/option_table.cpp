#include "option_table.hpp"

#include <cctype>
#include <fmt/format.h>

namespace retryx {

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
           {"reset-after", "DURATION",
            "an attempt that ran at least this long starts the backoff over; 0 means none"},
           {"splay", "DURATION", "sleep a random time in [0, DURATION] before the first attempt"},
       }},
      {"Classification",
       {
           {"success", "CODES", "exit codes that count as success (default 0)"},
           {"retry-on", "CONDS", "failures that are retried; any other failure stops the run (default: all)"},
           {"stop-on", "CONDS", "failures never retried, winning over --retry-on; 'none' empties it "
                                "(default 126,127)"},
           {"preset", "NAME",
            "rules for a well-known command: curl, wget, git, ssh, rsync, apt or sysexits (man retryx, "
            "PRESETS); --retry-on, --stop-on or an output condition given explicitly replaces the "
            "preset's value for that option alone"},
       }},
      {"Time limits",
       {
           {"max-time,deadline,T", "DURATION",
            "bound on the whole run, sleeps included: no delay is slept past it, and an attempt "
            "still running at it is stopped (exit 124); 0 means none"},
           {"timeout,t", "DURATION", "limit on each attempt (and hook); 0 means none"},
           {"idle-timeout", "DURATION",
            "stop an attempt that wrote nothing to stdout or stderr for DURATION, as on --timeout "
            "(exit 124); 0 means none"},
           {"signal,s", "SIG", "signal sent to an attempt that runs past its time (default TERM; 0: none, "
                              "only the KILL after --kill-after)"},
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
           {"fail-if-output", "REGEX",
            "an attempt that exited with a success code but printed a line matching REGEX is a failure"},
           {"delay-from-output", "REGEX",
            "the command says how long to wait: a failed attempt's last line matching REGEX gives the next "
            "delay, its first capture group (or the whole match) a duration or an HTTP date; the longer of "
            "it and the backoff's is taken, at most --max-delay"},
           {"hold-stdout,O", nullptr,
            "stdout reaches stdout only from the attempt that succeeds; a failed attempt's goes to stderr"},
           {"output-on-failure", nullptr,
            "hold everything the attempts and the log write, and write it out only if retryx does not "
            "succeed (gives up, is refused or interrupted), as chronic(1): a run that succeeds writes nothing"},
       }},
      {"Circuit breaker",
       {
           {"circuit", "LOCATION",
            "circuit-breaker state shared by the runs of one job, in a file or at a Redis URL (a fleet's runs; "
            "needs --name): after enough failed runs, runs are refused (exit 75) until a cooldown has passed"},
           {"circuit-threshold", "N", "consecutive failed runs that open the circuit (default 3)"},
           {"circuit-cooldown", "DURATION", "how long an open circuit refuses to run (default 5m)"},
       }},
      {"Retry budget",
       {
           {"retry-budget", "LOCATION",
            "the retries of all the runs sharing LOCATION (and --name), a file or a Redis URL, stay within a "
            "budget: a retry beyond it is not made, and retryx gives up with the last attempt's status"},
           {"budget-ratio", "P",
            "retries allowed per run started within the window, 0 to 1 or a percentage (default 20%)"},
           {"budget-min", "N", "retries allowed per window on top of the ratio's (default 10)"},
           {"budget-window", "DURATION", "the sliding window the budget counts over (default 1m)"},
       }},
      {"Redis",
       {
           {"redis-cacert", "PATH",
            "for a rediss:// LOCATION: the CA certificates that verify the server's (default: the system's)"},
           {"redis-cert", "PATH", "for a rediss:// LOCATION: a client certificate (PEM; its key too, or --redis-key)"},
           {"redis-key", "PATH", "the client certificate's key (PEM)"},
       }},
      {"Hooks",
       {
           {"on-retry", "CMD", "shell command (/bin/sh -c) run after each failed attempt that will be retried"},
           {"on-giveup", "CMD", "shell command run once when retryx gives up"},
       }},
      {"Logging",
       {
           {"name", "NAME",
            "the job's name (letters, digits, '.', '_', '-'; at most 64): the text log's prefix "
            "retryx[NAME], \"name\" in the JSON log and the report, the metrics' job label, the key of "
            "its budget in a --retry-budget file, the keys retryx:{NAME}:... on Redis"},
           {"quiet,q", nullptr, "log nothing (usage errors are still reported)"},
           {"verbose,v", nullptr, "also log the policy, each attempt's start and successes"},
           {"log-format", "FMT",
            "text (default), json (JSON Lines), github (text, each attempt in a group, ::warning per retry, "
            "::error on giving up) or gitlab (text, each attempt in a collapsible section)"},
           {"log-file", "PATH", "append the attempt log to PATH instead of stderr"},
           {"color", "WHEN", "auto (default: on a terminal, unless NO_COLOR is set or TERM=dumb), always or never"},
           {"report", "PATH", "write a JSON summary of the run to PATH, atomically, at the end"},
           {"metrics-file", "PATH",
            "keep the job's Prometheus metrics in PATH for node_exporter's textfile collector: counts "
            "of runs and attempts carried over, the last run's figures; replaced atomically at the end"},
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

const std::vector<std::vector<std::string>>& conflict_groups() {
  static const std::vector<std::vector<std::string>> groups = {
      {"attempts", "retries", "forever"},
      {"quiet", "verbose"},
      {"stdin", "replay-stdin"},
      {"hold-stdout", "output-on-failure"},
  };
  return groups;
}

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

const OptionSpec* find_by_first_long_name(std::string_view first_name) {
  for (const OptionGroup& group : option_table())
    for (const OptionSpec& spec : group.options)
      if (first_long_name(spec) == first_name) return &spec;
  return nullptr;
}

namespace {

// Appends `text` from column 28, wrapped at word boundaries within 80.
void append_wrapped(std::string& out, const std::string& text) {
  constexpr std::size_t indent = 28, width = 80;
  std::size_t column = indent;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    if (column > indent && column + 1 + word.size() > width) {
      out += fmt::format("\n{:{}}", "", indent);
      column = indent;
    }
    if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    start = end + 1;
  }
}

}  // namespace

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
      append_wrapped(out, help);
      out += '\n';
    }
  }
  out +=
      "\n"
      "DURATION: 250ms, 1.5s, 2m, 1h, 3d, 1m30s; a bare number is seconds; at most\n"
      "100d. 0 means none where it says so; a positive duration never rounds to 0.\n"
      "CODES: exit codes and ranges, e.g. 0 or 1-3,75.\n"
      "CONDS: exit codes, ranges, signals (KILL, SIGKILL, SIG9) and the word timeout.\n"
      "Each option's first long name can be set in the environment as RETRYX_<NAME>\n"
      "(RETRYX_ATTEMPTS=3, RETRYX_FOREVER=1); the command line wins.\n"
      "\n"
      "Exit status: 0 on success; when retryx gives up, the last attempt's status\n"
      "(128+N if killed by signal N; 124 if it timed out or was cut by --max-time);\n"
      "125 for a usage error; 126 if COMMAND is not executable; 127 if it is not\n"
      "found; 75 when --circuit refused the run. Interrupted by INT, TERM, HUP,\n"
      "QUIT or another signal that ends a process (ALRM, XCPU, RTMIN...), or by\n"
      "Ctrl-C or Ctrl-\\ at the terminal the attempt holds, retryx dies by that\n"
      "signal; USR1, USR2 and WINCH are only forwarded.\n"
      "\n"
      "Full documentation: man retryx\n";
  return out;
}

}  // namespace retryx
