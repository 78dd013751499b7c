#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "cli.hpp"

using namespace retryx;
using namespace std::chrono_literals;

namespace {

Invocation parse(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), "retryx");
  std::vector<const char*> argv, envp;
  for (auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  return parse_command_line(static_cast<int>(args.size()), argv.data(), envp.data());
}

RunRequest request(std::vector<std::string> args, std::vector<std::string> env = {}) {
  return std::get<RunRequest>(parse(std::move(args), std::move(env)));
}

std::string usage_error(std::vector<std::string> args, std::vector<std::string> env = {}) {
  try {
    parse(std::move(args), std::move(env));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("defaults") {
  RunRequest r = request({"true"});
  CHECK(r.command == Command{"true"});
  CHECK(r.policy.max_attempts == 5u);
  CHECK(r.policy.backoff.kind == BackoffKind::exponential);
  CHECK(r.policy.backoff.delay == 1s);
  CHECK(r.policy.backoff.max_delay == 60s);
  CHECK(r.policy.backoff.multiplier == 2);
  CHECK(r.policy.backoff.jitter.kind == Jitter::Kind::equal);
  CHECK(format_codes(r.policy.classify.success) == "0");
  CHECK(format_conditions(r.policy.classify.stop_on) == "126-127");
  CHECK_FALSE(r.policy.classify.retry_on.has_value());
  CHECK_FALSE(r.dry_run);
}

TEST_CASE("options stop at the first operand") {
  RunRequest r = request({"-a", "3", "sh", "-c", "exit 1"});
  CHECK(r.policy.max_attempts == 3u);
  CHECK(r.command == Command{"sh", "-c", "exit 1"});
  r = request({"curl", "--max", "3"});
  CHECK(r.policy.max_attempts == 5u);
  CHECK(r.command == Command{"curl", "--max", "3"});
}

TEST_CASE("options stop at --") {
  RunRequest r = request({"-a", "2", "--", "-weird", "--attempts", "9"});
  CHECK(r.policy.max_attempts == 2u);
  CHECK(r.command == Command{"-weird", "--attempts", "9"});
  r = request({"--", "--"});
  CHECK(r.command == Command{"--"});
  r = request({"-", "x"});
  CHECK(r.command == Command{"-", "x"});
}

TEST_CASE("value forms: separate attached sticky short") {
  CHECK(request({"--attempts", "3", "x"}).policy.max_attempts == 3u);
  CHECK(request({"--attempts=4", "x"}).policy.max_attempts == 4u);
  CHECK(request({"-a5", "x"}).policy.max_attempts == 5u);
  CHECK(request({"--max", "6", "x"}).policy.max_attempts == 6u);
  CHECK(request({"--max-attempts", "7", "x"}).policy.max_attempts == 7u);
  CHECK(request({"-r", "2", "x"}).policy.max_attempts == 3u);
  CHECK_FALSE(request({"--forever", "x"}).policy.max_attempts.has_value());
}

TEST_CASE("a repeated option: the last wins") {
  CHECK(request({"-a", "5", "-a", "2", "x"}).policy.max_attempts == 2u);
  CHECK(request({"--max", "5", "--attempts", "3", "x"}).policy.max_attempts == 3u);
}

TEST_CASE("backoff options") {
  RunRequest r = request({"-b", "constant", "-d", "250ms", "-m", "2m", "--multiplier", "1.5", "x"});
  CHECK(r.policy.backoff.kind == BackoffKind::fixed);
  CHECK(r.policy.backoff.delay == 250ms);
  CHECK(r.policy.backoff.max_delay == 120s);
  CHECK(r.policy.backoff.multiplier == 1.5);
  for (auto [text, kind] : {std::pair{"exponential", BackoffKind::exponential}, {"linear", BackoffKind::linear},
                            {"fixed", BackoffKind::fixed}, {"fibonacci", BackoffKind::fibonacci},
                            {"decorrelated", BackoffKind::decorrelated}})
    CHECK(request({"--backoff", text, "x"}).policy.backoff.kind == kind);
}

TEST_CASE("jitter modes") {
  CHECK(request({"-j", "none", "x"}).policy.backoff.jitter.kind == Jitter::Kind::none);
  CHECK(request({"-j", "full", "x"}).policy.backoff.jitter.kind == Jitter::Kind::full);
  CHECK(request({"-j", "equal", "x"}).policy.backoff.jitter.kind == Jitter::Kind::equal);
  Jitter j = request({"-j", "0.25", "x"}).policy.backoff.jitter;
  CHECK(j.kind == Jitter::Kind::proportional);
  CHECK(j.proportion == 0.25);
  CHECK(request({"-j", "20%", "x"}).policy.backoff.jitter.proportion == doctest::Approx(0.2));
  CHECK(request({"-j", "1", "x"}).policy.backoff.jitter.proportion == 1);
}

TEST_CASE("--delays: no jitter unless --jitter is given") {
  RunRequest r = request({"--delays", "1s,5s,30s", "x"});
  CHECK(r.policy.backoff.delays == std::vector<Duration>{1s, 5s, 30s});
  CHECK(r.policy.backoff.jitter.kind == Jitter::Kind::none);
  CHECK(request({"--delays", "1s", "-j", "full", "x"}).policy.backoff.jitter.kind == Jitter::Kind::full);
  CHECK(request({"-j", "full", "--delays", "1s", "x"}).policy.backoff.jitter.kind == Jitter::Kind::full);
}

TEST_CASE("seed reset-after splay classification verbosity dry run") {
  RunRequest r = request({"--seed", "42", "--reset-after", "1m", "--splay", "30s", "--success", "0,3",
                          "--retry-on", "1-2,KILL,timeout", "--stop-on", "none", "-v", "x"});
  CHECK(r.policy.seed == 42u);
  CHECK(r.policy.reset_after == 60s);
  CHECK(r.policy.splay == 30s);
  CHECK(format_codes(r.policy.classify.success) == "0,3");
  CHECK(format_conditions(*r.policy.classify.retry_on) == "1-2,SIGKILL,timeout");
  CHECK(r.policy.classify.stop_on.empty());
  CHECK(r.policy.verbosity == Verbosity::verbose);
  CHECK(request({"-q", "x"}).policy.verbosity == Verbosity::quiet);
  CHECK_FALSE(request({"--reset-after", "0", "x"}).policy.reset_after.has_value());
  CHECK(request({"--dry-run"}).dry_run);
  CHECK(request({"--dry-run"}).command.empty());
}

TEST_CASE("help and version") {
  CHECK(std::holds_alternative<ShowHelp>(parse({"--help"})));
  CHECK(std::holds_alternative<ShowHelp>(parse({"-h"})));
  CHECK(std::holds_alternative<ShowVersion>(parse({"-V"})));
  CHECK(std::holds_alternative<ShowHelp>(parse({"-a", "0", "--help"})));
  // After the command, --help is the command's.
  CHECK(std::holds_alternative<RunRequest>(parse({"ls", "--help"})));
}

TEST_CASE("every bad value is a usage error naming the option and the value") {
  struct Case {
    std::vector<std::string> args;
    std::string expected;  // a part of the message
  };
  const std::vector<Case> cases = {
      {{"-a", "0", "x"}, "-a: invalid value '0'"},
      {{"-a", "-1", "x"}, "-a: invalid value '-1'"},
      {{"--attempts", "abc", "x"}, "--attempts: invalid value 'abc'"},
      {{"--attempts", "99999999999999999999999", "x"}, "out of range"},
      {{"--attempts", "", "x"}, "--attempts: invalid value ''"},
      {{"--attempts", "3.5", "x"}, "--attempts: invalid value '3.5'"},
      {{"-r", "-1", "x"}, "-r: invalid value '-1'"},
      {{"-r", "18446744073709551615", "x"}, "out of range"},
      {{"--delay", "-1s", "x"}, "--delay: invalid value '-1s': a duration cannot be negative"},
      {{"--delay", "nan", "x"}, "--delay: invalid value 'nan'"},
      {{"--delay", "inf", "x"}, "--delay: invalid value 'inf'"},
      {{"--delay", "", "x"}, "--delay: invalid value '': empty duration"},
      {{"--delay", "99999999999h", "x"}, "out of range"},
      {{"-d", "1x", "x"}, "-d: invalid value '1x'"},
      {{"--max-delay", "1e3", "x"}, "--max-delay: invalid value '1e3'"},
      {{"--multiplier", "0.5", "x"}, "--multiplier: invalid value '0.5'"},
      {{"--multiplier", "nan", "x"}, "--multiplier: invalid value 'nan'"},
      {{"--multiplier", "inf", "x"}, "--multiplier: invalid value 'inf'"},
      {{"--multiplier", "-2", "x"}, "--multiplier: invalid value '-2'"},
      {{"--backoff", "nope", "x"}, "--backoff: invalid value 'nope'"},
      {{"--jitter", "0", "x"}, "--jitter: invalid value '0'"},
      {{"--jitter", "1.5", "x"}, "--jitter: invalid value '1.5'"},
      {{"--jitter", "150%", "x"}, "--jitter: invalid value '150%'"},
      {{"--jitter", "nope", "x"}, "--jitter: invalid value 'nope'"},
      {{"--jitter", "%", "x"}, "--jitter: invalid value '%'"},
      {{"--seed", "-1", "x"}, "--seed: invalid value '-1'"},
      {{"--success", "256", "x"}, "--success: invalid value '256'"},
      {{"--success", "3-1", "x"}, "--success: invalid value '3-1'"},
      {{"--success", "", "x"}, "--success: invalid value ''"},
      {{"--success", "1,,2", "x"}, "--success: invalid value '1,,2'"},
      {{"--retry-on", "SIGNOPE", "x"}, "--retry-on: invalid value 'SIGNOPE'"},
      {{"--retry-on", "none", "x"}, "--retry-on: invalid value 'none'"},
      {{"--stop-on", "999", "x"}, "--stop-on: invalid value '999'"},
      {{"--delays", "1s,,2s", "x"}, "--delays: invalid value '1s,,2s'"},
      {{"--delays", "", "x"}, "--delays: invalid value ''"},
      {{"--reset-after", "-1", "x"}, "--reset-after: invalid value '-1'"},
      {{"--splay", "abc", "x"}, "--splay: invalid value 'abc'"},
      {{"-a", "3"}, "missing command"},
      {{}, "missing command"},
      {{"--attempts", "3", "--retries", "2", "x"}, "conflicting options: --attempts and --retries"},
      {{"--forever", "-a", "3", "x"}, "conflicting options: -a and --forever"},
      {{"-q", "-v", "x"}, "conflicting options: -q and -v"},
      {{"--nope", "x"}, "--nope"},
      {{"--circuit", "", "x"}, "--circuit: invalid value '': empty path"},
      {{"--circuit-threshold", "0", "x"}, "--circuit-threshold: invalid value '0'"},
      {{"--circuit-cooldown", "soon", "x"}, "--circuit-cooldown: invalid value 'soon'"},
      {{"--no-such-option", "x"}, "--no-such-option"},
      {{"--log-format", "xml", "x"}, "--log-format: invalid value 'xml': use text, json, github, gitlab"},
      {{"--color", "maybe", "x"}, "--color: invalid value 'maybe'"},
      {{"--until-output", "(", "x"}, "--until-output: invalid value '(': bad regular expression"},
      {{"--log-file", "", "x"}, "--log-file: invalid value '': empty path"},
      {{"--timeout", "-1", "x"}, "--timeout: invalid value '-1'"},
      {{"--max-time", "nan", "x"}, "--max-time: invalid value 'nan'"},
      {{"-T", "1x", "x"}, "-T: invalid value '1x'"},
      {{"--signal", "NOPE", "x"}, "--signal: invalid value 'NOPE'"},
      {{"-s", "-1", "x"}, "-s: invalid value '-1'"},
      {{"-s", "SIG0", "x"}, "-s: invalid value 'SIG0'"},
      {{"-s", "65", "x"}, "-s: invalid value '65'"},
      {{"--kill-after", "-1", "x"}, "--kill-after: invalid value '-1'"},
      {{"--stdin", "file", "x"}, "--stdin: invalid value 'file'"},
      {{"--stdin", "null", "-I", "x"}, "conflicting options: --stdin and -I"},
      {{"--on-retry", "", "x"}, "--on-retry: invalid value '': empty command"},
      {{"--preserve-status=1", "x"}, "--preserve-status"},
      {{"--forever=1", "x"}, "--forever"},
      {{"--attempts"}, "--attempts"},
      {{"--att", "3", "x"}, "--att"},
      // Found by fuzzing: Program_options' own message looped forever on this.
      {{"--x%original_token%", "x"}, "unrecognised option '--x%original_token%'"},
      {{"-%prefix%%original_token%", "x"}, "%prefix%%original_token%"},
      {{"--forever=%original_token%", "x"}, "--forever"},
  };
  for (const Case& c : cases) {
    std::string args;
    for (const auto& a : c.args) args += "[" + a + "] ";
    CAPTURE(args);
    const std::string message = usage_error(c.args);
    CAPTURE(message);
    CHECK(message.find(c.expected) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("a mistyped long option: did you mean, from the names and aliases") {
  CHECK(usage_error({"--atempts", "3", "x"}) == "unrecognised option '--atempts'; did you mean '--attempts'?");
  CHECK(usage_error({"--atempts=3", "x"}) == "unrecognised option '--atempts=3'; did you mean '--attempts'?");
  CHECK(usage_error({"--max-tim", "5m", "x"}) == "unrecognised option '--max-tim'; did you mean '--max-time'?");
  CHECK(usage_error({"--max-attempt", "3", "x"}) == "unrecognised option '--max-attempt'; did you mean '--max-attempts'?");
  CHECK(usage_error({"--deadlin", "5m", "x"}) == "unrecognised option '--deadlin'; did you mean '--deadline'?");
  CHECK(usage_error({"--dealy", "1s", "x"}) == "unrecognised option '--dealy'; did you mean '--delay'?");
  CHECK(usage_error({"--tiemout", "1s", "x"}) == "unrecognised option '--tiemout'; did you mean '--timeout'?");
  CHECK(usage_error({"--Verbose", "x"}) == "unrecognised option '--Verbose'; did you mean '--verbose'?");
  CHECK(usage_error({"--logformat", "json", "x"}) == "unrecognised option '--logformat'; did you mean '--log-format'?");
  // Nothing near: no suggestion.
  CHECK(usage_error({"--nope", "x"}) == "unrecognised option '--nope'");
  CHECK(usage_error({"--no-such-option", "x"}) == "unrecognised option '--no-such-option'");
  CHECK(usage_error({"--del", "1", "x"}) == "unrecognised option '--del'");
  CHECK(usage_error({"--x", "x"}) == "unrecognised option '--x'");
  // No guessing: a near name is only suggested, never taken.
  CHECK(usage_error({"--delay", "1s", "--atempts", "3", "x"}).find("did you mean '--attempts'") != std::string::npos);
}

TEST_CASE("RETRYX_ environment defaults - the command line wins") {
  CHECK(request({"x"}, {"RETRYX_ATTEMPTS=2"}).policy.max_attempts == 2u);
  CHECK(request({"-a", "3", "x"}, {"RETRYX_ATTEMPTS=2"}).policy.max_attempts == 3u);
  CHECK(request({"x"}, {"RETRYX_RETRIES=1"}).policy.max_attempts == 2u);
  CHECK_FALSE(request({"x"}, {"RETRYX_FOREVER=1"}).policy.max_attempts.has_value());
  CHECK(request({"x"}, {"RETRYX_FOREVER=0"}).policy.max_attempts == 5u);
  CHECK(request({"x"}, {"RETRYX_ATTEMPTS="}).policy.max_attempts == 5u);
  CHECK(request({"x"}, {"RETRYX_BACKOFF=linear"}).policy.backoff.kind == BackoffKind::linear);
  CHECK(request({"x"}, {"RETRYX_MAX_DELAY=5s"}).policy.backoff.max_delay == 5s);
  CHECK(request({"x"}, {"RETRYX_RETRY_ON=75"}).policy.classify.retry_on.has_value());
  CHECK(request({"x"}, {"RETRYX_QUIET=1"}).policy.verbosity == Verbosity::quiet);
  // The command line overrides the environment's side of a conflict.
  CHECK(request({"-r", "1", "x"}, {"RETRYX_ATTEMPTS=3"}).policy.max_attempts == 2u);
  CHECK(request({"-v", "x"}, {"RETRYX_QUIET=1"}).policy.verbosity == Verbosity::verbose);
}

TEST_CASE("variables that are not options are ignored") {
  // Unknown names, aliases, the child's variables, and the no-env options.
  RunRequest r = request({"x"}, {"RETRYX_NOPE=1", "RETRYX_MAX=1", "RETRYX_MAX_ATTEMPTS=1", "RETRYX_ATTEMPT=9",
                                 "RETRYX_PREVIOUS_STATUS=3", "RETRYX_DRY_RUN=1", "RETRYX_HELP=1",
                                 "RETRYX_VERSION=1", "OTHER=1", "RETRYX_"});
  CHECK(r.policy.max_attempts == 5u);
  CHECK_FALSE(r.dry_run);
}

TEST_CASE("bad environment values name the variable") {
  CHECK(usage_error({"x"}, {"RETRYX_ATTEMPTS=0"}).find("RETRYX_ATTEMPTS: invalid value '0'") != std::string::npos);
  CHECK(usage_error({"x"}, {"RETRYX_FOREVER=yes"}).find("RETRYX_FOREVER: invalid value 'yes'") != std::string::npos);
  CHECK(usage_error({"x"}, {"RETRYX_ATTEMPTS=3", "RETRYX_FOREVER=1"}).find("conflicting") != std::string::npos);
}

TEST_CASE("help lists every option within 80 columns") {
  const std::string help = help_text();
  for (const char* option : {"--attempts", "--max", "--max-attempts", "--retries", "--forever", "--backoff",
                             "--delay", "--max-delay", "--multiplier", "--delays", "--jitter", "--seed",
                             "--reset-after", "--splay", "--success", "--retry-on", "--stop-on", "--quiet",
                             "--verbose", "--dry-run", "--help", "--version"})
    CHECK(help.find(option) != std::string::npos);
  std::size_t start = 0;
  while (start < help.size()) {
    std::size_t end = help.find('\n', start);
    if (end == std::string::npos) end = help.size();
    CHECK(end - start <= 80);
    start = end + 1;
  }
}

TEST_CASE("a bad flag value in the environment is overridden like any other") {
  CHECK(request({"-a", "1", "x"}, {"RETRYX_FOREVER=yes"}).policy.max_attempts == 1u);
  CHECK(request({"-v", "x"}, {"RETRYX_QUIET=yes"}).policy.verbosity == Verbosity::verbose);
  CHECK(usage_error({"x"}, {"RETRYX_QUIET=yes"}).find("RETRYX_QUIET: invalid value 'yes'") != std::string::npos);
}

TEST_CASE("values that are empty or spelled like an option are still values") {
  CHECK(usage_error({"--delay", "", "x"}).find("--delay: invalid value '': empty duration") != std::string::npos);
  CHECK(usage_error({"--backoff", "max", "x"}).find("--backoff: invalid value 'max'") != std::string::npos);
  CHECK(usage_error({"-a", "seed", "x"}).find("-a: invalid value 'seed'") != std::string::npos);
  CHECK(usage_error({"--retry-on", "timeout,delay", "x"}).find("--retry-on: invalid value") != std::string::npos);
}

TEST_CASE("supervision options") {
  RunRequest r = request({"-T", "1m", "-t", "5s", "-s", "KILL", "-k", "0", "--preserve-status", "--foreground",
                          "--stdin", "null", "--on-retry", "echo r", "--on-giveup", "echo g", "x"});
  CHECK(r.policy.max_time == 60s);
  CHECK(r.policy.process.timeout == 5s);
  CHECK(r.policy.process.signal == 9);
  CHECK(r.policy.process.kill_after == 0s);
  CHECK(r.policy.process.preserve_status);
  CHECK(r.policy.process.foreground);
  CHECK(r.policy.process.stdin_mode == StdinMode::null);
  CHECK(r.policy.hooks.on_retry == "echo r");
  CHECK(r.policy.hooks.on_giveup == "echo g");
  CHECK(request({"--deadline", "2s", "x"}).policy.max_time == 2s);
  CHECK(request({"-I", "x"}).policy.process.stdin_mode == StdinMode::replay);
  CHECK(request({"-s", "15", "x"}).policy.process.signal == 15);
  CHECK(request({"-s", "SIGHUP", "x"}).policy.process.signal == 1);
  // 0, as timeout(1): nothing is sent at the timeout, only the KILL after -k.
  CHECK(request({"-s", "0", "x"}).policy.process.signal == 0);
  CHECK(request({"--signal=0", "x"}).policy.process.signal == 0);
  CHECK(request({"x"}, {"RETRYX_SIGNAL=0"}).policy.process.signal == 0);
  // 0 means none, as timeout(1).
  CHECK_FALSE(request({"-t", "0", "-T", "0", "x"}).policy.process.timeout.has_value());
  CHECK_FALSE(request({"-T", "0", "x"}).policy.max_time.has_value());
  RunRequest d = request({"x"});
  CHECK(d.policy.process.kill_after == 10s);
  CHECK(d.policy.process.signal == 15);
  CHECK(d.policy.process.stdin_mode == StdinMode::inherit);
  CHECK(request({"x"}, {"RETRYX_MAX_TIME=3s", "RETRYX_REPLAY_STDIN=1"}).policy.max_time == 3s);
  CHECK(request({"x"}, {"RETRYX_REPLAY_STDIN=1"}).policy.process.stdin_mode == StdinMode::replay);
  // An alias has no environment form.
  CHECK_FALSE(request({"x"}, {"RETRYX_DEADLINE=3s"}).policy.max_time.has_value());
}

TEST_CASE("--idle-timeout and --fail-if-output on the command line and in the environment") {
  RunRequest r = request({"--idle-timeout", "30s", "--fail-if-output", "^W: ", "x"});
  CHECK(r.policy.process.idle_timeout == 30s);
  CHECK(r.policy.classify.output.fail_if == "^W: ");
  CHECK(r.command == std::vector<std::string>{"x"});
  CHECK(request({"--idle-timeout=2m", "x"}).policy.process.idle_timeout == 120s);
  CHECK_FALSE(request({"--idle-timeout", "0", "x"}).policy.process.idle_timeout.has_value());
  CHECK(request({"x"}, {"RETRYX_IDLE_TIMEOUT=5s"}).policy.process.idle_timeout == 5s);
  CHECK(request({"--idle-timeout", "1s", "x"}, {"RETRYX_IDLE_TIMEOUT=5s"}).policy.process.idle_timeout == 1s);
  CHECK(request({"x"}, {"RETRYX_FAIL_IF_OUTPUT=warning"}).policy.classify.output.fail_if == "warning");
  CHECK(usage_error({"--idle-timeout", "x"}).find("--idle-timeout: invalid value 'x'") != std::string::npos);
  CHECK(usage_error({"--fail-if-output", "(", "x"}).find("--fail-if-output: invalid value '('") != std::string::npos);
}

TEST_CASE("--output-on-failure: a flag, RETRYX_OUTPUT_ON_FAILURE, never with -O") {
  CHECK(request({"--output-on-failure", "x"}).policy.process.output_on_failure);
  CHECK_FALSE(request({"x"}).policy.process.output_on_failure);
  CHECK(request({"x"}, {"RETRYX_OUTPUT_ON_FAILURE=1"}).policy.process.output_on_failure);
  CHECK(usage_error({"--output-on-failure", "-O", "x"}).find("conflicting options: -O and --output-on-failure") !=
        std::string::npos);
  CHECK(usage_error({"x"}, {"RETRYX_OUTPUT_ON_FAILURE=1", "RETRYX_HOLD_STDOUT=1"}).find("conflicting") !=
        std::string::npos);
  // The command line overrides the group's environment defaults.
  const RunRequest r = request({"-O", "x"}, {"RETRYX_OUTPUT_ON_FAILURE=1"});
  CHECK(r.policy.process.hold_stdout);
  CHECK_FALSE(r.policy.process.output_on_failure);
}
